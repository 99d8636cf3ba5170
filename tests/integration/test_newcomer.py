"""What a newcomer runs: `scripts/sandbox-demo.sh`, the next command it prints, then README's "Everyday use".

The demo runs on its own ports and directory (ORCH_SANDBOX_PORT, ORCH_SANDBOX_DIR); README's commands are
run as written, with only the demo's default directory and ports replaced by this test's.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT

DEMO_DIR, DEMO_PORT = "/tmp/orchestrator-sandbox", 23306
EVENT_DRIVEN = ("graceful-master-takeover", "-c recover", "-c continuous")  # need a failure or run forever


def _free_block(count: int = 4) -> int:
    for _ in range(200):
        base = random.randint(20000, 60000)
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no block of free ports")


def _bash(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def demo(mariadbd_binary: str, tmp_path: Path) -> Iterator[tuple[subprocess.CompletedProcess[str], Path, int]]:
    directory, port = tmp_path / "demo", _free_block()
    env = {**os.environ, "ORCH_SANDBOX_DIR": str(directory), "ORCH_SANDBOX_PORT": str(port)}
    try:
        yield _bash(str(ROOT / "scripts" / "sandbox-demo.sh"), env), directory, port
    finally:
        _bash(f"{ROOT}/.venv/bin/orchestrator-sandbox down --dir {directory}", env)


def test_demo_then_the_command_it_suggests_then_readme(
    demo: tuple[subprocess.CompletedProcess[str], Path, int],
) -> None:
    result, directory, port = demo
    assert result.returncode == 0, result.stderr
    master, replicas = f"127.0.0.1:{port}", [f"127.0.0.1:{port + i}" for i in (1, 2, 3)]
    # The tree the demo printed: production-like, the master writeable and the replicas read-only.
    tree = [line for line in result.stdout.splitlines() if re.match(r"^(\+ )?127\.0\.0\.1:\d+ +\[", line)]
    assert [line.split()[-1].split(",")[3] for line in tree] == ["rw", "ro", "ro", "ro"], result.stdout

    # The exact next command, with the demo's config: it answers with the tree.
    config = directory / "orchestrator.conf.json"
    suggested = [line.strip() for line in result.stdout.splitlines() if "-c topology" in line and "--config" in line]
    assert suggested and f"--config {config}" in suggested[0]
    shown = _bash(suggested[0], dict(os.environ))
    assert shown.returncode == 0 and shown.stdout.splitlines() == tree

    # README's everyday commands, as written, right after the demo.
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Everyday use") : readme.index("\n## ", readme.index("## Everyday use") + 1)]
    commands = [
        line
        for block in re.findall(r"```\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if line.startswith(("orchestrator ", "CONF=", "PATH=")) and not any(e in line for e in EVENT_DRIVEN)
    ]
    assert any("--config $CONF -c topology" in c for c in commands)
    script = "\n".join(commands).replace(DEMO_DIR, str(directory))
    script = re.sub(rf"127\.0\.0\.1:{DEMO_PORT // 10}(\d)", lambda m: f"127.0.0.1:{port + int(m[1]) - 6}", script)
    outputs: dict[str, str] = {}
    prelude = [c for c in script.splitlines() if c.startswith(("CONF=", "PATH="))]
    for command in script.splitlines():
        if command in prelude:
            continue
        done = _bash("\n".join([*prelude, command]), dict(os.environ))
        assert done.returncode == 0, (command, done.stderr)
        # (`-c help` lists on stderr, as the original)
        assert (done.stdout + done.stderr).strip() or "# empty" in command, command
        name = re.search(r" -c (\S+)", command)
        if name:
            outputs[name[1]] = done.stdout
    assert outputs["clusters"].splitlines() == [master]
    assert [line.split()[-1] for line in outputs["topology"].splitlines()][0].split(",")[3] == "rw"
    assert outputs["register-candidate"].splitlines() == [replicas[0]]
    assert outputs["which-downtimed-instances"].splitlines() == [replicas[2]]
    assert outputs["relocate"].splitlines() == [f"{replicas[2]}<{replicas[0]}"]
