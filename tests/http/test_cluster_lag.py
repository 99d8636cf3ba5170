"""`HeuristicLag` in `clusters-info` is the same figure `cluster-info/{c}` computes, for every cluster."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.http.conftest import ApiStar, make_client, sqlite_file


def _set_lag(config: Path, key: str, seconds: int) -> None:
    host, port = key.rsplit(":", 1)
    with sqlite3.connect(sqlite_file(config)) as db:
        db.execute(
            "UPDATE database_instance SET slave_lag_seconds = ?, seconds_behind_master = ?"
            " WHERE hostname = ? AND port = ?",
            (seconds, seconds, host, int(port)),
        )


def test_clusters_info_reports_the_heuristic_lag_of_each_cluster(api_star: ApiStar, copy_config: Path) -> None:
    _set_lag(copy_config, api_star.replicas[1], 42)
    for client in make_client(copy_config):
        everything = client.get("/api/clusters-info").json()
        one = client.get(f"/api/cluster-info/{api_star.master}").json()
        assert [c["HeuristicLag"] for c in everything] == [42]
        assert one["HeuristicLag"] == 42
        assert everything[0] == one
