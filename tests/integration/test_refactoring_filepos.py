"""Refactoring by file:pos coordinates on a sandbox without GTID (chain: 0 -> 1 -> 2 -> 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_refactoring_helpers import Cluster, writes_during

CHAIN = {0: None, 1: 0, 2: 1, 3: 2}


@pytest.fixture
def chain(reusable_sandbox: Callable[..., Sandbox], tmp_path: Path) -> Cluster:
    cluster = Cluster(reusable_sandbox(layout="chain", gtid=False), tmp_path)
    cluster.discover()
    return cluster


def test_relocate_walks_up_and_down_the_tree(chain: Cluster) -> None:
    k, ports = chain.key, chain.sandbox.ports
    dry = chain.ok("-c", "relocate", "-i", k(3), "-d", k(0), "--noop").lines
    changes = [s for s in dry if "CHANGE MASTER" in s]
    assert [c.split(", MASTER_LOG_FILE")[0] for c in changes] == [
        f"{k(3)}: CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={ports[1]}",
        f"{k(3)}: CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={ports[0]}",
    ]
    assert dry[0] == f"{k(2)}: STOP SLAVE IO_THREAD" and dry[-1] == f"{k(1)}: START SLAVE"
    assert chain.sandbox.replication_parents() == CHAIN and chain.audit("relocate") == []
    assert chain.ok("-c", "relocate", "-i", k(3), "-d", k(0)).lines == [f"{k(3)}<{k(0)}"]
    assert chain.audit("relocate")[0]["message"].endswith(f"via file:pos (move-up {k(1)}, move-up {k(0)})")
    chain.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    status = chain.sandbox.replica_status(3)
    assert status is not None and status["Using_Gtid"] == "No"
    assert chain.ok("-c", "relocate", "-i", k(3), "-d", k(2)).lines == [f"{k(3)}<{k(2)}"]
    assert chain.audit("relocate")[0]["message"].endswith(f"via file:pos (move-below {k(1)}, move-below {k(2)})")
    chain.assert_topology(CHAIN)
    err = chain.refused("-c", "move-gtid", "-i", k(3), "-d", k(1)).err
    assert "not GTID compatible" in err
    assert f"{k(3)} is a descendant of {k(1)}" in chain.refused("-c", "relocate", "-i", k(1), "-d", k(3)).err
    chain.assert_topology(CHAIN)


def test_move_up_equivalent_below_and_take_master(chain: Cluster) -> None:
    k = chain.key
    assert chain.ok("-c", "move-up", "-i", k(3)).lines == [f"{k(3)}<{k(1)}"]
    assert chain.sandbox.replication_parents() == {0: None, 1: 0, 2: 1, 3: 1}
    # nothing was written since: the equivalence recorded by move-up takes it straight back
    assert chain.ok("-c", "move-equivalent", "-i", k(3), "-d", k(2)).lines == [f"{k(3)}<{k(2)}"]
    chain.assert_topology(CHAIN)
    assert "no equivalent coordinates found" in chain.refused("-c", "move-equivalent", "-i", k(3), "-d", k(1)).err
    chain.ok("-c", "move-up", "-i", k(3))
    assert chain.ok("-c", "move-below", "-i", k(2), "-d", k(3)).lines == [f"{k(2)}<{k(3)}"]
    chain.assert_topology({0: None, 1: 0, 2: 3, 3: 1})
    assert chain.ok("-c", "take-master", "-i", k(2)).lines == [k(2)]
    chain.assert_topology(CHAIN)
    assert chain.audit("take-master")[0]["message"].endswith("(file:pos)")


def test_repoint_and_bulk_moves_by_file_pos(chain: Cluster) -> None:
    k = chain.key
    assert chain.ok("-c", "repoint", "-i", k(3)).lines == [f"{k(3)}<{k(2)}"]
    err = chain.refused("-c", "repoint", "-i", k(3), "-d", k(0)).err
    assert "mean nothing" in err
    chain.ok("-c", "move-up", "-i", k(3))
    assert chain.ok("-c", "take-siblings", "-i", k(2)).lines == [k(2)]
    chain.assert_topology(CHAIN)
    assert chain.ok("-c", "move-up-replicas", "-i", k(1)).lines == [k(2)]
    chain.assert_topology({0: None, 1: 0, 2: 0, 3: 2})
    assert chain.ok("-c", "relocate-replicas", "-i", k(0), "-d", k(1)).lines == [k(2)]
    chain.assert_topology(CHAIN)


def test_file_pos_moves_under_writes_lose_and_repeat_nothing(chain: Cluster) -> None:
    """Rows keep arriving on the master while replicas move: every replica ends with exactly the master's rows."""
    sandbox, k = chain.sandbox, chain.key
    with writes_during(sandbox) as written:
        chain.ok("-c", "relocate", "-i", k(3), "-d", k(0))
        chain.ok("-c", "relocate", "-i", k(2), "-d", k(3))
        chain.ok("-c", "relocate", "-i", k(2), "-d", k(1))
        chain.ok("-c", "relocate", "-i", k(3), "-d", k(2))
    assert len(written) > 20
    chain.assert_topology(CHAIN)
    total = sandbox.count_rows(0)
    assert [sandbox.count_rows(i) for i in range(4)] == [total] * 4
