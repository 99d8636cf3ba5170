"""A timed-out topology connect or statement names the setting that expired, with its value: the
driver's own text ("The Read Operation timed out") says neither which limit ran out nor which key to
raise. Connect (and the handshake): MySQLConnectTimeoutSeconds; statements on a discovery (polling)
connection: MySQLDiscoveryReadTimeoutSeconds; on any other: MySQLTopologyReadTimeoutSeconds. Real
sandbox, SIGSTOP of a replica (its port stays open, nothing answers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.config import load_config
from orchestrator_cli.errors import TopologyTimeoutError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli

HUNG = 3  # a replica: pausing it does not disturb the others' replication
LIMITS = {"MySQLConnectTimeoutSeconds": 1, "MySQLDiscoveryReadTimeoutSeconds": 1, "MySQLTopologyReadTimeoutSeconds": 2}


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.resume(HUNG)


def _config(sb: Sandbox, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = sb.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **LIMITS)
    return path, dict(load_config(str(path)))


def _timeout_text(access: TopologyAccess, key: InstanceKey, *, discovery: bool) -> str:
    with pytest.raises(TopologyTimeoutError) as caught:
        access.server(key, discovery=discovery).query("SELECT 1")
    return str(caught.value)


@pytest.mark.parametrize(
    ("discovery", "expected"),
    [(False, "after 2s (MySQLTopologyReadTimeoutSeconds)"), (True, "after 1s (MySQLDiscoveryReadTimeoutSeconds)")],
)
def test_a_statement_that_times_out_names_the_read_timeout_of_its_connection(
    sb: Sandbox, tmp_path: Path, discovery: bool, expected: str
) -> None:
    _, config = _config(sb, tmp_path)
    key = InstanceKey("127.0.0.1", sb.ports[HUNG])
    access = TopologyAccess(config)
    try:
        assert access.server(key, discovery=discovery).query("SELECT 1") == [{"1": 1}]  # connected
        sb.pause(HUNG)
        text = _timeout_text(access, key, discovery=discovery)
        assert text == f"{key}: The Read Operation timed out {expected}", text
        # the connection was dropped: the next statement opens a new one, which the connect timeout ends
        text = _timeout_text(access, key, discovery=discovery)
        assert text.endswith(" timed out while connecting after 1s (MySQLConnectTimeoutSeconds)"), text
    finally:
        access.close()


def test_a_command_on_a_hung_server_names_the_connect_timeout(sb: Sandbox, tmp_path: Path) -> None:
    path, _ = _config(sb, tmp_path)
    sb.pause(HUNG)
    result = run_cli("-c", "discover", "-i", sb.key(HUNG), config=path)
    assert result.code != 0
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.rstrip().endswith("timed out while connecting after 1s (MySQLConnectTimeoutSeconds)"), result.err
    assert "reconnect" not in result.err
