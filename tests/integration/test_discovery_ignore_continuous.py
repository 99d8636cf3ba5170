"""DiscoveryIgnoreHostnameFilters in continuous mode: a server probe (`crawl.probe_one`, what the
scheduler runs for every due or newly named key) neither probes nor writes an ignored key, and does
not hand it on as a neighbour to follow. The filter used to be applied by `discover` crawls only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.crawl import probe_one
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.sandbox.topology import Sandbox


@pytest.fixture
def backend(fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[Backend]:
    config = fresh_sandbox.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        DiscoveryIgnoreHostnameFilters=[f":{fresh_sandbox.ports[3]}$"],
    )
    b = Backend(load_config(str(config)))
    b.connection()
    yield b
    b.close()


def test_ignored_replica_is_not_followed_nor_probed(fresh_sandbox: Sandbox, backend: Backend) -> None:
    sandbox = fresh_sandbox
    master, ignored = sandbox.key(0), sandbox.key(3)
    access = TopologyAccess(backend.config)
    try:
        probed = probe_one(InstanceKey.parse(master), access, backend, backend.config)
        assert probed.result is not None
        assert ignored not in {str(k) for k in probed.neighbours}
        assert {str(k) for k in probed.neighbours} == {sandbox.key(1), sandbox.key(2)}

        skipped = probe_one(InstanceKey.parse(ignored), access, backend, backend.config)
        assert skipped.result is None
        assert "DiscoveryIgnoreHostnameFilters" in skipped.error
    finally:
        access.close()
    assert set(instances.all_keys(backend)) == {master}
