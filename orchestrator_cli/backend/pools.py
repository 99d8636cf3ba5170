"""Pool membership (`database_instance_pool`)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.model.coerce import to_int, to_str
from orchestrator_cli.model.keys import InstanceKey


@dataclass(frozen=True, slots=True)
class PoolMember:
    """One unexpired pool membership, with the member's cluster and that cluster's alias."""

    key: InstanceKey
    pool: str
    cluster_name: str
    cluster_alias: str


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


def all_pools(backend: Backend) -> list[PoolMember]:
    """Unexpired memberships of known instances, with the instance's cluster name and that cluster's alias.

    As in the original, the alias is the cluster's (falling back to its name), not the member's own
    suggestion, and members that are not known instances are left out.
    """
    from orchestrator_cli.backend.clusters import clusters_info

    d = backend.dialect
    minutes = int(backend.config.get("InstancePoolExpiryMinutes", 60))
    rows = backend.query(
        f"""SELECT p.hostname, p.port, p.pool, di.cluster_name
            FROM database_instance_pool p
              JOIN database_instance di ON (di.hostname = p.hostname AND di.port = p.port)
            WHERE p.registered_at >= {d.seconds_ago("?")}
            ORDER BY p.pool, p.hostname, p.port""",
        (minutes * 60,),
    )
    aliases = {c["cluster_name"]: c["alias"] for c in clusters_info(backend)} if rows else {}
    members = []
    for r in rows:
        cluster = to_str(r["cluster_name"])
        key = InstanceKey(to_str(r["hostname"]), to_int(r["port"]))
        members.append(PoolMember(key, to_str(r["pool"]), cluster, to_str(aliases.get(cluster, cluster))))
    return members
