"""Host attributes (`host_attributes`); "general" attributes use hostname `*`, as the original stores
them (e.g. a cluster domain name mapped to the cluster's current writer)."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend

GENERAL = "*"


def set_general(backend: Backend, name: str, value: str) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "host_attributes",
            {"hostname": "?", "attribute_name": "?", "attribute_value": "?", "submit_timestamp": d.now()},
            ["hostname", "attribute_name"],
        ),
        (GENERAL, name, value),
    )


def get_general(backend: Backend, name: str) -> str | None:
    row = backend.query_one(
        "SELECT attribute_value FROM host_attributes WHERE hostname = ? AND attribute_name = ?", (GENERAL, name)
    )
    return None if row is None else str(row["attribute_value"])
