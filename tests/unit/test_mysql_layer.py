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
