"""`clusters-info` (and `cluster-info`) read the backend in a fixed number of statements, however
many clusters there are, and answer what the per-cluster reads answered.

The fleet is the benchmarks' synthetic one (`bench/fleet_backend.py`), written into a private SQLite
backend; statements are counted through `orchestrator_cli.observe`'s `backend_query` hook.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator_cli import observe
from orchestrator_cli.backend import clusters, instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.config import load_config
from orchestrator_cli.http.app import create_app
from orchestrator_cli.topology import osc


def _fleet_backend() -> Any:
    path = Path(__file__).resolve().parents[2] / "bench" / "fleet_backend.py"
    spec = importlib.util.spec_from_file_location("fleet_backend", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fleet_backend", module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def backend_query(self, sql: str, seconds: float) -> None:
        self.statements.append(" ".join(sql.split()))


@pytest.fixture
def counter() -> Iterator[StatementCounter]:
    seen = StatementCounter()
    observe.add(seen)
    yield seen
    observe.remove(seen)


def fleet_client(directory: Path, count: int) -> tuple[TestClient, Path]:
    config_path, _ = _fleet_backend().sqlite_fleet(directory, count)
    return TestClient(create_app(load_config(str(config_path)), metrics=False)), config_path


def statements_of(client: TestClient, counter: StatementCounter, path: str) -> tuple[Any, int]:
    client.get(path)  # warm: the first request deploys or checks the schema on its connection
    counter.statements.clear()
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json(), len(counter.statements)


def per_cluster_answer(config_path: Path) -> list[tuple[str, str, str, int, int]]:
    """What the per-cluster reads give: alias, domain, count and HeuristicLag, one cluster at a time."""
    config = load_config(str(config_path))
    backend = Backend(config)
    try:
        result = []
        for entry in clusters.clusters_info(backend):
            name = str(entry["cluster_name"])
            rows = instances.cluster_instances(backend, name)
            lag = osc.heuristic_lag(instances_from_rows(rows), config)
            result.append((name, str(entry["alias"]), clusters.cluster_domain(backend, name), len(rows), int(lag)))
        return result
    finally:
        backend.close()


def test_clusters_info_statements_do_not_grow_with_clusters(tmp_path: Path, counter: StatementCounter) -> None:
    small, _ = fleet_client(tmp_path / "small", 50)  # 10 clusters
    large, _ = fleet_client(tmp_path / "large", 1_010)  # 202 clusters
    with small, large:
        small_info, small_count = statements_of(small, counter, "/api/clusters-info")
        large_info, large_count = statements_of(large, counter, "/api/clusters-info")
    assert (len(small_info), len(large_info)) == (10, 202)
    assert small_count == large_count, counter.statements
    assert large_count <= 2, counter.statements


def test_clusters_info_answers_what_per_cluster_reads_answer(tmp_path: Path) -> None:
    """Above 200 clusters too (the per-cluster domain reads used to stop there, leaving domains out)."""
    client, config_path = fleet_client(tmp_path, 1_010)
    backend = Backend(load_config(str(config_path)))
    try:
        fleet = _fleet_backend()
        clusters.register_domain(backend, f"{fleet.host(201, 'm')}:3306", "example.com")
        backend.execute(  # an operator's alias wins over the registered one
            "INSERT INTO cluster_alias_override (cluster_name, alias) VALUES (?, ?)",
            (f"{fleet.host(3, 'm')}:3306", "payments"),
        )
        backend.execute(  # a lagging replica, and a downtimed one whose lag does not count
            "UPDATE database_instance SET slave_lag_seconds = 42 WHERE hostname IN (?, ?)",
            (fleet.host(5, "r1"), fleet.host(6, "r2")),
        )
        backend.execute(
            "INSERT INTO database_instance_downtime (hostname, port, downtime_active, begin_timestamp,"
            " end_timestamp, owner, reason) VALUES (?, 3306, 1, '2020-01-01 00:00:00', '2999-01-01 00:00:00',"
            " 'ci', 'test')",
            (fleet.host(6, "r2"),),
        )
    finally:
        backend.close()
    with client:
        answer = client.get("/api/clusters-info").json()
        one = client.get(f"/api/cluster-info/{fleet.host(5, 'm')}:3306").json()
    got = [
        (c["ClusterName"], c["ClusterAlias"], c["ClusterDomain"], c["CountInstances"], c["HeuristicLag"])
        for c in answer
    ]
    assert got == per_cluster_answer(config_path)
    by_name = {g[0]: g for g in got}
    assert by_name[f"{fleet.host(201, 'm')}:3306"][2] == "example.com"
    assert by_name[f"{fleet.host(3, 'm')}:3306"][1] == "payments"
    assert by_name[f"{fleet.host(5, 'm')}:3306"][4] == 42
    assert by_name[f"{fleet.host(6, 'm')}:3306"][4] == 0
    assert one == next(c for c in answer if c["ClusterName"] == f"{fleet.host(5, 'm')}:3306")


@pytest.mark.parametrize(
    "path",
    ["/api/cluster-info/fleet-00001-m:3306", "/api/clusters", "/api/masters", "/api/all-instances", "/api/problems"],
)
def test_cluster_reads_do_not_grow_with_clusters(tmp_path: Path, counter: StatementCounter, path: str) -> None:
    small, _ = fleet_client(tmp_path / "small", 50)
    large, _ = fleet_client(tmp_path / "large", 1_010)
    with small, large:
        _, small_count = statements_of(small, counter, path)
        _, large_count = statements_of(large, counter, path)
    assert small_count == large_count, counter.statements
