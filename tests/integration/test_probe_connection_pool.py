"""Continuous discovery's probe workers share a bounded pool of backend connections: a probe holds
one only for its backend read and write, never while it talks to its server (bench/fleet_sim).

* On the MySQL backend (the MariaDB at 127.0.0.1:3306, a private database) the connections the
  workers hold stay within `MySQLOrchestratorMaxPoolConnections` through many probes, failed ones
  included, however many workers `DiscoveryMaxConcurrency` asks for; none is left behind.
* A probe whose server has answered and that waits for a connection is not a hung probe.
* A backend that is down fails the probes cleanly: nothing in flight stays, no connection stays lent.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.model import Fleet, free_port_range  # noqa: E402
from bench.fleet_sim.server import FleetSimulator  # noqa: E402
from orchestrator_cli.backend import instances  # noqa: E402
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.backend.connection_pool import BackendPool  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.discovery.crawl import Probed  # noqa: E402
from orchestrator_cli.discovery.scheduler import DiscoveryScheduler  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402
from orchestrator_cli.mysql.access import Unresponsive  # noqa: E402

CLUSTERS = 8
POOL = 3


@pytest.fixture
def sim() -> Iterator[FleetSimulator]:
    base = free_port_range(CLUSTERS * 5)
    with FleetSimulator(Fleet.of_clusters(CLUSTERS, base)) as s:
        yield s


def _key(port: int) -> InstanceKey:
    return InstanceKey("127.0.0.1", port)


def _connections(probe: Backend) -> int:
    """Connections to the test's database other than `probe`'s own."""
    return int(
        probe.scalar(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
        )
    )


def test_workers_share_a_bounded_pool_of_mysql_connections(
    sim: FleetSimulator, deployed_mysql_backend_db: dict[str, Any], wait_until: Callable[..., object]
) -> None:
    masters = [s.port for s in sim.fleet.masters()]
    others = [p for p in sim.fleet.ports() if p not in set(masters)]
    killed, hung = others[:4], others[4:6]
    config = load_config(
        overrides={
            **fleet_config(InstancePollSeconds=1, DiscoverySeeds=[str(_key(p)) for p in masters]),
            **deployed_mysql_backend_db,
            "DiscoveryMaxConcurrency": 64,
            "MySQLOrchestratorMaxPoolConnections": POOL,
            "MySQLDiscoveryReadTimeoutSeconds": 1,
        }
    )
    tick_backend, probe = Backend(config), Backend(config)
    tick_backend.connection()  # the schema is deployed already: checks it and connects
    probes: Counter[InstanceKey] = Counter()
    failures: Counter[InstanceKey] = Counter()

    def count(probed: Probed, backend: Backend) -> None:
        probes[probed.key] += 1
        failures[probed.key] += probed.result is None

    scheduler = DiscoveryScheduler(config, Unresponsive(), on_probed=count)
    held: list[int] = []
    faulted: list[int] = []
    try:
        wanted = {_key(p): 3 for p in sim.fleet.ports()}

        def probed_enough() -> bool:
            scheduler.tick(tick_backend)
            held.append(_connections(probe))
            if len(probes) == len(wanted) and not faulted:  # every server answered once: some fail now
                for port in killed:
                    sim.kill(port)
                for port in hung:
                    sim.hang(port)
                faulted.extend(killed + hung)
            return (
                bool(faulted)
                and all(probes[k] >= n for k, n in wanted.items())
                and all(failures[_key(p)] >= 2 for p in faulted)
            )

        wait_until(
            probed_enough, timeout=120, interval=0.2, message="every server probed three times, the faulted failing"
        )
        # the workers' pool, plus the connection of the thread that ticks
        assert max(held) <= POOL + 1, held
    finally:
        scheduler.close()
        scheduler.join()
        tick_backend.close()
    wait_until(lambda: _connections(probe) == 0, timeout=30, message="every connection closed")
    probe.close()


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Any:
    return load_config(
        overrides={
            **fleet_config(InstancePollSeconds=1, ReasonableInstanceCheckSeconds=0),
            # the hung server's probe stays on the server for the whole test
            "MySQLConnectTimeoutSeconds": 60,
            "MySQLDiscoveryReadTimeoutSeconds": 60,
            "BackendDB": "sqlite",
            "SQLite3DataFile": str(tmp_path / "orchestrator.sqlite3"),
        }
    )


def test_a_probe_waiting_for_a_backend_connection_is_not_hung(
    sim: FleetSimulator, sqlite_config: Any, wait_until: Callable[..., object]
) -> None:
    """The pool's one SQLite connection is held elsewhere: the probes whose servers answered wait for
    it, long past `hung_after`, and none of their servers is marked unreachable; a probe of a hung
    server in the same state is. When the connection is free, the waiting probes are written."""
    backend = Backend(sqlite_config)
    backend.connection()
    marks = Unresponsive()
    scheduler = DiscoveryScheduler(sqlite_config, marks)
    pool = scheduler._backend()  # noqa: SLF001
    assert pool.size == 1  # SQLite: one writer
    answering = [s.port for s in sim.fleet.masters()][:3]
    silent = sorted(set(sim.fleet.ports()) - set(answering))[0]
    sim.hang(silent)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pool.lease():
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        keys = [_key(p) for p in answering]
        scheduler.request([*keys, _key(silent)])
        wait_until(
            lambda: set(keys) <= set(scheduler._answered),  # noqa: SLF001
            timeout=30,
            message="the answered probes wait for the backend",
        )
        assert all(scheduler.in_flight(k) for k in keys)
        scheduler._watch_hung(backend, time.monotonic() + 60)  # noqa: SLF001  (as if a minute had passed)
        assert marks.marked() == {_key(silent)}
    finally:
        release.set()
        holder.join()
    try:
        wait_until(lambda: not any(scheduler.in_flight(k) for k in keys), timeout=30, message="the waiting probes end")
        written = {(r["hostname"], int(r["port"])) for r in instances.all_instances(backend)}
        assert {(k.hostname, k.port) for k in keys} <= written
    finally:
        sim.revive(silent)  # its probe ends now rather than at its 60 s timeout
        scheduler.close()
        scheduler.join()
        backend.close()
    # Probes of the replicas the answered masters named may still be writing until the workers stop:
    # once they have, no connection is left lent.
    assert pool.in_use() == 0


def test_a_dead_backend_fails_probes_cleanly(sim: FleetSimulator, wait_until: Callable[..., object]) -> None:
    """The MySQL backend refuses connections: every probe reaches its server, then fails on the
    backend; nothing stays in flight, no connection stays lent, and probing goes on."""
    closed_port = free_port_range(1)
    config = load_config(
        overrides={
            **fleet_config(InstancePollSeconds=1),
            "BackendDB": "mysql",
            "MySQLOrchestratorHost": "127.0.0.1",
            "MySQLOrchestratorPort": closed_port,
            "MySQLOrchestratorDatabase": "orchestrator_absent",
            "MySQLOrchestratorMaxPoolConnections": 2,
        }
    )
    scheduler = DiscoveryScheduler(config, Unresponsive())
    keys = [_key(p) for p in sim.fleet.ports()]
    try:
        for _ in range(2):  # a second round: the pool's connections failed once and are used again
            scheduler.request(keys)
            wait_until(
                lambda: not any(scheduler.in_flight(k) for k in keys) and scheduler.queued() == 0,
                timeout=60,
                message="every probe ended",
            )
        pool = scheduler._backend()  # noqa: SLF001
        assert pool.in_use() == 0
        assert len(pool._members) <= 2  # noqa: SLF001
        assert not scheduler._answered  # noqa: SLF001
    finally:
        scheduler.close()
        scheduler.join()


def test_a_burst_leaves_only_max_idle_connections_open(
    mysql_backend_db: dict[str, Any], wait_until: Callable[..., object]
) -> None:
    """30 workers hold 30 connections of the MySQL backend at once; once they are done, the pool keeps
    max(10, 25% of MySQLOrchestratorMaxPoolConnections) open, as the original's pool does, instead of
    all 30 for the life of the daemon (several daemons would fill the backend's max_connections)."""
    config = load_config(overrides={**mysql_backend_db, "MySQLOrchestratorMaxPoolConnections": 40})
    pool = BackendPool(config, size=30)
    watcher = Backend(config)
    assert pool.max_idle == 10
    together = threading.Barrier(30, timeout=60)

    def hold() -> None:
        with pool.lease() as member:
            member.scalar("SELECT 1")
            together.wait()

    try:
        workers = [threading.Thread(target=hold) for _ in range(30)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert not together.broken and pool.in_use() == 0
        # the server lists a closed connection a moment longer; more than 10 for good is the failure
        wait_until(lambda: _connections(watcher) == 10, timeout=30, message="10 connections stay open")
        assert [pool.scalar("SELECT 2") for _ in range(3)] == [2, 2, 2]  # the idle ones serve on
    finally:
        pool.close()
        watcher.close()
