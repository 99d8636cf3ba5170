"""`regroup-replicas` and `regroup-replicas-gtid` on a live sandbox master."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


@pytest.fixture
def reshaped(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def setup(sb: Sandbox, tmp_path: Path) -> Path:
    config = sb.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config


@pytest.mark.parametrize(
    ("command", "summary"),
    [("regroup-replicas", "lost: 0, trivial: 0, pseudo-gtid: 2"), ("regroup-slaves-gtid", "lost: 0, moved: 2")],
)
def test_regroup_below_the_preferred_replica(reshaped: Sandbox, tmp_path: Path, command: str, summary: str) -> None:
    sb = reshaped
    config = setup(sb, tmp_path)
    assert run_cli("-c", "register-candidate", "-i", sb.key(2), "--promotion-rule", "prefer", config=config).code == 0
    assert run_cli("-c", "get-candidate-replica", "-i", sb.key(0), config=config).lines == [sb.key(2)]
    result = run_cli("-c", command, "-i", sb.key(0), config=config)
    assert result.code == 0, result.err
    assert result.lines == [sb.key(2), f"{sb.key(2)} {summary}"]
    assert sb.replication_parents() == {0: None, 1: 2, 2: 0, 3: 2}
    value = sb.write_row(i=0)
    sb.wait_replicated()
    assert all(sb.count_rows(i, value) == 1 for i in (1, 2, 3))
    replicas = run_cli("-c", "which-replicas", "-i", sb.key(2), config=config).lines
    assert sorted(replicas) == sorted([sb.key(1), sb.key(3)])


def test_regroup_of_an_unknown_or_leaf_instance_fails(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = fresh_sandbox
    config = setup(sb, tmp_path)
    leaf = run_cli("-c", "regroup-replicas", "-i", sb.key(3), config=config)
    assert leaf.code == 1 and "No replicas found" in leaf.err
    unknown = run_cli("-c", "regroup-replicas", "-i", "127.0.0.1:1", config=config)
    assert unknown.code == 1 and "not found" in unknown.err
    assert sb.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
