"""The internal key-value store (`kv_store`): cluster master identities, as the original publishes them."""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator_cli.backend.connection import Backend, Row


def put(backend: Backend, pairs: Iterable[tuple[str, str]]) -> None:
    d = backend.dialect
    sql = d.upsert("kv_store", {"store_key": "?", "store_value": "?", "last_updated": d.now()}, ["store_key"])
    with backend.transaction():
        for key, value in pairs:
            backend.execute(sql, (key, value))


def read_prefix(backend: Backend, prefix: str) -> list[Row]:
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return backend.query(
        "SELECT store_key, store_value FROM kv_store WHERE store_key LIKE ? ESCAPE '\\' ORDER BY store_key", (like,)
    )
