"""A crawl of a topology the backend already knows probes every known member at once, beside the seed,
instead of level by level (seed, its master, the master's replicas), and writes what the level-by-level
crawl writes. Checked by the order of events (which servers were asked for before the first probe was
handled, which result came last), never by time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.crawl import CrawlResult, crawl
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.mysql.protocol import TopologyServer
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli

# What a crawl derives and what a probe reads that does not move on an idle sandbox.
COLUMNS = (
    "cluster_name", "replication_depth", "is_co_master", "ancestry_uuid", "master_host", "master_port",
    "num_slave_hosts", "slave_hosts", "server_id", "server_uuid", "read_only", "log_bin", "mariadb_gtid",
    "suggested_cluster_alias", "slave_io_running", "slave_sql_running", "version", "binlog_format",
)  # fmt: skip


class RecordingAccess(TopologyAccess):
    """TopologyAccess that records the order in which the crawl asks for servers."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.requested: list[InstanceKey] = []

    def server(self, key: InstanceKey, *, discovery: bool = False) -> TopologyServer:
        self.requested.append(key)
        return super().server(key, discovery=discovery)


def _rows(config: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(json.loads(config.read_text())["SQLite3DataFile"])
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            """SELECT *, CASE WHEN last_seen IS NOT NULL AND last_checked <= last_seen THEN 1 ELSE 0 END AS valid
               FROM database_instance"""
        ).fetchall()
    finally:
        conn.close()
    return {f"{r['hostname']}:{r['port']}": dict(r) for r in rows}


def _facts(rows: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [row[c] for c in COLUMNS] for key, row in rows.items()}


def _crawl(config_path: Path, seed: str) -> tuple[CrawlResult, RecordingAccess, list[tuple[str, int]]]:
    """Crawl from `seed` in this process: the result, the access (its request log) and, per handled
    probe, (key, servers asked for by then)."""
    config = load_config(str(config_path))
    backend = Backend(config)
    access = RecordingAccess(config)
    handled: list[tuple[str, int]] = []
    host, port = seed.rsplit(":", 1)
    try:
        result = crawl(
            [InstanceKey(host, int(port))], access, backend, config,
            progress=lambda done, known, key: handled.append((key, len(set(access.requested)))),
        )  # fmt: skip
    finally:
        access.close()
        backend.close()
    return result, access, handled


def _next_second() -> None:
    """Backend timestamps have one-second resolution."""
    time.sleep(1.02 - (time.time() % 1.0))


@pytest.fixture
def known_star(fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """The star, discovered once into a fresh backend (from replica 1: level by level, as nothing is
    known yet); paused or killed servers are brought back afterwards."""
    config = fresh_sandbox.write_config(
        tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3",
        InstancePollSeconds=600, MySQLConnectTimeoutSeconds=2,
    )  # fmt: skip
    first = run_cli("--format", "json", "-c", "discover", "-i", fresh_sandbox.key(1), config=config)
    assert first.code == 0, first.err
    assert first.json()["Discovered"] == sorted(fresh_sandbox.keys)
    try:
        yield fresh_sandbox, config
    finally:
        if not all(fresh_sandbox.is_alive(i) for i in range(fresh_sandbox.size)):
            fresh_sandbox.reset_replication()


def test_a_first_crawl_goes_level_by_level(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    """Nothing known: the seed's probe names its master, and only the master's names the other replicas."""
    config = fresh_sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    result, access, handled = _crawl(config, fresh_sandbox.key(1))
    assert {str(k) for k in result.probed} == set(fresh_sandbox.keys)
    assert handled[0] == (fresh_sandbox.key(1), 2)  # the seed, then its master asked for
    assert handled[1] == (fresh_sandbox.key(0), 4)  # the master, then its replicas
    assert [str(k) for k in access.requested[:2]] == [fresh_sandbox.key(1), fresh_sandbox.key(0)]


def test_a_known_topology_is_probed_at_once_and_written_the_same(known_star: tuple[Sandbox, Path]) -> None:
    sandbox, config = known_star
    level_by_level = _facts(_rows(config))
    assert set(level_by_level) == set(sandbox.keys)

    result, access, handled = _crawl(config, sandbox.key(1))
    # Every known member was asked for before the first probe was handled, each once.
    assert handled[0][1] == 4
    assert sorted(access.requested) == sorted(InstanceKey("127.0.0.1", p) for p in sandbox.ports)
    assert {str(k) for k in result.probed} == set(sandbox.keys)
    assert result.failed == {}
    assert _facts(_rows(config)) == level_by_level

    again = run_cli("--format", "json", "-c", "discover", "-i", sandbox.key(1), config=config)
    assert again.json() == {
        "Key": sandbox.key(1),
        "Discovered": sorted(sandbox.keys),
        "Unreachable": {},
        "Clusters": [sandbox.key(0)],
    }
    assert _facts(_rows(config)) == level_by_level


def test_a_hung_master_does_not_hold_up_its_replicas(known_star: tuple[Sandbox, Path]) -> None:
    """Level by level, the replicas the master lists would be asked for only after the master's probe
    timed out; probed beside it, all of them were asked for before its failure was handled."""
    sandbox, config = known_star
    sandbox.pause(0)  # the port still accepts connections, but nothing answers
    _next_second()
    result, _, handled = _crawl(config, sandbox.key(1))
    master = InstanceKey("127.0.0.1", sandbox.ports[0])
    assert set(result.failed) == {master}
    assert result.timed_out == {master}
    assert {str(k) for k in result.probed} == set(sandbox.keys[1:])
    assert dict(handled)[sandbox.key(0)] == 4
    rows = _rows(config)
    assert rows[sandbox.key(0)]["valid"] == 0
    assert all(rows[k]["valid"] == 1 for k in sandbox.keys[1:])


def test_a_failed_seed_leaves_what_was_probed_beside_it_unwritten(known_star: tuple[Sandbox, Path]) -> None:
    """The seed is dead: the crawl stops there, as level by level; the members probed beside it are
    neither written nor reported."""
    sandbox, config = known_star
    before = _rows(config)
    dead = sandbox.key(3)
    sandbox.kill(3)
    _next_second()
    result = run_cli("--format", "json", "-c", "discover", "-i", dead, config=config)
    assert result.code != 0
    assert result.err.startswith(f"orchestrator: discover: cannot discover {dead}")
    after = _rows(config)
    assert after[dead]["valid"] == 0  # recorded as a failed check, as before
    for key in sandbox.keys[:3]:
        assert (after[key]["last_checked"], after[key]["last_seen"]) == (
            before[key]["last_checked"],
            before[key]["last_seen"],
        )


def test_an_ignored_seed_starts_no_probe_around_it(known_star: tuple[Sandbox, Path]) -> None:
    """DiscoveryIgnoreHostnameFilters keeps the seed from being probed: nor are the members the backend
    knows around it."""
    sandbox, config = known_star
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "DiscoveryIgnoreHostnameFilters": [f":{sandbox.ports[1]}$"]}))
    result, access, handled = _crawl(config, sandbox.key(1))
    assert access.requested == []
    assert handled == []
    assert result.probed == {}
    assert result.ignored == {InstanceKey("127.0.0.1", sandbox.ports[1])}
