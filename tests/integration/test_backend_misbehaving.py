"""Continuous mode on a backend that misbehaves: hung (SIGSTOP), read-only. A private MariaDB of this
module's own is the backend (never the shared one: it is paused and reconfigured here), reached as a
user without SUPER, so that `read_only` applies to it as it would in production.

* a transaction begun on a hung backend fails as a `BackendError` (a raw driver error killed the
  continuous mode's lease thread: the node went on acting as leader and never took part again);
* a leader whose lease renewals stop arriving (hung backend, up to MySQLOrchestratorReadTimeoutSeconds)
  stops acting as leader on its own, and leads again when they resume;
* a read-only backend is reported once, not twice a second, and its end once;
* after a backend stall longer than the lease (everyone's lease looks expired at once) the incumbent
  renews before a follower takes the seat, and a recovery's fence waits for that renewal instead of
  aborting a failover half done (replicas moved under the candidate, no writable master left).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mysql.connector
import pytest

from orchestrator_cli.backend import election, health
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.daemon.continuous import ContinuousMode
from orchestrator_cli.errors import BackendError
from orchestrator_cli.recovery.fencing import Fence, LeaseLost
from orchestrator_cli.sandbox.topology import HOST, Sandbox

DATABASE = "orch_misbehaving"
USER, PASSWORD = "orch_plain", "plain-pw"


class PrivateBackend:
    def __init__(self, server: Sandbox) -> None:
        self.server = server
        self.keys: dict[str, Any] = {
            "BackendDB": "mysql",
            "MySQLOrchestratorHost": HOST,
            "MySQLOrchestratorPort": server.ports[0],
            "MySQLOrchestratorDatabase": DATABASE,
            "MySQLOrchestratorUser": USER,
            "MySQLOrchestratorPassword": PASSWORD,
        }

    def admin(self, *statements: str) -> None:
        conn = mysql.connector.connect(host=HOST, port=self.server.ports[0], user="root", password="", autocommit=True)
        try:
            cur = conn.cursor()
            for statement in statements:
                cur.execute(statement)
            cur.close()
        finally:
            conn.close()

    def config(self, **overrides: Any) -> Any:
        return load_config(overrides={**self.keys, "InstancePollSeconds": 1, **overrides})


@pytest.fixture(scope="module")
def private_backend(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[PrivateBackend]:
    from tests.conftest import _require_mariadbd

    server = Sandbox(
        servers=1,
        layout=[None],
        base_dir=tmp_path_factory.mktemp("private-backend"),
        mariadbd=_require_mariadbd(),
        template_dir=sandbox_template,
    ).start()
    backend = PrivateBackend(server)
    try:
        backend.admin(
            f"CREATE DATABASE {DATABASE}",
            *(f"CREATE USER '{USER}'@'{h}' IDENTIFIED BY '{PASSWORD}'" for h in ("%", "localhost")),
            *(f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'{h}'" for h in ("%", "localhost")),
        )
        yield backend
    finally:
        server.resume(0)
        server.stop()


@pytest.fixture
def backend_server(private_backend: PrivateBackend) -> Iterator[PrivateBackend]:
    """The private backend, found answering and writable, and left so."""
    yield private_backend
    private_backend.server.resume(0)
    private_backend.admin("SET GLOBAL read_only = 0", f"DELETE FROM {DATABASE}.active_node")


class Running:
    """A continuous mode run on a thread of the test process (no topology: only the election matters)."""

    def __init__(self, config: Any) -> None:
        self.mode = ContinuousMode(config, duration=600)
        self.thread = threading.Thread(target=self.mode.run, name="continuous-under-test", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.mode.stop()
        self.thread.join(timeout=60)


@pytest.fixture
def running(backend_server: PrivateBackend) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**overrides: Any) -> Running:
        started.append(Running(backend_server.config(**overrides)))
        return started[-1]

    yield start
    backend_server.server.resume(0)
    for run in started:
        run.stop()


def test_a_transaction_begun_on_a_hung_backend_fails_as_a_backend_error(backend_server: PrivateBackend) -> None:
    backend = Backend(backend_server.config(MySQLOrchestratorReadTimeoutSeconds=1))
    try:
        health.register(backend, health.CONTINUOUS_INFO, health.CONTINUOUS_COMMAND, "test")
        backend_server.server.pause(0)
        # BEGIN is the first statement to meet the hung server: its read timeout is the driver's own
        # exception unless translated, which no `except OrchestratorError` catches
        with pytest.raises(BackendError, match="timed out"):
            health.register(backend, health.CONTINUOUS_INFO, health.CONTINUOUS_COMMAND, "test")
        backend_server.server.resume(0)
        assert backend.scalar("SELECT 41 + 1") == 42  # the timed-out connection was dropped, a new one serves
    finally:
        backend_server.server.resume(0)
        backend.close()


def test_a_leader_whose_renewals_hang_stops_leading_then_leads_again(
    backend_server: PrivateBackend,
    running: Callable[..., Running],
    wait_until: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="orchestrator")
    run = running()  # the backend's read timeout: 30 s, far longer than the 5 s lease
    wait_until(lambda: run.mode.leader, timeout=60, message="elected")
    backend_server.server.pause(0)
    wait_until(lambda: not run.mode.leader, timeout=20, message="the node stops acting as leader")
    said = [r.getMessage() for r in caplog.records if "lease not renewed" in r.getMessage()]
    assert len(said) == 1
    backend_server.server.resume(0)
    wait_until(lambda: run.mode.leader, timeout=60, message="leading again once the backend answers")
    assert run.thread.is_alive()
    assert [r.getMessage() for r in caplog.records if "lease renewed again" in r.getMessage()] != []


def test_a_read_only_backend_is_reported_once_not_every_tick(
    backend_server: PrivateBackend,
    running: Callable[..., Running],
    wait_until: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="orchestrator.continuous")
    run = running()
    wait_until(lambda: run.mode.leader, timeout=60, message="elected")
    backend_server.admin("SET GLOBAL read_only = 1")
    wait_until(lambda: not run.mode.leader, timeout=30, message="the lease cannot be renewed")

    def said(text: str, level: int) -> list[str]:
        return [r.getMessage() for r in caplog.records if text in r.getMessage() and r.levelno == level]

    # several failed attempts, every one of them after the first at debug level
    wait_until(lambda: len(said("backend unavailable (still)", logging.DEBUG)) >= 4, timeout=30, message="repeats")
    backend_server.admin("SET GLOBAL read_only = 0")
    wait_until(lambda: run.mode.leader, timeout=30, message="leading again")
    wait_until(lambda: said("backend unavailable: works again", logging.INFO), timeout=30, message="its end is said")
    assert len(said("backend unavailable: ", logging.ERROR)) == 1
    assert len(said("backend unavailable: works again", logging.INFO)) == 1


A, B = ("node-a", "a" * 64), ("node-b", "b" * 64)


@pytest.fixture
def two_nodes(backend_server: PrivateBackend) -> Iterator[tuple[Backend, Backend]]:
    a, b = Backend(backend_server.config()), Backend(backend_server.config())
    a.connection()  # deploys the schema
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def _as_after_a_stall(backend: Backend, seconds: int) -> None:
    """The lease row as a backend that answered nobody for `seconds` leaves it: not renewed since."""
    backend.execute(
        f"UPDATE active_node SET last_seen_active = NOW() - INTERVAL {int(seconds)} SECOND WHERE anchor = 1"
    )


def test_after_a_backend_stall_the_incumbent_renews_before_a_follower_takes_over(
    two_nodes: tuple[Backend, Backend],
) -> None:
    a, b = two_nodes
    lease = election.attempt_election(a, A, election.ExpiryWatch())
    assert lease is not None
    watch_b = election.ExpiryWatch()
    _as_after_a_stall(a, 10)
    # the follower's statement, queued during the stall, is answered first: the lease looks expired;
    # its next tick is due at once (the hung read took longer than a tick)
    assert election.attempt_election(b, B, watch_b) is None
    assert election.attempt_election(b, B, watch_b) is None
    assert election.attempt_election(a, A) == lease  # the incumbent's renewal: same term
    assert election.attempt_election(b, B, watch_b) is None
    assert election.holds(b, lease)


def test_a_dead_leaders_lease_is_taken_over_at_the_second_look(two_nodes: tuple[Backend, Backend]) -> None:
    a, b = two_nodes
    assert election.attempt_election(a, A) is not None
    watch_b = election.ExpiryWatch()
    _as_after_a_stall(a, 10)
    assert election.attempt_election(b, B, watch_b) is None
    time.sleep(election.TAKEOVER_PATIENCE_SECONDS)  # the follower's patience, not a timed assertion
    taken = election.attempt_election(b, B, watch_b)
    assert taken is not None and taken.node == B


def test_a_fence_waits_for_its_stale_lease_to_be_renewed(two_nodes: tuple[Backend, Backend]) -> None:
    a, b = two_nodes
    lease = election.attempt_election(a, A)
    assert lease is not None
    _as_after_a_stall(a, election.FENCE_SECONDS + 1)  # stale for a change, not yet expired for a takeover
    renewal = threading.Timer(1.0, lambda: election.attempt_election(a, A))
    renewal.start()
    try:
        Fence(b, lease).check("promoting the candidate")  # waits for the renewal, then passes
    finally:
        renewal.join()
    assert election.holds(b, lease)


def test_a_fence_refuses_at_once_when_another_node_leads(two_nodes: tuple[Backend, Backend]) -> None:
    a, b = two_nodes
    lease = election.attempt_election(a, A)
    assert lease is not None
    election.grab_election(b, B)
    with pytest.raises(LeaseLost, match="no longer holds the lease"):
        Fence(a, lease).check("promoting the candidate")
