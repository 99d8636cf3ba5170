"""Maintenance locks (`database_instance_maintenance`): at most one active lock per instance.

The unique key (maintenance_active, hostname, port) is the lock: an insert that affects no row means
somebody else holds it. Expired locks are released before trying, since no daemon may be running to
do it.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.errors import BackendError
from orchestrator_cli.model.coerce import to_bool, to_int, to_str
from orchestrator_cli.model.keys import InstanceKey


@dataclass(frozen=True)
class MaintenanceLock:
    """An active maintenance lock, as read from the backend."""

    key: InstanceKey
    maintenance_id: int
    owner: str
    reason: str
    until: str
    node: tuple[str, str]  # processing_node_hostname, processing_node_token
    explicit: bool  # begin-maintenance (expires only at `until`)


def _lock_of(row: Row) -> MaintenanceLock:
    return MaintenanceLock(
        key=InstanceKey(to_str(row["hostname"]), to_int(row["port"])),
        maintenance_id=to_int(row["id"]),
        owner=to_str(row["owner"]),
        reason=to_str(row["reason"]),
        until=to_str(row["end_timestamp"]),
        node=(to_str(row["processing_node_hostname"]), to_str(row["processing_node_token"])),
        explicit=to_bool(row["explicitly_bounded"]),
    )


def release_expired(backend: Backend, key: InstanceKey | None = None) -> int:
    d = backend.dialect
    where = f"maintenance_active = 1 AND end_timestamp < {d.now()}"
    params: tuple[object, ...] = ()
    if key is not None:
        where += " AND hostname = ? AND port = ?"
        params = (key.hostname, key.port)
    return backend.execute(f"UPDATE database_instance_maintenance SET maintenance_active = NULL WHERE {where}", params)


def begin(
    backend: Backend,
    key: InstanceKey,
    owner: str,
    reason: str,
    seconds: int,
    *,
    node: tuple[str, str],
    explicitly_bounded: bool = True,
) -> int | None:
    """Take the lock; returns its id, or None when another active lock exists.

    A plain INSERT whose unique-key violation means "held": INSERT IGNORE would also turn the backend's
    refusal of a value (text MySQL's utf8mb3 columns cannot store, an over-long owner) into a warning
    and take the lock with the value mangled, leaving it held when the audit row then fails.
    """
    d = backend.dialect
    with backend.transaction():
        release_expired(backend, key)
        try:
            backend.execute(
                f"""INSERT INTO database_instance_maintenance
                      (hostname, port, maintenance_active, begin_timestamp, end_timestamp, owner, reason,
                       processing_node_hostname, processing_node_token, explicitly_bounded)
                    VALUES (?, ?, 1, {d.now()}, {d.seconds_from_now("?")}, ?, ?, ?, ?, ?)""",
                (key.hostname, key.port, seconds, owner, reason, node[0], node[1], int(explicitly_bounded)),
            )
        except BackendError as e:
            if not d.is_duplicate_key(e):
                raise
            return None
        row = backend.query_one(
            "SELECT database_instance_maintenance_id AS id FROM database_instance_maintenance"
            " WHERE maintenance_active = 1 AND hostname = ? AND port = ?",
            (key.hostname, key.port),
        )
    return int(row["id"]) if row else None


def end(backend: Backend, key: InstanceKey) -> int:
    d = backend.dialect
    return backend.execute(
        f"UPDATE database_instance_maintenance SET maintenance_active = NULL, end_timestamp = {d.now()}"
        " WHERE maintenance_active = 1 AND hostname = ? AND port = ?",
        (key.hostname, key.port),
    )


def end_by_id(backend: Backend, maintenance_id: int) -> int:
    d = backend.dialect
    return backend.execute(
        f"UPDATE database_instance_maintenance SET maintenance_active = NULL, end_timestamp = {d.now()}"
        " WHERE database_instance_maintenance_id = ? AND maintenance_active = 1",
        (maintenance_id,),
    )


_ACTIVE_COLUMNS = """database_instance_maintenance_id AS id, hostname, port, owner, reason, begin_timestamp,
    end_timestamp, processing_node_hostname, processing_node_token, explicitly_bounded"""


def active(backend: Backend, key: InstanceKey) -> MaintenanceLock | None:
    d = backend.dialect
    row = backend.query_one(
        f"""SELECT {_ACTIVE_COLUMNS}
            FROM database_instance_maintenance
            WHERE maintenance_active = 1 AND end_timestamp >= {d.now()} AND hostname = ? AND port = ?""",
        (key.hostname, key.port),
    )
    return None if row is None else _lock_of(row)


def active_by_id(backend: Backend, maintenance_id: int) -> MaintenanceLock | None:
    """The lock with this id (the token `begin-maintenance` took), if it is still active."""
    row = backend.query_one(
        f"SELECT {_ACTIVE_COLUMNS} FROM database_instance_maintenance"
        " WHERE database_instance_maintenance_id = ? AND maintenance_active = 1",
        (maintenance_id,),
    )
    return None if row is None else _lock_of(row)


def held_by_process(backend: Backend, node: tuple[str, str]) -> list[MaintenanceLock]:
    """The active internal (not explicitly bounded) locks one process took, oldest first."""
    d = backend.dialect
    rows = backend.query(
        f"""SELECT {_ACTIVE_COLUMNS}
            FROM database_instance_maintenance
            WHERE maintenance_active = 1 AND end_timestamp >= {d.now()} AND explicitly_bounded = 0
              AND processing_node_hostname = ? AND processing_node_token = ?
            ORDER BY database_instance_maintenance_id""",
        node,
    )
    return [_lock_of(r) for r in rows]


def end_if_held_by(backend: Backend, maintenance_id: int, node: tuple[str, str]) -> int:
    """End one lock, only if it is still active and still held by `node` (compare-and-set)."""
    d = backend.dialect
    return backend.execute(
        f"UPDATE database_instance_maintenance SET maintenance_active = NULL, end_timestamp = {d.now()}"
        " WHERE database_instance_maintenance_id = ? AND maintenance_active = 1"
        " AND processing_node_hostname = ? AND processing_node_token = ?",
        (maintenance_id, *node),
    )


def active_all(backend: Backend) -> list[MaintenanceLock]:
    """Every active, unexpired lock (the API's `maintenance` listing)."""
    d = backend.dialect
    rows = backend.query(
        f"""SELECT {_ACTIVE_COLUMNS}
            FROM database_instance_maintenance
            WHERE maintenance_active = 1 AND end_timestamp >= {d.now()}
            ORDER BY hostname, port"""
    )
    return [_lock_of(r) for r in rows]
