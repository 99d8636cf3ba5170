"""Recovery bookkeeping: detections, recoveries and their steps, blocks, acknowledgements, the global switch.

Concurrency between processes sharing one backend is enforced by the original's unique keys, not by
leadership: a detection or recovery is registered with an INSERT IGNORE on
(hostname, port, in_active_period, end_active_period_unixtime[, is_actionable]) and a second process
gets zero rows. A recovery stays "in its active period" (the anti-flapping lock) until
RecoveryPeriodBlockSeconds have passed or someone acknowledges it. Because no daemon may be running,
every registration first expires what is due, the way the original's leader would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.backend.election import Lease, lease_condition, lease_params
from orchestrator_cli.model.coerce import to_bool, to_int, to_str
from orchestrator_cli.model.keys import InstanceKey

CRASHED_RECOVERY_SECONDS = 600  # a recovery still running after this long, by a process no longer alive
NODE_ALIVE_SECONDS = 60

_RECOVERY_COLUMNS = """recovery_id, uid, hostname, port, in_active_period, start_active_period,
    end_active_period_unixtime, end_recovery, processing_node_hostname, processcing_node_token, is_successful,
    successor_hostname, successor_port, successor_alias, analysis, cluster_name, cluster_alias,
    count_affected_slaves, slave_hosts, participating_instances, lost_slaves, all_errors, acknowledged,
    acknowledged_at, acknowledged_by, acknowledge_comment, last_detection_id"""


def join_keys(keys: Iterable[InstanceKey | str]) -> str:
    """The original's list encoding for recovery rows: comma-separated `host:port`."""
    return ",".join(str(k) for k in keys)


def split_keys(text: str | None) -> list[str]:
    return [k for k in (text or "").split(",") if k]


# -- global switch ------------------------------------------------------------------------------------


def recoveries_disabled(backend: Backend) -> bool:
    return bool(backend.scalar("SELECT COUNT(*) FROM global_recovery_disable WHERE disable_recovery = 1"))


def disable_recoveries(backend: Backend) -> None:
    backend.execute(backend.dialect.insert_ignore("global_recovery_disable", {"disable_recovery": "1"}))


def enable_recoveries(backend: Backend) -> None:
    backend.execute("DELETE FROM global_recovery_disable")


# -- expiry -------------------------------------------------------------------------------------------


def expire(backend: Backend) -> None:
    """End active periods that are due and drop stale block records (the leader's periodic work)."""
    d = backend.dialect
    recovery_seconds = int(backend.config.get("RecoveryPeriodBlockSeconds") or 0) or 60 * int(
        backend.config.get("RecoveryPeriodBlockMinutes", 60)
    )
    detection_seconds = 60 * int(backend.config.get("FailureDetectionPeriodBlockMinutes", 60))
    with backend.transaction():
        _end_active(backend, "topology_recovery", f"start_active_period < {d.seconds_ago('?')}", (recovery_seconds,))
        _end_active(
            backend, "topology_failure_detection", f"start_active_period < {d.seconds_ago('?')}", (detection_seconds,)
        )
        backend.execute(
            """DELETE FROM blocked_topology_recovery WHERE blocking_recovery_id IS NULL OR blocking_recovery_id NOT IN
                 (SELECT recovery_id FROM topology_recovery WHERE in_active_period = 1)"""
        )


_ID_COLUMN = {"topology_recovery": "recovery_id", "topology_failure_detection": "detection_id"}
_UNIQUE_EXTRA = {"topology_recovery": (), "topology_failure_detection": ("is_actionable",)}


def _end_active(backend: Backend, table: str, where: str, params: Sequence[Any] = ()) -> list[int]:
    """End the active period of matching rows; returns their ids.

    The unique key includes `end_active_period_unixtime`, so two periods of one instance ended in
    the same second would collide (the original fails there); the later one takes the next free
    second instead.
    """
    d = backend.dialect
    id_column = _ID_COLUMN[table]
    extra = _UNIQUE_EXTRA[table]
    columns = ", ".join(("hostname", "port", *extra))
    rows = backend.query(
        f"SELECT {id_column} AS id, {columns} FROM {table} WHERE in_active_period = 1 AND ({where})", params
    )
    if not rows:
        return []
    now = int(backend.scalar(f"SELECT {d.unix_timestamp()} AS now"))
    same = " AND ".join(f"{c} = ?" for c in ("hostname", "port", *extra))
    ended = []
    for r in rows:
        taken = {
            int(t["e"])
            for t in backend.query(
                f"SELECT end_active_period_unixtime AS e FROM {table}"
                f" WHERE {same} AND in_active_period = 0 AND end_active_period_unixtime >= ?",
                (*[r[c] for c in ("hostname", "port", *extra)], now),
            )
        }
        stamp = now
        while stamp in taken:
            stamp += 1
        if backend.execute(
            f"UPDATE {table} SET in_active_period = 0, end_active_period_unixtime = ?"
            f" WHERE {id_column} = ? AND in_active_period = 1",
            (stamp, r["id"]),
        ):
            ended.append(int(r["id"]))
    return ended


def acknowledge_crashed(backend: Backend) -> int:
    """Recoveries left unfinished by a process that is gone are acknowledged and given an end time."""
    d = backend.dialect
    rows = backend.query(
        f"""SELECT r.recovery_id FROM topology_recovery r
            WHERE r.end_recovery IS NULL AND r.start_active_period < {d.seconds_ago("?")}
              AND NOT EXISTS (SELECT 1 FROM node_health h WHERE h.hostname = r.processing_node_hostname
                              AND h.token = r.processcing_node_token AND h.last_seen_active >= {d.seconds_ago("?")})""",
        (CRASHED_RECOVERY_SECONDS, NODE_ALIVE_SECONDS),
    )
    ids = [int(r["recovery_id"]) for r in rows]
    if not ids:
        return 0
    among, params = d.in_values(("recovery_id",), [(i,) for i in ids])
    backend.execute(f"UPDATE topology_recovery SET end_recovery = {d.now()} WHERE {among}", params)
    return _acknowledge_ids(backend, ids, "orchestrator", "crashed recovery: its process is gone")


# -- failure detection --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    key: InstanceKey
    analysis: str
    cluster_name: str
    cluster_alias: str
    replicas: Sequence[str]
    is_actionable: bool


def register_detection(backend: Backend, detection: Detection, node: tuple[str, str]) -> int | None:
    """Record a detection; None when one is already in its active period (hooks must not run again)."""
    d = backend.dialect
    expire(backend)
    with backend.transaction():
        inserted = backend.execute(
            d.insert_ignore(
                "topology_failure_detection",
                {
                    "hostname": "?", "port": "?", "in_active_period": "1", "start_active_period": d.now(),
                    "end_active_period_unixtime": "0", "processing_node_hostname": "?", "processcing_node_token": "?",
                    "analysis": "?", "cluster_name": "?", "cluster_alias": "?", "count_affected_slaves": "?",
                    "slave_hosts": "?", "is_actionable": "?",
                },
            ),
            (
                detection.key.hostname, detection.key.port, node[0], node[1], detection.analysis,
                detection.cluster_name, detection.cluster_alias, len(detection.replicas),
                join_keys(detection.replicas), int(detection.is_actionable),
            ),
        )  # fmt: skip
        if not inserted:
            return None
        return last_detection_id(backend, detection.key)


def last_detection_id(backend: Backend, key: InstanceKey) -> int:
    value = backend.scalar(
        "SELECT MAX(detection_id) FROM topology_failure_detection WHERE hostname = ? AND port = ?",
        (key.hostname, key.port),
    )
    return int(value or 0)


def clear_detections(backend: Backend, key: InstanceKey) -> int:
    """Acknowledge (end the active period of) an instance's detections."""
    ended = _end_active(backend, "topology_failure_detection", "hostname = ? AND port = ?", (key.hostname, key.port))
    return len(ended)


def detections(backend: Backend, limit: int = 100) -> list[Row]:
    return backend.query(
        f"""SELECT detection_id, hostname, port, in_active_period, start_active_period, end_active_period_unixtime,
                   processing_node_hostname, analysis, cluster_name, cluster_alias, count_affected_slaves,
                   slave_hosts, is_actionable
            FROM topology_failure_detection ORDER BY detection_id DESC LIMIT {int(limit)}"""
    )


# -- recoveries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryRecord:
    """One `topology_recovery` row, typed (timestamps as the backend prints them, "" when unset)."""

    recovery_id: int
    uid: str
    key: InstanceKey
    analysis: str
    cluster_name: str
    cluster_alias: str
    in_active_period: bool
    start_active_period: str
    end_recovery: str  # "" while the recovery runs
    processing_node: tuple[str, str]  # processing_node_hostname, processcing_node_token
    is_successful: bool
    successor_hostname: str
    successor_port: int
    successor_alias: str
    count_affected_replicas: int
    replica_hosts: tuple[str, ...]
    participating_instances: tuple[str, ...]
    lost_replicas: tuple[str, ...]
    all_errors: str
    acknowledged: bool
    acknowledged_at: str
    acknowledged_by: str
    acknowledge_comment: str
    last_detection_id: int

    @property
    def successor(self) -> str:
        """`host:port` of the promoted instance, "" when there is none."""
        return f"{self.successor_hostname}:{self.successor_port}" if self.successor_hostname else ""


def _record_of(row: Row) -> RecoveryRecord:
    return RecoveryRecord(
        recovery_id=to_int(row["recovery_id"]),
        uid=to_str(row["uid"]),
        key=InstanceKey(to_str(row["hostname"]), to_int(row["port"])),
        analysis=to_str(row["analysis"]),
        cluster_name=to_str(row["cluster_name"]),
        cluster_alias=to_str(row["cluster_alias"]),
        in_active_period=to_bool(row["in_active_period"]),
        start_active_period=to_str(row["start_active_period"]),
        end_recovery=to_str(row["end_recovery"]),
        processing_node=(to_str(row["processing_node_hostname"]), to_str(row["processcing_node_token"])),
        is_successful=to_bool(row["is_successful"]),
        successor_hostname=to_str(row["successor_hostname"]),
        successor_port=to_int(row["successor_port"]),
        successor_alias=to_str(row["successor_alias"]),
        count_affected_replicas=to_int(row["count_affected_slaves"]),
        replica_hosts=tuple(split_keys(row["slave_hosts"])),
        participating_instances=tuple(split_keys(row["participating_instances"])),
        lost_replicas=tuple(split_keys(row["lost_slaves"])),
        all_errors=to_str(row["all_errors"]),
        acknowledged=to_bool(row["acknowledged"]),
        acknowledged_at=to_str(row["acknowledged_at"]),
        acknowledged_by=to_str(row["acknowledged_by"]),
        acknowledge_comment=to_str(row["acknowledge_comment"]),
        last_detection_id=to_int(row["last_detection_id"]),
    )


@dataclass(frozen=True)
class RecoveryStep:
    audit_at: str
    message: str


@dataclass(frozen=True)
class NewRecovery:
    key: InstanceKey
    uid: str
    analysis: str
    cluster_name: str
    cluster_alias: str
    replicas: Sequence[str]
    last_detection_id: int


def active_recoveries(backend: Backend) -> list[RecoveryRecord]:
    rows = backend.query(
        f"SELECT {_RECOVERY_COLUMNS} FROM topology_recovery WHERE in_active_period = 1 ORDER BY recovery_id DESC"
    )
    return [_record_of(r) for r in rows]


def blocking_recovery(
    backend: Backend, key: InstanceKey, cluster_name: str, *, if_promoted: bool, if_cluster_recovered: bool
) -> RecoveryRecord | None:
    """The active recovery that forbids recovering `key` now (anti-flapping), if any.

    `if_promoted`: `key` was the successor of a recovery still in its active period.
    `if_cluster_recovered`: the cluster had a recovery in its active period. Unlike the original, a
    cluster renamed after a failover (its name is now the successor's key) still counts as the
    recovered cluster.
    """
    expire(backend)
    for record in active_recoveries(backend):
        if if_promoted and record.successor == str(key):
            return record
        if if_cluster_recovered and cluster_name and cluster_name in (record.cluster_name, record.successor):
            return record
    return None


def record_blocked(backend: Backend, key: InstanceKey, cluster_name: str, analysis: str, blocking_id: int) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "blocked_topology_recovery",
            {
                "hostname": "?", "port": "?", "cluster_name": "?", "analysis": "?",
                "last_blocked_timestamp": d.now(), "blocking_recovery_id": "?",
            },
            ["hostname", "port"],
        ),
        (key.hostname, key.port, cluster_name, analysis, blocking_id),
    )  # fmt: skip


def blocked_recoveries(backend: Backend) -> list[Row]:
    return backend.query(
        """SELECT hostname, port, cluster_name, analysis, last_blocked_timestamp, blocking_recovery_id
           FROM blocked_topology_recovery ORDER BY last_blocked_timestamp DESC"""
    )


def register_recovery(backend: Backend, recovery: NewRecovery, node: tuple[str, str]) -> int | None:
    """Insert the recovery row; None when this instance already has a recovery in its active period."""
    d = backend.dialect
    with backend.transaction():
        inserted = backend.execute(
            d.insert_ignore(
                "topology_recovery",
                {
                    "hostname": "?", "port": "?", "in_active_period": "1", "start_active_period": d.now(),
                    "end_active_period_unixtime": "0", "processing_node_hostname": "?",
                    "processcing_node_token": "?", "analysis": "?", "cluster_name": "?", "cluster_alias": "?",
                    "count_affected_slaves": "?", "slave_hosts": "?", "participating_instances": "''",
                    "lost_slaves": "''", "all_errors": "''", "acknowledged_by": "''", "acknowledge_comment": "''",
                    "last_detection_id": "?", "uid": "?",
                },
            ),
            (
                recovery.key.hostname, recovery.key.port, node[0], node[1], recovery.analysis,
                recovery.cluster_name, recovery.cluster_alias, len(recovery.replicas), join_keys(recovery.replicas),
                recovery.last_detection_id, recovery.uid,
            ),
        )  # fmt: skip
        if not inserted:
            return None
        value = backend.scalar("SELECT recovery_id FROM topology_recovery WHERE uid = ?", (recovery.uid,))
    return int(value)


# -- recoveries of a lost lease term -------------------------------------------------------------------
#
# The rule: an automated recovery belongs to the lease term that registered it. A leader that finds an
# unfinished automated recovery registered by another node (that node lost the lease, or it would be the
# leader) takes it over under its own lease before recovering: a recovery of the same failed instance is
# adopted (the row becomes the leader's and goes on from a fresh probe, so one failure keeps one
# recovery row), one of another instance of the cluster is aborted. The old node cannot act any more:
# each of its changes first confirms its own term, which fails once the seat has another owner (see
# recovery/fencing.py), and its own bookkeeping only touches rows it still owns. Recoveries run by one-off
# CLI commands are not automated and are never taken over.


def orphaned_recoveries(backend: Backend, lease: Lease) -> list[RecoveryRecord]:
    """Unfinished automated recoveries registered by another continuous node (in their active period or
    not: a short RecoveryPeriodBlockSeconds may have ended it while the recovery still ran)."""
    rows = backend.query(
        f"""SELECT {_RECOVERY_COLUMNS} FROM topology_recovery r
            WHERE r.end_recovery IS NULL
              AND NOT (r.processing_node_hostname = ? AND r.processcing_node_token = ?)
              AND EXISTS (SELECT 1 FROM node_health_history h WHERE h.hostname = r.processing_node_hostname
                          AND h.token = r.processcing_node_token AND h.command = 'continuous')
            ORDER BY r.recovery_id""",
        (lease.hostname, lease.token),
    )
    return [_record_of(r) for r in rows]


def adopt_orphan(backend: Backend, recovery_id: int, lease: Lease) -> bool:
    """Make an orphaned recovery the lease holder's, only while `lease` holds (one statement)."""
    return bool(
        backend.execute(
            f"""UPDATE topology_recovery SET processing_node_hostname = ?, processcing_node_token = ?
                WHERE recovery_id = ? AND end_recovery IS NULL AND {lease_condition(backend)}""",
            (lease.hostname, lease.token, recovery_id, *lease_params(lease)),
        )
    )


def abort_orphan(backend: Backend, recovery_id: int, lease: Lease, message: str) -> bool:
    """End an orphaned recovery (failed, with `message`) and its active period, only while `lease`
    holds; False when it finished meanwhile or the lease is gone. One statement: the lease check and
    the takeover cannot be separated by another node's takeover."""
    d = backend.dialect
    with backend.transaction():
        taken = backend.execute(
            f"""UPDATE topology_recovery SET end_recovery = {d.now()}, is_successful = 0, all_errors = ?
                WHERE recovery_id = ? AND end_recovery IS NULL AND {lease_condition(backend)}""",
            (message, recovery_id, *lease_params(lease)),
        )
        if not taken:
            return False
        _end_active(backend, "topology_recovery", "recovery_id = ?", (recovery_id,))
    return True


def abort_recovery(backend: Backend, uid: str, message: str, node: tuple[str, str]) -> None:
    """A recovery that found its lease lost stops: failed with `message` and out of its active period
    (the new leader must be free to recover the failure), unless the new leader took it over or ended
    it already: only a row still owned by `node` is touched."""
    d = backend.dialect
    owned = "uid = ? AND processing_node_hostname = ? AND processcing_node_token = ?"
    backend.execute(
        f"UPDATE topology_recovery SET end_recovery = {d.now()}, is_successful = 0, all_errors = ?"
        f" WHERE {owned} AND end_recovery IS NULL",
        (message, uid, *node),
    )
    _end_active(backend, "topology_recovery", owned, (uid, *node))


def acknowledge_completed_of_instance(backend: Backend, key: InstanceKey, owner: str, comment: str) -> int:
    """A forced recovery implicitly acknowledges the finished recoveries of the same instance."""
    rows = backend.query(
        "SELECT recovery_id FROM topology_recovery WHERE hostname = ? AND port = ? AND in_active_period = 1"
        " AND end_recovery IS NOT NULL",
        (key.hostname, key.port),
    )
    return _acknowledge_ids(backend, [int(r["recovery_id"]) for r in rows], owner, comment)


@dataclass(frozen=True)
class Resolution:
    successful: bool
    successor: InstanceKey | None = None
    successor_alias: str = ""
    lost: Sequence[str] = ()
    participating: Sequence[str] = ()
    errors: Sequence[str] = ()


def resolve_recovery(backend: Backend, uid: str, resolution: Resolution, node: tuple[str, str] | None = None) -> None:
    """Write the outcome; the active period is left alone (it is the anti-flapping lock).

    With `node`, only while that node owns the row: a recovery taken over by the leader is resolved by
    the leader, not by the node it was taken from.
    """
    d = backend.dialect
    successor = resolution.successor
    owned = " AND processing_node_hostname = ? AND processcing_node_token = ?" if node else ""
    backend.execute(
        f"""UPDATE topology_recovery SET is_successful = ?, successor_hostname = ?, successor_port = ?,
                successor_alias = ?, lost_slaves = ?, participating_instances = ?, all_errors = ?,
                end_recovery = {d.now()}
            WHERE uid = ?{owned}""",
        (
            int(resolution.successful),
            successor.hostname if successor else None,
            successor.port if successor else None,
            resolution.successor_alias or None,
            join_keys(resolution.lost),
            join_keys(resolution.participating),
            "\n".join(resolution.errors),
            uid,
            *(node or ()),
        ),
    )


def end_active_period(backend: Backend, uid: str, node: tuple[str, str] | None = None) -> None:
    """For a recovery that decided to do nothing: it must not block the next attempt (with `node`:
    only while that node owns the row)."""
    if node is None:
        _end_active(backend, "topology_recovery", "uid = ?", (uid,))
    else:
        owned = "uid = ? AND processing_node_hostname = ? AND processcing_node_token = ?"
        _end_active(backend, "topology_recovery", owned, (uid, *node))


def add_step(backend: Backend, uid: str, message: str) -> None:
    d = backend.dialect
    backend.execute(
        f"INSERT INTO topology_recovery_steps (recovery_uid, audit_at, message) VALUES (?, {d.now()}, ?)",
        (uid, message),
    )


def steps(backend: Backend, uid: str) -> list[RecoveryStep]:
    rows = backend.query(
        "SELECT recovery_step_id, recovery_uid, audit_at, message FROM topology_recovery_steps"
        " WHERE recovery_uid = ? ORDER BY recovery_step_id",
        (uid,),
    )
    return [RecoveryStep(to_str(r["audit_at"]), to_str(r["message"])) for r in rows]


def recoveries(
    backend: Backend,
    *,
    cluster_name: str | None = None,
    key: InstanceKey | None = None,
    ident: str | None = None,
    limit: int = 100,
) -> list[RecoveryRecord]:
    """Past recoveries, newest first; `ident` is a recovery id or uid."""
    where: list[str] = []
    params: list[Any] = []
    if cluster_name:
        where.append(
            "(cluster_name = ? OR cluster_alias = ? OR (successor_hostname IS NOT NULL AND "
            + _concat_key(backend)
            + " = ?))"
        )
        params += [cluster_name, cluster_name, cluster_name]
    if key is not None:
        where.append("hostname = ? AND port = ?")
        params += [key.hostname, key.port]
    if ident:
        if ident.isdigit():
            where.append("(recovery_id = ? OR uid = ?)")
            params += [int(ident), ident]
        else:
            where.append("uid = ?")
            params.append(ident)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = backend.query(
        f"SELECT {_RECOVERY_COLUMNS} FROM topology_recovery {clause} ORDER BY recovery_id DESC LIMIT {int(limit)}",
        params,
    )
    return [_record_of(r) for r in rows]


def _concat_key(backend: Backend) -> str:
    if backend.is_sqlite:
        return "(successor_hostname || ':' || successor_port)"
    return "CONCAT(successor_hostname, ':', successor_port)"


# -- acknowledgements ----------------------------------------------------------------------------------------


def _acknowledge_ids(backend: Backend, ids: Sequence[int], owner: str, comment: str) -> int:
    if not ids:
        return 0
    d = backend.dialect
    among, params = d.in_values(("recovery_id",), [(i,) for i in ids])  # every unacknowledged one: no bound
    with backend.transaction():
        _end_active(backend, "topology_recovery", among, params)
        return backend.execute(
            f"""UPDATE topology_recovery SET acknowledged = 1, acknowledged_at = {d.now()}, acknowledged_by = ?,
                    acknowledge_comment = ?
                WHERE acknowledged = 0 AND {among}""",
            (owner, comment, *params),
        )


def _unacknowledged(backend: Backend) -> list[Row]:
    return backend.query(
        "SELECT recovery_id, hostname, port, cluster_name, cluster_alias, successor_hostname, successor_port"
        " FROM topology_recovery WHERE acknowledged = 0"
    )


def acknowledge_all(backend: Backend, owner: str, comment: str) -> int:
    with backend.transaction():
        count = _acknowledge_ids(backend, [int(r["recovery_id"]) for r in _unacknowledged(backend)], owner, comment)
        _end_active(backend, "topology_failure_detection", "1 = 1")
    return count


def acknowledge_cluster(backend: Backend, cluster_name: str, cluster_alias: str, owner: str, comment: str) -> int:
    """By name or alias; a recovery whose successor now names the cluster belongs to it too."""
    names = {cluster_name, cluster_alias} - {""}
    ids = []
    for r in _unacknowledged(backend):
        successor = f"{r['successor_hostname']}:{r['successor_port']}" if r["successor_hostname"] else ""
        if names & {str(r["cluster_name"]), str(r["cluster_alias"]), successor}:
            ids.append(int(r["recovery_id"]))
    with backend.transaction():
        count = _acknowledge_ids(backend, ids, owner, comment)
        marks = ", ".join("?" for _ in names)
        _end_active(
            backend,
            "topology_failure_detection",
            f"cluster_name IN ({marks}) OR cluster_alias IN ({marks})",
            (*names, *names),
        )
    return count


def acknowledge_instance(backend: Backend, key: InstanceKey, owner: str, comment: str) -> int:
    ids = [
        int(r["recovery_id"])
        for r in _unacknowledged(backend)
        if str(r["hostname"]) == key.hostname and int(r["port"]) == key.port
    ]
    with backend.transaction():
        count = _acknowledge_ids(backend, ids, owner, comment)
        clear_detections(backend, key)
    return count


def acknowledge_recovery(backend: Backend, ident: str, owner: str, comment: str) -> int:
    found = recoveries(backend, ident=ident, limit=1)
    return _acknowledge_ids(backend, [r.recovery_id for r in found], owner, comment)


# -- lost-in-recovery downtimes -------------------------------------------------------------------------------


def aged_lost_in_recovery(backend: Backend, seconds: int = 60) -> list[InstanceKey]:
    """Instances downtimed `lost-in-recovery` for at least `seconds` (candidates for automatic release)."""
    d = backend.dialect
    rows = backend.query(
        f"""SELECT hostname, port FROM database_instance_downtime
            WHERE reason = 'lost-in-recovery' AND downtime_active IS NOT NULL
              AND begin_timestamp <= {d.seconds_ago("?")} AND end_timestamp > {d.now()}""",
        (seconds,),
    )
    return [InstanceKey(str(r["hostname"]), int(r["port"])) for r in rows]
