"""The fleet simulator (bench/fleet_sim) answers our probe as a real fleet would: `discover` crawls a
simulated 5-server cluster into the right topology, a killed master is analysed as DeadMaster, a
recovery completes on it, and the faults show in what the replicas report."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.model import Fleet, free_port_range  # noqa: E402
from bench.fleet_sim.server import FleetSimulator  # noqa: E402
from tests.support import run_cli  # noqa: E402

SLAVE_NET_TIMEOUT = 1.0


@pytest.fixture
def cluster() -> Iterator[tuple[FleetSimulator, int]]:
    """One simulated cluster: master (base), replicas base+1 and base+2, intermediate base+3, its leaf base+4."""
    base = free_port_range(5)
    with FleetSimulator(Fleet.of_clusters(1, base, slave_net_timeout=SLAVE_NET_TIMEOUT)) as sim:
        yield sim, base


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "orchestrator.conf.json"
    values = fleet_config(BackendDB="sqlite", SQLite3DataFile=str(tmp_path / "orchestrator.sqlite3"))
    path.write_text(json.dumps(values))
    return path


def _key(port: int) -> str:
    return f"127.0.0.1:{port}"


def _wait_io_connecting(sim: FleetSimulator, port: int) -> None:
    """Wait (at most 30 s) until the replica on `port` reports its IO thread Connecting."""
    deadline = time.monotonic() + 30
    while sim.describe(port)["io"] != "Connecting":
        assert time.monotonic() < deadline, f"replica {port} still reports IO {sim.describe(port)['io']}"
        time.sleep(0.05)
    assert sim.describe(port)["io"] == "Connecting"


def _topology_lines(config: Path, port: int) -> list[str]:
    result = run_cli("-c", "topology", "-i", _key(port), config=config)
    assert result.code == 0, result.err
    return [line.split(" (")[0] for line in result.lines]


def test_discover_crawls_the_simulated_cluster_into_its_topology(cluster: tuple[FleetSimulator, int], tmp_path: Path):
    sim, base = cluster
    config = _config(tmp_path)
    assert run_cli("-c", "discover", "-i", _key(base), config=config).code == 0
    assert _topology_lines(config, base) == [
        _key(base),
        f"+ {_key(base + 1)}",
        f"+ {_key(base + 2)}",
        f"+ {_key(base + 3)}",
        f"  + {_key(base + 4)}",
    ]
    # the user queries were answered: the cluster alias and a promotion rule come from the meta tables
    with sqlite3.connect(tmp_path / "orchestrator.sqlite3") as db:
        row = db.execute(
            "SELECT suggested_cluster_alias, data_center, instance_alias FROM database_instance WHERE port = ?",
            (base + 1,),
        ).fetchone()
    assert row == ("c00000", f"dc{(base + 1) % 3}", f"sim-{base + 1}")
    assert sim.stats()["unknown_statements"] == {}


def test_killed_master_is_a_dead_master_and_a_recovery_completes(cluster: tuple[FleetSimulator, int], tmp_path: Path):
    sim, base = cluster
    config = _config(tmp_path)
    assert run_cli("-c", "discover", "-i", _key(base), config=config).code == 0
    sim.kill(base)
    # the replicas' IO threads notice after slave_net_timeout (all at once: one master, one clock)
    _wait_io_connecting(sim, base + 1)
    refused = run_cli("-c", "discover", "-i", _key(base), config=config)
    assert refused.code != 0 and "refused" in refused.err.lower()
    for port in range(base + 1, base + 5):
        assert run_cli("-c", "discover", "-i", _key(port), config=config).code == 0

    analysis = run_cli("-c", "replication-analysis", config=config)
    assert analysis.code == 0, analysis.err
    assert f"{_key(base)} (cluster {_key(base)}): DeadMaster" in analysis.lines

    recovered = run_cli("-c", "recover", "-i", _key(base), config=config)
    assert recovered.code == 0, recovered.err
    promoted = int(recovered.out.strip().rsplit(":", 1)[1])
    assert promoted in range(base + 1, base + 4)
    new_master = sim.describe(promoted)
    assert (new_master["master_port"], new_master["read_only"]) == (None, False)
    siblings = [p for p in range(base + 1, base + 4) if p != promoted]
    for port in siblings:
        state = sim.describe(port)
        assert (state["master_port"], state["io"], state["sql"]) == (promoted, "Yes", "Yes")
    assert sim.stats()["unknown_statements"] == {}


def test_faults_show_in_what_the_replicas_report(cluster: tuple[FleetSimulator, int], tmp_path: Path):
    sim, base = cluster
    config = _config(tmp_path)
    sim.set_lag(base + 1, 30)
    sim.stop_thread(base + 2, "sql")
    sim.hang(base + 3)  # the intermediate master: accepts, never answers
    _wait_io_connecting(sim, base + 4)
    assert run_cli("-c", "discover", "-i", _key(base), config=config).code == 0
    started = time.monotonic()
    hung = run_cli("-c", "discover", "-i", _key(base + 3), config=config)
    assert hung.code != 0 and time.monotonic() - started >= 0.9  # waited for a timeout, was not refused
    with sqlite3.connect(tmp_path / "orchestrator.sqlite3") as db:
        query = "SELECT port, slave_lag_seconds, slave_sql_running FROM database_instance"
        rows = {port: (lag, sql) for port, lag, sql in db.execute(query)}
    assert rows[base + 1] == (30, 1)
    assert rows[base + 2][1] == 0
    assert base + 3 not in rows  # a hung server is not registered by its master (SHOW SLAVE HOSTS)
    state = sim.describe(base + 2)
    assert (state["io"], state["sql"]) == ("Yes", "No")


def test_a_simulator_process_is_driven_through_its_control_port():
    """`python -m bench.fleet_sim` as the benchmarks run it: ready line, faults and stats by SimClient."""
    import socket
    import subprocess
    import sys

    from bench.fleet_sim.control import SimClient
    from tests.support import ROOT

    base = free_port_range(6)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fleet_sim", "--clusters", "1", "--base-port", str(base + 1),
         "--control-port", str(base)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert (ready["ports"], ready["masters"]) == (list(range(base + 1, base + 6)), [base + 1])
        client = SimClient(ready["control"])
        client.kill(base + 1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", base + 1), timeout=2).close()
        assert client.describe(base + 1)["alive"] is False
        client.set_lag(base + 2, 12)
        with pytest.raises(RuntimeError, match="unknown op"):
            client.call("explode")
        assert client.stats()["listening"] == 4
        client.call("shutdown")
        client.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_simulated_fleet_with_latency_answers_the_same(tmp_path: Path) -> None:
    """--rtt-ms delays answers (an asyncio sleep) without changing them: discover crawls the same
    topology, with every statement answered; a negative latency is refused."""
    with pytest.raises(ValueError, match="rtt"):
        FleetSimulator(Fleet.of_clusters(1, 1), rtt=-0.001)
    base = free_port_range(5)
    with FleetSimulator(Fleet.of_clusters(1, base, slave_net_timeout=SLAVE_NET_TIMEOUT), rtt=0.003) as sim:
        config = _config(tmp_path)
        assert run_cli("-c", "discover", "-i", _key(base), config=config).code == 0
        assert _topology_lines(config, base)[-1] == f"  + {_key(base + 4)}"
        assert len(_topology_lines(config, base)) == 5
        stats = sim.stats()
        assert stats["unknown_statements"] == {} and stats["queries"] > 5 * 10
