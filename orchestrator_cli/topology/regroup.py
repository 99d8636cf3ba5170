"""Regrouping the replicas of a (possibly dead) master below one of them, on live servers.

The regroup engine (`regroup_replicas`) stops every reachable replica's IO thread, lets each SQL
thread apply its relay log, stops replication, chooses (`topology/candidates.py`), catches the
candidate up, then points the siblings at it: by GTID when they use it (MariaDB or Oracle), by
forced MariaDB GTID (`slave_pos`; every MariaDB transaction carries a GTID) or forced Oracle
auto-position when both sides support it, and by file:pos at the candidate's own coordinates when a
sibling executed exactly as much as the candidate. Whatever cannot be moved is reported as lost,
never silently dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator_cli.backend.instance_rows import (
    instance_from_row,
    instances_from_rows,
    key_of,
    keys_of,
    with_self_coordinates,
)
from orchestrator_cli.errors import NotFoundError, OrchestratorError, TopologyError
from orchestrator_cli.model.coerce import to_int
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.gtid import MariadbGtidPosition, OracleGtidSet, purged_missing
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.topology.candidates import (
    CandidateChoice,
    MasterHints,
    ReplicaFacts,
    choose_candidate,
    strict_mode_conflicts,
)
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.parallel import parallel
from orchestrator_cli.topology.primitives import (
    Live,
    change_master,
    gtid_mode_of,
    overlay_live,
    read_live,
    refresh,
    start_replication,
    stop_replication,
)
from orchestrator_cli.topology.rules import can_replicate_from

log = logging.getLogger("orchestrator.topology")

Step = Callable[[str], None]
_POLL_SECONDS = 0.05


@dataclass
class RegroupResult:
    """What a regroup did. `lost` holds every replica that does not replicate from the candidate
    now (unreachable, ahead of it, unable to replicate from it, or failed to move)."""

    master: InstanceKey
    candidate: InstanceKey | None = None
    candidate_live: Live | None = None
    moved: list[InstanceKey] = field(default_factory=list)
    moved_equal: list[InstanceKey] = field(default_factory=list)
    lost: list[InstanceKey] = field(default_factory=list)
    unreachable: list[InstanceKey] = field(default_factory=list)
    caught_up_from: InstanceKey | None = None
    replicas: list[InstanceKey] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: list[InstanceKey] = field(default_factory=list)


@dataclass
class _Replica:
    live: Live
    facts: ReplicaFacts
    effective_exec: BinlogCoordinates | None


def _note(step: Step | None, text: str) -> None:
    """Report progress to the caller's step recorder (which logs it), or to the log."""
    if step is not None:
        step(text)
    else:
        log.info("%s", text)


def _merged_facts(live: Live, backend: Instance) -> ReplicaFacts:
    """Live replication state and server facts over the backend's rule, location and errant GTIDs."""
    return ReplicaFacts.from_instance(overlay_live(backend, live), valid=True)


def _stop_and_drain(env: TopologyEnv, live: Live, step: Step | None) -> Live:
    """Stop receiving, let the SQL thread apply what was received, then stop replication.

    The master is gone (or about to be replaced), so nothing more will arrive; what a replica
    already holds in its relay log must be applied before it is compared, promoted or repointed
    (repointing discards relay logs). Waits while the SQL thread makes progress; gives up after
    ReasonableReplicationLagSeconds without progress. Delayed replicas are not drained.

    A replica whose SQL thread was stopped (without an error) applies its backlog too, as the
    original's nice stop does: its SQL thread is started *before* the IO thread stops, because
    MariaDB discards the relay log of a GTID replica once both threads are stopped (the next start
    fetches again from gtid_slave_pos, which a dead master cannot serve).
    """
    server = env.server(live.key)
    status = live.status
    backlog = (
        status.io_state != ThreadState.NONE
        and not status.sql_running
        and not status.last_sql_error
        and status.sql_delay == 0
        and not status.read_coordinates.is_empty
        and status.read_coordinates != status.exec_coordinates
    )
    io_stopped = status.io_state == ThreadState.STOPPED
    if backlog and (not io_stopped or not status.uses_mariadb_gtid):
        _note(step, f"{live.key}: SQL thread stopped with a relay log backlog: started to apply it")
        server.change(live.flavor.start_sql_thread())
    elif backlog:
        _note(step, f"{live.key}: both replication threads were stopped: MariaDB GTID discards its relay log backlog")
    if status.io_state != ThreadState.NONE:
        server.change(live.flavor.stop_io_thread())
    if env.noop:
        return live
    stall = float(env.config.get("ReasonableReplicationLagSeconds", 10))
    status = server.replica_status()
    if status.sql_running and status.sql_delay == 0:
        progress_at = time.monotonic()
        last = status.exec_coordinates
        while status.sql_running and status.exec_coordinates != status.read_coordinates:
            if status.exec_coordinates != last:
                last, progress_at = status.exec_coordinates, time.monotonic()
            elif time.monotonic() - progress_at > stall:
                _note(step, f"{live.key}: relay log not fully applied ({stall:.0f}s without progress)")
                break
            time.sleep(_POLL_SECONDS)
            status = server.replica_status()
    stop_replication(env, live.key)
    return _refresh_gtid(env, replace(live, status=server.replica_status()))


def _gtid_method(sibling: Live, target: Live, *, gtid_only: bool) -> tuple[str | None, str]:
    """(gtid argument for change_master, why not) for moving `sibling` below `target` by GTID; the
    argument is None when it cannot move by GTID.

    A GTID sibling keeps its mode (MariaDB slave_pos or current_pos), named in the statement; a
    file:pos one is forced to GTID (the argument then differs from `gtid_mode_of` its status).
    """
    s, t = sibling.flavor, target.flavor
    if s.is_mariadb and t.is_mariadb:
        if not (s.supports_gtid and t.supports_gtid):
            return None, "MariaDB without GTID support"
        if sibling.status.uses_mariadb_gtid:
            return gtid_mode_of(s, sibling.status), ""
        if gtid_only:
            return None, "it does not use GTID"
        return "slave_pos", ""
    if s.is_oracle and t.is_oracle and target.gtid.supports_oracle_gtid:
        if sibling.status.auto_position or (sibling.gtid.supports_oracle_gtid and not gtid_only):
            return "auto", ""
        return None, "it does not use GTID"
    return None, "no common GTID flavor"


def _gtid_blocker(sibling: Live, target: Live) -> str | None:
    """A reason the target's binary log cannot serve the sibling by GTID, when positions tell."""
    try:
        if sibling.flavor.is_mariadb:
            pos = sibling.gtid.gtid_slave_pos or sibling.gtid.gtid_current_pos
            if not pos or not target.gtid.gtid_binlog_pos:
                return None
            reasons = MariadbGtidPosition.parse(pos).replication_blockers(target.gtid.gtid_binlog_pos)
            if not reasons and sibling.gtid.gtid_strict_mode:
                reasons = strict_mode_conflicts(sibling.gtid.gtid_binlog_pos, target.gtid.gtid_binlog_pos)
                if reasons:
                    return (
                        f"{sibling.key} logged transactions {target.key} does not have (errant), and with"
                        f" gtid_strict_mode it would stop at {target.key}'s next one: {'; '.join(reasons)}"
                    )
            return "; ".join(reasons) or None
        if sibling.gtid.gtid_executed and target.gtid.gtid_purged:
            missing = purged_missing(
                OracleGtidSet.parse(sibling.gtid.gtid_executed), OracleGtidSet.parse(target.gtid.gtid_purged)
            )
            if not missing.is_empty():
                return f"{target.key} purged {missing} which {sibling.key} still needs"
    except ValueError as e:
        log.warning("%s: cannot compare GTID positions: %s", sibling.key, e)
    return None


def _refresh_gtid(env: TopologyEnv, live: Live) -> Live:
    if env.noop:
        return live
    server = env.server(live.key)
    gtid = server.gtid_facts()
    row = with_self_coordinates(live.row, server.master_status()) if live.instance.log_bin else live.row
    return replace(live, gtid=gtid, row=row)


def _catch_up(env: TopologyEnv, candidate: Live, source: Live, step: Step | None) -> tuple[Live, str]:
    """Replicate the candidate from the more advanced `source` until it executed everything `source`
    logged, then stop it. GTID only: file:pos coordinates of the dead master mean nothing on `source`.

    Returns the stopped candidate and the GTID mode it replicates with now (pointing it back names it).
    """
    gtid, why = _gtid_method(candidate, source, gtid_only=False)
    if gtid is None:
        raise TopologyError(f"{candidate.key} cannot catch up from {source.key}: {why}")
    blocker = _gtid_blocker(candidate, source)
    if blocker:
        raise TopologyError(f"{candidate.key} cannot catch up from {source.key}: {blocker}")
    target = source.self_coordinates
    target_file, target_pos = target.file, target.pos
    change_master(env, candidate.key, source.key, gtid=gtid)
    start_replication(env, candidate.key)
    server = env.server(candidate.key)
    timeout = max(1, to_int(env.config.get("ReasonableMaintenanceReplicationLagSeconds"), 20))
    if not env.noop:
        row = server.query_one(candidate.flavor.master_pos_wait(target_file, target_pos, timeout))
        if not candidate.flavor.parse_pos_wait(row):
            stop_replication(env, candidate.key)
            raise TopologyError(
                f"{candidate.key} did not reach {source.key}'s {target_file}:{target_pos} within {timeout}s"
            )
    stop_replication(env, candidate.key)
    _note(step, f"{candidate.key} caught up from {source.key} up to {target_file}:{target_pos}")
    live = replace(candidate, status=server.replica_status()) if not env.noop else candidate
    return _refresh_gtid(env, live), gtid


def _move_below(
    env: TopologyEnv, sibling: _Replica, target: _Replica, equal: bool, gtid_only: bool, start: bool
) -> str:
    """Point one stopped sibling at the candidate; returns how (for the step log).

    A GTID replica moves by GTID. A file:pos replica that executed exactly as much as the candidate
    continues at the candidate's own binlog position (its mode is kept); one that is behind needs
    GTID forced (MariaDB logs a GTID for every transaction, Oracle needs gtid_mode ON on both).
    """
    gtid, why = _gtid_method(sibling.live, target.live, gtid_only=gtid_only)
    uses_gtid = sibling.live.status.uses_gtid
    if equal and not uses_gtid and not gtid_only:
        own = target.live.self_coordinates
        change_master(env, sibling.live.key, target.live.key, coordinates=own)
        how = f"file:pos {own}"
    elif gtid is not None:
        blocker = _gtid_blocker(sibling.live, target.live)
        if blocker:
            raise TopologyError(f"cannot move {sibling.live.key} below {target.live.key}: {blocker}")
        change_master(env, sibling.live.key, target.live.key, gtid=gtid)
        how = "GTID" if uses_gtid else f"GTID ({gtid}, was file:pos)"
    else:
        raise TopologyError(f"cannot move {sibling.live.key} below {target.live.key}: {why}, and it is behind")
    if start:
        start_replication(env, sibling.live.key)
    return how


def regroup_replicas(
    env: TopologyEnv,
    master_key: InstanceKey,
    *,
    candidate: InstanceKey | None = None,
    gtid_only: bool = False,
    for_failover: bool = False,
    step: Step | None = None,
    backend_rows: Sequence[Mapping[str, Any]] | None = None,
) -> RegroupResult:
    """Make one replica of `master_key` the master of its siblings (`master_key` is not contacted).

    With `for_failover` the candidate is left stopped, still pointing at the dead master, ready to be
    promoted; otherwise it is pointed back at `master_key` (if it caught up elsewhere) and started.
    Raises when no replica may be promoted, after restarting the replicas it stopped.
    """
    from orchestrator_cli.backend import instances

    rows = list(backend_rows) if backend_rows is not None else instances.replicas_of(env.backend, master_key)
    result = RegroupResult(master=master_key, replicas=keys_of(rows))
    if not rows:
        raise NotFoundError(f"No replicas found for {master_key}")
    master_row = instances.read_instance(env.backend, master_key)
    by_key = {key_of(r): r for r in rows}
    limit = max(1, to_int(env.config.get("MaxConcurrentReplicaOperations"), 5))

    reads = parallel(list(by_key), lambda k: read_live(env, k), len(by_key))
    lives: list[Live] = []
    for key, live, error in reads:
        if error is not None:
            result.unreachable.append(key)
            _note(step, f"{key}: unreachable, lost: {error}")
        elif live.master_key != master_key:
            _note(step, f"{key}: no longer replicates from {master_key} (now {live.master_key}); left alone")
        else:
            lives.append(live)
    if not lives:
        result.lost = list(result.unreachable)
        raise TopologyError(f"no reachable replica of {master_key}")

    stops = parallel(lives, lambda lv: _stop_and_drain(env, lv, step), len(lives))
    replicas: list[_Replica] = []
    for live, stopped, error in stops:
        if error is not None:
            result.unreachable.append(live.key)
            _note(step, f"{live.key}: could not stop replication, lost: {error}")
            continue
        result.stopped.append(live.key)
        facts = _merged_facts(stopped, instance_from_row(by_key[live.key]))
        replicas.append(_Replica(stopped, facts, facts.exec_coordinates))
    _note(step, "stopped and drained: " + ", ".join(f"{r.live.key} at {r.effective_exec}" for r in replicas))

    try:
        chosen = _choose_and_catch_up(env, replicas, master_row, candidate, step)
    except OrchestratorError:
        _restart_all(env, [r.live.key for r in replicas], step)
        raise
    result.candidate = chosen.live.key
    result.caught_up_from = chosen.caught_up_from
    _note(step, f"candidate: {chosen.live.key}")

    siblings = [r for r in replicas if r.live.key != chosen.live.key]
    target = _Replica(chosen.live, chosen.facts, chosen.effective_exec)
    lost: list[InstanceKey] = list(result.unreachable)
    plans: list[tuple[_Replica, bool]] = []
    for s in siblings:
        refusal = can_replicate_from(s.live.instance, target.live.instance, env.config)
        if refusal:
            lost.append(s.live.key)
            _note(step, f"{s.live.key}: cannot replicate from {target.live.key}: {refusal}; lost")
        elif (
            s.effective_exec is not None
            and target.effective_exec is not None
            and s.effective_exec > target.effective_exec
        ):
            lost.append(s.live.key)
            _note(step, f"{s.live.key}: executed more than {target.live.key} ({s.effective_exec}); lost")
        else:
            plans.append((s, s.effective_exec == target.effective_exec))

    moves = parallel(plans, lambda p: _move_below(env, p[0], target, p[1], gtid_only, start=True), limit)
    for (s, equal), how, error in moves:
        if error is not None:
            lost.append(s.live.key)
            result.errors.append(str(error))
            _note(step, f"{s.live.key}: not moved: {error}; lost")
            _restart_all(env, [s.live.key], step)
        else:
            result.moved.append(s.live.key)
            if equal and how.startswith("file:pos"):
                result.moved_equal.append(s.live.key)
            _note(step, f"{s.live.key}: now replicates from {target.live.key} by {how}")
    result.lost = lost

    if not for_failover:
        if chosen.caught_up_from is not None:
            change_master(env, chosen.live.key, master_key, gtid=chosen.mode)
        try:
            start_replication(env, chosen.live.key)
        except OrchestratorError as e:
            _note(step, f"{chosen.live.key}: replication not running after regroup: {e}")
        # the master still serves the siblings that could not move: they resume where they were
        left = [k for k in lost if k in result.stopped and k not in result.moved]
        _restart_all(env, left, step)
        refresh(env, [chosen.live.key, *result.moved])
    elif chosen.caught_up_from is not None:
        # It caught up from a sibling that now replicates from it: a stopped candidate must not stay
        # configured below its own replica (a START SLAVE would close a cycle). It waits for its
        # promotion pointing at the failed master, as one that did not need to catch up.
        change_master(env, chosen.live.key, master_key, gtid=chosen.mode)
        _note(step, f"{chosen.live.key}: pointed back at {master_key} (stopped) after catching up")
    result.candidate_live = chosen.live
    return result


@dataclass
class _Chosen:
    live: Live
    facts: ReplicaFacts
    effective_exec: BinlogCoordinates | None
    caught_up_from: InstanceKey | None = None
    mode: str | None = None  # the GTID mode it caught up with (kept when pointed back at the master)


def _choose_and_catch_up(
    env: TopologyEnv,
    replicas: list[_Replica],
    master_row: Mapping[str, Any] | None,
    explicit: InstanceKey | None,
    step: Step | None,
) -> _Chosen:
    hints = MasterHints.from_row(master_row)
    choice = choose_candidate([r.facts for r in replicas], hints, env.config, explicit=explicit)
    for key, why in sorted(choice.refused.items()):
        _note(step, f"{key}: not promotable: {why}")
    if choice.candidate is None:
        raise TopologyError(f"no candidate replica found: {choice.why_none()}")
    by_key = {r.live.key: r for r in replicas}
    picked = by_key[choice.candidate.key]
    freshest = by_key[choice.most_advanced.key] if choice.most_advanced else picked
    behind = (
        freshest.effective_exec is not None
        and picked.effective_exec is not None
        and freshest.effective_exec > picked.effective_exec
    )
    if not behind:
        return _Chosen(picked.live, picked.facts, picked.effective_exec)
    _note(
        step,
        f"{picked.live.key} ({picked.facts.promotion_rule}) is behind {freshest.live.key}"
        f" ({picked.effective_exec} < {freshest.effective_exec}): catching it up first",
    )
    try:
        caught, mode = _catch_up(env, picked.live, freshest.live, step)
        return _Chosen(caught, picked.facts, freshest.effective_exec, caught_up_from=freshest.live.key, mode=mode)
    except OrchestratorError as e:
        _note(step, f"{picked.live.key}: {e}")
        if explicit is None and freshest.facts.key not in choice.refused:
            _note(step, f"promoting the most advanced replica {freshest.live.key} instead")
            return _Chosen(freshest.live, freshest.facts, freshest.effective_exec)
        _note(step, f"keeping {picked.live.key}: replicas ahead of it will be lost")
        return _Chosen(picked.live, picked.facts, picked.effective_exec)


def _restart_all(env: TopologyEnv, keys: Sequence[InstanceKey], step: Step | None) -> None:
    """Best effort: replicas we stopped resume what they did (a failed regroup must leave them as found)."""
    restarted: list[str] = []
    for key, _, error in parallel(list(keys), lambda k: start_replication(env, k, timeout=1.0), len(keys) or 1):
        if error is None:
            restarted.append(str(key))
        else:
            _note(step, f"restarting {key}: {error}")
    if restarted:
        _note(step, "replication restarted on: " + ", ".join(restarted))


def candidate_from_backend(
    env: TopologyEnv, master_key: InstanceKey, *, explicit: InstanceKey | None = None
) -> CandidateChoice:
    """Informational (`get-candidate-replica`): choose from backend rows, touching no server."""
    from orchestrator_cli.backend import instances

    rows = instances.replicas_of(env.backend, master_key)
    if not rows:
        raise NotFoundError(f"No replicas found for {master_key}")
    hints = MasterHints.from_row(instances.read_instance(env.backend, master_key))
    facts = [ReplicaFacts.from_instance(i) for i in instances_from_rows(rows)]
    return choose_candidate(facts, hints, env.config, explicit=explicit)


@dataclass
class RelocateResult:
    target: InstanceKey
    moved: list[InstanceKey] = field(default_factory=list)
    lost: list[InstanceKey] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def relocate_replicas_below(
    env: TopologyEnv,
    keys: Sequence[InstanceKey],
    target: InstanceKey,
    *,
    step: Step | None = None,
    gtid_only: bool = False,
    executed: BinlogCoordinates | None = None,
) -> RelocateResult:
    """Move replicas (typically of a dead intermediate master) below `target` by GTID.

    Each replica is stopped after applying its relay log, checked (`can_replicate_from`, GTID
    positions the target can serve), repointed and started. A replica that cannot move is restarted
    where it was and reported lost; file:pos replicas cannot move (their coordinates belong to
    another server's binary log) unless `executed` says where they stand: the position of the
    target's master that the target and the replicas all executed, that master taking no more
    writes (a graceful takeover). A file:pos sibling of the target that stopped there continues at
    the target's own binary log position and keeps replicating by file:pos.
    """
    result = RelocateResult(target=target)
    target_live = read_live(env, target)
    if not target_live.instance.log_bin:
        raise TopologyError(f"{target} has no binary log: nothing can replicate from it")
    if executed is not None and not _stands_at(target_live, executed):
        _note(step, f"{target} did not stop at {executed} of its master: replicas move by GTID")
        executed = None
    anchor = _Replica(target_live, _merged_facts(target_live, target_live.instance), None)
    limit = max(1, to_int(env.config.get("MaxConcurrentReplicaOperations"), 5))
    lives: list[Live] = []
    for key, live, error in parallel(list(keys), lambda k: read_live(env, k), len(keys) or 1):
        if error is not None:
            result.lost.append(key)
            _note(step, f"{key}: unreachable, lost: {error}")
        else:
            lives.append(live)

    def move(live: Live) -> str:
        refusal = can_replicate_from(live.instance, target_live.instance, env.config)
        if refusal:
            raise TopologyError(f"{live.key} cannot replicate from {target}: {refusal}")
        stopped = _stop_and_drain(env, live, step)
        sibling = _Replica(stopped, _merged_facts(stopped, stopped.instance), None)
        equal = (
            executed is not None
            and not stopped.status.uses_gtid
            and stopped.master_key == target_live.master_key
            and _stands_at(stopped, executed)
        )
        try:
            return _move_below(env, sibling, anchor, equal, gtid_only, start=True)
        except OrchestratorError:
            _restart_all(env, [live.key], None)
            raise

    for live, how, error in parallel(lives, move, limit):
        if error is not None:
            result.lost.append(live.key)
            result.errors.append(str(error))
            _note(step, f"{live.key}: not moved: {error}")
        else:
            result.moved.append(live.key)
            _note(step, f"{live.key}: now replicates from {target} by {how}")
    return result


def _stands_at(live: Live, executed: BinlogCoordinates) -> bool:
    """`live` executed exactly `executed` of its master."""
    own = live.status.exec_coordinates
    return (own.file, own.pos) == (executed.file, executed.pos)


# -- binlog servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinlogServerChoice:
    """Which binlog server to promote among a master's binlog-server replicas, and what becomes of
    the others. A pure decision over snapshots (`choose_binlog_server`), so it is tested on values.

    `promoted` is None when no binlog server may be promoted; `why_none` then says why.
    """

    promoted: Instance | None
    to_repoint: tuple[Instance, ...] = ()
    unusable: tuple[tuple[InstanceKey, str], ...] = ()
    why_none: str = ""


def choose_binlog_server(replicas: Sequence[Instance]) -> BinlogServerChoice:
    """The most up-to-date binlog server among `replicas` (a master's direct replicas, any kind).

    Binlog servers mirror their master's binary logs under the master's own file names, so their
    executed coordinates compare directly and any of them can serve the others at the very
    coordinates they stopped at. The one that executed the most is promoted (the first in the given
    order on a tie, for a stable answer); every other binlog server is to be repointed below it.
    Binlog servers that are not valid (unreachable) are neither promoted nor moved: they are
    reported, with why. Replicas that are not binlog servers are ignored (regroup-replicas is for them).

    >>> from orchestrator_cli.model.coordinates import BinlogCoordinates as C
    >>> bls = lambda host, pos: Instance(
    ...     InstanceKey(host, 3306), binlog_server=True, last_check_valid=True,
    ...     exec_coordinates=C("mysql-bin.000007", pos))
    >>> choice = choose_binlog_server([bls("bls-a", 120), bls("bls-b", 4000), bls("bls-c", 120)])
    >>> str(choice.promoted.key), [str(i.key) for i in choice.to_repoint]
    ('bls-b:3306', ['bls-a:3306', 'bls-c:3306'])
    >>> choose_binlog_server([Instance(InstanceKey("db-2", 3306))]).why_none
    'it has no binlog server replicas'
    """
    servers = [r for r in replicas if r.binlog_server]
    if not servers:
        return BinlogServerChoice(None, why_none="it has no binlog server replicas")
    valid = [r for r in servers if r.last_check_valid]
    unusable = tuple((r.key, "unreachable") for r in servers if not r.last_check_valid)
    if not valid:
        return BinlogServerChoice(None, unusable=unusable, why_none="none of its binlog server replicas is reachable")
    promoted = valid[0]
    for candidate in valid[1:]:
        if candidate.exec_coordinates > promoted.exec_coordinates:
            promoted = candidate
    others = tuple(r for r in valid if r.key != promoted.key)
    return BinlogServerChoice(promoted, to_repoint=others, unusable=unusable)


@dataclass
class BinlogServerRegroup:
    """What `regroup_binlog_servers` did: the promoted binlog server, the binlog servers now below it,
    and those left where they were, with why."""

    master: InstanceKey
    promoted: InstanceKey
    repointed: list[InstanceKey] = field(default_factory=list)
    failed: dict[InstanceKey, str] = field(default_factory=dict)


def _binlog_server_snapshot(env: TopologyEnv, stored: Instance, master_key: InstanceKey) -> Instance | None:
    """`stored` (a backend row) as the server is now: whether it is a binlog server (asked live: the
    probe does not tell MaxScale apart), its coordinates, reachable or not. None when it is no binlog
    server, or no longer replicates from `master_key`.

    An unreachable server keeps the backend's word on being a binlog server, marked invalid, so that
    it is reported rather than silently left out.
    """
    from orchestrator_cli.mysql import flavor as fl

    try:
        server = env.server(stored.key)
        maxscale = fl.parse_binlog_server_check(server.query(fl.binlog_server_check_sql()))
        if not maxscale:
            return None
        live = read_live(env, stored.key)
    except (OrchestratorError, fl.FlavorError) as e:
        log.info("%s: unreachable: %s", stored.key, e)
        return stored.replace(last_check_valid=False) if stored.binlog_server else None
    if live.master_key != master_key:
        return None
    return overlay_live(stored, live).replace(binlog_server=True, last_check_valid=True)


def regroup_binlog_servers(
    env: TopologyEnv, master_key: InstanceKey, *, step: Step | None = None
) -> BinlogServerRegroup:
    """`regroup-replicas-bls`: make the most up-to-date binlog-server replica of `master_key` (which
    is not contacted; typically it is dead) the master of its sibling binlog servers.

    The replicas are those the backend names; each is asked live whether it is a binlog server and
    how far it got. Each sibling is repointed below the promoted one at its own executed coordinates,
    as its own audited, locked `repoint` (refused when the promoted server has not received that
    far). Raises, changing nothing, when there is no binlog server to promote; raises when every
    sibling failed to move. Other replicas of the master are not touched.
    """
    from orchestrator_cli.backend import instances
    from orchestrator_cli.topology import moves

    def fail(why: str) -> TopologyError:
        return TopologyError(f"Could not regroup binlog server replicas of {master_key}: {why}")

    stored = instances_from_rows(instances.replicas_of(env.backend, master_key))
    if not stored:
        raise fail("it has no replicas")
    snapshots: list[Instance] = []
    for instance, snapshot, error in parallel(
        stored, lambda i: _binlog_server_snapshot(env, i, master_key), len(stored)
    ):
        if error is not None:
            _note(step, f"{instance.key}: not examined: {error}")
        elif snapshot is not None:
            snapshots.append(snapshot)
    choice = choose_binlog_server(snapshots)
    for key, why in choice.unusable:
        _note(step, f"{key}: not regrouped: {why}")
    if choice.promoted is None:
        raise fail(choice.why_none)
    promoted = choice.promoted.key
    _note(step, f"promoting {promoted} (executed {choice.promoted.exec_coordinates})")
    result = BinlogServerRegroup(master_key, promoted, failed=dict(choice.unusable))
    for sibling in choice.to_repoint:
        try:
            moves.repoint(env, sibling.key, promoted, binlog_server_target=True)
        except OrchestratorError as e:
            result.failed[sibling.key] = str(e)
            _note(step, f"{sibling.key}: not repointed below {promoted}: {e}")
        else:
            result.repointed.append(sibling.key)
            _note(step, f"{sibling.key}: now replicates from {promoted}")
    if choice.to_repoint and not result.repointed:
        error = fail("; ".join(f"{k}: {why}" for k, why in result.failed.items()))
        env.audit("regroup-replicas-bls", master_key, f"failed: {error}")
        raise error
    env.audit(
        "regroup-replicas-bls",
        master_key,
        f"promoted {promoted}; repointed {len(result.repointed)}: {', '.join(map(str, result.repointed))};"
        f" not regrouped {len(result.failed)}: {', '.join(map(str, result.failed))}",
    )
    return result
