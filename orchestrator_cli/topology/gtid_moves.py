"""Moving a replica by GTID: MariaDB ``MASTER_USE_GTID`` and Oracle auto-position.

The decisions are pure functions over live reads, so they are tested on recorded server output:
whether the two servers can do GTID replication at all, which MariaDB mode the replica must use
(a former master, whose own transactions are in its binary log but not in ``gtid_slave_pos``, needs
``current_pos`` or a repaired ``gtid_slave_pos`` under ``gtid_strict_mode``), and what the source
lacks (MariaDB domains behind the replica; Oracle purged or errant transactions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator_cli.errors import TopologyError, UnsafeOperationError
from orchestrator_cli.model.gtid import MariadbGtidPosition, OracleGtidSet, purged_missing
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.topology.ancestry import Hop
from orchestrator_cli.topology.operation import Operation
from orchestrator_cli.topology.primitives import Live, gtid_mode_of, poll_pause

log = logging.getLogger("orchestrator.topology")


@dataclass(frozen=True)
class GtidPlan:
    """How the replica attaches: the CHANGE MASTER `gtid` argument and the position it will request.

    ``mode`` None keeps the replica's current mode. ``repair`` is a MariaDB ``gtid_slave_pos`` to set
    first (the slave position lost track of transactions the binary log holds).
    """

    mode: str | None
    position: str
    repair: str = ""
    note: str = ""


def _mariadb_position(text: str, what: str) -> MariadbGtidPosition:
    try:
        return MariadbGtidPosition.parse(text or "")
    except ValueError as e:
        raise TopologyError(f"cannot read {what}: {e}") from e


def _oracle_set(text: str, live: Live, what: str) -> OracleGtidSet:
    try:
        return OracleGtidSet.parse(text or "")
    except ValueError as e:
        raise TopologyError(f"{live.key}: cannot read {what}: {e}") from e


def incompatibility(instance: Live, source: Live) -> str | None:
    """None when `instance` can move below `source` by GTID, else why not (spec §4.3.7 rule 2)."""
    if instance.flavor.is_mariadb:
        if not instance.status.uses_mariadb_gtid:
            return f"{instance.key} does not replicate with MariaDB GTID (MASTER_USE_GTID=no)"
        if not source.flavor.is_mariadb:
            return f"{source.key} is not MariaDB, {instance.key} uses MariaDB GTID"
        return None
    if not instance.status.auto_position:
        return f"{instance.key} does not use GTID auto-position"
    if source.flavor.is_mariadb or not source.gtid.supports_oracle_gtid:
        return f"{source.key} does not have Oracle GTID enabled (gtid_mode={source.gtid.gtid_mode or 'n/a'})"
    return None


def mariadb_plan(status: ReplicaStatus, gtid: GtidFacts, log_slave_updates: bool) -> GtidPlan:
    """Which `MASTER_USE_GTID` the replica needs, and the position it will ask its new source for.

    A replica whose binary log holds nothing beyond ``gtid_slave_pos`` keeps ``slave_pos``. When the
    binary log is ahead (a former master's own writes, or a slave position that was reset), asking
    with ``slave_pos`` would replay those transactions and break ``gtid_strict_mode``: use
    ``current_pos`` when it covers the binary log, otherwise repair ``gtid_slave_pos`` from it.
    """
    binlog = _mariadb_position(gtid.gtid_binlog_pos, "gtid_binlog_pos")
    slave = _mariadb_position(gtid.gtid_slave_pos, "gtid_slave_pos")
    current = _mariadb_position(gtid.gtid_current_pos, "gtid_current_pos")
    using = status.using_mariadb_gtid.lower() if status.is_replica else "no"
    if using == "current_pos":
        return GtidPlan(None, str(current))
    keep_or_set = None if using == "slave_pos" else "slave_pos"
    if binlog.is_behind_or_equal(slave):
        return GtidPlan(keep_or_set, str(slave))
    if binlog.is_behind_or_equal(current):
        return GtidPlan("current_pos", str(current), note="its binary log holds its own transactions")
    if not log_slave_updates:
        raise UnsafeOperationError(
            f"gtid_slave_pos {slave} is behind the binary log {binlog} and log_slave_updates is off: "
            "cannot tell which transactions were applied"
        )
    repaired = slave.merge_max(binlog)
    return GtidPlan(keep_or_set, str(repaired), repair=str(repaired), note=f"gtid_slave_pos repaired from {slave}")


def mariadb_blockers(position: str, source_binlog_pos: str, own_server_id: int = 0) -> tuple[list[str], bool]:
    """What the source lacks for a replica at `position`; the flag says the source only lags behind.

    A domain where the replica is ahead with a transaction it wrote itself (`own_server_id`) is not
    lag: the source will never receive that transaction.
    """
    replica = _mariadb_position(position, "replica position")
    source = _mariadb_position(source_binlog_pos, "source gtid_binlog_pos")
    blockers = list(replica.replication_blockers(source))
    lagging = 0
    for gtid in replica:
        theirs = source.get(gtid.domain_id)
        if theirs is not None and theirs.seqno < gtid.seqno and gtid.server_id != own_server_id:
            lagging += 1
    return blockers, bool(blockers) and lagging == len(blockers)


def oracle_blockers(instance: Live, source: Live, source_upstream_uuids: Iterable[str]) -> list[str]:
    """Purged (the source cannot serve them) and errant (the source will never have them) transactions."""
    executed = _oracle_set(instance.gtid.gtid_executed or instance.status.executed_gtid_set, instance, "gtid_executed")
    blockers: list[str] = []
    missing = purged_missing(executed, _oracle_set(source.gtid.gtid_purged, source, "gtid_purged"))
    if missing:
        blockers.append(f"{source.key} has purged GTID entries not found on {instance.key}: {missing}")
    upstream = [u for u in (source.gtid.server_uuid, *source_upstream_uuids) if u]
    errant = executed.subtract(_oracle_set(source.gtid.gtid_executed, source, "gtid_executed")).remove_uuids(upstream)
    if errant:
        blockers.append(f"{instance.key} has errant GTIDs that {source.key} does not have: {errant}")
    return blockers


def plan(instance: Live, source: Live, source_chain: Sequence[Hop]) -> GtidPlan:
    """Refuse (UnsafeOperationError) unless `instance` can move below `source` by GTID now or once it catches up."""
    why = incompatibility(instance, source)
    if why:
        raise UnsafeOperationError(f"{instance.key} and {source.key} are not GTID compatible: {why}")
    if instance.flavor.is_mariadb:
        chosen = mariadb_plan(instance.status, instance.gtid, instance.instance.log_slave_updates)
        blockers, lag_only = mariadb_blockers(chosen.position, source.gtid.gtid_binlog_pos, _server_id(instance))
        if blockers and not lag_only:
            raise UnsafeOperationError(f"{source.key} cannot serve {instance.key}: {'; '.join(blockers)}")
        return chosen
    blockers = oracle_blockers(instance, source, [h.server_uuid for h in source_chain])
    if blockers:
        raise UnsafeOperationError("; ".join(blockers))
    return GtidPlan(None, instance.gtid.gtid_executed)


def move(op: Operation, instance: Live, source: Live, source_chain: Sequence[Hop]) -> GtidPlan:
    """Stop, (MariaDB) wait for the source to hold the replica's position, CHANGE MASTER by GTID, start."""
    chosen = plan(instance, source, source_chain)
    op.stop(instance.key)
    server = op.env.server(instance.key)
    before = server.replica_status()
    if instance.flavor.is_mariadb:
        log_slave_updates = instance.instance.log_slave_updates
        chosen = mariadb_plan(before, server.gtid_facts(), log_slave_updates)
        if not op.env.noop:
            _wait_source_holds(op, source, chosen.position, _server_id(instance))
    if chosen.repair:
        server.change(server.flavor.set_gtid_slave_pos(chosen.repair))
    # The mode is named even when it stays: the statement (and its --noop print) then says it is a GTID move.
    op.change_master(instance.key, source.key, before=before, gtid=chosen.mode or gtid_mode_of(server.flavor, before))
    op.start(instance.key)
    return chosen


def _server_id(live: Live) -> int:
    return live.instance.server_id


def _wait_source_holds(op: Operation, source: Live, position: str, own_server_id: int) -> None:
    """A source that lags behind the stopped replica gets a bounded time to catch up."""
    timeout = op.config_seconds("ReasonableMaintenanceReplicationLagSeconds", 20)
    started = time.monotonic()
    deadline = started + timeout
    server = op.env.server(source.key)
    while True:
        binlog = server.gtid_facts().gtid_binlog_pos
        blockers, lag_only = mariadb_blockers(position, binlog, own_server_id)
        if not blockers:
            return
        if not lag_only:
            raise UnsafeOperationError(f"{source.key} cannot serve {op.subject}: {'; '.join(blockers)}")
        if time.monotonic() > deadline:
            raise TopologyError(f"{source.key} did not catch up with {op.subject} within {timeout:g}s: {blockers[0]}")
        poll_pause(started)
