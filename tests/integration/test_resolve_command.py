"""`resolve`: a TCP check plus the canonical host name."""

from __future__ import annotations

import socket
from pathlib import Path

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli, sqlite_config


def test_resolve_a_listening_server(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("-c", "resolve", "-i", sandbox.key(0), config=sqlite_config(tmp_path))
    assert result.code == 0, result.err
    assert result.lines == [f"{socket.gethostbyname_ex('127.0.0.1')[0]}:{sandbox.ports[0]}"]


def test_resolve_a_closed_port_fails_on_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("-c", "resolve", "-i", f"127.0.0.1:{port}", config=sqlite_config(tmp_path))
    assert result.code == 1
    assert result.err.startswith("orchestrator: resolve: cannot resolve") and result.err.count("\n") == 1
