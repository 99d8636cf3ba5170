"""Dead master and dead co-master recovery, and making a read-only master writable.

A master failover: PreFailoverProcesses (a failure aborts before anything changes); make the failed
master read-only if it still answers (it may be only partly dead; if it answers and stays writable,
nothing is changed); regroup its replicas below the chosen successor (relay logs applied, preferred
candidate caught up by GTID, siblings moved); make sure the successor applied everything it
received; make sure no other master of the cluster is reachable and writable; promote (stop, RESET
SLAVE ALL, read_only=0); downtime the failed master and the lost replicas as `lost-in-recovery` and
detach the reachable lost ones; carry the cluster alias and domain over to the new cluster name;
refresh the backend; PostMasterFailoverProcesses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from orchestrator_cli.backend import clusters, downtime, instances
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.errors import OrchestratorError, TopologyError, UnsafeOperationError
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey, parse_printed
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.recovery.engine import PLANNED, Outcome, RecoveryRun, post_master_hooks
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.primitives import Live, read_live, refresh, reread_status, stop_replication
from orchestrator_cli.topology.regroup import regroup_replicas

log = logging.getLogger("orchestrator.recovery")

LOST_IN_RECOVERY_SECONDS = 365 * 24 * 3600
GRACEFUL = "graceful-master-takeover"


# -- server state changes used by promotion and demotion ---------------------------------------------------


def read_only_statements(env: TopologyEnv, live: Live, read_only: bool) -> list[str]:
    """read_only (and super_read_only with UseSuperReadOnly), toggling semi-sync master for servers
    with a semi-sync priority."""
    from orchestrator_cli.topology import replication

    support = None
    if live.instance.semi_sync_enforced:
        support = replication.semi_sync_support(env, live)
    return replication.read_only_statements(
        live, read_only, use_super_read_only=bool(env.config.get("UseSuperReadOnly")), support=support
    )


def make_read_only(env: TopologyEnv, key: InstanceKey) -> str:
    """Demote a master if it answers: 'unreachable', 'already read-only' or 'set read-only'.

    Raises UnsafeOperationError when it answers, is writable, and stays writable.
    """
    try:
        server = env.server(key)
        core = server.core_variables()
    except OrchestratorError:
        env.access.forget(key)
        return "unreachable"
    if core.read_only:
        return "already read-only"
    try:
        live = read_live(env, key)
        server.change(read_only_statements(env, live, True))
        if env.noop or server.core_variables().read_only:
            return "set read-only"
    except OrchestratorError as e:
        raise UnsafeOperationError(f"{key} is reachable and writable, and could not be made read-only: {e}") from e
    raise UnsafeOperationError(f"{key} is reachable and still writable after SET GLOBAL read_only=1")


def make_writable(env: TopologyEnv, live: Live) -> None:
    env.server(live.key).change(read_only_statements(env, live, False))


def ensure_relay_log_applied(env: TopologyEnv, live: Live, step: Callable[[str], None]) -> None:
    """The successor executes everything it received before it takes writes.

    With FailMasterPromotionIfSQLThreadNotUpToDate an unapplied relay log fails the promotion;
    otherwise the SQL thread runs until it has caught up (failing when it makes no progress for
    ReasonableReplicationLagSeconds, or when the server is a delayed replica).
    """
    if env.noop:
        return
    server = env.server(live.key)
    status = server.replica_status()
    if status.read_coordinates.is_empty or status.read_coordinates == status.exec_coordinates:
        return
    gap = f"executed {status.exec_coordinates} of {status.read_coordinates}"
    if env.config.get("FailMasterPromotionIfSQLThreadNotUpToDate"):
        raise TopologyError(
            f"{live.key} has not applied its relay log ({gap}; FailMasterPromotionIfSQLThreadNotUpToDate)"
        )
    if status.sql_delay > 0:
        raise TopologyError(f"{live.key} is a delayed replica and has not applied its relay log ({gap})")
    if status.uses_mariadb_gtid and not status.sql_running and status.io_state == ThreadState.STOPPED:
        # Starting the SQL thread would not apply it: MariaDB discards the relay log of a GTID replica
        # whose two threads are stopped, then reads from its dead master again. Nothing can bring it
        # back and waiting cannot help, so say what is lost instead of reporting it applied.
        step(
            f"{live.key}: the rest of its relay log ({gap}) cannot be applied: its replication threads were"
            " both stopped, and MariaDB discards the relay log of a GTID replica when they restart;"
            " those transactions are lost"
        )
        return
    step(f"{live.key}: applying the rest of its relay log ({gap})")
    server.change(live.flavor.start_sql_thread())
    stall = float(env.config.get("ReasonableReplicationLagSeconds", 10))
    last, progress_at = status.exec_coordinates, time.monotonic()
    while True:
        status = server.replica_status()
        if status.exec_coordinates == status.read_coordinates:
            break
        if status.last_sql_error:
            raise TopologyError(f"{live.key}: SQL thread failed while applying its relay log: {status.last_sql_error}")
        if status.exec_coordinates != last:
            last, progress_at = status.exec_coordinates, time.monotonic()
        elif time.monotonic() - progress_at > stall:
            server.change(live.flavor.stop_sql_thread())
            raise TopologyError(f"{live.key}: relay log apply made no progress for {stall:.0f}s")
        time.sleep(0.05)
    server.change(live.flavor.stop_sql_thread())


def ensure_no_writable_master(
    env: TopologyEnv, members: Sequence[Instance], successor: InstanceKey, failed: InstanceKey
) -> list[str]:
    """Every other master of the cluster that answers must be read-only before the successor is writable."""
    notes: list[str] = []
    for member in members:
        key = member.key
        if key in (successor, failed):
            continue
        is_root = not member.has_async_master  # no master, or detached from it
        if not (is_root or member.is_co_master):
            continue
        state = make_read_only(env, key)
        notes.append(f"{key} (another master of the cluster): {state}")
    return notes


def promote(env: TopologyEnv, live: Live, *, graceful: bool, step: Callable[[str], None]) -> None:
    """Make the successor a master: forget its old master and accept writes.

    Done when ApplyMySQLPromotionAfterMasterFailover is on (the default) and always for a graceful
    takeover; otherwise the successor is left stopped and read-only for the hooks to finish.
    """
    if not (env.config.get("ApplyMySQLPromotionAfterMasterFailover", True) or graceful):
        step(f"{live.key}: ApplyMySQLPromotionAfterMasterFailover is off: left stopped and read-only")
        return
    server = env.server(live.key)
    status = live.status if env.noop else server.replica_status()
    if status.io_state != ThreadState.NONE:
        if status.io_running or status.sql_running or status.io_state == ThreadState.OTHER:
            stop_replication(env, live.key)
        server.change(live.flavor.reset_replica(all_=True))
    make_writable(env, live)
    step(f"{live.key}: replication reset (RESET SLAVE ALL) and set writable (read_only=0)")


def _detach(env: TopologyEnv, key: InstanceKey) -> str:
    from orchestrator_cli.topology import replication

    live = read_live(env, key)
    if not live.status.is_replica or live.status.is_detached:
        return "not replicating; nothing to detach"
    if live.status.io_state in (ThreadState.RUNNING, ThreadState.OTHER) or live.status.sql_running:
        stop_replication(env, key)
        live = reread_status(env, live)
    env.server(key).change(replication.detach_statements(live))
    return f"detached from {live.status.master_host}:{live.status.master_port}"


def _detach_successor(run: RecoveryRun, key: InstanceKey) -> None:
    """MasterFailoverDetachReplicaMasterHost: a successor left configured below the failed master
    (ApplyMySQLPromotionAfterMasterFailover off) gets its master host detached (`//host`), so that
    nothing reconnects it to the failed master; a successor that was reset has nothing to detach."""
    try:
        run.step(f"{key} (successor): {_detach(run.env, key)} (MasterFailoverDetachReplicaMasterHost)")
    except OrchestratorError as e:
        run.step(f"{key} (successor): not detached: {e}")


def downtime_and_detach_lost(run: RecoveryRun, failed: InstanceKey, lost: Sequence[str]) -> None:
    """The failed master and every lost replica: downtimed `lost-in-recovery`; lost replicas that answer
    are detached (DetachLostReplicasAfterMasterFailover) so a returning master cannot feed them."""
    env = run.env
    for key in [failed, *(parse_printed(k) for k in lost)]:
        downtime.begin(env.backend, key, env.owner, downtime.LOST_IN_RECOVERY, LOST_IN_RECOVERY_SECONDS)
        run.step(f"{key}: downtimed {downtime.LOST_IN_RECOVERY}")
    if not env.config.get("DetachLostReplicasAfterMasterFailover"):
        return
    for text in lost:
        key = parse_printed(text)
        try:
            run.step(f"{key}: {_detach(env, key)}")
        except OrchestratorError as e:
            run.step(f"{key}: not detached: {e}")


def _carry_cluster_names(run: RecoveryRun, successor: InstanceKey) -> None:
    """The cluster is now named after its new master: keep its alias and domain, and publish the new
    master under the alias in the key-value store, as the original does after a failover."""
    from orchestrator_cli.backend import attributes, kv
    from orchestrator_cli.topology.kv import master_pairs, prefix

    a = run.analysis
    backend = run.env.backend
    if a.cluster_alias and a.cluster_alias != a.cluster_name:
        clusters.register_alias(backend, str(successor), a.cluster_alias)
    domain = clusters.cluster_domain(backend, a.cluster_name)
    if domain:
        clusters.register_domain(backend, str(successor), domain)
    attributes.set_general(backend, domain or a.cluster_name, str(successor))
    pairs = master_pairs(prefix(run.env.config), a.cluster_alias or a.cluster_name, successor)
    kv.put(backend, pairs)
    run.step(f"key-value: {pairs[0][0]} = {pairs[0][1]}")


def _coordinates(env: TopologyEnv, key: InstanceKey) -> str:
    if env.noop:
        return ""
    try:
        own = env.server(key).master_status()
    except OrchestratorError:
        return ""
    return "" if own.is_empty else str(own)


def failover(run: RecoveryRun, *, candidate: InstanceKey | None) -> Outcome:
    """The master (or co-master) failover described in the module docstring."""
    env, backend, failed = run.env, run.env.backend, run.failed
    pre = run.hooks("PreFailoverProcesses", fail_fast=True)
    if not pre.ok:
        run.outcome.vetoed = True
        reason = f"PreFailoverProcesses failed: {pre.first_error()}"
        run.step(f"{reason}; recovery aborted, nothing changed")
        run.outcome.reason = reason
        run.outcome.errors.append(reason)
        run.resolve()
        return run.outcome
    # Split-brain guard first: a master that still answers must stop taking writes before any replica
    # moves; one that answers and stays writable aborts the recovery with nothing changed.
    try:
        state = make_read_only(env, failed)
    except OrchestratorError as e:
        reason = f"refusing to fail over {failed}: {e}"
        run.step(f"{reason}; nothing changed")
        run.outcome.reason = reason
        run.outcome.errors.append(reason)
        run.resolve()
        return run.outcome
    run.step(f"{failed} (failed master): {state}")
    if run.request.mode == PLANNED and state != "unreachable":
        _let_replicas_receive(env, failed, run.step)
    members = instances_from_rows(instances.cluster_instances(backend, run.analysis.cluster_name))
    try:
        result = regroup_replicas(env, failed, candidate=candidate, for_failover=True, step=run.step)
    except OrchestratorError as e:
        return run.fail(str(e))
    run.outcome.attempted = True
    run.outcome.moved = [str(k) for k in result.moved]
    run.outcome.lost = [str(k) for k in result.lost]
    promoted = result.candidate_live
    if promoted is None:
        return run.fail("the regroup chose no candidate")
    try:
        ensure_relay_log_applied(env, promoted, run.step)
        if state != "unreachable":
            run.step(f"{failed} (failed master), checked again: {make_read_only(env, failed)}")
        for note in ensure_no_writable_master(env, members, promoted.key, failed):
            run.step(note)
        promote(env, promoted, graceful=run.request.command_hint == GRACEFUL, step=run.step)
    except OrchestratorError as e:
        downtime_and_detach_lost(run, failed, run.outcome.lost)
        return run.fail(f"{promoted.key} was not promoted: {e}")
    run.outcome.successor = promoted.key
    run.outcome.successful = True
    if env.config.get("MasterFailoverDetachReplicaMasterHost"):
        _detach_successor(run, promoted.key)
    downtime_and_detach_lost(run, failed, run.outcome.lost)
    rec.clear_detections(backend, failed)
    _carry_cluster_names(run, promoted.key)
    reachable_lost = [parse_printed(k) for k in run.outcome.lost if parse_printed(k) not in result.unreachable]
    refresh(env, [promoted.key, *result.moved, *reachable_lost])
    run.outcome.successor_coordinates = _coordinates(env, promoted.key)
    run.step(
        f"promoted {promoted.key} ({run.outcome.successor_coordinates}); {len(result.moved)} replica(s) moved"
        + (f"; lost: {', '.join(run.outcome.lost)}" if run.outcome.lost else "")
    )
    run.resolve()
    post_master_hooks(run)
    return run.outcome


def _let_replicas_receive(env: TopologyEnv, master: InstanceKey, step: Callable[[str], None]) -> None:
    """A master that still runs was just made read-only: give its replicas (bounded by
    ReasonableMaintenanceReplicationLagSeconds) the chance to execute everything it wrote.

    The backend's list of replicas may be older than the servers: a graceful takeover has just moved
    the siblings below the designated replica. Those are asked first whom they replicate from, and
    one that no longer replicates from `master` is not waited for: the master's binlog coordinates
    mean nothing on another master's binlogs, so the wait could only time out, with the cluster
    read-only all that time."""
    from orchestrator_cli.topology.parallel import parallel

    if env.noop:
        return
    own = env.server(master).master_status()
    file, pos = own.file, own.pos
    timeout = int(env.config.get("ReasonableMaintenanceReplicationLagSeconds", 20))
    keys = instances.keys_of(instances.replicas_of(env.backend, master))

    def wait(key: InstanceKey) -> bool | None:
        live = read_live(env, key)
        if live.master_key != master:
            return None
        return live.flavor.parse_pos_wait(env.server(key).query_one(live.flavor.master_pos_wait(file, pos, timeout)))

    for key, reached, error in parallel(keys, wait, len(keys) or 1):
        if error is None and reached is None:
            continue
        if error is not None or not reached:
            step(f"{key}: did not execute up to {file}:{pos} of {master}: {error or f'{timeout}s timeout'}")


def recover_dead_master(run: RecoveryRun) -> Outcome:
    return failover(run, candidate=run.request.candidate)


def recover_dead_co_master(run: RecoveryRun) -> Outcome:
    """Promote the other co-master (CoMasterRecoveryMustPromoteOtherCoMaster, or when it is writable);
    the circular replication is broken by resetting the successor's replication."""
    dead = instances.read_snapshot(run.env.backend, run.failed)
    other = dead.master_key if dead is not None else None
    other_instance = instances.read_snapshot(run.env.backend, other) if other else None
    must_promote_other = bool(run.env.config.get("CoMasterRecoveryMustPromoteOtherCoMaster", True)) or bool(
        other_instance is not None and not other_instance.read_only
    )
    candidate = run.request.candidate
    if must_promote_other and other is not None:
        if candidate is not None and candidate != other:
            return run.fail(
                f"only the other co-master {other} may be promoted (CoMasterRecoveryMustPromoteOtherCoMaster)"
            )
        candidate = other
    return failover(run, candidate=candidate)


def recover_non_writeable_master(run: RecoveryRun) -> Outcome:
    """RecoverNonWriteableMaster: a healthy, read-only master with replicating replicas is made writable."""
    pre = run.hooks("PreFailoverProcesses", fail_fast=True)
    if not pre.ok:
        run.outcome.vetoed = True
        run.outcome.reason = f"PreFailoverProcesses failed: {pre.first_error()}"
        run.resolve()
        return run.outcome
    run.outcome.attempted = True
    try:
        live = read_live(run.env, run.failed)
        make_writable(run.env, live)
    except OrchestratorError as e:
        return run.fail(str(e))
    run.step(f"{run.failed}: set writable (read_only=0)")
    run.outcome.successor = run.failed
    run.outcome.successful = True
    refresh(run.env, [run.failed])
    run.resolve()
    return run.outcome
