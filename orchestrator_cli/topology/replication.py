"""Replication control on one live server: threads, reset, detach/reattach, skip-query, GTID mode,
errant GTIDs, semi-sync, read_only and binary logs (spec §4.1, §5).

Every operation reads the server live, refuses before changing anything when a precondition fails,
takes a maintenance lock on the instance whose replication it changes, runs the flavor's statements
through `TopologyServer.change` (logged, audited one by one, recorded instead of run under --noop),
writes one audit row, and refreshes the backend row on every exit path.

The statement builders (`*_statements`, `failing_oracle_gtid`, `flush_count`, ...) are pure
functions of a `Live` read, so every flavor's sequence can be checked without a server.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.errors import OrchestratorError, TopologyError, UnsafeOperationError, UsageError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.gtid import OracleGtidSet, errant
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import ReplicaStatus, SemiSyncFacts
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.primitives import (
    Live,
    forced_gtid_mode,
    kept_gtid_mode,
    maintenance_lock,
    read_live,
    refresh,
    reread_status,
    semi_sync_before_start,
    start_replication,
    stop_replication,
)

log = logging.getLogger("orchestrator.topology")

DETACHED_PREFIX = "//"
_FAILED_TRANSACTION = re.compile(r"transaction '([0-9A-Fa-f-]{36}(?::[A-Za-z_][A-Za-z0-9_]*)?:[0-9]+)'")


# ---------------------------------------------------------------------------------------------------
# Preconditions (pure)
# ---------------------------------------------------------------------------------------------------


def require_replica(live: Live) -> None:
    if not live.status.is_replica:
        raise TopologyError(f"{live.key} is not a replica")


def require_attached(live: Live) -> None:
    if live.status.is_detached:
        raise TopologyError(
            f"{live.key} is detached from its master ({live.status.master_host}): "
            "run reattach-replica-master-host first"
        )


def require_binary_logs(live: Live) -> None:
    if not live.instance.log_bin:
        raise TopologyError(f"{live.key} does not have binary logs enabled")


def uses_oracle_gtid_mode(live: Live) -> bool:
    """gtid_mode=ON: every transaction carries a GTID, so the skip counter is refused."""
    return live.flavor.is_oracle and live.gtid.gtid_mode.upper() == "ON"


def _exec_coordinates(live: Live) -> BinlogCoordinates:
    coords = live.status.exec_coordinates
    file, pos = coords.file, coords.pos
    if not file:
        raise TopologyError(
            f"{live.key}: the executed master coordinates are unknown (Relay_Master_Log_File is empty); "
            "start replication once so the server records them"
        )
    return BinlogCoordinates(file, pos)


# ---------------------------------------------------------------------------------------------------
# Statement builders (pure)
# ---------------------------------------------------------------------------------------------------


def detach_statements(live: Live) -> list[str]:
    """CHANGE MASTER to `//host`: replication breaks, reversibly.

    A GTID replica keeps its GTID mode and resumes from its executed GTIDs on reattach; a file:pos
    replica is pinned to its executed coordinates (a host change alone would forget them).
    """
    require_replica(live)
    if live.status.is_detached:
        raise TopologyError(f"{live.key}: instance already detached (master host {live.status.master_host})")
    return _point_at(live, DETACHED_PREFIX + live.status.master_host)


def reattach_statements(live: Live) -> list[str]:
    """CHANGE MASTER back to the host hidden behind the `//` prefix, at the same position."""
    if not live.status.is_detached:
        raise TopologyError(
            f"{live.key}: instance does not seem to be detached (master host {live.status.master_host!r})"
        )
    return _point_at(live, live.status.master_host[len(DETACHED_PREFIX) :])


def _point_at(live: Live, host: str) -> list[str]:
    mode = kept_gtid_mode(live.flavor, live.status)
    if mode is not None:
        return live.flavor.change_master(host=host, port=live.status.master_port, gtid=mode)
    coordinates = _exec_coordinates(live)
    return live.flavor.change_master(
        host=host, port=live.status.master_port, log_file=coordinates.file, log_pos=coordinates.pos
    )


def failing_oracle_gtid(status: ReplicaStatus) -> str:
    """The GTID of the transaction the SQL thread stopped on.

    Multi-threaded appliers name it in the error; otherwise it is the first retrieved and not yet
    executed transaction of the master (the original took "last executed + 1" of whichever UUID
    came last in the executed set, which is not necessarily the master's).
    """
    named = _FAILED_TRANSACTION.search(status.last_sql_error)
    if named:
        return named.group(1).lower()
    uuid = status.master_uuid
    if not uuid:
        raise TopologyError("cannot tell which GTID failed: the master's UUID is unknown")
    executed = OracleGtidSet.parse(status.executed_gtid_set)
    pending = OracleGtidSet.parse(status.retrieved_gtid_set).only_uuids(uuid).subtract(executed)
    first = next(pending.explode(), None)
    return str(first if first is not None else executed.next_gtid(uuid))


def skip_query_statements(live: Live) -> list[str]:
    """Skip the failing transaction (the caller starts replication afterwards).

    Oracle with gtid_mode=ON: commit an empty transaction under the failing GTID. Otherwise the
    skip counter: on MariaDB it also works with GTID replication (MariaDB records the skipped
    GTID in gtid_slave_pos), except with parallel replication over several GTID domains, where the
    server itself refuses to set the counter and nothing changes.
    """
    require_replica(live)
    if live.status.sql_running:
        raise TopologyError(f"{live.key}: Replication SQL thread is running; skip-query only skips a failed one")
    if not live.status.last_sql_error:
        raise TopologyError(f"{live.key}: No SQL error; nothing to skip")
    if uses_oracle_gtid_mode(live):
        return live.flavor.inject_empty_transaction(failing_oracle_gtid(live.status))
    return live.flavor.skip_query(oracle_gtid=False)


def enable_gtid_statements(live: Live) -> list[str]:
    require_replica(live)
    if live.status.uses_gtid:
        raise TopologyError(f"{live.key} already uses GTID")
    if live.flavor.is_oracle and not live.gtid.supports_oracle_gtid:
        raise TopologyError(f"Cannot enable GTID on {live.key}: gtid_mode is {live.gtid.gtid_mode or 'OFF'}")
    if not live.flavor.supports_gtid:
        raise TopologyError(f"Cannot enable GTID on {live.key}: {live.flavor.version} has no GTID support")
    if live.flavor.is_mariadb and not live.gtid.gtid_slave_pos:
        raise UnsafeOperationError(
            f"Cannot enable GTID on {live.key}: gtid_slave_pos is empty, so MASTER_USE_GTID=slave_pos would "
            "replicate from the wrong position; set gtid_slave_pos (BINLOG_GTID_POS() on the master) first"
        )
    return live.flavor.change_master(gtid=forced_gtid_mode(live.flavor, live.status))


def disable_gtid_statements(live: Live) -> list[str]:
    """Back to file:pos at the executed coordinates, so nothing is skipped or applied twice."""
    require_replica(live)
    if not live.status.uses_gtid:
        raise TopologyError(f"{live.key} is not using GTID")
    coordinates = _exec_coordinates(live)
    return live.flavor.change_master(log_file=coordinates.file, log_pos=coordinates.pos, gtid="off")


def restart_preserving_statements(live: Live, statement: str = "") -> list[str]:
    """Stop the running threads, run `statement`, start the same threads again (none are run here)."""
    io_running = live.status.io_state in (ThreadState.RUNNING, ThreadState.OTHER)
    sql_running = live.status.sql_running
    flavor = live.flavor
    statements: list[str] = []
    if io_running:
        statements += flavor.stop_io_thread()
    if sql_running:
        statements += flavor.stop_sql_thread()
    if statement.strip():
        statements.append(statement.strip().rstrip(";").rstrip())
    if sql_running:
        statements += flavor.start_sql_thread()
    if io_running:
        statements += flavor.start_io_thread()
    return [s + ";" for s in statements]


@dataclass(frozen=True)
class SemiSyncSupport:
    """Which semi-sync sides a server has loaded, and under which variable names."""

    facts: SemiSyncFacts
    master_available: bool
    replica_available: bool
    master_source_names: bool
    replica_source_names: bool

    @staticmethod
    def from_facts(facts: SemiSyncFacts) -> SemiSyncSupport:
        return SemiSyncSupport(
            facts=facts,
            master_available=facts.master_available,
            replica_available=facts.replica_available,
            master_source_names=facts.master_source_names,
            replica_source_names=facts.replica_source_names,
        )


def semi_sync_statements(live: Live, support: SemiSyncSupport, side: str, enabled: bool) -> list[str]:
    """Set one side of semi-sync; nothing when it already is. The replica side only takes effect when
    the IO thread reconnects, so a running IO thread is restarted."""
    flavor = live.flavor
    if side == "master":
        if not support.master_available:
            raise TopologyError(f"{live.key}: semi-sync master is not available (plugin not loaded)")
        if support.facts.master_enabled == enabled:
            return []
        return flavor.set_semi_sync_master(enabled, source_names=support.master_source_names)
    if side != "replica":
        raise ValueError(f"semi-sync side must be master or replica, got {side!r}")
    if not support.replica_available:
        raise TopologyError(f"{live.key}: semi-sync replica is not available (plugin not loaded)")
    if support.facts.replica_enabled == enabled:
        return []
    statements = flavor.set_semi_sync_replica(enabled, source_names=support.replica_source_names)
    if live.status.io_state in (ThreadState.RUNNING, ThreadState.OTHER):
        statements += flavor.stop_io_thread() + flavor.start_io_thread()
    return statements


def read_only_statements(
    live: Live, read_only: bool, *, use_super_read_only: bool, support: SemiSyncSupport | None
) -> list[str]:
    """read_only (and super_read_only when configured); a server with a semi-sync priority turns
    semi-sync master on before it accepts writes and off once it refuses them (spec §4.1)."""
    priority = live.instance.semi_sync_priority
    toggle_semi_sync = priority > 0 and support is not None and support.master_available
    if priority > 0 and not toggle_semi_sync:
        log.warning("%s: semi-sync priority %d but semi-sync master is not available", live.key, priority)
    names = support.master_source_names if support else None
    statements: list[str] = []
    if toggle_semi_sync and not read_only:
        statements += live.flavor.set_semi_sync_master(True, source_names=names)
    statements += live.flavor.set_read_only(read_only, use_super_read_only)
    if toggle_semi_sync and read_only:
        statements += live.flavor.set_semi_sync_master(False, source_names=names)
    return statements


def flush_count(live: Live, target: str | None) -> int:
    """How many FLUSH BINARY LOGS make `target` the current binary log (1 without a target)."""
    require_binary_logs(live)
    if not target:
        return 1
    current = live.self_coordinates
    try:
        distance = BinlogCoordinates(target, 0).file_number_delta(current)
    except ValueError as e:
        raise UsageError(f"--binlog {target!r} cannot be compared with {live.key}'s binary logs: {e}") from e
    if distance < 0:
        raise TopologyError(f"{live.key}: current binary log {current.file} is already past {target}")
    return distance


def purge_blocker(key: InstanceKey, target: str, replica: Live) -> str | None:
    """Why purging `key`'s binary logs before `target` would break `replica`, or None when it cannot."""
    status = replica.status
    if not status.is_replica or status.is_detached or status.master_port != key.port:
        return None  # it does not replicate from `key` (a different host on the same port counts as `key`)
    needed = [c for c in (status.exec_coordinates, status.read_coordinates) if not c.is_empty]
    if not needed:
        return f"replica {replica.key} does not report which binary log of {key} it is reading"
    oldest = min(needed)
    if oldest.file_smaller_than(BinlogCoordinates(target, 0)):
        return (
            f"Unsafe to purge binary logs on {key} up to {target} because replica {replica.key} "
            f"has only applied up to {oldest}"
        )
    return None


# ---------------------------------------------------------------------------------------------------
# Execution helpers
# ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _operation(env: TopologyEnv, key: InstanceKey, audit_type: str, *, lock: bool = True) -> Iterator[list[str]]:
    """Lock, then on every exit path refresh the backend row; audit once (success or failure).

    The body appends what it did to the yielded list; that becomes the audit message.
    """
    notes: list[str] = []
    guard = maintenance_lock(env, [key], audit_type) if lock else contextlib.nullcontext()
    with guard:
        try:
            yield notes
        except Exception as e:
            env.audit(audit_type, key, "; ".join([*notes, f"failed: {e}"]))
            raise
        finally:
            refresh(env, [key])
    env.audit(audit_type, key, "; ".join(notes) or audit_type)


def _threads_active(status: ReplicaStatus) -> tuple[bool, bool]:
    """(IO thread running or connecting, SQL thread running)."""
    return status.io_state in (ThreadState.RUNNING, ThreadState.OTHER), status.sql_running


@contextlib.contextmanager
def _paused(env: TopologyEnv, live: Live) -> Iterator[Live]:
    """Stop replication if any thread runs, yield the stopped state, then start what ran before.

    Runs the restart after a failure too (the original's cleanup step); a restart error then only
    logs, so the first error is the one reported.
    """
    before = live.status
    if _threads_active(before) != (False, False):
        stop_replication(env, live.key)
        live = reread_status(env, live)
    failed = False
    try:
        yield live
    except BaseException:
        failed = True
        raise
    finally:
        try:
            _restart(env, live, before)
        except OrchestratorError as e:
            if not failed:
                raise
            log.error("%s: could not restart replication after a failure: %s", live.key, e)


def _restart(env: TopologyEnv, live: Live, before: ReplicaStatus) -> None:
    """Start the threads that ran `before`; wait for them only if both really ran (an IO thread
    still connecting to an unreachable master would not come up now either)."""
    server = env.server(live.key)
    io_was, sql_was = _threads_active(before)
    if io_was and sql_was and before.io_running:
        start_replication(env, live.key)
    elif io_was and sql_was:
        server.change(semi_sync_before_start(env, live.key) + live.flavor.start_replica())
    elif io_was:
        server.change(live.flavor.start_io_thread())
    elif sql_was:
        server.change(live.flavor.start_sql_thread())


def _live_replica_keys(live: Live) -> list[InstanceKey]:
    """Replicas the probe found registered on the server (SHOW SLAVE HOSTS / processlist)."""
    return list(live.replica_keys)


def semi_sync_support(env: TopologyEnv, live: Live) -> SemiSyncSupport:
    return SemiSyncSupport.from_facts(env.server(live.key).semi_sync())


# ---------------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------------


def stop_replica(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    require_replica(live)
    with _operation(env, key, "stop-replica") as notes:
        stop_replication(env, key)
        notes.append(f"stopped replication from {live.status.master_host}:{live.status.master_port}")


def start_replica(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    require_replica(live)
    require_attached(live)
    with _operation(env, key, "start-replica") as notes:
        start_replication(env, key)
        notes.append(f"started replication from {live.status.master_host}:{live.status.master_port}")


def restart_replica(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    require_replica(live)
    require_attached(live)
    with _operation(env, key, "restart-replica") as notes:
        stop_replication(env, key)
        start_replication(env, key)
        notes.append(f"restarted replication from {live.status.master_host}:{live.status.master_port}")


def reset_replica(env: TopologyEnv, key: InstanceKey) -> None:
    """Stop, then RESET ... ALL: the server forgets its master for good (destructive)."""
    live = read_live(env, key)
    if live.status.io_state == ThreadState.NONE:
        raise TopologyError(f"{key} is not a replica: no replication configured")
    with _operation(env, key, "reset-replica") as notes:
        if _threads_active(live.status) != (False, False):
            stop_replication(env, key)
            live = reread_status(env, live)
        env.server(key).change(live.flavor.reset_replica(all_=True))
        notes.append(
            f"replication reset; was replicating from {live.status.master_host}:{live.status.master_port} "
            f"at {live.status.exec_coordinates}"
        )


def detach_replica_master_host(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    detach_statements(live)  # refuse before any change
    with _operation(env, key, "detach-replica-master-host") as notes:
        if _threads_active(live.status) != (False, False):
            stop_replication(env, key)
            live = reread_status(env, live)
        env.server(key).change(detach_statements(live))
        where = "its executed GTIDs" if live.status.uses_gtid else str(live.status.exec_coordinates)
        notes.append(f"detached from {live.status.master_host}:{live.status.master_port} at {where}")


def reattach_replica_master_host(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    reattach_statements(live)  # refuse before any change
    with _operation(env, key, "reattach-replica-master-host") as notes:
        if _threads_active(live.status) != (False, False):
            stop_replication(env, key)
            live = reread_status(env, live)
        env.server(key).change(reattach_statements(live))
        start_replication(env, key)
        notes.append(f"reattached to {live.status.master_host[len(DETACHED_PREFIX) :]}:{live.status.master_port}")


def skip_query(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    statements = skip_query_statements(live)
    with _operation(env, key, "skip-query") as notes:
        env.server(key).change(statements)
        how = statements[0]
        notes.append(f"skipped one transaction ({how}) after: {live.status.last_sql_error[:300]}")
        start_replication(env, key)


def enable_gtid(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    statements = enable_gtid_statements(live)
    with _operation(env, key, "enable-gtid") as notes, _paused(env, live) as stopped:
        env.server(key).change(enable_gtid_statements(stopped))
        _verify_gtid(env, key, expected=True)
        notes.append(f"enabled GTID: {statements[-1]}")


def disable_gtid(env: TopologyEnv, key: InstanceKey) -> None:
    live = read_live(env, key)
    disable_gtid_statements(live)  # refuse before any change
    with _operation(env, key, "disable-gtid") as notes, _paused(env, live) as stopped:
        statements = disable_gtid_statements(stopped)
        env.server(key).change(statements)
        _verify_gtid(env, key, expected=False)
        notes.append(f"disabled GTID: {statements[-1]}")


def _verify_gtid(env: TopologyEnv, key: InstanceKey, *, expected: bool) -> None:
    if env.noop:
        return
    status = env.server(key).replica_status()
    if status.uses_gtid != expected:
        raise TopologyError(f"Cannot {'enable' if expected else 'disable'} GTID on {key}: the server did not switch")


def errant_gtids(env: TopologyEnv, live: Live) -> OracleGtidSet:
    """Errant GTIDs of a live-read replica against its master (live when reachable, else the backend)."""
    from orchestrator_cli.backend import instances

    master_key = live.master_key
    if not live.flavor.is_oracle or master_key is None or not live.gtid.gtid_executed:
        return OracleGtidSet()
    known_row = instances.read_instance(env.backend, master_key)
    known = instance_from_row(known_row) if known_row else None
    try:
        master = read_live(env, master_key)
        master_executed, master_uuid = master.gtid.gtid_executed, master.gtid.server_uuid
    except OrchestratorError as e:
        log.warning("%s: master %s unreadable (%s); using its backend row", live.key, master_key, e)
        master_executed = known.executed_gtid_set if known else ""
        master_uuid = known.server_uuid if known else ""
    ancestry = [u for u in ((known.ancestry_uuid if known else "") or master_uuid).split(",") if u]
    return errant(
        live.gtid.gtid_executed,
        master_executed,
        replica_uuid=live.gtid.server_uuid,
        master_uuid=master_uuid,
        ancestry=[*ancestry, live.gtid.server_uuid],
        is_co_master=live.instance.is_co_master,
    )


def which_gtid_errant(env: TopologyEnv, key: InstanceKey) -> str:
    return str(errant_gtids(env, read_live(env, key)))


def gtid_errant_reset_master(env: TopologyEnv, key: InstanceKey) -> None:
    """RESET MASTER, then gtid_purged = executed minus errant: the errant transactions are forgotten."""
    from orchestrator_cli.backend import instances

    live = read_live(env, key)
    if not live.flavor.is_oracle or not live.gtid.supports_oracle_gtid:
        raise TopologyError(
            f"gtid-errant-reset-master will not operate on {key} because it is not using oracle-gtid"
            " (errant GTIDs are tracked for Oracle GTID only)"
        )
    errant_set = errant_gtids(env, live)
    if errant_set.is_empty():
        raise TopologyError(f"gtid-errant-reset-master will not operate on {key} because no errant GTID is found")
    replicas = set(_live_replica_keys(live)) | set(instances.keys_of(instances.replicas_of(env.backend, key)))
    if replicas:
        count = len(replicas)
        raise UnsafeOperationError(
            f"gtid-errant-reset-master will not operate on {key} because it has {count} replicas. Expecting no replicas"
        )
    purged = OracleGtidSet.parse(live.gtid.gtid_executed).subtract(errant_set)
    server = env.server(key)
    with _operation(env, key, "gtid-errant-reset-master") as notes, _paused(env, live):
        server.change(live.flavor.reset_master())
        if not env.noop and server.gtid_facts().gtid_executed:
            raise TopologyError(f"{key}: gtid_executed is not empty after {live.flavor.reset_master()[0]}")
        server.change(live.flavor.set_gtid_purged(str(purged)))
        notes.append(f"removed errant GTIDs {errant_set}; gtid_purged set to {purged}")


def errant_to_inject(replica: Live, master: Live, errant_set: OracleGtidSet) -> OracleGtidSet:
    """The errant GTIDs of `replica` that the cluster's master has not executed (pure); refuses MariaDB,
    servers without Oracle GTID and a read-only master before anything changes."""
    for live in (replica, master):
        if live.flavor.is_mariadb:
            raise TopologyError(
                f"gtid-errant-inject-empty will not operate on {replica.key}: not supported on MariaDB GTID"
                f" ({live.key} is MariaDB; errant GTIDs are tracked for Oracle GTID only)"
            )
        if not live.gtid.supports_oracle_gtid:
            raise TopologyError(
                f"gtid-errant-inject-empty will not operate on {replica.key}: {live.key} does not use oracle-gtid"
                f" (gtid_mode={live.gtid.gtid_mode or 'n/a'})"
            )
    if master.instance.read_only:
        raise UnsafeOperationError(
            f"gtid-errant-inject-empty will not operate on {replica.key}: cluster master {master.key} is read-only"
        )
    return errant_set.subtract(OracleGtidSet.parse(master.gtid.gtid_executed))


def inject_empty_statements(master: Live, gtids: OracleGtidSet) -> list[str]:
    """One empty transaction per GTID, in order; each GTID's statements must run on one session
    (`SET GTID_NEXT` is a session variable), as `TopologyServer.change` runs them."""
    return [sql for gtid in gtids.explode() for sql in master.flavor.inject_empty_transaction(str(gtid))]


def gtid_errant_inject_empty(env: TopologyEnv, key: InstanceKey) -> tuple[InstanceKey, int]:
    """Make the errant GTIDs of `key` known to its cluster's master as empty transactions: once the
    master has executed them, every server of the cluster agrees on them and they stop being errant.

    Returns the master and how many transactions were injected. Oracle GTID only.
    """
    from orchestrator_cli.backend import instances

    live = read_live(env, key)
    if live.flavor.is_mariadb:
        raise TopologyError(
            f"gtid-errant-inject-empty will not operate on {key}: not supported on MariaDB GTID"
            " (errant GTIDs are tracked for Oracle GTID only)"
        )
    errant_set = errant_gtids(env, live)
    if errant_set.is_empty():
        raise TopologyError(f"gtid-errant-inject-empty will not operate on {key} because no errant GTID is found")
    row = instances.cluster_master(env.backend, instances.cluster_of(env.backend, key))
    if row is None:
        raise TopologyError(f"gtid-errant-inject-empty: the cluster of {key} has no known master")
    master = read_live(env, instance_from_row(row).key)
    missing = errant_to_inject(live, master, errant_set)
    count = sum(1 for _ in missing.explode())
    audit = "gtid-errant-inject-empty"
    with _operation(env, key, audit, lock=False) as notes, maintenance_lock(env, [master.key], audit):
        env.server(master.key).change(inject_empty_statements(master, missing))
        notes.append(
            f"injected {count} empty transactions on cluster master {master.key} for errant GTIDs {errant_set}"
        )
    refresh(env, [master.key])
    return master.key, count


def set_semi_sync(env: TopologyEnv, key: InstanceKey, side: str, enabled: bool) -> None:
    live = read_live(env, key)
    statements = semi_sync_statements(live, semi_sync_support(env, live), side, enabled)
    if not statements:
        return
    action = "enable" if enabled else "disable"
    with _operation(env, key, f"{action}-semi-sync-{side}") as notes:
        env.server(key).change(statements)
        notes.append(f"semi-sync {side} {action}d")


def set_read_only(env: TopologyEnv, key: InstanceKey, read_only: bool) -> None:
    """No maintenance lock: flipping read_only is the emergency knob and does not touch replication."""
    live = read_live(env, key)
    priority = live.instance.semi_sync_priority
    support = semi_sync_support(env, live) if priority > 0 else None
    statements = read_only_statements(
        live, read_only, use_super_read_only=bool(env.config.get("UseSuperReadOnly")), support=support
    )
    with _operation(env, key, "read-only", lock=False) as notes:
        env.server(key).change(statements)
        notes.append(f"set as {'read-only' if read_only else 'writeable'}")


def flush_binary_logs(env: TopologyEnv, key: InstanceKey, target: str | None = None) -> None:
    live = read_live(env, key)
    count = flush_count(live, target)
    if count == 0:
        return
    with _operation(env, key, "flush-binary-logs", lock=False) as notes:
        env.server(key).change(live.flavor.flush_binary_logs() * count)
        notes.append(f"flushed binary logs {count} time(s) from {live.self_coordinates.file}")


def purge_binary_logs(env: TopologyEnv, key: InstanceKey, target: str) -> None:
    """PURGE BINARY LOGS TO `target`, unless a known replica still needs an older log.

    Every replica known to the backend or registered on the server now is read live (a stopped
    replica is missing from SHOW SLAVE HOSTS, and its backend coordinates may be stale); one that
    cannot be read refuses the purge.
    """
    from orchestrator_cli.backend import instances

    live = read_live(env, key)
    require_binary_logs(live)
    server = env.server(key)
    names = [name for name, _ in server.binary_logs()]
    if target not in names:
        raise UsageError(f"binary log {target} not found on {key} (it has {', '.join(names) or 'none'})")
    replicas = instances.keys_of(instances.replicas_of(env.backend, key))
    replicas += [k for k in _live_replica_keys(live) if k not in replicas]
    for replica_key in replicas:
        try:
            replica = read_live(env, replica_key)
        except OrchestratorError as e:
            raise UnsafeOperationError(
                f"Unsafe to purge binary logs on {key} up to {target}: cannot read replica {replica_key}: {e}"
            ) from e
        why = purge_blocker(key, target, replica)
        if why:
            raise UnsafeOperationError(why)
    with _operation(env, key, "purge-binary-logs") as notes:
        server.change(live.flavor.purge_binary_logs_to(target))
        if not env.noop:
            kept = [name for name, _ in server.binary_logs()]
            kept = kept[: kept.index(target)] if target in kept else kept
            if kept:
                raise TopologyError(
                    f"{key} kept {', '.join(kept)} after PURGE BINARY LOGS TO {target}: the server still needs "
                    "them (crash-recovery checkpoint or a replica reading them); retry in a moment"
                )
        notes.append(f"purged binary logs up to {target}; {len(replicas)} replica(s) checked")


def master_pos_wait(env: TopologyEnv, key: InstanceKey, coordinates: BinlogCoordinates) -> None:
    """Block until the replica has executed up to `coordinates` of its master (a read: no lock)."""
    live = read_live(env, key)
    require_replica(live)
    timeout = max(1, int(env.config.get("MySQLTopologyReadTimeoutSeconds", 600)) - 1)
    sql = live.flavor.master_pos_wait(coordinates.file, coordinates.pos, timeout)
    try:
        reached = live.flavor.parse_pos_wait(env.server(key).query_one(sql))
    except fl.FlavorError as e:
        raise TopologyError(f"{key}: {e}") from e
    if not reached:
        raise TopologyError(f"{key} did not reach {coordinates} within {timeout}s")


def restart_replica_statements(env: TopologyEnv, key: InstanceKey, statement: str) -> list[str]:
    live = read_live(env, key)
    return restart_preserving_statements(live, statement)


def delay_replication(env: TopologyEnv, key: InstanceKey, seconds: int) -> None:
    """`MASTER_DELAY = seconds` on a replica, with its threads left as they were (stopped for the change)."""
    if seconds < 0:
        raise UsageError(f"delay must be a non-negative number of seconds, got {seconds}")
    live = read_live(env, key)
    require_replica(live)
    require_attached(live)
    with _operation(env, key, "delay-replication") as notes, _paused(env, live) as stopped:
        env.server(key).change(stopped.flavor.change_master(delay=seconds))
        notes.append(f"SQL delay set to {seconds}s (was {live.status.sql_delay}s)")


def _relay_logs_applied(status: ReplicaStatus) -> bool:
    """The SQL thread has executed everything the IO thread fetched (or is not running any more)."""
    if not status.sql_running:
        return True
    read = BinlogCoordinates(status.master_log_file, status.read_master_log_pos)
    executed = BinlogCoordinates(status.relay_master_log_file, status.exec_master_log_pos)
    return executed == read


def stop_replica_nice(env: TopologyEnv, key: InstanceKey, timeout_seconds: float) -> bool:
    """Stop the IO thread, let the SQL thread apply what was already fetched (up to `timeout_seconds`),
    then stop it: the replica stops at a point its relay logs fully describe. Returns whether the SQL
    thread caught up before the timeout (replication is stopped either way, as in the original)."""
    live = read_live(env, key)
    require_replica(live)
    with _operation(env, key, "stop-replica-nice") as notes:
        server = env.server(key)
        if live.status.io_state in (ThreadState.RUNNING, ThreadState.OTHER):
            server.change(live.flavor.stop_io_thread())
        deadline = time.monotonic() + (0.0 if env.noop else timeout_seconds)  # --noop stopped nothing
        live = reread_status(env, live)
        while not _relay_logs_applied(live.status) and time.monotonic() < deadline:
            time.sleep(0.1)
            live = reread_status(env, live)
        caught_up = _relay_logs_applied(live.status)
        stop_replication(env, key)
        executed = f"{live.status.relay_master_log_file}:{live.status.exec_master_log_pos}"
        notes.append(
            f"stopped replication nicely at {executed}"
            + ("" if caught_up else f" (SQL thread had not caught up after {timeout_seconds:.0f}s)")
        )
    return caught_up
