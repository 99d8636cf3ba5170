"""A server whose probe fails on a timeout is marked unresponsive at once, not only when a probe runs
past InstancePollSeconds + ReasonableInstanceCheckSeconds: the read timeout is usually the shorter
of the two, and without the mark a recovery paid the timeout again on "(failed master):
unreachable". A server that answers with an error (a refused login) is alive, maybe writable, and
is never marked. Real sandbox, SIGSTOP of a server (the port stays open, nothing answers)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import Unresponsive
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli

Wait = Callable[..., object]
HUNG = 3  # a replica: the sandbox's replication is not disturbed by its pause


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.resume(HUNG)


def discovered_config(sb: Sandbox, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    # hung_after is 30 s: a mark seen within a few seconds can only come from the timed-out probe
    path = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        InstancePollSeconds=1,
        ReasonableInstanceCheckSeconds=29,
        MySQLDiscoveryReadTimeoutSeconds=1,
        MySQLConnectTimeoutSeconds=1,
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=path).code == 0
    return dict(load_config(str(path), overrides))


def run_scheduler(config: dict[str, Any], until: Callable[[DiscoveryScheduler], bool], timeout: float) -> Unresponsive:
    """Tick a scheduler as the discovery thread does until `until` holds (or the timeout passes)."""
    marks = Unresponsive()
    backend = Backend(config)
    scheduler = DiscoveryScheduler(config, marks)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(scheduler):
            scheduler.tick(backend)
            time.sleep(0.1)
    finally:
        scheduler.close()
        scheduler.join()
        backend.close()
    return marks


def test_a_probe_that_times_out_marks_its_server_and_an_answer_clears_it(
    sb: Sandbox, tmp_path: Path, wait_until: Wait
) -> None:
    config = discovered_config(sb, tmp_path)
    hung = InstanceKey("127.0.0.1", sb.ports[HUNG])
    marks = Unresponsive()
    backend = Backend(config)
    scheduler = DiscoveryScheduler(config, marks)
    started = time.monotonic()

    def tick_until(predicate: Callable[[], bool], message: str) -> None:
        def ticked() -> bool:
            scheduler.tick(backend)
            return predicate()

        wait_until(ticked, timeout=20, interval=0.1, message=message)

    try:
        tick_until(lambda: scheduler.first_pass.is_set(), "the first pass")
        sb.pause(HUNG)
        started = time.monotonic()
        tick_until(lambda: marks.since(hung) is not None, "the hung server marked")
        assert time.monotonic() - started < scheduler.hung_after  # by the timed-out probe, not by _watch_hung
        assert marks.marked() == {hung}  # the others answer
        sb.resume(HUNG)
        tick_until(lambda: marks.since(hung) is None, "the mark cleared by an answered probe")
    finally:
        sb.resume(HUNG)
        scheduler.close()
        scheduler.join()
        backend.close()


def test_a_server_refusing_the_login_is_not_marked(sb: Sandbox, tmp_path: Path) -> None:
    """Every probe fails (wrong password: error 1045, an answer), none is marked unresponsive."""
    config = discovered_config(sb, tmp_path, MySQLTopologyPassword="not-the-password")
    failed: list[str] = []

    def every_probe_failed(scheduler: DiscoveryScheduler) -> bool:
        failed[:] = [str(k) for k, n in scheduler.failing().items() if n >= 2]
        return len(failed) == sb.size

    marks = run_scheduler(config, every_probe_failed, timeout=30)
    assert len(failed) == sb.size, failed
    assert marks.marked() == set()
