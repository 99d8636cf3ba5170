"""The service's backend pool: requests hold connections of their own at the same time, a transaction
keeps its connection, and a full pool makes callers wait rather than share.

Overlap is shown, never timed: two threads meet at a barrier while each holds a connection (or runs a
statement), which cannot happen when every statement goes through one connection behind one lock.
"""

from __future__ import annotations

import doctest
import importlib.util
import inspect
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator_cli import observe
from orchestrator_cli.backend import connection_pool
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.connection_pool import BackendPool
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import BackendError
from orchestrator_cli.http.app import create_app

MEET_SECONDS = 60.0  # a generous bound on reaching a barrier: only a broken pool runs into it


def _fleet_backend() -> Any:
    path = Path(__file__).resolve().parents[2] / "bench" / "fleet_backend.py"
    spec = importlib.util.spec_from_file_location("fleet_backend", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fleet_backend", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path, _ = _fleet_backend().sqlite_fleet(tmp_path, 20)
    return path


@pytest.fixture
def pool(config_path: Path) -> Iterator[BackendPool]:
    backend = BackendPool(load_config(str(config_path)), size=4)
    yield backend
    backend.close()


def in_threads(*work: Any) -> list[Any]:
    """Run each callable in a thread of its own; their results, or the first exception raised."""
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work[i]()
        except BaseException as e:  # handed to the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_two_threads_hold_two_connections_at_once(pool: BackendPool) -> None:
    barrier = threading.Barrier(2, timeout=MEET_SECONDS)

    def hold() -> tuple[int, int, int]:
        with pool.lease() as member:
            count = int(member.scalar("SELECT COUNT(*) FROM database_instance"))
            barrier.wait()  # both threads are inside a lease here
            held = pool.in_use()
            barrier.wait()
            return id(member), held, count

    (first, held_a, count_a), (second, held_b, count_b) = in_threads(hold, hold)
    assert first != second
    assert held_a == held_b == 2
    assert count_a == count_b == 20
    assert pool.in_use() == 0


def test_a_reader_is_not_queued_behind_an_open_transaction(pool: BackendPool) -> None:
    """While one thread's transaction holds an uncommitted row, another thread reads (on a connection
    of its own, without waiting for the commit) and sees the rows as they were."""
    inserted = threading.Event()
    read_done = threading.Event()

    def write() -> bool:
        with pool.transaction():
            pool.execute("INSERT INTO cluster_alias_override (cluster_name, alias) VALUES ('c', 'uncommitted')")
            assert pool.in_use() == 1  # the statement ran on the transaction's connection
            inserted.set()
            return read_done.wait(MEET_SECONDS)

    def read() -> int:
        assert inserted.wait(MEET_SECONDS)
        try:
            return int(pool.scalar("SELECT COUNT(*) FROM cluster_alias_override"))
        finally:
            read_done.set()

    reader_finished_first, seen = in_threads(write, read)
    assert reader_finished_first, "the read waited for the transaction to end"
    assert seen == 0
    assert pool.scalar("SELECT COUNT(*) FROM cluster_alias_override") == 1


def test_a_transaction_rolls_back_and_returns_its_connection(pool: BackendPool) -> None:
    with pytest.raises(RuntimeError), pool.transaction():
        pool.execute("INSERT INTO cluster_alias_override (cluster_name, alias) VALUES ('c', 'gone')")
        raise RuntimeError("abandon")
    assert pool.in_use() == 0
    assert pool.scalar("SELECT COUNT(*) FROM cluster_alias_override") == 0


def test_query_iter_keeps_its_connection_until_the_iteration_ends(pool: BackendPool) -> None:
    rows = pool.query_iter("SELECT hostname FROM database_instance ORDER BY hostname", batch=3)
    first = next(rows)
    assert pool.in_use() == 1
    rest = list(rows)
    assert pool.in_use() == 0
    assert len([first, *rest]) == 20


def test_a_full_pool_makes_a_caller_wait_then_fail(config_path: Path) -> None:
    pool = BackendPool(load_config(str(config_path)), size=1, retry_seconds=0.2)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with pool.lease():
            holding.set()
            release.wait(MEET_SECONDS)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(MEET_SECONDS)
        with pytest.raises(BackendError, match="all 1 connections to backend .* stayed busy"):
            pool.query("SELECT 1")
    finally:
        release.set()
        holder.join()
    assert pool.scalar("SELECT 1") == 1
    pool.close()


def test_close_closes_every_connection_and_the_pool_reopens(pool: BackendPool) -> None:
    barrier = threading.Barrier(2, timeout=MEET_SECONDS)

    def hold() -> Backend:
        with pool.lease() as member:
            member.query("SELECT 1")
            barrier.wait()
            return member

    members = in_threads(hold, hold)
    assert all(m._conn is not None for m in members)
    pool.close()
    assert all(m._conn is None for m in members)
    assert pool.scalar("SELECT COUNT(*) FROM database_instance") == 20


def test_every_public_backend_method_is_lent_out() -> None:
    """A method added to Backend later is served by a member too, never by the pool's own state."""
    own = {"close", "connection"}
    for name, value in vars(Backend).items():
        if name.startswith("_") or not inspect.isfunction(value) or name in connection_pool._NOT_LENT:
            continue
        assert getattr(BackendPool, name) is not value, name
    assert own <= set(vars(BackendPool))


def test_a_memory_database_has_one_connection() -> None:
    assert BackendPool({"BackendDB": "sqlite", "SQLite3DataFile": ":memory:"}).size == 1


class MeetInStatement:
    """A `backend_query` observer: the first two instance reads wait for each other. The hook runs inside
    the statement, with its connection held, so meeting there means two connections are in use at once."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=MEET_SECONDS)
        self.lock = threading.Lock()
        self.waiting = 0

    def backend_query(self, sql: str, seconds: float) -> None:
        if "di.hostname = ? AND di.port = ?" not in sql:
            return
        with self.lock:
            self.waiting += 1
            if self.waiting > 2:
                return
        self.barrier.wait()


def test_two_requests_run_their_backend_reads_at_the_same_time(config_path: Path) -> None:
    app = create_app(load_config(str(config_path)), metrics=False)
    assert isinstance(app.state.backend, BackendPool)
    meet = MeetInStatement()
    with TestClient(app) as client:
        assert client.get("/api/instance/fleet-00000-m/3306").status_code == 200  # schema checked
        observe.add(meet)
        try:
            answers = in_threads(
                lambda: client.get("/api/instance/fleet-00001-m/3306"),
                lambda: client.get("/api/instance/fleet-00002-m/3306"),
            )
        finally:
            observe.remove(meet)
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["Key"]["Hostname"] for a in answers] == ["fleet-00001-m", "fleet-00002-m"]
    assert not meet.barrier.broken


def test_docstring_examples() -> None:
    result = doctest.testmod(connection_pool)
    assert result.attempted > 0 and result.failed == 0
