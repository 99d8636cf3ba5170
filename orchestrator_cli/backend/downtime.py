"""Downtime (`database_instance_downtime`): silences recoveries for an instance until it ends."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey

LOST_IN_RECOVERY = "lost-in-recovery"


def begin(backend: Backend, key: InstanceKey, owner: str, reason: str, seconds: int) -> None:
    """Upsert: a new downtime replaces any previous one for the instance."""
    d = backend.dialect
    backend.execute(
        d.upsert(
            "database_instance_downtime",
            {
                "hostname": "?", "port": "?", "downtime_active": "1", "begin_timestamp": d.now(),
                "end_timestamp": d.seconds_from_now("?"), "owner": "?", "reason": "?",
            },
            ["hostname", "port"],
        ),
        (key.hostname, key.port, seconds, owner, reason),
    )  # fmt: skip


def end(backend: Backend, key: InstanceKey) -> int:
    return backend.execute(
        "DELETE FROM database_instance_downtime WHERE hostname = ? AND port = ?", (key.hostname, key.port)
    )


def read(backend: Backend, key: InstanceKey) -> Row | None:
    d = backend.dialect
    return backend.query_one(
        f"""SELECT hostname, port, owner, reason, begin_timestamp, end_timestamp,
                   CASE WHEN downtime_active IS NOT NULL AND (end_timestamp IS NULL OR end_timestamp > {d.now()})
                        THEN 1 ELSE 0 END AS is_active
            FROM database_instance_downtime WHERE hostname = ? AND port = ?""",
        (key.hostname, key.port),
    )


def is_active(backend: Backend, key: InstanceKey) -> bool:
    """Whether the instance is downtimed now (an active downtime whose end is not past)."""
    row = read(backend, key)
    return bool(row and int(row["is_active"]))


def expire(backend: Backend) -> int:
    """Delete the downtimes whose end has passed, each with an `expire-downtime` audit row (as the
    original audits its expiry), so the audit trail says when an instance stopped being silenced."""
    from orchestrator_cli.backend import audit, instances

    d = backend.dialect
    ended = backend.query(
        f"SELECT hostname, port, owner, reason, end_timestamp FROM database_instance_downtime"
        f" WHERE end_timestamp < {d.now()}"
    )
    expired = 0
    for row in ended:
        key = InstanceKey(str(row["hostname"]), int(row["port"]))
        # only if still past its end: a begin-downtime meanwhile renewed it
        if backend.execute(
            f"DELETE FROM database_instance_downtime WHERE hostname = ? AND port = ? AND end_timestamp < {d.now()}",
            (key.hostname, key.port),
        ):
            expired += 1
            message = f"owner: {row['owner']}, reason: {row['reason']}, ended: {row['end_timestamp']}"
            audit.audit(backend, "expire-downtime", key, message, instances.cluster_of(backend, key))
    return expired


def renew_lost_in_recovery(backend: Backend, seconds: int = 365 * 86400) -> int:
    """Keep `lost-in-recovery` downtimes from lapsing on their own: they end when the instance is back."""
    d = backend.dialect
    return backend.execute(
        f"UPDATE database_instance_downtime SET end_timestamp = {d.seconds_from_now('?')}"
        f" WHERE reason = ? AND end_timestamp > {d.now()}",
        (seconds, LOST_IN_RECOVERY),
    )
