"""Pausing and resuming sandbox servers from separate processes: `orchestrator-sandbox pause N` in one
shell, `resume N` in another, and a test's own `Sandbox` handle, all agree on which server hangs.
Resuming used to do nothing in a process other than the pausing one: the paused flag lived only in
that process's memory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT

HUNG = 2


def sandbox_cli(sb: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    """`orchestrator-sandbox ARGS --dir <the sandbox's directory>` as its own process."""
    code = "from orchestrator_cli.sandbox.cli import app; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--dir", str(sb.base_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def answers(sb: Sandbox, i: int) -> bool:
    try:
        sb.connect(i, timeout=1).close()
    except Exception:
        return False
    return True


def states(sb: Sandbox) -> list[str]:
    result = sandbox_cli(sb, "status", "--json")
    assert result.returncode == 0, result.stderr
    return [s["state"] for s in json.loads(result.stdout)["servers"]]


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.resume(HUNG)


def test_paused_here_is_resumed_by_another_process(sb: Sandbox) -> None:
    sb.pause(HUNG)
    assert not answers(sb, HUNG)
    assert states(sb)[HUNG] == "paused"
    resumed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from orchestrator_cli.sandbox.topology import Sandbox; "
            f"Sandbox.attach({str(sb.base_dir)!r}).resume({HUNG})",
        ],
        cwd=ROOT,
        timeout=60,
    )
    assert resumed.returncode == 0
    assert sb.is_alive(HUNG) and answers(sb, HUNG)
    assert states(sb)[HUNG] == "running"


def test_pause_and_resume_commands_in_separate_processes(sb: Sandbox) -> None:
    paused = sandbox_cli(sb, "pause", str(HUNG))
    assert (paused.returncode, paused.stdout) == (0, f"{sb.key(HUNG)} paused\n"), paused.stderr
    assert not sb.is_alive(HUNG) and not answers(sb, HUNG)
    assert HUNG not in sb.replication_parents()  # left out, not waited on
    assert states(sb)[HUNG] == "paused"
    resumed = sandbox_cli(sb, "resume", sb.key(HUNG))
    assert (resumed.returncode, resumed.stdout) == (0, f"{sb.key(HUNG)} resumed\n"), resumed.stderr
    assert sb.is_alive(HUNG) and answers(sb, HUNG)
    assert states(sb) == ["running"] * len(sb.ports)


@pytest.mark.parametrize("server", ["9", "x", "127.0.0.1:1"])
def test_pause_of_no_such_server_is_refused_in_one_line(sb: Sandbox, server: str) -> None:
    refused = sandbox_cli(sb, "pause", server)
    assert refused.returncode == 1 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "is not a server of the sandbox" in refused.stderr
    assert states(sb) == ["running"] * len(sb.ports)
