"""MariaDB multi-source replication (named connections) as discovery records it.

The original reads only SHOW SLAVE STATUS, i.e. MariaDB's default connection: a replica whose only
connection is named looked like a master heading its own cluster. Discovery now reads every
connection (SHOW ALL SLAVES STATUS, the same one statement) and records the default one, else the
only or first named one; the others are named in a warning (multi-source is not supported).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator_cli.sandbox.topology import REPL_PASSWORD, REPL_USER, Sandbox
from tests.support import run_cli


def _rows(config: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(json.loads(config.read_text())["SQLite3DataFile"])
    conn.row_factory = sqlite3.Row
    try:
        return {f"{r['hostname']}:{r['port']}": dict(r) for r in conn.execute("SELECT * FROM database_instance")}
    finally:
        conn.close()


def _source(sandbox: Sandbox, name: str, port: int) -> str:
    return (
        f"CHANGE MASTER '{name}' TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='{REPL_USER}',"
        f" MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos"
    )


def test_replica_through_a_named_connection_only_is_recorded_as_a_replica(
    fresh_sandbox: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sandbox = fresh_sandbox
    master, named = sandbox.key(0), sandbox.key(3)
    try:
        sandbox.execute(
            3, "STOP SLAVE", "RESET SLAVE ALL", _source(sandbox, "main", sandbox.ports[0]), "START SLAVE 'main'"
        )
        wait_until(
            lambda: sandbox.query(3, "SHOW ALL SLAVES STATUS")[0]["Slave_IO_Running"] == "Yes",
            timeout=15,
            message="the named connection to start",
        )
        assert sandbox.replica_status(3) is None  # SHOW SLAVE STATUS: nothing, as for a master
        config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
        assert run_cli("-c", "discover", "-i", named, config=config).code == 0
        row = _rows(config)[named]
        assert (row["master_host"], row["master_port"]) == ("127.0.0.1", sandbox.ports[0])
        assert (row["cluster_name"], row["replication_depth"], row["slave_io_running"]) == (master, 1, 1)
        assert run_cli("-c", "clusters", config=config).lines == [master]
        assert run_cli("-c", "which-master", "-i", named, config=config).lines == [master]
        assert named in run_cli("-c", "which-replicas", "-i", master, config=config).lines
    finally:
        sandbox.reset_replication()


def test_second_named_connection_is_ignored_with_a_warning(
    fresh_sandbox: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sandbox = fresh_sandbox
    replica = sandbox.key(2)
    try:
        sandbox.execute(
            2, _source(sandbox, "extra", sandbox.ports[1]).replace("slave_pos", "no"), "START SLAVE 'extra'"
        )
        wait_until(
            lambda: len(sandbox.query(2, "SHOW ALL SLAVES STATUS")) == 2,
            timeout=15,
            message="the second connection to exist",
        )
        config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
        result = run_cli("--verbose", "-c", "discover", "-i", replica, config=config)
        assert result.code == 0, result.err
        assert f"{replica}: multi-source replication is not supported: recording connection '', ignoring 'extra'" in (
            result.err
        )
        row = _rows(config)[replica]
        assert row["master_port"] == sandbox.ports[0]  # the default connection
    finally:
        sandbox.reset_replication()
