"""Hostname resolve and unresolve mappings."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey


def register_unresolve(backend: Backend, key: InstanceKey, unresolved: str) -> None:
    d = backend.dialect
    with backend.transaction():
        backend.execute(
            d.upsert(
                "hostname_unresolve",
                {"hostname": "?", "unresolved_hostname": "?", "last_registered": d.now()},
                ["hostname"],
            ),
            (key.hostname, unresolved),
        )
        backend.execute(
            d.upsert(
                "hostname_unresolve_history",
                {"unresolved_hostname": "?", "hostname": "?", "last_registered": d.now()},
                ["unresolved_hostname"],
            ),
            (unresolved, key.hostname),
        )


def deregister_unresolve(backend: Backend, key: InstanceKey) -> int:
    return backend.execute("DELETE FROM hostname_unresolve WHERE hostname = ?", (key.hostname,))


def unresolved_name(backend: Backend, hostname: str) -> str | None:
    d = backend.dialect
    minutes = int(backend.config.get("ExpiryHostnameResolvesMinutes", 60))
    row = backend.query_one(
        f"SELECT unresolved_hostname FROM hostname_unresolve WHERE hostname = ?"
        f" AND last_registered >= {d.seconds_ago('?')}",
        (hostname, minutes * 60),
    )
    return str(row["unresolved_hostname"]) if row else None


def resolves(backend: Backend) -> list[Row]:
    return backend.query("SELECT hostname, resolved_hostname FROM hostname_resolve ORDER BY hostname")


def resolve_map(backend: Backend) -> dict[str, str]:
    """Every recorded resolve, hostname -> resolved hostname."""
    return {str(r["hostname"]): str(r["resolved_hostname"]) for r in resolves(backend)}


def resolves_with_age(backend: Backend) -> list[tuple[str, str, int]]:
    """Every recorded resolve as (hostname, resolved hostname, seconds since it was written), by the
    backend's clock (what discovery's resolve cache loads)."""
    d = backend.dialect
    rows = backend.query_values(
        f"SELECT hostname, resolved_hostname, {d.unix_timestamp()} - {d.unix_timestamp('resolved_timestamp')}"
        " FROM hostname_resolve"
    )
    return [(str(host), str(name or ""), int(age or 0)) for host, name, age in rows]


def unresolves(backend: Backend) -> list[Row]:
    return backend.query("SELECT hostname, unresolved_hostname FROM hostname_unresolve ORDER BY hostname")


def register_resolve(backend: Backend, hostname: str, resolved: str) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "hostname_resolve", {"hostname": "?", "resolved_hostname": "?", "resolved_timestamp": d.now()}, ["hostname"]
        ),
        (hostname, resolved),
    )


def clear_resolve_cache(backend: Backend) -> int:
    return backend.execute("DELETE FROM hostname_resolve")
