"""Refreshing part of a topology keeps the facts that come from the rest of it (depth, cluster, ancestry)."""

from __future__ import annotations

from pathlib import Path

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.crawl import crawl
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from tests.support import run_cli


def test_refreshing_a_leaf_alone_keeps_its_depth_and_cluster(reusable_sandbox, tmp_path: Path) -> None:
    chain = reusable_sandbox(servers=3, layout="chain")
    config_path = chain.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    assert run_cli("-c", "discover", "-i", chain.key(0), config=config_path).code == 0
    config = load_config(str(config_path))
    backend = Backend(config)
    access = TopologyAccess(config)
    try:
        before = backend.query_one("SELECT * FROM database_instance WHERE port = ?", (chain.ports[2],))
        assert before is not None and before["replication_depth"] == 2
        leaf = InstanceKey("127.0.0.1", chain.ports[2])
        result = crawl([leaf], access, backend, config, follow=False)
        assert set(result.probed) == {leaf}
        after = backend.query_one("SELECT * FROM database_instance WHERE port = ?", (chain.ports[2],))
        assert after is not None
        assert after["replication_depth"] == 2
        assert after["cluster_name"] == chain.key(0)
        assert after["ancestry_uuid"] == before["ancestry_uuid"]
    finally:
        access.close()
        backend.close()
