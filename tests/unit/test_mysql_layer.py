"""The shape of the mysql layer: its value helpers' examples, strict typing, and the TopologyServer protocol."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from orchestrator_cli.mysql import facts, flavor, protocol, rows, sql
from orchestrator_cli.mysql.server import ConnectedServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", [rows, sql, facts, flavor], ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_protocol_member_is_implemented_by_the_connected_server() -> None:
    members = {name for name in vars(protocol.TopologyServer) if not name.startswith("_") and name not in ("key",)}
    assert members  # the protocol names what discovery, topology and recovery use
    assert members <= set(dir(ConnectedServer))


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_mysql_layer_passes_mypy_strict() -> None:
    done = _mypy("--strict", "orchestrator_cli/mysql")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_recorded_servers_satisfy_the_protocol() -> None:
    """The test doubles standing in for a server are returned as `TopologyServer`: mypy checks them."""
    done = _mypy(
        "--strict",
        "--follow-imports=silent",
        "tests/unit/test_refactoring_recorded.py",
        "tests/unit/test_replication_ops.py",
        "tests/compat/test_flavor_recorded.py",
    )
    assert done.returncode == 0, done.stdout + done.stderr


class _BehindAProxy(ConnectedServer):
    """A MySQL 8.0.36 reached through something whose handshake announced 5.7 (a proxy's own version):
    answers each statement as that server would, and records what it was sent."""

    def __init__(self) -> None:
        from orchestrator_cli.model.keys import InstanceKey
        from orchestrator_cli.mysql.access import TopologyAccess

        super().__init__(InstanceKey("db1", 3306), TopologyAccess({}))
        self._flavor = flavor.MySQL57("5.7.44")  # what `_connection` takes from the handshake
        self.sent: list[str] = []

    def query(self, sql: str) -> list[protocol.Row]:
        self.sent.append(sql)
        core = {
            "hostname": "db1", "report_host": "", "server_id": 1, "version": "8.0.36",
            "version_comment": "MySQL Community Server - GPL", "read_only": 0, "binlog_format": "ROW",
            "log_bin": 1, "super_read_only": 0,
            # 8.0.36 still answers @@log_slave_updates (deprecated); 8.0.26+ reads @@log_replica_updates
            "log_slave_updates": 0 if "log_slave_updates AS" in sql else 1,
        }  # fmt: skip
        gtid = {"gtid_mode": "ON", "server_uuid": "u1", "gtid_executed": "u1:1-9", "gtid_purged": ""}
        return [{**core, **gtid, "binlog_row_image": "FULL"}]


def test_a_probe_confirms_the_handshakes_flavor_from_the_servers_own_version() -> None:
    """The core variables' @@version wins over the handshake's; read with the wrong flavor's statement,
    they are read again with the right one (8.0.26+: log_replica_updates)."""
    server = _BehindAProxy()
    core, gtid = server.probe_variables()
    assert server.flavor == flavor.MySQL80("8.0.36")
    assert core.log_slave_updates and gtid.gtid_executed == "u1:1-9"
    assert server.sent == [
        flavor.MySQL57("5.7.44").probe_variables_sql(),
        flavor.MySQL80("8.0.36").probe_variables_sql(),
    ]
    server.sent.clear()
    assert server.core_variables().version == "8.0.36"
    assert server.sent == [flavor.MySQL80("8.0.36").core_variables_sql()]  # confirmed: read once
