"""Pseudo-GTID relocation on a file:pos sandbox (star: 0 is the master of 1, 2, 3) with injected entries."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_binlog_tools import PSEUDO_GTID_CONFIG, inject_pseudo_gtid, write_with_entries
from tests.integration.test_refactoring_helpers import Cluster, writes_during

STAR = {0: None, 1: 0, 2: 0, 3: 0}


@pytest.fixture
def star(reusable_sandbox: Callable[..., Sandbox], tmp_path: Path) -> Cluster:
    cluster = Cluster(reusable_sandbox(gtid=False), tmp_path, **PSEUDO_GTID_CONFIG)
    write_with_entries(cluster.sandbox, rounds=4)
    cluster.discover()
    return cluster


def test_match_match_up_and_rematch(star: Cluster) -> None:
    k, ports = star.key, star.sandbox.ports
    dry = star.ok("-c", "match", "-i", k(2), "-d", k(1), "--noop").lines
    assert dry[0] == f"{k(2)}: STOP SLAVE" and dry[-1] == f"{k(2)}: START SLAVE"
    assert dry[1].startswith(
        f"{k(2)}: CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={ports[1]}, MASTER_LOG_FILE="
    )
    assert star.sandbox.replication_parents() == STAR and star.audit("match") == []

    assert star.ok("-c", "match", "-i", k(2), "-d", k(1)).lines == [f"{k(2)}<{k(1)}"]
    assert "via pseudo-gtid" in star.audit("match")[0]["message"]
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    status = star.sandbox.replica_status(2)
    assert status is not None and status["Using_Gtid"] == "No"
    assert star.maintenance_rows() == []

    write_with_entries(star.sandbox, rounds=2)
    assert star.ok("-c", "match-up", "-i", k(2)).lines == [f"{k(2)}<{k(0)}"]
    star.assert_topology(STAR)
    write_with_entries(star.sandbox, rounds=1)
    assert star.ok("-c", "rematch", "-i", k(3)).lines == [f"{k(3)}<{k(0)}"]
    star.assert_topology(STAR)
    assert star.audit("rematch")[0]["message"].startswith(f"matched {k(3)} below {k(0)} at mysql-bin.")


def test_match_replicas_and_match_up_replicas(star: Cluster) -> None:
    k = star.key
    assert sorted(star.ok("-c", "match-replicas", "-i", k(0), "-d", k(1)).lines) == sorted([k(2), k(3)])
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 1})
    write_with_entries(star.sandbox, rounds=2)
    assert sorted(star.ok("-c", "match-up-slaves", "-i", k(1), "--pattern", f":{star.sandbox.ports[3]}$").lines) == [
        k(3)
    ]
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    assert star.ok("-c", "match-slaves", "-i", k(1), "-d", k(3)).lines == [k(2)]
    star.assert_topology({0: None, 1: 0, 2: 3, 3: 0})


def test_refusals_change_nothing(star: Cluster, tmp_path: Path) -> None:
    k = star.key
    assert "below itself" in star.refused("-c", "match", "-i", k(1), "-d", k(1)).err
    star.ok("-c", "match", "-i", k(2), "-d", k(1))
    err = star.refused("-c", "match", "-i", k(1), "-d", k(2)).err
    assert f"{k(2)} is a descendant of {k(1)}" in err
    star.ok("-c", "begin-maintenance", "-i", k(3), "--reason", "test", "--duration", "1m")
    assert "maintenance" in star.refused("-c", "match", "-i", k(2), "-d", k(3)).err
    star.ok("-c", "end-maintenance", "-i", k(3))
    sandbox = star.sandbox
    sandbox.execute(3, "STOP SLAVE")
    wait_for_row(sandbox, 2, sandbox.write_row())
    assert "the instance is ahead" in star.refused("-c", "match", "-i", k(2), "-d", k(3)).err
    assert star.audit("match")[0]["message"].startswith("failed (pseudo-gtid): the instance is ahead")
    inject_pseudo_gtid(sandbox)
    wait_for_row(sandbox, 2, sandbox.write_row())
    assert "cannot find Pseudo-GTID entry" in star.refused("-c", "match", "-i", k(2), "-d", k(3)).err
    sandbox.execute(3, "START SLAVE")
    assert star.maintenance_rows() == []
    bare = Cluster(star.sandbox, tmp_path / "bare")
    for args in (("match", "-d", k(3)), ("match-up",), ("rematch",), ("match-replicas", "-d", k(3))):
        err = bare.refused("-c", args[0], "-i", k(2), *args[1:]).err
        assert "PseudoGTIDPattern not configured; cannot use Pseudo-GTID" in err
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 0})


def test_matching_under_writes_loses_and_repeats_nothing(star: Cluster) -> None:
    sandbox, k = star.sandbox, star.key

    def inject() -> None:
        inject_pseudo_gtid(sandbox)

    with writes_during(sandbox, inject) as written:
        star.ok("-c", "match", "-i", k(3), "-d", k(1))
        star.ok("-c", "match", "-i", k(2), "-d", k(3))
        star.ok("-c", "match-up", "-i", k(2))
        star.ok("-c", "match-up", "-i", k(3))
    assert len(written) > 20
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    total = sandbox.count_rows(0)
    assert [sandbox.count_rows(i) for i in range(4)] == [total] * 4


@pytest.mark.parametrize("search", [(), ("--skip-binlog-search",)], ids=["binlogs", "relay-logs"])
def test_a_lagging_replica_is_matched_at_what_it_executed(star: Cluster, search: tuple[str, ...]) -> None:
    """Replica 2 stopped applying: its relay logs hold more than it executed; matching must not skip any of it."""
    sandbox, k = star.sandbox, star.key
    sandbox.execute(2, "STOP SLAVE SQL_THREAD")
    for _ in range(3):
        inject_pseudo_gtid(sandbox)
        sandbox.write_row()
    sandbox.execute(1, "STOP SLAVE")  # 1 stays behind the master but ahead of 2
    late = sandbox.write_row()
    assert star.ok("-c", "match", "-i", k(2), "-d", k(1), *search).lines == [f"{k(2)}<{k(1)}"]
    sandbox.execute(1, "START SLAVE")
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    assert [sandbox.count_rows(i, late) for i in range(4)] == [1, 1, 1, 1]
    total = sandbox.count_rows(0)
    assert [sandbox.count_rows(i) for i in range(4)] == [total] * 4


def test_regroup_replicas_pgtid(star: Cluster) -> None:
    sandbox, k = star.sandbox, star.key
    star.ok("-c", "register-candidate", "-i", k(1), "--promotion-rule", "prefer")
    sandbox.execute(3, "STOP SLAVE SQL_THREAD")  # 3 falls behind: it is matched, not repointed
    write_with_entries_no_wait(sandbox)
    dry = star.ok("-c", "regroup-replicas-pgtid", "-i", k(0), "--noop").lines
    assert {f"{k(i)}: STOP SLAVE IO_THREAD" for i in (1, 2, 3)} <= set(dry)
    assert any(
        s.startswith(f"{k(2)}: CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sandbox.ports[1]}") for s in dry
    )
    assert sandbox.replication_parents() == STAR and star.audit("regroup-replicas-pgtid") == []
    sandbox.execute(3, "START SLAVE SQL_THREAD")
    out = star.ok("-c", "regroup-slaves-pgtid", "-i", k(0)).lines
    assert out[0] == k(1)
    assert out[1] in (f"{k(1)} lost: 0, trivial: 1, pseudo-gtid: 1", f"{k(1)} lost: 0, trivial: 2, pseudo-gtid: 0")
    star.assert_topology({0: None, 1: 0, 2: 1, 3: 1})
    total = sandbox.count_rows(0)
    assert [sandbox.count_rows(i) for i in range(4)] == [total] * 4


def wait_for_row(sandbox: Sandbox, i: int, value: str, timeout: float = 30.0) -> None:
    """Wait until server `i` applied the row `value` (wait_replicated would wait for a stopped replica too)."""
    deadline = time.monotonic() + timeout
    while sandbox.count_rows(i, value) == 0:
        assert time.monotonic() < deadline, f"{sandbox.key(i)} did not apply row {value}"
        time.sleep(0.01)


def write_with_entries_no_wait(sandbox: Sandbox) -> None:
    for _ in range(2):
        inject_pseudo_gtid(sandbox)
        sandbox.write_row()


def test_chain_match_anywhere_and_match_up_past_a_dead_master(
    reusable_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Chain 0 -> 1 -> 2 -> 3: match across the tree, refuse a descendant, match up when the master died."""
    chain = Cluster(reusable_sandbox(layout="chain", gtid=False), tmp_path, **PSEUDO_GTID_CONFIG)
    sandbox, k = chain.sandbox, chain.key
    write_with_entries(sandbox, rounds=3)
    chain.discover()
    assert chain.ok("-c", "match", "-i", k(3), "-d", k(0)).lines == [f"{k(3)}<{k(0)}"]
    chain.assert_topology({0: None, 1: 0, 2: 1, 3: 0})
    assert f"{k(2)} is a descendant of {k(1)}" in chain.refused("-c", "match", "-i", k(1), "-d", k(2)).err
    write_with_entries(sandbox, rounds=2)
    assert chain.ok("-c", "match", "-i", k(3), "-d", k(2)).lines == [f"{k(3)}<{k(2)}"]
    write_with_entries(sandbox, rounds=2)
    sandbox.kill(2)
    assert chain.ok("-c", "match-up", "-i", k(3)).lines == [f"{k(3)}<{k(1)}"]
    value = sandbox.write_row()
    sandbox.wait_replicated()
    assert [sandbox.count_rows(i, value) for i in (0, 1, 3)] == [1, 1, 1]
    assert sandbox.replica_status(3) is not None
    assert sandbox.count_rows(3) == sandbox.count_rows(0)
