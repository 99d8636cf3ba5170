"""Pseudo-GTID: relocating file:pos replicas by matching their logs against another server's binary logs.

The master periodically writes a unique, harmless statement (the Pseudo-GTID entry) into its binary
log. To move a replica below any other server that has the same data stream: find the replica's
last entry, find the identical entry in the other server's binary logs, walk both logs forward in
lock-step from there, and the other server's position after the replica's last event is where the
replica continues. No GTID needed; the servers need not be siblings.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.errors import TopologyError, UnsafeOperationError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.facts import BinlogEvent
from orchestrator_cli.topology import binlog_search as bs
from orchestrator_cli.topology import locks
from orchestrator_cli.topology.ancestry import refuse_cycle
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.moves import Moved, check_can_replicate, deny_gtid, require_replica
from orchestrator_cli.topology.operation import Operation, lock_reason
from orchestrator_cli.topology.primitives import Live, read_live
from orchestrator_cli.topology.relocate import BulkResult, each, refuse_target_below, replicas_of

NOT_CONFIGURED = "PseudoGTIDPattern not configured; cannot use Pseudo-GTID"
AUTO_PATTERN = "drop view if exists `_pseudo_gtid_`"
AUTO_MONOTONIC_HINT = "asc:"


@dataclass(frozen=True)
class Settings:
    """The Pseudo-GTID configuration (AutoPseudoGTID forces the pattern, as the original does)."""

    pattern: str
    fixed_substring: bool
    monotonic_hint: str
    chunk: int
    skip_containing: tuple[str, ...]

    def is_entry(self, info: str) -> bool:
        return bs.entry_matcher(self.pattern, self.fixed_substring)(info)


def settings(config: Mapping[str, Any]) -> Settings:
    """The configured settings; refuses (the original's message) when no pattern is configured."""
    chunk = int(config.get("BinlogEventsChunkSize") or bs.DEFAULT_CHUNK)
    skip = tuple(str(s) for s in (config.get("SkipBinlogEventsContaining") or ()) if s)
    if config.get("AutoPseudoGTID"):
        return Settings(AUTO_PATTERN, True, AUTO_MONOTONIC_HINT, chunk, skip)
    pattern = str(config.get("PseudoGTIDPattern") or "")
    if not pattern:
        raise TopologyError(NOT_CONFIGURED)
    fixed = bool(config.get("PseudoGTIDPatternIsFixedSubstring"))
    bs.entry_matcher(pattern, fixed)  # a bad regular expression fails here, before anything changes
    return Settings(pattern, fixed, str(config.get("PseudoGTIDMonotonicHint") or ""), chunk, skip)


@dataclass(frozen=True)
class LastEntry:
    """An instance's newest Pseudo-GTID entry and which of its logs it was found in."""

    event: BinlogEvent
    relay: bool


def searches_binlogs(live: Live, skip_binlog_search: bool, binlog_format: str | None = None) -> bool:
    """Whether the instance's own binary logs hold its replication stream (else: its relay logs)."""
    instance = live.instance
    if skip_binlog_search or not instance.log_bin:
        return False
    if live.status.is_replica and not instance.log_slave_updates:
        return False
    return binlog_format is None or instance.binlog_format == binlog_format


def last_entry(
    env: TopologyEnv,
    live: Live,
    cfg: Settings,
    *,
    skip_binlog_search: bool = False,
    binlog_format: str | None = None,
    relay_stop: BinlogCoordinates | None = None,
) -> LastEntry:
    """The newest Pseudo-GTID entry of `live`: in its binary logs when eligible, else its executed relay logs."""
    server = env.server(live.key)
    if searches_binlogs(live, skip_binlog_search, binlog_format):
        reader = bs.LogReader(server, relay=False, chunk=cfg.chunk)
        found = bs.last_entry(reader, reader.binlog_files_newest_first(), cfg.is_entry)
        if found is not None:
            return LastEntry(found, relay=False)
    if live.status.is_replica:
        stop = relay_stop or live.status.relay_coordinates
        if not stop.is_empty:
            reader = bs.LogReader(server, relay=True, chunk=cfg.chunk)
            found = bs.last_entry(reader, reader.files_back_from(stop.file), cfg.is_entry, before=stop)
            if found is not None:
                return LastEntry(found, relay=True)
    raise TopologyError(f"{live.key}: cannot find a Pseudo-GTID entry in its logs")


_FOUND_SECONDS = 600
_found: dict[tuple[InstanceKey, str], tuple[float, BinlogEvent]] = {}
_found_lock = threading.Lock()


def locate_entry(env: TopologyEnv, key: InstanceKey, text: str, cfg: Settings) -> BinlogEvent:
    """The event with exactly `text` in `key`'s binary logs (newest first).

    Positions found are remembered for 10 minutes: matching several replicas below one server looks
    up the same entry each time. A stale position cannot mislead: the lock-step walk starts by
    comparing the event found there with the entry.
    """
    now = time.monotonic()
    with _found_lock:
        cached = _found.get((key, text))
    if cached is not None and now - cached[0] < _FOUND_SECONDS:
        return cached[1]
    reader = bs.LogReader(env.server(key), relay=False, chunk=cfg.chunk)
    found = bs.find_exact(reader, reader.binlog_files_newest_first(), text, cfg.is_entry, cfg.monotonic_hint)
    if found is None:
        raise TopologyError(f"cannot find Pseudo-GTID entry in binary logs of {key}: {text}")
    with _found_lock:
        _found[(key, text)] = (now, found)
    return found


def correlate(
    env: TopologyEnv,
    live: Live,
    other: InstanceKey,
    cfg: Settings,
    *,
    skip_binlog_search: bool = False,
) -> tuple[BinlogCoordinates, bs.Correlation]:
    """BinlogCoordinates on `other` holding exactly what `live` has: the heart of every match.

    The instance stream ends at the end of its binary logs (it is stopped), or for a relay log
    search at the executed relay log position.
    """
    other_server = env.server(other)
    other_format = other_server.core_variables().binlog_format
    relay_stop = live.status.relay_coordinates if live.status.is_replica else None
    entry = last_entry(
        env, live, cfg, skip_binlog_search=skip_binlog_search, binlog_format=other_format, relay_stop=relay_stop
    )
    on_other = locate_entry(env, other, entry.event.info, cfg)
    mine = bs.LogReader(env.server(live.key), relay=entry.relay, chunk=cfg.chunk)
    if entry.relay:
        assert relay_stop is not None
        instance_events = bs.forward(
            mine,
            BinlogCoordinates(entry.event.file, entry.event.pos),
            stop=relay_stop,
            skip_containing=cfg.skip_containing,
        )
    else:
        files = [name for name, _ in env.server(live.key).binary_logs()]
        instance_events = bs.forward(
            mine,
            BinlogCoordinates(entry.event.file, entry.event.pos),
            last_file=files[-1] if files else None,
            skip_containing=cfg.skip_containing,
        )
    theirs = bs.LogReader(other_server, relay=False, chunk=cfg.chunk)
    other_files = [name for name, _ in other_server.binary_logs()]
    other_events = bs.forward(
        theirs,
        BinlogCoordinates(on_other.file, on_other.pos),
        last_file=other_files[-1] if other_files else None,
        skip_containing=cfg.skip_containing,
    )
    result = bs.correlate(instance_events, other_events)
    return result.coordinates, result


# -- matching ---------------------------------------------------------------------------------------


def match_below_within(op: Operation, instance: Live, other: Live, cfg: Settings, skip_binlog_search: bool) -> None:
    """Stop `instance`, find where `other` holds its data, and make it replicate from `other` there."""
    require_replica(instance)
    op.lock(instance.key, other.key)
    refuse_cycle(op.env, instance, other)
    other_instance = other.instance
    if other_instance.binlog_server:
        raise UnsafeOperationError(f"cannot match below {other.key}: it is a binlog server (no SHOW BINLOG EVENTS)")
    if not other_instance.log_bin:
        raise UnsafeOperationError(f"cannot match below {other.key}: it has no binary logs")
    check_can_replicate(instance, other, op.env.config)
    op.method = "pseudo-gtid"
    op.stop(instance.key)
    stopped = read_live(op.env, instance.key)
    coords, result = correlate(op.env, stopped, other.key, cfg, skip_binlog_search=skip_binlog_search)
    op.change_master(instance.key, other.key, before=stopped.status, coords=coords, gtid=deny_gtid(instance))
    op.start(instance.key)
    op.summary = (
        f"matched {instance.key} below {other.key} at {coords} via pseudo-gtid ({result.matched} events in lock-step)"
    )


def match_below(
    env: TopologyEnv, key: InstanceKey, other: InstanceKey, *, name: str = "match", skip_binlog_search: bool = False
) -> Moved:
    cfg = settings(env.config)
    with Operation(env, name, key) as op:
        match_below_within(op, op.read(key), op.read(other), cfg, skip_binlog_search)
    return Moved(key, other, op.method)


def match_up(env: TopologyEnv, key: InstanceKey, *, skip_binlog_search: bool = False) -> Moved:
    """Match `key` below its grandparent; its master may be dead (it is not contacted)."""
    cfg = settings(env.config)
    with Operation(env, "match-up", key) as op:
        instance = op.read(key)
        require_replica(instance)
        assert instance.master_key is not None
        if _matched_by_killed_match_up(op, instance):
            # a process killed after matching left it stopped below its former grandparent: taking
            # its locks over restarts it; matching up again would move it one more level up
            op.lock(key)
            op.method = "pseudo-gtid"
            op.summary = f"{key}<{instance.master_key}: completed the match-up a killed process left"
            return Moved(key, instance.master_key, op.method)
        grand = _master_of(env, instance.master_key)
        match_below_within(op, instance, op.read(grand), cfg, skip_binlog_search)
    return Moved(key, grand, op.method)


def _matched_by_killed_match_up(op: Operation, instance: Live) -> bool:
    """Whether a killed match-up of this instance already matched it: it locked the instance and the
    grandparent (never the master, which may be dead), so the instance replicating from the other
    server that process locked means the CHANGE MASTER happened."""
    killed = locks.killed_operation_locks(op.env, instance.key, lock_reason(op.name, instance.key))
    return instance.master_key is not None and instance.master_key in {h.key for h in killed if h.key != instance.key}


def _master_of(env: TopologyEnv, key: InstanceKey) -> InstanceKey:
    """The master of `key`: live if it answers, else as the backend last saw it."""
    from orchestrator_cli.backend import instances
    from orchestrator_cli.errors import OrchestratorError

    try:
        live = read_live(env, key)
    except OrchestratorError:
        snapshot = instances.read_snapshot(env.backend, key)
        master = snapshot.master_key if snapshot is not None else None
    else:
        master = live.master_key
    if master is None:
        raise TopologyError(f"master {key} is not a replica itself: cannot match up below its master")
    return master


def rematch(env: TopologyEnv, key: InstanceKey, *, skip_binlog_search: bool = False) -> Moved:
    """Reconnect `key` to its own master at coordinates found by Pseudo-GTID (e.g. after relay log loss)."""
    cfg = settings(env.config)
    with Operation(env, "rematch", key) as op:
        instance = op.read(key)
        require_replica(instance)
        assert instance.master_key is not None
        master = instance.master_key
        match_below_within(op, instance, op.read(master), cfg, skip_binlog_search)
    return Moved(key, master, op.method)


def match_replicas(
    env: TopologyEnv,
    master: InstanceKey,
    below: InstanceKey,
    pattern: str = "",
    *,
    name: str = "match-replicas",
    skip_binlog_search: bool = False,
    require_all: bool = True,
) -> BulkResult:
    """Match the replicas of `master` (not contacted; it may be dead) below `below`, one audited operation each."""
    settings(env.config)
    keys = replicas_of(env, master, pattern, exclude=below)
    if not keys:
        return BulkResult([], {})
    refuse_target_below(env, keys, below)
    result = each(
        keys, lambda key: match_below(env, key, below, name=name, skip_binlog_search=skip_binlog_search), env.progress
    )
    if result.failed and (require_all or not result.moved):
        reasons = "; ".join(f"{k}: {e}" for k, e in result.failed.items())
        raise TopologyError(
            f"MultiMatchReplicas: only matched {len(result.moved)} out of {len(keys)} replicas of {master};"
            f" error is: {reasons}"
        )
    return result


def match_up_replicas(
    env: TopologyEnv, master: InstanceKey, pattern: str = "", *, skip_binlog_search: bool = False
) -> BulkResult:
    """Match the replicas of `master` up below `master`'s own master; fails only when none moved."""
    settings(env.config)
    grand = _master_of(env, master)
    return match_replicas(
        env,
        master,
        grand,
        pattern,
        name="match-up-replicas",
        skip_binlog_search=skip_binlog_search,
        require_all=False,
    )


# -- binlog tools ---------------------------------------------------------------------------------


def last_pseudo_gtid(env: TopologyEnv, key: InstanceKey, *, skip_binlog_search: bool = False) -> BinlogEvent:
    """The instance's newest Pseudo-GTID entry (binary logs, else executed relay logs)."""
    cfg = settings(env.config)
    return last_entry(env, read_live(env, key), cfg, skip_binlog_search=skip_binlog_search).event


def correlate_binlog_pos(
    env: TopologyEnv, key: InstanceKey, other: InstanceKey, position: BinlogCoordinates | None
) -> BinlogCoordinates:
    """The coordinates in `other`'s binary logs holding what `key`'s binary logs hold up to `position`."""
    cfg = settings(env.config)
    live = read_live(env, key)
    if not live.instance.log_bin:
        raise TopologyError("Instance does not have binary logs")
    server = env.server(key)
    end = position or server.master_status()
    reader = bs.LogReader(server, relay=False, chunk=cfg.chunk)
    files = [name for name in reader.binlog_files_newest_first() if name <= end.file]
    entry = bs.last_entry(reader, files, cfg.is_entry, before=end)
    if entry is None:
        raise TopologyError(f"{key}: no Pseudo-GTID entry before {end}")
    on_other = locate_entry(env, other, entry.info, cfg)
    mine = bs.forward(reader, BinlogCoordinates(entry.file, entry.pos), stop=end, skip_containing=cfg.skip_containing)
    other_server = env.server(other)
    other_files = [name for name, _ in other_server.binary_logs()]
    theirs = bs.forward(
        bs.LogReader(other_server, relay=False, chunk=cfg.chunk),
        BinlogCoordinates(on_other.file, on_other.pos),
        last_file=other_files[-1] if other_files else None,
        skip_containing=cfg.skip_containing,
    )
    return bs.correlate(mine, theirs).coordinates


# -- regroup ----------------------------------------------------------------------------------------


@dataclass
class PseudoGtidRegroup:
    """The outcome of `regroup_replicas_pgtid`: who was promoted and how each sibling fared."""

    candidate: InstanceKey
    trivial: list[InstanceKey]
    matched: list[InstanceKey]
    lost: list[InstanceKey]
    failed: dict[InstanceKey, str]


def regroup_replicas_pgtid(
    env: TopologyEnv, master: InstanceKey, *, skip_binlog_search: bool = False
) -> PseudoGtidRegroup:
    """Make the best replica of `master` (not contacted) the master of its siblings, by Pseudo-GTID.

    Every replica is stopped after applying what it fetched; siblings that executed exactly as much
    as the candidate continue at the candidate's own position ("trivial"), those behind it are
    matched below it by Pseudo-GTID, those ahead of it (or unable to replicate from it) are lost.
    """
    from orchestrator_cli.backend import instances
    from orchestrator_cli.backend.instance_rows import instances_from_rows
    from orchestrator_cli.errors import NotFoundError, OrchestratorError
    from orchestrator_cli.topology.candidates import MasterHints, ReplicaFacts, choose_candidate
    from orchestrator_cli.topology.moves import self_coordinates
    from orchestrator_cli.topology.rules import can_replicate_from

    settings(env.config)  # without a pattern nothing is stopped
    rows = {i.key: i for i in instances_from_rows(instances.replicas_of(env.backend, master))}
    if not rows:
        raise NotFoundError(f"No replicas found for {master}")
    lost: list[InstanceKey] = []
    trivial: list[InstanceKey] = []
    behind: list[InstanceKey] = []
    with Operation(env, "regroup-replicas-pgtid", master) as op:
        op.method = "pseudo-gtid"
        lives: list[Live] = []
        for key in rows:
            try:
                live = op.read(key)
            except OrchestratorError:
                lost.append(key)
                continue
            if live.master_key == master:
                lives.append(live)
        if not lives:
            raise TopologyError(f"no reachable replica of {master}")
        op.lock(*(live.key for live in lives))
        stopped: dict[InstanceKey, Live] = {}
        for live in lives:
            op.stop(live.key, drain=True)
            stopped[live.key] = read_live(env, live.key)
        facts = []
        for key, live in stopped.items():
            executed = live.status.exec_coordinates
            facts.append(ReplicaFacts.from_instance(rows[key].replace(exec_coordinates=executed), valid=True))
        hints = MasterHints.from_row(instances.read_instance(env.backend, master))
        choice = choose_candidate(facts, hints, env.config)
        if choice.candidate is None:
            raise TopologyError(f"no candidate replica found: {choice.why_none()}")
        candidate = stopped[choice.candidate.key]
        candidate_exec = candidate.status.exec_coordinates
        candidate_self = self_coordinates(op, candidate.key)
        for key, live in stopped.items():
            if key == candidate.key:
                continue
            executed = live.status.exec_coordinates
            if executed > candidate_exec or can_replicate_from(live.instance, candidate.instance, env.config):
                lost.append(key)
            elif executed == candidate_exec:
                op.change_master(key, candidate.key, before=live.status, coords=candidate_self, gtid=deny_gtid(live))
                op.start(key)
                trivial.append(key)
            else:
                behind.append(key)
        op.start(candidate.key)
        op.summary = (
            f"promoted {candidate.key}; trivial: {', '.join(map(str, trivial)) or '-'};"
            f" to match: {', '.join(map(str, behind)) or '-'}; lost: {', '.join(map(str, lost)) or '-'}"
        )
    matched: list[InstanceKey] = []
    failed: dict[InstanceKey, str] = {}
    for key in behind:
        try:
            match_below(env, key, candidate.key, name="regroup-replicas-pgtid", skip_binlog_search=skip_binlog_search)
            matched.append(key)
        except OrchestratorError as e:
            failed[key] = str(e)
            lost.append(key)
    return PseudoGtidRegroup(candidate.key, trivial, matched, lost, failed)


def locate_gtid_errant(env: TopologyEnv, key: InstanceKey) -> list[str]:
    """The binary logs of `key` (Oracle GTID) that hold its errant GTIDs."""
    from orchestrator_cli.model.gtid import OracleGtidSet
    from orchestrator_cli.topology.replication import errant_gtids

    live = read_live(env, key)
    if not live.flavor.is_oracle or not live.gtid.supports_oracle_gtid:
        raise TopologyError(f"{key} does not use Oracle GTID: locate-gtid-errant needs gtid_mode=ON")
    errant = errant_gtids(env, live)
    if errant.is_empty():
        raise TopologyError(f"{key}: no errant-gtid")
    purged = errant.intersection(OracleGtidSet.parse(live.gtid.gtid_purged or ""))
    if not purged.is_empty():
        raise TopologyError(f"{key}: errant GTID {purged} is already purged")
    server = env.server(key)
    chunk = int(env.config.get("BinlogEventsChunkSize") or bs.DEFAULT_CHUNK)
    files = [name for name, _ in server.binary_logs()]
    return bs.files_with_gtids(bs.LogReader(server, chunk=chunk), files, live.gtid.gtid_executed, str(errant))


def correlate_relaylog_pos(
    env: TopologyEnv, key: InstanceKey, sibling: InstanceKey, position: BinlogCoordinates | None
) -> tuple[BinlogCoordinates, BinlogCoordinates, BinlogCoordinates]:
    """(instance relay coordinates, the same event in the sibling's relay logs, the sibling's next event).

    Without `position` the instance's last executed relay log event is used.
    """
    server, other = env.server(key), env.server(sibling)
    mine, theirs = server.replica_status(), other.replica_status()
    same_master = (mine.master_host, mine.master_port) == (theirs.master_host, theirs.master_port)
    if not (mine.is_replica and theirs.is_replica and same_master):
        raise TopologyError(
            f"correlate-relaylog-pos requires sibling instances, however {key} has master"
            f" {mine.master_host}:{mine.master_port}, and {sibling} has master"
            f" {theirs.master_host}:{theirs.master_port}"
        )
    chunk = int(env.config.get("BinlogEventsChunkSize") or bs.DEFAULT_CHUNK)
    reader = bs.LogReader(server, relay=True, chunk=chunk)
    if position is None:
        entry = bs.last_executed_relay_entry(reader, mine.relay_coordinates).event
    else:
        entry = bs.event_at(reader, position)
    other_reader = bs.LogReader(other, relay=True, chunk=chunk)
    start = theirs.relay_log_file
    later = other_reader.files_after(start)
    found = bs.find_same_event(other_reader, [*reversed(later), *other_reader.files_back_from(start)], entry)
    if found is None:
        raise TopologyError(f"{sibling}: no relay log event matches {key}'s {entry.file}:{entry.pos}")
    event, following = found
    return BinlogCoordinates(entry.file, entry.pos), BinlogCoordinates(event.file, event.pos), following


# -- automated injection (AutoPseudoGTID) -----------------------------------------------------------

_GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO ", re.IGNORECASE)


def may_drop_pseudo_gtid_views(grants: Sequence[str]) -> bool:
    """Whether the GRANT lines allow the injection: ALL or DROP on ``*.*`` or on the `_pseudo_gtid_` schema."""
    for grant in grants:
        found = _GRANT.match(grant.strip())
        if not found:
            continue
        target = found.group("target").replace("`", "")
        if target not in ("*.*", "_pseudo_gtid_.*"):
            continue
        privileges = [p.strip().upper() for p in found.group("privileges").split(",")]
        if "ALL" in privileges or "ALL PRIVILEGES" in privileges or "DROP" in privileges:
            return True
    return False


def pseudo_gtid_entry(unix_time: int, server_id: int, token: str | None = None) -> str:
    """``_asc:TTTTTTTT:SSSSSSSS:RRRRRRRRRRRRRRRR``: hex time first, so later entries sort after earlier ones."""
    import secrets

    return f"_asc:{unix_time:08x}:{server_id:08x}:{token or secrets.token_hex(8)}"


def inject_pseudo_gtid(env: TopologyEnv, key: InstanceKey, *, unix_time: int | None = None) -> str:
    """Write one Pseudo-GTID entry into the binary log of the writable master `key`; returns the statement.

    The leader calls this for each cluster's master every few seconds when AutoPseudoGTID is on.
    """
    server = env.server(key)
    core = server.core_variables()
    if core.read_only:
        raise TopologyError(f"{key} is read-only: Pseudo-GTID is injected on writable masters only")
    if not may_drop_pseudo_gtid_views(server.grants()):
        raise UnsafeOperationError(f"{key}: cannot inject Pseudo-GTID: no DROP privilege on *.* or `_pseudo_gtid_`")
    stamp = int(time.time()) if unix_time is None else unix_time
    statements = server.flavor.pseudo_gtid_injection(pseudo_gtid_entry(stamp, core.server_id))
    server.change(statements)
    return statements[0]
