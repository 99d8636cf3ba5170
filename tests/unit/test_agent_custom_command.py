"""`custom-command` against a small HTTP server on 127.0.0.1 standing in for an orchestrator-agent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from tests.support import Result, run_cli, sqlite_config

TOKEN = "9f" * 32
COMMANDS = {"disk-usage": "Filesystem  Size  Used\n/dev/sda1    20G   7G\n", "a b/c": "odd name\n"}


class FakeAgent(BaseHTTPRequestHandler):
    """Answers `/api/custom-commands/<name>` as orchestrator-agent does: the output as a JSON string."""

    calls: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        parts = urlsplit(self.path)
        self.calls.append((parts.path, parse_qs(parts.query)))
        name = unquote(parts.path.removeprefix("/api/custom-commands/"))
        if name == "broken":
            self._answer(500, b"command failed: exit status 2\n", "text/plain")
        elif name in COMMANDS:
            self._answer(200, json.dumps(COMMANDS[name]).encode(), "application/json")
        else:
            self._answer(404, b"no such command", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
        pass


@pytest.fixture
def agent() -> Iterator[tuple[int, list[tuple[str, dict[str, list[str]]]]]]:
    FakeAgent.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAgent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], FakeAgent.calls
    server.shutdown()
    server.server_close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return sqlite_config(tmp_path)


def register(config: Path, port: int, hostname: str = "127.0.0.1") -> None:
    backend = Backend(load_config(str(config)))
    try:
        backend.execute(
            "INSERT INTO host_agent (hostname, port, token, last_submitted, count_mysql_snapshots)"
            " VALUES (?, ?, ?, CURRENT_TIMESTAMP, 0)",
            (hostname, port, TOKEN),
        )
    finally:
        backend.close()


def custom_command(config: Path, *args: str) -> Result:
    return run_cli("-c", "custom-command", *args, config=config)


def one_error_line(result: Result) -> str:
    assert result.code != 0 and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert TOKEN not in result.err
    return lines[0]


def test_the_agents_output_is_printed(config: Path, agent: tuple[int, list[Any]]) -> None:
    port, calls = agent
    register(config, port)
    result = custom_command(config, "--hostname", "127.0.0.1", "--pattern", "disk-usage")
    assert result.code == 0, result.err
    assert result.lines == ["Filesystem  Size  Used", "/dev/sda1    20G   7G"]
    assert calls == [("/api/custom-commands/disk-usage", {"token": [TOKEN]})]


def test_the_command_name_is_one_path_segment(config: Path, agent: tuple[int, list[Any]]) -> None:
    port, calls = agent
    register(config, port)
    result = custom_command(config, "--hostname", "127.0.0.1", "--pattern", "a b/c")
    assert result.code == 0, result.err
    assert result.lines == ["odd name"]
    assert calls[0][0] == "/api/custom-commands/a%20b%2Fc"


def test_an_error_answer_is_one_line_without_the_token(config: Path, agent: tuple[int, list[Any]]) -> None:
    port, _ = agent
    register(config, port)
    line = one_error_line(custom_command(config, "--hostname", "127.0.0.1", "--pattern", "broken"))
    assert line.endswith(
        f"agent http://127.0.0.1:{port}/api/custom-commands/broken answered HTTP 500: command failed: exit status 2"
    )


def test_an_unreachable_agent_is_one_line(config: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(config, port)
    line = one_error_line(custom_command(config, "--hostname", "127.0.0.1", "--pattern", "disk-usage"))
    assert f"agent http://127.0.0.1:{port}/api/custom-commands/disk-usage unreachable:" in line


def test_a_host_without_a_registered_agent_is_one_line(config: Path, agent: tuple[int, list[Any]]) -> None:
    port, calls = agent
    register(config, port, hostname="db-9.example.net")
    line = one_error_line(custom_command(config, "--hostname", "127.0.0.1", "--pattern", "disk-usage"))
    assert "no orchestrator-agent registered for 127.0.0.1" in line and "ServeAgentsHttp" in line
    assert calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pattern", "disk-usage"), "--hostname is required"),
        (("--hostname", "127.0.0.1"), "--pattern is required"),
        (("--hostname", "127.0.0.1", "--pattern", "disk-usage", "--noop"), "no dry run"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    config: Path, agent: tuple[int, list[Any]], args: tuple[str, ...], message: str
) -> None:
    port, calls = agent
    register(config, port)
    assert message in one_error_line(custom_command(config, *args))
    assert calls == []
