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


def _copy_cluster(config: Path, source: str, name: str) -> None:
    """A second cluster: every row of `source` again under another host name and cluster name."""
    with sqlite3.connect(sqlite_file(config)) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM database_instance WHERE cluster_name = ?", (source,))]
        for row in rows:
            row["hostname"] = row["hostname"].replace("127.0.0.1", "copy.local")
            row["master_host"] = (row["master_host"] or "").replace("127.0.0.1", "copy.local")
            row["cluster_name"] = name
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(f"INSERT INTO database_instance ({columns}) VALUES ({marks})", list(row.values()))


def test_clusters_info_reports_the_heuristic_lag_of_each_cluster(api_star: ApiStar, copy_config: Path) -> None:
    _copy_cluster(copy_config, api_star.master, "copy.local:" + api_star.master.rsplit(":", 1)[1])
    _set_lag(copy_config, api_star.replicas[1], 42)
    _set_lag(copy_config, api_star.replicas[0].replace("127.0.0.1", "copy.local"), 7)
    for client in make_client(copy_config):
        everything = client.get("/api/clusters-info").json()
        assert sorted((c["ClusterName"].split(":")[0], c["HeuristicLag"]) for c in everything) == [
            ("127.0.0.1", 42),
            ("copy.local", 7),
        ]
        for info in everything:
            assert client.get(f"/api/cluster-info/{info['ClusterName']}").json() == info
