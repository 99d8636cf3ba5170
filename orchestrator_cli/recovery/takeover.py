"""Planned master changes: force-master-failover, force-master-takeover, graceful-master-takeover(-auto).

All of them run the dead-master recovery on a forced `DeadMaster` analysis entry (with the command
in `{command}` / `ORC_COMMAND` for the hooks), in planned mode: no anti-flapping, and the still
running master is made read-only first and its replicas get the chance to receive what it wrote.

A graceful takeover additionally, before any change: designates the replica D, reads the
credentials the old master will replicate from D with (`ReplicationCredentialsQuery` on D, else what
D stores where SQL reads it, else the old master's own; none at all → refused, nothing changed), and
runs `PreGracefulTakeoverProcesses` (D is the successor they are told about). Then it makes the
master read-only, waits until D and every sibling executed everything the master wrote (zero lost
transactions), moves the siblings below D, and promotes D. After that it points the old master at D
(GTID when the failover used GTID: Oracle auto-position, MariaDB `current_pos`) with those
credentials. `graceful-master-takeover` leaves the old master's replication stopped, as the original
(the operator inspects it and runs `start-replica`; it stays downtimed `lost-in-recovery` until it
replicates); `graceful-master-takeover-auto` starts it, ends that downtime, and fails the command
when it does not come up. Any failure before the promotion puts the old master back to writable.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator_cli.analysis import Analysis, AnalysisCode
from orchestrator_cli.analysis.codes import DESCRIPTIONS
from orchestrator_cli.backend import downtime, instances
from orchestrator_cli.backend.instance_rows import instance_from_row, instances_from_rows, probe_over_backend
from orchestrator_cli.errors import NotFoundError, OrchestratorError, TopologyError, UnsafeOperationError, UsageError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.recovery.dead_master import make_read_only, make_writable
from orchestrator_cli.recovery.detection import analysis_of
from orchestrator_cli.recovery.engine import PLANNED, Note, Outcome, Request, execute, run_hook_list
from orchestrator_cli.topology.candidates import MasterHints, ReplicaFacts, choose_candidate, promotion_refusal
from orchestrator_cli.topology.credentials import Credentials, replication_credentials
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.primitives import (
    Live,
    change_master,
    forced_gtid_mode,
    read_live,
    refresh,
    start_replication,
)
from orchestrator_cli.topology.regroup import relocate_replicas_below

log = logging.getLogger("orchestrator.recovery")

FORCE_FAILOVER = "force-master-failover"
FORCE_TAKEOVER = "force-master-takeover"
GRACEFUL = "graceful-master-takeover"


def cluster_master(env: TopologyEnv, cluster: str, *, writable: bool = False, single: bool = False) -> InstanceKey:
    """The cluster's master: depth 0 or co-master, writable ones first; exactly one is required.

    `single`: co-masters are refused (a graceful takeover needs one master).
    """
    members = instances_from_rows(instances.cluster_instances(env.backend, cluster))
    masters = [i for i in members if i.replication_depth == 0 or i.is_co_master]
    if len(masters) > 1 or writable:
        masters = [i for i in masters if not i.read_only]
    if single and any(i.is_co_master for i in masters):
        raise UnsafeOperationError(f"cluster {cluster} has co-masters: a graceful takeover needs a single master")
    if len(masters) != 1:
        found = ", ".join(str(i.key) for i in masters) or "none"
        what = "writable master" if writable else "master"
        raise NotFoundError(f"Cannot deduce cluster {what} for {cluster}; found: {found}")
    return masters[0].key


def forced_entry(env: TopologyEnv, master: InstanceKey, hint: str) -> Analysis:
    entry = analysis_of(env.backend, env.config, str(master))
    if entry is None:
        raise NotFoundError(f"no analysis for {master}: it has no replicas known to the backend")
    return dataclasses.replace(
        entry,
        code=AnalysisCode.DEAD_MASTER,
        description=DESCRIPTIONS[AnalysisCode.DEAD_MASTER],
        is_actionable=True,
        command_hint=hint,
    )


def _promoted(outcome: Outcome) -> InstanceKey:
    if outcome.blocked_by is not None:
        raise UnsafeOperationError(outcome.reason)
    if outcome.successor is None:
        raise TopologyError(f"Recovery attempted yet no replica promoted: {outcome.reason}")
    return outcome.successor


def force_master_failover(env: TopologyEnv, cluster: str, note: Note | None = None) -> Outcome:
    master = cluster_master(env, cluster)
    request = Request(forced_entry(env, master, FORCE_FAILOVER), PLANNED, command_hint=FORCE_FAILOVER)
    outcome = execute(env, request, note)
    _promoted(outcome)
    return outcome


def force_master_takeover(
    env: TopologyEnv, cluster: str, destination: InstanceKey, note: Note | None = None
) -> Outcome:
    master = cluster_master(env, cluster, writable=True)
    row = instances.read_instance(env.backend, destination)
    child = instance_from_row(row) if row is not None else None
    if child is None or InstanceKey(child.master_host, child.master_port) != master:
        raise UnsafeOperationError(
            f"You may only promote a direct child of the master {master}; {destination} is not one"
        )
    entry = forced_entry(env, master, FORCE_TAKEOVER)
    outcome = execute(env, Request(entry, PLANNED, candidate=destination, command_hint=FORCE_TAKEOVER), note)
    _promoted(outcome)
    return outcome


def _wait_executed(env: TopologyEnv, key: InstanceKey, coordinates: BinlogCoordinates, timeout: int) -> None:
    live = read_live(env, key)
    if env.noop:
        return
    row = env.server(key).query_one(live.flavor.master_pos_wait(coordinates.file, coordinates.pos, timeout))
    try:
        reached = live.flavor.parse_pos_wait(row)
    except fl.FlavorError as e:
        raise TopologyError(f"{key}: cannot wait for {coordinates}: {e}") from e
    if not reached:
        raise TopologyError(
            f"{key} did not execute up to {coordinates} within {timeout}s (ReasonableMaintenanceReplicationLagSeconds)"
        )


@dataclass
class GracefulResult:
    outcome: Outcome
    successor: InstanceKey
    coordinates: str
    old_master: InstanceKey
    old_master_replicating: bool  # auto: started and running; plain: False (configured, left stopped)
    old_master_error: str = ""  # auto: why its replication did not come up


def _credentials_for(env: TopologyEnv, master: Live, target: InstanceKey) -> Credentials | None:
    """What the old master will replicate from `target` with; refuses (nothing changed) when nothing.

    None: the old master keeps the replication user it already has.
    """
    credentials = replication_credentials(env, target)
    if credentials is None and not master.status.master_user:
        raise UnsafeOperationError(
            f"GracefulMasterTakeover: {master.key} would have no replication credentials to replicate from"
            f" {target}: configure ReplicationCredentialsQuery (it runs on {target} and returns user, password);"
            " nothing was changed"
        )
    return credentials


def _designate(
    env: TopologyEnv, master: InstanceKey, lives: Sequence[Live], designated: InstanceKey | None, auto: bool
) -> Live:
    by_key = {lv.key: lv for lv in lives}
    if designated is not None:
        if designated not in by_key:
            raise UnsafeOperationError(
                f"GracefulMasterTakeover: {designated} must be directly replicating from the master {master}"
            )
        return by_key[designated]
    if len(lives) == 1:
        return lives[0]
    if not auto:
        raise UsageError(
            f"GracefulMasterTakeover: target instance not indicated, auto=false, and master {master} has"
            f" {len(lives)} replicas. orchestrator cannot choose where to failover to. Aborting"
        )
    known = {i.key: i for i in instances_from_rows(instances.replicas_of(env.backend, master))}
    facts = []
    for lv in lives:
        base = known.get(lv.key) or Instance(key=lv.key)
        merged = base.replace(
            key=lv.key,
            version=lv.instance.version,
            log_bin=lv.instance.log_bin,
            exec_coordinates=lv.status.exec_coordinates,
        )
        facts.append(ReplicaFacts.from_instance(merged, valid=True))
    choice = choose_candidate(facts, MasterHints.from_row(instances.read_instance(env.backend, master)), env.config)
    if choice.candidate is None:
        raise UnsafeOperationError(
            f"GracefulMasterTakeover: no replica of {master} may be promoted: {choice.why_none()}"
        )
    return by_key[choice.candidate.key]


def graceful_master_takeover(
    env: TopologyEnv, cluster: str, designated: InstanceKey | None, *, auto: bool, note: Note | None = None
) -> GracefulResult:
    master = cluster_master(env, cluster, single=True)
    replica_keys = instances.keys_of(instances.replicas_of(env.backend, master))
    if not replica_keys:
        raise NotFoundError(f"GracefulMasterTakeover: master {master} has no replicas")
    master_live = read_live(env, master)
    lives = []
    for key in replica_keys:
        try:
            live = read_live(env, key)
        except OrchestratorError as e:
            log.warning("%s: unreachable: %s", key, e)
            continue
        if live.master_key == master:
            lives.append(live)
    target = _designate(env, master, lives, designated, auto)
    known = instances.read_instance(env.backend, target.key)
    facts = ReplicaFacts.from_instance(probe_over_backend(known, target.row, target.key))
    refusal = promotion_refusal(facts, MasterHints.from_instance(master_live.instance), env.config)
    if refusal:
        raise UnsafeOperationError(f"GracefulMasterTakeover: {target.key} cannot be promoted: {refusal}")
    reasonable = int(env.config.get("ReasonableMaintenanceReplicationLagSeconds", 20))
    lag = target.status.seconds_behind_master
    if lag is None or lag > reasonable:
        raise UnsafeOperationError(
            f"GracefulMasterTakeover: {target.key} lags ({lag}s;"
            f" ReasonableMaintenanceReplicationLagSeconds={reasonable})"
        )
    stopped = [lv.key for lv in lives if lv.key != target.key and not lv.status.sql_running]
    left_behind = [key for key in stopped if _downtimed(env, key)]
    if len(left_behind) < len(stopped):
        names = ", ".join(str(key) for key in stopped if key not in left_behind)
        raise UnsafeOperationError(
            f"GracefulMasterTakeover: {names}: replication from {master} is stopped, so it cannot catch up:"
            " start it (orchestrator -c start-replica -i <instance>) or downtime the instance; nothing was changed"
        )
    credentials = _credentials_for(env, master_live, target.key)
    entry = forced_entry(env, master, GRACEFUL)
    # The designated replica is known by now: the pre hooks are told it as the successor.
    designated_outcome = Outcome(failed=master, code=str(entry.code), successor=target.key)

    def pre_hook_ran(text: str) -> None:  # no recovery is registered yet: the audit log keeps the record
        env.audit("pre-graceful-takeover", master, text)
        if note is not None:
            note(text)

    run_hook_list(env, entry, GRACEFUL, "PreGracefulTakeoverProcesses", pre_hook_ran, outcome=designated_outcome)

    def say(text: str) -> None:
        log.info("graceful takeover of %s: %s", master, text)
        if note is not None:
            note(text)

    state = make_read_only(env, master)
    say(f"{master}: {state}")
    if state == "unreachable":
        raise TopologyError(f"GracefulMasterTakeover: {master} is unreachable; use force-master-failover")
    try:
        coordinates = master_live.self_coordinates if env.noop else env.server(master).master_status()
        for live in lives:
            if live.key not in left_behind:  # downtimed and stopped: moved as they are, or left behind
                _wait_executed(env, live.key, coordinates, reasonable)
        say(f"every replica executed {coordinates} of {master}")
        others = [lv.key for lv in lives if lv.key != target.key]
        if others:
            # Everyone executed `coordinates` of the read-only master: file:pos siblings stay file:pos.
            moved = relocate_replicas_below(env, others, target.key, step=say, executed=coordinates)
            stuck = [k for k in moved.lost if not _downtimed(env, k)]
            if stuck:
                raise TopologyError(
                    f"GracefulMasterTakeover: could not move {', '.join(map(str, stuck))} below {target.key}:"
                    f" {'; '.join(moved.errors)}"
                )
        successor_coordinates = BinlogCoordinates("", 0) if env.noop else env.server(target.key).master_status()
        outcome = execute(env, Request(entry, PLANNED, candidate=target.key, command_hint=GRACEFUL), note)
        successor = _promoted(outcome)
    except OrchestratorError:
        make_writable(env, read_live(env, master))
        say(f"{master}: set writable again after the failed takeover")
        raise
    error = _attach_old_master(
        env,
        master,
        successor,
        credentials,
        say,
        ssl=target.status.master_ssl_allowed,
        start=auto,
        successor_coordinates=successor_coordinates if successor == target.key else None,
        file_pos=not target.status.uses_gtid,
    )
    refresh(env, [lv.key for lv in lives if lv.key != target.key])
    run_hook_list(env, entry, GRACEFUL, "PostGracefulTakeoverProcesses", note, outcome=outcome, fail_fast=False)
    return GracefulResult(
        outcome=outcome,
        successor=successor,
        coordinates=str(successor_coordinates),
        old_master=master,
        old_master_replicating=auto and not error,
        old_master_error=error,
    )


def old_master_attachment(
    flavor: fl.Flavor,
    gtid: GtidFacts,
    status: ReplicaStatus,
    successor_coordinates: BinlogCoordinates | None,
    *,
    file_pos: bool = False,
) -> tuple[str | None, BinlogCoordinates | None]:
    """How the demoted master joins its successor: by GTID where the server can (MariaDB; Oracle
    when gtid_mode is not OFF, since auto-position is refused under OFF), else by file:pos at the
    successor's own position taken right before it was promoted (nothing was written there since
    the old master went read-only). `file_pos`: the cluster replicates by file:pos (the successor
    did, so the failover did not use GTID): a MariaDB old master joins by file:pos too, as the
    original attaches it (spec §3.13 step 12), instead of being the one GTID replica.
    Refused when neither is known: a statement the server would reject after the promotion helps
    nobody."""
    known = successor_coordinates is not None and bool(successor_coordinates.file)
    if flavor.is_mariadb and file_pos and known:
        return "off", successor_coordinates
    if flavor.is_mariadb or gtid.supports_oracle_gtid:
        return forced_gtid_mode(flavor, status), None
    if successor_coordinates is None or not successor_coordinates.file:
        raise TopologyError(
            "GracefulMasterTakeover: the demoted master has gtid_mode=OFF and the successor's binary log"
            " position is unknown: point it at the successor with change-master by hand"
        )
    return None, successor_coordinates


def _downtimed(env: TopologyEnv, key: InstanceKey) -> bool:
    return downtime.is_active(env.backend, key)


def _attach_old_master(
    env: TopologyEnv,
    master: InstanceKey,
    successor: InstanceKey,
    credentials: Credentials | None,
    say: Note,
    *,
    ssl: bool,
    start: bool,
    successor_coordinates: BinlogCoordinates | None = None,
    file_pos: bool = False,
) -> str:
    """Point the old master at the new one (GTID forced when available), with the credentials;
    start it when `start` (the auto variant). Returns why it did not start ("" when it did, or was
    not to be started)."""
    live = read_live(env, master)
    try:
        gtid, coordinates = old_master_attachment(
            live.flavor, live.gtid, live.status, successor_coordinates, file_pos=file_pos
        )
    except TopologyError as e:  # the successor is promoted already: report, do not undo
        say(f"{master}: {e}")
        return str(e)
    server = env.server(master)
    change_master(env, master, successor, gtid=gtid, coordinates=coordinates)
    how = f"gtid {gtid}" if gtid else f"from {coordinates}"
    if credentials is not None and not live.status.master_user:
        server.change(live.flavor.change_master(**credentials.change_master_fields(ssl_allowed=ssl)))
        say(f"{master}: replication user {credentials.user} (from {credentials.source})")
    elif ssl:
        server.change(live.flavor.change_master(ssl=True))
    if not start:
        say(
            f"{master}: configured to replicate from {successor} ({how}), replication not started:"
            f" check it, then orchestrator -c start-replica -i {master}"
        )
        refresh(env, [master, successor])
        return ""
    try:
        start_replication(env, master)
    except OrchestratorError as e:
        say(f"{master}: replication from {successor} did not start: {e}")
        refresh(env, [master])
        return str(e)
    downtime.end(env.backend, master)
    say(f"{master}: now replicates from {successor} ({how}); downtime ended")
    refresh(env, [master, successor])
    return ""
