"""Two `-c continuous` daemons on one MariaDB backend with ShareDiscoveryAmongNodes: each probes its
own share of the sandbox (the partition every node computes from node_health), and after one is
killed (-9) the other probes its share too, keeping every instance fresh."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.sharing import owner_of
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT, run_cli

pytestmark = pytest.mark.mysql_backend

Wait = Callable[..., Any]
PROBED = re.compile(r"^\S+ \S+ DEBUG (\S+): probe answered in", re.M)


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--debug", "-c", "continuous",
                 "--duration", "5m"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def probed(self, since: int = 0) -> Counter[str]:
        """Answered probes per instance key, in the log from character `since`."""
        return Counter(PROBED.findall(self.text()[since:]))

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def setup(
    fresh_sandbox: Sandbox, deployed_mysql_backend_db: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[Path, Backend]]:
    config = fresh_sandbox.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "unused.sqlite3",
        **deployed_mysql_backend_db,
        InstancePollSeconds=1,
        ShareDiscoveryAmongNodes=True,
    )
    assert run_cli("-c", "discover", "-i", fresh_sandbox.key(0), config=config).code == 0
    backend = Backend(load_config(str(config)))
    try:
        yield config, backend
    finally:
        backend.close()


def tokens(backend: Backend) -> dict[int, str]:
    """pid -> token of the live daemons sharing discovery (a token ends with -pid<n>)."""
    from orchestrator_cli.backend.health import discovery_nodes

    return {int(t.rpartition("-pid")[2]): t for t in discovery_nodes(backend, 3)}


def test_two_daemons_split_the_probes_and_one_covers_for_the_other_after_a_kill(
    sandbox: Sandbox, setup: tuple[Path, Backend], tmp_path: Path, wait_until: Wait
) -> None:
    config, backend = setup
    keys = [sandbox.key(i) for i in range(sandbox.size)]
    daemons: list[Daemon] = []
    try:
        # Two daemons whose partition of the four servers gives each at least one: the tokens are
        # random, so a daemon that would own none is replaced (a 1-in-8 chance each time).
        for attempt in range(6):
            while len(daemons) < 2:
                daemons.append(Daemon(config, tmp_path / f"daemon-{attempt}-{len(daemons)}.log"))
            pids = [d.proc.pid for d in daemons]
            live = wait_until(lambda: len(tokens(backend)) == 2 and tokens(backend), timeout=30, message="2 nodes")
            nodes = [live[pid] for pid in pids]
            owned = {node: [k for k in keys if owner_of(k, nodes) == node] for node in nodes}
            idle = [d for d, node in zip(daemons, nodes, strict=True) if not owned[node]]
            if not idle:
                break
            idle[0].stop()
            daemons.remove(idle[0])
            wait_until(lambda: len(tokens(backend)) == 1, timeout=30, message="the replaced daemon's row expired")
        else:
            pytest.fail("no partition with a share for each daemon")
        for daemon in daemons:  # the last re-balance each logged is to two nodes
            wait_until(
                lambda d=daemon: (
                    d.text().rfind("discovery shared by 2 node(s)") > d.text().rfind("discovery shared by 1")
                ),
                timeout=30,
                message="re-balance",
            )
        marks = [len(d.text()) for d in daemons]
        time.sleep(6)
        seen = [d.probed(mark) for d, mark in zip(daemons, marks, strict=True)]
        for daemon_seen, node in zip(seen, nodes, strict=True):
            # each probes its own share, every second or so; the other node's keys at most rarely
            for key in owned[node]:
                assert daemon_seen[key] >= 3, (node, key, seen)
            others = sum(n for k, n in daemon_seen.items() if k not in owned[node])
            assert others <= 2, (node, seen)

        # kill -9 the follower: the leader takes its share over within one re-balance
        leader = next(d for d in daemons if "elected: this node runs discovery and recovery" in d.text())
        follower = next(d for d in daemons if d is not leader)
        follower_keys = owned[nodes[daemons.index(follower)]]
        before_kill = len(leader.text())
        os.kill(follower.proc.pid, signal.SIGKILL)
        follower.proc.wait()
        killed_at = time.monotonic()
        wait_until(
            lambda: "discovery shared by 1 node(s)" in leader.text()[before_kill:], timeout=15, message="re-balance"
        )
        took_over = time.monotonic() - killed_at
        mark = len(leader.text())
        # the leader probes the follower's share: each key twice (waited for, not slept on)
        after = wait_until(
            lambda: (probed := leader.probed(mark)) and all(probed[key] >= 2 for key in follower_keys) and probed,
            timeout=30,
            message=f"the leader probes {follower_keys} twice each",
        )
        for key in follower_keys:
            assert after[key] >= 2, (key, after)
        rows = backend.query(
            "SELECT hostname, port FROM database_instance WHERE last_checked < NOW() - INTERVAL 3 SECOND"
        )
        assert rows == [], rows  # every instance fresh
        assert took_over < 10, took_over
    finally:
        codes = [d.stop() for d in daemons]
    assert all(code in (0, -signal.SIGKILL) for code in codes), codes
