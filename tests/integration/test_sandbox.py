"""The MariaDB sandbox really replicates, fails and rewires the way the other tests rely on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import (
    BASE_PORT_ENV,
    MARIADBD_ENV,
    REPL_PASSWORD,
    REPL_USER,
    SANDBOX_DATABASE,
    TOPOLOGY_PASSWORD,
    TOPOLOGY_USER,
    Sandbox,
    SandboxError,
    resolve_layout,
)

STAR = {0: None, 1: 0, 2: 0, 3: 0}


def _gtid_positions(sandbox: Sandbox) -> list[str]:
    return [str(sandbox.query(i, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"]) for i in range(sandbox.size)]


# ---------------------------------------------------------------- layouts (no server needed)


def test_layout_doctests() -> None:
    import doctest

    from orchestrator_cli.sandbox import layout

    results = doctest.testmod(layout)
    assert results.attempted > 0
    assert results.failed == 0


def test_resolve_named_layouts() -> None:
    assert resolve_layout("star", 4) == [None, 0, 0, 0]
    assert resolve_layout("chain", 4) == [None, 0, 1, 2]
    assert resolve_layout("tree", 4) == [None, 0, 0, 1]
    assert resolve_layout("star", 1) == [None]


@pytest.mark.parametrize(
    "layout",
    ["ring", [None, 0], [None, 5, 0], [None, 1, 2], [1, 0, None], [None, 1, None]],
)
def test_resolve_layout_rejects_bad_layouts(layout: Any) -> None:
    with pytest.raises(SandboxError):
        resolve_layout(layout, 3)


# ---------------------------------------------------------------- the session star


def test_star_topology_replicates_rows_everywhere(fresh_sandbox: Sandbox) -> None:
    assert fresh_sandbox.replication_parents() == STAR
    for i in (1, 2, 3):
        status = fresh_sandbox.replica_status(i)
        assert status is not None
        assert status["Using_Gtid"] == "Slave_Pos"
        assert status["Master_User"] == REPL_USER
    value = "row-from-master"
    fresh_sandbox.write_row(value)
    fresh_sandbox.wait_replicated(timeout=10)
    assert [fresh_sandbox.count_rows(i, value) for i in range(4)] == [1, 1, 1, 1]


def test_servers_share_one_gtid_history(fresh_sandbox: Sandbox) -> None:
    positions = _gtid_positions(fresh_sandbox)
    assert len(set(positions)) == 1
    master_id = fresh_sandbox.servers[0].server_id
    assert positions[0].startswith(f"0-{master_id}-")
    for i in range(4):
        state = str(fresh_sandbox.query(i, "SELECT @@GLOBAL.gtid_binlog_state AS s")[0]["s"])
        # Only the master ever wrote: no errant transactions from user creation on replicas.
        assert {entry.split("-")[1] for entry in state.split(",")} == {str(master_id)}


def test_master_lists_replicas_for_discovery(fresh_sandbox: Sandbox) -> None:
    sandbox = fresh_sandbox
    hosts = sandbox.query(0, "SHOW SLAVE HOSTS")
    assert sorted(int(row["Port"]) for row in hosts) == sorted(sandbox.ports[1:])
    assert {row["Host"] for row in hosts} == {"127.0.0.1"}


def test_users_exist_on_every_server(sandbox: Sandbox) -> None:
    assert 3306 not in sandbox.ports
    for i in range(sandbox.size):
        conn = sandbox.connect(i, user=TOPOLOGY_USER, password=TOPOLOGY_PASSWORD)
        try:
            cursor = conn.cursor()
            cursor.execute("SHOW GRANTS")
            grants = " ".join(str(row[0]) for row in cursor.fetchall())
            cursor.close()
        finally:
            conn.close()
        assert "ALL PRIVILEGES" in grants
        sandbox.connect(i, user=REPL_USER, password=REPL_PASSWORD).close()


def test_sandbox_config(sandbox_config: Path) -> None:
    config = json.loads(sandbox_config.read_text())
    assert config["BackendDB"] == "sqlite"
    assert config["SQLite3DataFile"] == str(sandbox_config.parent / "orchestrator.sqlite3")
    assert config["MySQLTopologyUser"] == TOPOLOGY_USER
    assert config["MySQLTopologyPassword"] == TOPOLOGY_PASSWORD
    assert config["DiscoverByShowSlaveHosts"] is True
    assert config["MySQLHostnameResolveMethod"] == config["HostnameResolveMethod"] == "none"


# ---------------------------------------------------------------- failures


def test_kill_makes_replica_unreachable_and_restart_catches_up(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.kill(3)
    assert not fresh_sandbox.is_alive(3)
    with pytest.raises(Exception):  # noqa: B017  (mysql.connector's error type varies)
        fresh_sandbox.connect(3, timeout=2)
    assert 3 not in fresh_sandbox.replication_parents()
    value = fresh_sandbox.write_row()
    fresh_sandbox.restart(3)
    fresh_sandbox.wait_replicated(timeout=15)
    assert fresh_sandbox.count_rows(3, value) == 1


def test_killed_master_breaks_replica_io_threads(fresh_sandbox: Sandbox, wait_until: Callable[..., object]) -> None:
    fresh_sandbox.kill(0)
    assert not fresh_sandbox.is_alive(0)

    def io_down() -> bool:
        statuses = [fresh_sandbox.replica_status(i) or {} for i in (1, 2, 3)]
        return all(status.get("Slave_IO_Running") != "Yes" for status in statuses)

    wait_until(io_down, timeout=15, message="replica IO threads to notice the dead master")
    # Orchestrator elects among live roots; with the master gone every replica still points at it.
    assert set(fresh_sandbox.replication_parents()) == {1, 2, 3}
    fresh_sandbox.reset_replication()
    assert fresh_sandbox.replication_parents() == STAR


def test_pause_makes_server_hang(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.pause(2)
    try:
        assert not fresh_sandbox.is_alive(2)
        with pytest.raises(Exception):  # noqa: B017
            fresh_sandbox.connect(2, timeout=1)
    finally:
        fresh_sandbox.resume(2)
    fresh_sandbox.connect(2).close()


# ---------------------------------------------------------------- rewiring


def test_reset_replication_undoes_manual_changes(fresh_sandbox: Sandbox) -> None:
    port1 = fresh_sandbox.ports[1]
    fresh_sandbox.execute(
        3, "STOP SLAVE", f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port1}", "START SLAVE"
    )
    assert fresh_sandbox.replication_parents()[3] == 1
    # An errant transaction on a replica and an extra database must not survive the reset.
    fresh_sandbox.execute(2, "CREATE DATABASE errant_db")
    fresh_sandbox.write_row("before-reset")
    fresh_sandbox.execute(0, "SET GLOBAL read_only = 1")
    fresh_sandbox.execute(1, "SET GLOBAL read_only = 0")

    fresh_sandbox.reset_replication()

    assert fresh_sandbox.replication_parents() == STAR
    assert len(set(_gtid_positions(fresh_sandbox))) == 1
    for i in range(4):
        assert fresh_sandbox.count_rows(i) == 0
        databases = {str(row["Database"]) for row in fresh_sandbox.query(i, "SHOW DATABASES")}
        assert "errant_db" not in databases
        assert SANDBOX_DATABASE in databases
    # the master writeable, the replicas read-only as in production (reset whatever a test set)
    assert [fresh_sandbox.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] for i in range(4)] == [0, 1, 1, 1]
    value = fresh_sandbox.write_row()
    fresh_sandbox.wait_replicated(timeout=10)
    assert [fresh_sandbox.count_rows(i, value) for i in range(4)] == [1, 1, 1, 1]


def test_reset_replication_to_another_layout_and_back(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.reset_replication("tree")
    assert fresh_sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 1}
    assert fresh_sandbox.current_master() == 0
    fresh_sandbox.reset_replication()
    assert fresh_sandbox.replication_parents() == STAR


def test_write_row_follows_the_current_master(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.reset_replication([1, None, 1, 1])
    assert fresh_sandbox.current_master() == 1
    value = fresh_sandbox.write_row()
    fresh_sandbox.wait_replicated(timeout=10)
    assert [fresh_sandbox.count_rows(i, value) for i in range(4)] == [1, 1, 1, 1]


# ---------------------------------------------------------------- other layouts


def test_chain_layout(sandbox_factory: Callable[..., Sandbox]) -> None:
    chain = sandbox_factory(servers=3, layout="chain")
    assert chain.replication_parents() == {0: None, 1: 0, 2: 1}
    value = chain.write_row()
    chain.wait_replicated(timeout=10)
    assert [chain.count_rows(i, value) for i in range(3)] == [1, 1, 1]
    intermediate = chain.query(1, "SHOW SLAVE HOSTS")
    assert [int(row["Port"]) for row in intermediate] == [chain.ports[2]]


def test_file_pos_layout_with_intermediate_master(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(servers=4, layout=[None, 0, 0, 1], gtid=False)
    assert sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 1}
    for i in (1, 2, 3):
        status = sandbox.replica_status(i)
        assert status is not None
        assert status["Using_Gtid"] == "No"
    value = sandbox.write_row()
    sandbox.wait_replicated(timeout=10)
    assert [sandbox.count_rows(i, value) for i in range(4)] == [1, 1, 1, 1]
    sandbox.rebuild()
    assert sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 1}
    assert [sandbox.count_rows(i) for i in range(4)] == [0, 0, 0, 0]


def test_fixed_base_port(sandbox_factory: Callable[..., Sandbox]) -> None:
    from orchestrator_cli.sandbox.topology import _free_ports

    base = _free_ports(1)[0]
    with pytest.raises(SandboxError, match="3306"):
        Sandbox(servers=2, base_port=3305).start()
    try:
        single = sandbox_factory(servers=1, layout=[None], base_port=base)
    except SandboxError as exc:  # the kernel handed the port to someone else meanwhile
        pytest.skip(f"port {base} got taken: {exc}")
    assert single.ports == [base]


# ---------------------------------------------------------------- backend fixture and CLI


def test_mysql_backend_db_is_an_empty_private_database(mysql_backend_db: dict[str, Any]) -> None:
    import mysql.connector

    assert mysql_backend_db["BackendDB"] == "mysql"
    conn = mysql.connector.connect(
        host=mysql_backend_db["MySQLOrchestratorHost"],
        port=mysql_backend_db["MySQLOrchestratorPort"],
        user=mysql_backend_db["MySQLOrchestratorUser"],
        password=mysql_backend_db["MySQLOrchestratorPassword"],
        database=mysql_backend_db["MySQLOrchestratorDatabase"],
    )
    try:
        cursor = conn.cursor()
        cursor.execute("SHOW TABLES")
        assert cursor.fetchall() == []
        cursor.close()
    finally:
        conn.close()


def test_cli_up_status_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mariadbd_binary: str) -> None:
    from typer.testing import CliRunner

    from orchestrator_cli.sandbox.cli import app

    # A fixed base port is already used by this worker's session sandbox: let the CLI pick free ports.
    monkeypatch.delenv(BASE_PORT_ENV, raising=False)
    monkeypatch.setenv(MARIADBD_ENV, mariadbd_binary)
    runner = CliRunner()
    directory = tmp_path / "cli-sandbox"
    up = runner.invoke(app, ["up", "--servers", "2", "--no-gtid", "--dir", str(directory)])
    try:
        assert up.exit_code == 0, up.output
        config = directory / "orchestrator.conf.json"
        assert f"config: {config}" in up.output
        assert json.loads(config.read_text())["MySQLTopologyUser"] == TOPOLOGY_USER
        again = runner.invoke(app, ["up", "--dir", str(directory)])
        assert again.exit_code == 1
        status = runner.invoke(app, ["status", "--json", "--dir", str(directory)])
        assert status.exit_code == 0, status.output
        servers = json.loads(status.output)["servers"]
        assert [s["state"] for s in servers] == ["running", "running"]
        assert servers[1]["master"] == servers[0]["key"]
        assert servers[1]["using_gtid"] == "No"
    finally:
        down = runner.invoke(app, ["down", "--dir", str(directory)])
    assert down.exit_code == 0, down.output
    assert not directory.exists()
