"""`crawl._known_members` (one keys-only statement, `instances.neighbourhood`) lists what the per-key
full-row reads it replaced listed (cluster of each probed key, its cluster's rows, the rows replicating
from it), in the same order, on random fleets in a SQLite backend."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.crawl import _known_members
from orchestrator_cli.model.keys import InstanceKey
from tests.support import sqlite_config


def _reference(backend: Backend, probed: list[InstanceKey], seen: set[InstanceKey]) -> list[InstanceKey]:
    """The reads `_known_members` made before it was one statement."""
    clusters = {instances.cluster_of(backend, key) for key in probed} - {""}
    missing: list[InstanceKey] = []
    for cluster in sorted(clusters):
        for key in instances.keys_of(instances.cluster_instances(backend, cluster)):
            if key not in seen:
                missing.append(key)
    for key in probed:
        for replica in instances.keys_of(instances.replicas_of(backend, key)):
            if replica not in seen and replica not in missing:
                missing.append(replica)
    return missing


@pytest.mark.parametrize("seed", range(40))
def test_known_members_match_the_per_key_reads(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    backend = Backend(load_config(str(sqlite_config(tmp_path))))
    try:
        hosts = [f"db{i}.{rng.choice('abc')}" for i in range(rng.randint(1, 30))]
        keys = [InstanceKey(h, rng.choice((3306, 3307))) for h in hosts]
        keys = list(dict.fromkeys(keys))
        for key in keys:
            instances.insert_unseen(backend, key)
            master = rng.choice([*keys, None, InstanceKey("gone", 3306)])
            backend.execute(
                "UPDATE database_instance SET cluster_name = ?, master_host = ?, master_port = ? "
                "WHERE hostname = ? AND port = ?",
                (
                    rng.choice(["", "c1:3306", "c2:3306", str(key)]),
                    master.hostname if master else "",
                    master.port if master else 0,
                    key.hostname,
                    key.port,
                ),
            )
        probed = rng.sample(keys, rng.randint(0, len(keys))) + rng.sample(
            [InstanceKey("unknown", 1)], rng.randint(0, 1)
        )
        seen = set(probed) | set(rng.sample(keys, rng.randint(0, len(keys))))
        assert _known_members(backend, probed, seen) == _reference(backend, probed, seen)
    finally:
        backend.close()


def test_neighbourhood_reads_in_chunks(tmp_path: Path) -> None:
    """More probed keys than one statement takes: every key is still found, once."""
    backend = Backend(load_config(str(sqlite_config(tmp_path))))
    try:
        keys = [InstanceKey(f"h{i:04d}", 3306) for i in range(2500)]
        for key in keys:
            instances.insert_unseen(backend, key)  # each its own cluster, named by its key
        found = instances.neighbourhood(backend, keys)
        assert sorted(k for k, _, _ in found) == sorted(keys)
        assert all(cluster == str(k) and master == InstanceKey("", 0) for k, cluster, master in found)
    finally:
        backend.close()
