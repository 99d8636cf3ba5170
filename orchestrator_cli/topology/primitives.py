"""Building blocks shared by refactoring and recovery: locks, live reads, stop/start, CHANGE MASTER.

Each primitive sends its SQL through the flavor layer, so the same code drives MariaDB and Oracle
MySQL; each refreshes the backend view of what it changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.topology import locks
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.locks import Holder

log = logging.getLogger("orchestrator.topology")
LOCK_SECONDS = 10 * 60


@dataclass
class Live:
    """A fresh read of one server: its backend-shaped row plus the flavor facts operations need.

    `instance` is the typed snapshot of `row`, built once; the row is never changed in place (a
    changed read is a new `Live`, e.g. through `dataclasses.replace`).
    """

    key: InstanceKey
    row: dict[str, Any]
    status: ReplicaStatus
    flavor: fl.Flavor
    gtid: GtidFacts
    replica_keys: tuple[InstanceKey, ...] = ()  # registered on the server (SHOW SLAVE HOSTS / processlist)

    @property
    def master_key(self) -> InstanceKey | None:
        if not self.status.is_replica or self.status.is_detached:
            return None
        return InstanceKey(self.status.master_host, self.status.master_port)

    @functools.cached_property
    def instance(self) -> Instance:
        return instance_from_row(self.row)

    @property
    def self_coordinates(self) -> BinlogCoordinates:
        """The probed server's own binary log position (empty without a binary log)."""
        return self.instance.self_coordinates


def overlay_live(base: Instance, live: Live) -> Instance:
    """`base` (a backend snapshot) with the server facts and replication coordinates `live` just read.

    The backend keeps what a probe does not know (promotion rule, location, errant GTIDs, check
    flags); the live read wins for version, binary log, identity, read_only, delay, filters and the
    configured master, and the coordinates come from the replica status itself.
    """
    now = live.instance
    return base.replace(
        version=now.version,
        log_bin=now.log_bin,
        log_slave_updates=now.log_slave_updates,
        binlog_format=now.binlog_format,
        self_coordinates=now.self_coordinates,
        server_id=now.server_id,
        server_uuid=now.server_uuid,
        read_only=now.read_only,
        sql_delay=now.sql_delay,
        has_replication_filters=now.has_replication_filters,
        binlog_server=now.binlog_server,
        master_host=now.master_host,
        master_port=now.master_port,
        last_sql_error=now.last_sql_error,
        exec_coordinates=live.status.exec_coordinates,
        read_coordinates=live.status.read_coordinates,
    )


def read_live(env: TopologyEnv, key: InstanceKey) -> Live:
    """Probe one server now (no backend write)."""
    from orchestrator_cli.discovery.probe import probe

    server = env.server(key)
    res = probe(server, env.config)
    status = server.replica_status()
    return Live(
        key=key, row=res.row, status=status, flavor=server.flavor, gtid=res.gtid or GtidFacts(),
        replica_keys=tuple(res.replica_keys),
    )  # fmt: skip


def refresh(env: TopologyEnv, keys: Iterable[InstanceKey]) -> None:
    """Re-probe instances and the replicas below them, and rewrite their backend rows.

    A change of master changes the cluster facts (cluster name, depth, ancestry) of the whole subtree,
    not only of the instances that moved: after a takeover the grandchildren of the old master belong
    to the new master's cluster too. Their rows are rewritten here, in the same batch, so that
    `topology` and `clusters` are right at once, not only after the next discovery pass.
    """
    from orchestrator_cli.backend import instances
    from orchestrator_cli.discovery.crawl import crawl

    keys = list(dict.fromkeys(keys))
    if not keys or env.noop:
        return
    seen = set(keys)
    frontier = list(keys)
    while frontier:
        below = instances.keys_of(instances.replicas_of(env.backend, frontier.pop()))
        fresh = [k for k in below if k not in seen]
        seen.update(fresh)
        keys.extend(fresh)
        frontier.extend(fresh)
    result = crawl(keys, env.access, env.backend, env.config, follow=False)
    for key, why in result.failed.items():
        log.warning("%s: refresh failed: %s", key, why)


@contextlib.contextmanager
def maintenance_lock(
    env: TopologyEnv,
    keys: Iterable[InstanceKey],
    reason: str,
    *,
    on_takeover: Callable[[list[Holder]], None] | None = None,
) -> Iterator[None]:
    """Exclusive locks on every instance an operation changes; released on every exit path.

    A lock left by a killed process on this host is taken over (see :mod:`topology.locks`). With
    `on_takeover`, all the locks of that process are ended and `on_takeover` is told which, so that
    the caller restarts what the killed process left stopped; without it, only the lock needed.
    Under --noop nothing is written: a lock somebody else holds still refuses the dry run, so it
    shows what the real run would do.
    """
    from orchestrator_cli.backend import health, maintenance

    if env.noop:
        for key in keys:
            locks.check_free(env, key)
        yield
        return
    taken: list[int] = []
    try:
        for key in keys:

            def begin(key: InstanceKey = key) -> int | None:
                return maintenance.begin(
                    env.backend, key, env.owner, reason, LOCK_SECONDS, node=health.identity(), explicitly_bounded=False
                )

            token = begin()
            if token is None:
                ended = locks.take_over_dead(env, key, all_of_process=on_takeover is not None)
                token = begin() if ended else None
                if token is not None and on_takeover is not None:
                    on_takeover(ended)
            if token is None:
                raise locks.refusal(key, locks.holder(env, key))
            taken.append(token)
        yield
    finally:
        for token in taken:
            maintenance.end_by_id(env.backend, token)


def stop_replication(env: TopologyEnv, key: InstanceKey) -> None:
    server = env.server(key)
    server.change(server.flavor.stop_replica())


def start_replication(env: TopologyEnv, key: InstanceKey, timeout: float = 5.0) -> ReplicaStatus:
    """START and wait (bounded) until the start is confirmed (`await_started`); a replica that does
    not come up is an error, at once when the server names an error that waiting cannot fix.

    Semi-sync is adjusted first for replicas with a semi-sync priority (see semi_sync_before_start).
    """
    server = env.server(key)
    server.change(semi_sync_before_start(env, key))
    server.change(server.flavor.start_replica())
    if env.noop:
        return ReplicaStatus.none()
    return await_started(env, key, timeout)


# IO-thread errors that waiting will not fix within a start's timeout even while the thread retries
# ("Connecting"): binlog position unavailable, fatal replication error (e.g. equal server ids), cannot
# connect, unknown host, access denied. A retry comes MASTER_CONNECT_RETRY later (60 s by default).
FATAL_IO_ERRNOS = frozenset({1236, 1593, 2003, 2005, 1045})


def start_failure(status: ReplicaStatus) -> str:
    """The server's error that a just-started replica will not get past by waiting, "" while it may
    still come up: the SQL thread failed; the IO thread stopped on an error (nothing restarts it: a
    purged GTID position or a missing binary log file, 1236); or an IO error of `FATAL_IO_ERRNOS`.

    START clears the previous errors of the threads it starts, so an error seen after it is its own.
    """
    if status.last_sql_errno or status.last_sql_error:
        return status.last_sql_error or f"SQL thread error {status.last_sql_errno}"
    stopped = status.io_state == ThreadState.STOPPED and status.last_io_errno
    if stopped or status.last_io_errno in FATAL_IO_ERRNOS:
        return status.last_io_error or f"IO thread error {status.last_io_errno}"
    return ""


def poll_pause(started: float) -> None:
    """Poll interval: 2 ms while a local server usually answers, 10 ms once it takes longer."""
    time.sleep(0.002 if time.monotonic() - started < 0.05 else 0.01)


def await_started(env: TopologyEnv, key: InstanceKey, timeout: float) -> ReplicaStatus:
    """Wait after a START until both threads run and the master accepted the position asked for;
    returns that status. Fails at once on `start_failure`, else after `timeout` seconds.

    Running threads are not enough: the IO thread shows `Yes` once it has logged in to the master,
    before the master has accepted the position it asked for (a GTID position the master purged is
    refused a moment later, error 1236). The master's first answer to an accepted request is a rotate
    event naming its binary log, which sets `Master_Log_File` (a CHANGE MASTER to another master
    empties it): until then the start is not confirmed, however the threads look.
    """
    server = env.server(key)
    started = time.monotonic()
    deadline = started + timeout
    while True:
        status = server.replica_status()
        if status.replication_running and status.master_log_file:
            return status
        failure = start_failure(status)
        if failure:
            raise TopologyError(f"{key}: replication did not start: {failure}")
        if time.monotonic() > deadline:
            why = status.last_io_error or status.last_sql_error or "threads not running"
            raise TopologyError(f"{key}: replication did not start within {timeout:g}s: {why}")
        poll_pause(started)


def change_master(
    env: TopologyEnv,
    key: InstanceKey,
    master: InstanceKey,
    *,
    coordinates: BinlogCoordinates | None = None,
    gtid: str | None = None,
) -> None:
    """CHANGE MASTER with the host unresolved when a virtual name is registered (unless skipped).

    `coordinates`: the master's binary log position to start from (file:pos replication).
    """
    from orchestrator_cli.backend import hostnames

    host = master.hostname
    if not env.skip_unresolve:
        host = hostnames.unresolved_name(env.backend, master.hostname) or host
    server = env.server(key)
    server.change(
        server.flavor.change_master(
            host=host,
            port=master.port,
            log_file=None if coordinates is None else coordinates.file,
            log_pos=None if coordinates is None else coordinates.pos,
            gtid=gtid,
        )
    )


def semi_sync_before_start(env: TopologyEnv, key: InstanceKey) -> list[str]:
    """Statements to run before START on a replica whose semi-sync priority is positive (spec §3.11).

    The priority is the backend's `semi_sync_enforced` (DetectSemiSyncEnforcedQuery). Such a replica
    must not act as a semi-sync master, and acknowledges unless its promotion rule is must_not. With
    EnforceExactSemiSyncReplicas or RecoverLockedSemiSyncMaster the recovery's topology-wide
    semi-sync analysis decides instead, and nothing is done here; with priority 0 semi-sync is left
    alone.
    """
    from orchestrator_cli.backend import candidates, instances

    if env.config.get("EnforceExactSemiSyncReplicas") or env.config.get("RecoverLockedSemiSyncMaster"):
        return []
    row = instances.read_instance(env.backend, key)
    if not row or instance_from_row(row).semi_sync_priority <= 0:
        return []
    server = env.server(key)
    semi = server.semi_sync()
    if not semi.available:
        log.warning("%s: semi-sync priority set but semi-sync plugins unavailable", key)
        return []
    rule = candidates.rule_of(env.backend, key)
    statements: list[str] = []
    if semi.master_enabled:
        statements += server.flavor.set_semi_sync_master(False, source_names=semi.source_names)
    acknowledge = rule != "must_not"
    if semi.replica_enabled != acknowledge:
        statements += server.flavor.set_semi_sync_replica(acknowledge, source_names=semi.source_names)
    return statements


def forced_gtid_mode(flavor: fl.Flavor, status: ReplicaStatus) -> str:
    """The `gtid` argument of change_master that turns GTID on (spec §5.2 "Forcing GTID").

    Oracle: auto-position. MariaDB: `slave_pos`, or `current_pos` when the server has no replication
    configured at all (a former master), so that in gtid_strict_mode it does not ask its new master
    for transactions it wrote itself.
    """
    if not flavor.is_mariadb:
        return "auto"
    return "slave_pos" if status.io_state != ThreadState.NONE else "current_pos"


def gtid_mode_of(flavor: fl.Flavor, status: ReplicaStatus) -> str:
    """The CHANGE MASTER `gtid` argument that restores the replica's current mode ("off": file:pos)."""
    if flavor.is_mariadb:
        return {"slave_pos": "slave_pos", "current_pos": "current_pos"}.get(status.using_mariadb_gtid.lower(), "off")
    return "auto" if status.auto_position else "off"


def kept_gtid_mode(flavor: fl.Flavor, status: ReplicaStatus) -> str | None:
    """The mode a GTID replica keeps, named in its CHANGE MASTER; None for a file:pos replica.

    Left out, the server keeps the mode anyway (MariaDB its Using_Gtid, Oracle its auto-position),
    but then the statement, its --noop print and the audit do not tell a GTID move from a file:pos
    one that forgot its coordinates. A file:pos replica names its coordinates instead (and a server
    without GTID support would reject the clause).
    """
    return gtid_mode_of(flavor, status) if status.uses_gtid else None


def reread_status(env: TopologyEnv, live: Live) -> Live:
    """The same Live with a fresh replication status (after STOP, the coordinates stand still).

    Under --noop nothing was stopped, so the read taken before is kept.
    """
    if env.noop:
        return live
    return dataclasses.replace(live, status=env.server(live.key).replica_status())
