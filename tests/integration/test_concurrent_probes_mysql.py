"""Continuous mode's probes write concurrently, each on its own backend connection: on the MySQL
backend (the MariaDB at 127.0.0.1:3306, a private database) none of them may fail on a lock conflict.

The first discovery pass of a fleet used to lose probes to deadlocks: every master registers its
cluster's alias, and `DELETE FROM cluster_alias WHERE alias = ?` took gap locks on the unique alias
index that the next INSERT waited for, each transaction on another's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.model import Fleet, free_port_range  # noqa: E402
from bench.fleet_sim.server import FleetSimulator  # noqa: E402
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.config import Config, load_config  # noqa: E402
from orchestrator_cli.discovery.crawl import Probed, probe_one  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402
from orchestrator_cli.mysql.access import TopologyAccess  # noqa: E402

CLUSTERS = 24
THREADS = 12


@pytest.fixture
def config(deployed_mysql_backend_db: dict[str, Any]) -> Config:
    values = load_config(overrides={**fleet_config(), **deployed_mysql_backend_db})
    with _closing(Backend(values)) as backend:
        backend.connection()  # connects (and would deploy the schema) before the threads start
    return values


class _closing:
    """A backend closed at the end of a with block."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __enter__(self) -> Backend:
        return self.backend

    def __exit__(self, *exc: object) -> None:
        self.backend.close()


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    base = free_port_range(CLUSTERS * 5)
    with FleetSimulator(Fleet.of_clusters(CLUSTERS, base)) as sim:
        yield sim.fleet


def _probe_all(keys: list[InstanceKey], config: Config) -> list[Probed]:
    """Probe `keys` from THREADS threads, each with its own backend (as the scheduler's workers are),
    all starting together; a backend failure is raised, not swallowed."""
    access = TopologyAccess(config)
    local = threading.local()
    backends: list[Backend] = []
    start = threading.Barrier(THREADS, timeout=60)

    def backend() -> Backend:
        if not hasattr(local, "backend"):
            local.backend = Backend(config)
            local.backend.connection()
            backends.append(local.backend)
            start.wait()
        return local.backend

    def one(key: InstanceKey) -> Probed:
        return probe_one(key, access, backend(), config)

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            # every worker takes its first key before any takes a second: the barrier is passed
            return list(pool.map(one, keys))
    finally:
        access.close()
        for b in backends:
            b.close()


def _query(config: Config, sql: str) -> list[dict[str, Any]]:
    with _closing(Backend(config)) as backend:
        return backend.query(sql)


def test_concurrent_first_probes_of_new_clusters_all_succeed(config: Config, fleet: Fleet) -> None:
    masters = [InstanceKey("127.0.0.1", s.port) for s in fleet.masters()]
    others = [InstanceKey("127.0.0.1", p) for p in sorted(fleet.servers) if p not in {k.port for k in masters}]
    for keys in (masters, others, masters + others):  # the first pass, then steady state
        probed = _probe_all(keys, config)
        assert [p.error for p in probed if p.result is None] == []
    aliases = _query(config, "SELECT cluster_name, alias FROM cluster_alias ORDER BY cluster_name")
    assert len(aliases) == CLUSTERS
    instances = _query(config, "SELECT cluster_name, suggested_cluster_alias FROM database_instance")
    assert len(instances) == CLUSTERS * 5
    registered = {r["cluster_name"]: r["alias"] for r in aliases}
    assert all(registered[r["cluster_name"]] == r["suggested_cluster_alias"] for r in instances)


def test_a_deadlocked_transaction_is_run_again(config: Config) -> None:
    """Two transactions taking the same two row locks in opposite orders: MySQL rolls one back as the
    deadlock victim, and `run_transaction` runs that one again, so both complete."""
    with _closing(Backend(config)) as setup:
        for key in ("a", "b"):
            setup.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES (?, '0', NOW())", (key,))
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts: list[str] = []

    def transfer(first: str, second: str) -> Callable[[Backend], None]:
        def work(backend: Backend) -> None:
            attempts.append(first)
            backend.execute("UPDATE kv_store SET store_value = store_value + 1 WHERE store_key = ?", (first,))
            if len(attempts) <= 2:  # only the first attempts meet: a retry runs alone
                both_hold_one.wait()
            backend.execute("UPDATE kv_store SET store_value = store_value + 1 WHERE store_key = ?", (second,))

        return work

    def run(work: Callable[[Backend], None]) -> None:
        with _closing(Backend(config)) as backend:
            backend.run_transaction(lambda: work(backend))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(run, transfer("a", "b")), pool.submit(run, transfer("b", "a"))]
        for future in done:
            future.result()
    assert len(attempts) == 3  # one of the two ran again
    values = {
        r["store_key"]: int(r["store_value"]) for r in _query(config, "SELECT store_key, store_value FROM kv_store")
    }
    assert values == {"a": 2, "b": 2}  # the victim's first attempt left nothing behind


def test_daemons_registering_together_all_succeed(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """Daemons started together register their node_health rows at once: each registration's UPDATE
    of a row not there yet took a gap lock the others' INSERTs then waited for (a deadlock that the
    heartbeat logged as `backend unavailable`); the registration is now run again instead."""
    from orchestrator_cli.backend import health

    nodes = 12
    local = threading.local()
    monkeypatch.setattr(health, "identity", lambda: local.identity)
    start = threading.Barrier(nodes, timeout=60)

    def register(n: int) -> None:
        local.identity = (f"node{n}", f"token{n}")
        with _closing(Backend(config)) as backend:
            backend.connection()
            start.wait()
            for _ in range(3):
                health.register(backend, "ContinuousMode", "continuous", "test")

    with ThreadPoolExecutor(max_workers=nodes) as pool:
        for future in [pool.submit(register, n) for n in range(nodes)]:
            future.result()
    rows = _query(config, "SELECT hostname, incrementing_indicator FROM node_health ORDER BY hostname")
    assert sorted(r["hostname"] for r in rows) == sorted(f"node{n}" for n in range(nodes))
    assert {int(r["incrementing_indicator"]) for r in rows} == {2}
