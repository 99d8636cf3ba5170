"""Pool membership (`database_instance_pool`)."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey


def submit(backend: Backend, pool: str, keys: list[InstanceKey]) -> None:
    """Replace the pool's membership with exactly `keys`."""
    d = backend.dialect
    with backend.transaction():
        backend.execute("DELETE FROM database_instance_pool WHERE pool = ?", (pool,))
        for key in keys:
            backend.execute(
                d.upsert(
                    "database_instance_pool",
                    {"hostname": "?", "port": "?", "pool": "?", "registered_at": d.now()},
                    ["hostname", "port", "pool"],
                ),
                (key.hostname, key.port, pool),
            )


def all_pools(backend: Backend) -> list[Row]:
    d = backend.dialect
    minutes = int(backend.config.get("InstancePoolExpiryMinutes", 60))
    return backend.query(
        f"""SELECT p.hostname, p.port, p.pool, COALESCE(di.cluster_name, '') AS cluster_name,
                   COALESCE(di.suggested_cluster_alias, '') AS cluster_alias
            FROM database_instance_pool p
              LEFT JOIN database_instance di ON (di.hostname = p.hostname AND di.port = p.port)
            WHERE p.registered_at >= {d.seconds_ago("?")}
            ORDER BY p.pool, p.hostname, p.port""",
        (minutes * 60,),
    )
