"""The MySQL backend's connection handling (the MariaDB at 127.0.0.1:3306, a private database):
statements reuse one cursor without pinging the server, and a connection the server closed is
replaced before the next statement instead of failing every statement after it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import mysql.connector
import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import BackendError


@pytest.fixture
def backend(deployed_mysql_backend_db: dict[str, Any]) -> Iterator[Backend]:
    b = Backend(load_config(overrides=deployed_mysql_backend_db))
    b.connection()  # the schema is deployed already: checks it and connects
    yield b
    b.close()


def _kill(backend: Backend, connection_id: int) -> None:
    """KILL a backend connection from another session, then wait until its socket has been closed."""
    c = backend.config
    admin = mysql.connector.connect(
        host=c["MySQLOrchestratorHost"], port=int(c["MySQLOrchestratorPort"]), user="root", password="", autocommit=True
    )
    try:
        cur = admin.cursor()
        cur.execute(f"KILL {int(connection_id)}")
        cur.close()
        for _ in range(50):
            cur = admin.cursor()
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s", (connection_id,))
            row = cur.fetchone()
            assert row is not None
            (count,) = row
            cur.close()
            if not count:
                break
            time.sleep(0.05)
    finally:
        admin.close()
    time.sleep(0.1)  # the FIN reaches the client socket


def test_statements_do_not_ping(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """mysql.connector's pure `cursor()` pings: a reused cursor makes one round trip per statement."""
    import mysql.connector.connection as driver

    pings: list[int] = []
    real_ping = driver.MySQLConnection.cmd_ping

    def counting_ping(self: Any, *args: Any, **kwargs: Any) -> Any:
        pings.append(1)
        return real_ping(self, *args, **kwargs)

    monkeypatch.setattr(driver.MySQLConnection, "cmd_ping", counting_ping)
    backend.query("SELECT 1 AS one")  # the cursor is made (one ping) on first use
    pings.clear()
    for n in range(5):
        backend.execute(
            "INSERT INTO kv_store (store_key, store_value, last_updated) VALUES (?, ?, NOW())", (f"k{n}", "v")
        )
        assert backend.query_one("SELECT store_value FROM kv_store WHERE store_key = ?", (f"k{n}",)) == {
            "store_value": "v"
        }
    assert backend.query_values("SELECT store_key FROM kv_store ORDER BY store_key") == [(f"k{n}",) for n in range(5)]
    with backend.transaction():
        backend.execute("DELETE FROM kv_store WHERE store_key = ?", ("k0",))
        backend.execute_many("UPDATE kv_store SET store_value = ? WHERE store_key = ?", [("w", "k1"), ("w", "k2")])
    assert [r["store_key"] for r in backend.query_iter("SELECT store_key FROM kv_store WHERE store_value = 'w'")] == [
        "k1",
        "k2",
    ]
    assert pings == []


def test_connection_closed_by_server_is_replaced(backend: Backend) -> None:
    """KILL (or wait_timeout, or a backend restart) closes the connection while it is idle: the next
    read and the next write each run on a new connection instead of failing."""
    first = backend.scalar("SELECT CONNECTION_ID()")
    _kill(backend, first)
    second = backend.scalar("SELECT CONNECTION_ID()")
    assert second != first
    _kill(backend, second)
    assert backend.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES ('a', 'b', NOW())") == 1
    _kill(backend, backend.scalar("SELECT CONNECTION_ID()"))
    with backend.transaction():  # begins on a new connection
        backend.execute("UPDATE kv_store SET store_value = 'c' WHERE store_key = 'a'")
    assert backend.query("SELECT store_value FROM kv_store") == [{"store_value": "c"}]


def test_connection_lost_inside_a_transaction_fails_it(backend: Backend) -> None:
    """The statements before the loss died with the connection: the transaction fails (nothing is
    half written), and the statement after it reconnects."""
    with pytest.raises(BackendError, match="lost the connection"), backend.transaction():
        backend.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES ('a', 'b', NOW())")
        _kill(backend, backend.scalar("SELECT CONNECTION_ID()"))
        backend.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES ('c', 'd', NOW())")
    assert backend.query("SELECT store_key FROM kv_store") == []


def test_statement_cut_short_drops_the_connection(deployed_mysql_backend_db: dict[str, Any]) -> None:
    """A read timeout leaves the driver mid-result: that connection is dropped, the next statement
    opens a new one."""
    backend = Backend(load_config(overrides={**deployed_mysql_backend_db, "MySQLOrchestratorReadTimeoutSeconds": 1}))
    try:
        first = backend.scalar("SELECT CONNECTION_ID()")
        with pytest.raises(BackendError):
            backend.query("SELECT SLEEP(3)")
        assert backend.scalar("SELECT 41 + 1") == 42
        assert backend.scalar("SELECT CONNECTION_ID()") != first
    finally:
        backend.close()
