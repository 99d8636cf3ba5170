"""Root SQL access to one sandbox server, shared by start-up, provisioning and the state queries.

``mysql.connector`` is imported on first contact only, so importing the sandbox stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from orchestrator_cli.sandbox.settings import HOST

Row = dict[str, Any]
Run = Callable[[str, Sequence[Any] | None], list[Row]]
"""``run(sql, params) -> rows`` over an open session; rows are dicts with text (not bytes) values."""


def connect(
    port: int,
    user: str = "root",
    password: str = "",
    database: str | None = None,
    timeout: float = 5.0,
) -> Any:
    """An autocommit ``mysql.connector`` connection to the server on ``HOST:port``."""
    import mysql.connector

    kwargs: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "user": user,
        "password": password,
        "autocommit": True,
        "connection_timeout": max(1, int(timeout)),
    }
    if database:
        kwargs["database"] = database
    return mysql.connector.connect(**kwargs)


class RootSession:
    """Context manager yielding :data:`Run` over one root connection, so a sequence of statements
    shares a session (``sql_log_bin = 0`` must hold for the statements after it)."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._conn: Any = None

    def __enter__(self) -> Run:
        self._conn = connect(self._port)
        return self._run

    def __exit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            self._conn.close()

    def _run(self, sql: str, params: Sequence[Any] | None) -> list[Row]:
        cursor = self._conn.cursor(dictionary=True)
        try:
            cursor.execute(sql, tuple(params) if params is not None else None)
            if cursor.with_rows:
                return [{key: _text(value) for key, value in row.items()} for row in cursor.fetchall()]
            return []
        finally:
            cursor.close()


def query(port: int, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
    """Run one statement as root and return its rows."""
    with RootSession(port) as run:
        return run(sql, params)


def execute(port: int, *statements: str) -> None:
    """Run statements as root over one connection, in order."""
    with RootSession(port) as run:
        for statement in statements:
            run(statement, None)


def _text(value: Any) -> Any:
    """Decode bytes values (the connector returns some columns as bytearray) for easy comparison."""
    if isinstance(value, bytes | bytearray):
        return value.decode(errors="replace")
    return value
