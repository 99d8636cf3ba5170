"""What a continuous-mode probe (`crawl.probe_one`) costs the backend and what it keeps current,
against a simulated cluster (bench/fleet_sim) on SQLite and on the MySQL backend.

A probe in steady state reads the backend once (`probe_context.read`: its master's row, the cluster's
alias facts, its own registrations) and writes its row in one statement; registrations (cluster
alias, domain, promotion rule) are written when they change or have aged, not on every probe.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.model import Fleet, free_port_range  # noqa: E402
from bench.fleet_sim.server import FleetSimulator  # noqa: E402
from orchestrator_cli.backend import probe_context  # noqa: E402
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.discovery.crawl import probe_one  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402
from orchestrator_cli.mysql.access import TopologyAccess  # noqa: E402


@pytest.fixture(params=["sqlite", "mysql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        keys: dict[str, Any] = {"BackendDB": "sqlite", "SQLite3DataFile": str(tmp_path / "orchestrator.sqlite3")}
    else:
        keys = request.getfixturevalue("deployed_mysql_backend_db")
    b = Backend(load_config(overrides={**fleet_config(), **keys}))
    b.connection()
    yield b
    b.close()


@pytest.fixture
def sim() -> Iterator[tuple[FleetSimulator, int]]:
    """Master on base, replicas base+1 and base+2, intermediate base+3, its leaf base+4."""
    base = free_port_range(5)
    with FleetSimulator(Fleet.of_clusters(1, base)) as s:
        yield s, base


class Statements:
    """Every statement the backend runs, by its first words."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[str] = []
        run, many = Backend._run, Backend.execute_many

        def counted_run(backend: Backend, cur: Any, sql: str, params: Any) -> None:
            self.seen.append(" ".join(sql.split()))
            run(backend, cur, sql, params)

        def counted_many(backend: Backend, sql: str, rows: Any) -> None:
            self.seen.append(" ".join(sql.split()))
            many(backend, sql, rows)

        monkeypatch.setattr(Backend, "_run", counted_run)
        monkeypatch.setattr(Backend, "execute_many", counted_many)

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


def _probe(backend: Backend, ports: range | list[int]) -> list[Any]:
    access = TopologyAccess(backend.config)
    try:
        return [probe_one(InstanceKey("127.0.0.1", p), access, backend, backend.config) for p in ports]
    finally:
        access.close()


def _row(backend: Backend, sql: str, *params: Any) -> dict[str, Any] | None:
    return backend.query_one(sql, params)


def test_a_steady_state_probe_reads_once_and_writes_its_row(
    backend: Backend, sim: tuple[FleetSimulator, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, base = sim
    cluster = f"127.0.0.1:{base}"
    statements = Statements(monkeypatch)
    first = _probe(backend, range(base, base + 5))
    assert [p.error for p in first] == [""] * 5
    assert any(s.startswith("INSERT INTO cluster_alias") for s in statements.take())  # registered on first sight
    assert _row(backend, "SELECT alias FROM cluster_alias WHERE cluster_name = ?", cluster) == {"alias": "c00000"}
    assert _row(backend, "SELECT domain_name FROM cluster_domain_name WHERE cluster_name = ?", cluster) == {
        "domain_name": "c00000.sim.local"
    }
    rules = backend.query("SELECT port, promotion_rule FROM candidate_database_instance ORDER BY port")
    assert [r["port"] for r in rules] == list(range(base, base + 5))  # DetectPromotionRuleQuery answers each

    statements.take()
    for port in range(base, base + 5):
        _probe(backend, [port])
        seen = statements.take()
        assert len(seen) == 2, seen
        assert seen[0].startswith("SELECT m.hostname")
        assert seen[1].startswith("INSERT INTO database_instance")
    rows = backend.query("SELECT port, cluster_name, replication_depth, suggested_cluster_alias FROM database_instance")
    assert sorted(
        (r["port"], r["cluster_name"], r["replication_depth"], r["suggested_cluster_alias"]) for r in rows
    ) == [
        (base, cluster, 0, "c00000"),
        (base + 1, cluster, 1, "c00000"),
        (base + 2, cluster, 1, "c00000"),
        (base + 3, cluster, 1, "c00000"),
        (base + 4, cluster, 2, "c00000"),
    ]


def test_registrations_changed_or_aged_are_written_again(backend: Backend, sim: tuple[FleetSimulator, int]) -> None:
    _, base = sim
    cluster = f"127.0.0.1:{base}"
    _probe(backend, range(base, base + 5))
    detected = backend.query("SELECT port, promotion_rule FROM candidate_database_instance ORDER BY port")
    long_ago = backend.dialect.seconds_ago("7200")
    backend.execute("UPDATE candidate_database_instance SET promotion_rule = 'must'")  # an operator's rule
    backend.execute(f"UPDATE cluster_alias SET last_registered = {long_ago}")
    backend.execute(f"UPDATE cluster_domain_name SET last_registered = {long_ago}")
    fresh = probe_context.read(backend, InstanceKey("127.0.0.1", base), None)
    assert (fresh.registered_alias.value, fresh.registered_alias.fresh) == ("c00000", False)
    assert (fresh.domain.value, fresh.domain.fresh) == ("c00000.sim.local", False)

    _probe(backend, range(base, base + 5))
    recent = backend.dialect.seconds_ago("30")
    assert _row(backend, f"SELECT 1 AS ok FROM cluster_alias WHERE last_registered >= {recent}") == {"ok": 1}
    assert _row(backend, f"SELECT 1 AS ok FROM cluster_domain_name WHERE last_registered >= {recent}") == {"ok": 1}
    assert backend.query("SELECT port, promotion_rule FROM candidate_database_instance ORDER BY port") == detected

    # an operator's alias override wins on the next probe of every member, and is registered
    backend.execute("INSERT INTO cluster_alias_override (cluster_name, alias) VALUES (?, 'payments')", (cluster,))
    _probe(backend, range(base, base + 5))
    aliases = backend.query("SELECT DISTINCT suggested_cluster_alias FROM database_instance")
    assert aliases == [{"suggested_cluster_alias": "payments"}]
    assert backend.query("SELECT cluster_name, alias FROM cluster_alias") == [
        {"cluster_name": cluster, "alias": "payments"}
    ]


def test_the_context_of_a_replica_is_its_masters_row_and_cluster(
    backend: Backend, sim: tuple[FleetSimulator, int]
) -> None:
    _, base = sim
    _probe(backend, range(base, base + 5))
    intermediate, leaf = InstanceKey("127.0.0.1", base + 3), InstanceKey("127.0.0.1", base + 4)
    context = probe_context.read(backend, leaf, intermediate)
    assert context.master_row is not None
    assert (context.master_row["port"], context.master_row["replication_depth"]) == (base + 3, 1)
    assert context.cluster_name == f"127.0.0.1:{base}"
    assert (context.registered_alias.value, context.registered_alias.fresh) == ("c00000", True)
    assert context.alias_override == ""
    assert (context.candidate.value, context.candidate.fresh) == ("neutral", True)
    unknown = probe_context.read(backend, leaf, InstanceKey("127.0.0.1", 1))
    assert unknown.master_row is None
    assert unknown.cluster_name == "127.0.0.1:1"  # a master the backend does not know names the cluster


def test_a_replica_probed_before_its_master_leaves_a_placeholder_row(
    backend: Backend, sim: tuple[FleetSimulator, int]
) -> None:
    _, base = sim
    _probe(backend, [base + 1])
    master = _row(backend, "SELECT version, last_seen FROM database_instance WHERE port = ?", base)
    assert master == {"version": "Unknown", "last_seen": None}
    _probe(backend, [base + 1])  # the placeholder is there: not written again
    assert _row(backend, "SELECT COUNT(*) AS n FROM database_instance WHERE port = ?", base) == {"n": 1}


def test_a_failed_probe_is_one_statement(
    backend: Backend, sim: tuple[FleetSimulator, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, base = sim
    _probe(backend, range(base, base + 5))
    s.kill(base + 2)
    statements = Statements(monkeypatch)
    failed = _probe(backend, [base + 2])
    assert failed[0].result is None
    seen = statements.take()
    assert len(seen) == 1 and seen[0].startswith("UPDATE database_instance"), seen
    row = _row(backend, "SELECT last_checked, last_seen FROM database_instance WHERE port = ?", base + 2)
    assert row is not None and row["last_seen"] < row["last_checked"]
    _probe(backend, [free_port_range(1)])  # a key the backend does not know: nothing is added
    assert _row(backend, "SELECT COUNT(*) AS n FROM database_instance") == {"n": 5}
