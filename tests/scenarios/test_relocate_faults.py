"""Refactoring under an operator's week: relocate chains, stopped replicas, and `kill -9` mid-move.

Every test ends with the checks an operator makes: the tree as the servers report it (``SHOW SLAVE
STATUS``), both replication threads running on every replica, ``read_only`` unchanged (the master
writable, the replicas read-only), no maintenance lock left active, and a row written on the master
before the event present on every server.
"""

from __future__ import annotations

import socket

import pytest

from tests.integration.test_refactoring_helpers import Frozen
from tests.scenarios.harness import Scenario

Tree = dict[int, int | None]
STAR: Tree = {0: None, 1: 0, 2: 0, 3: 0}


def active_locks(scenario: Scenario) -> list[dict[str, object]]:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(scenario.config)))
    try:
        rows = backend.query("SELECT * FROM database_instance_maintenance WHERE maintenance_active = 1")
        return [dict(r) for r in rows]
    finally:
        backend.close()


def audit_rows(scenario: Scenario, audit_type: str) -> list[dict[str, object]]:
    """Audit rows of one type, newest first."""
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(scenario.config)))
    try:
        return [dict(r) for r in audit.read_audit(backend, limit=1000) if r["audit_type"] == audit_type]
    finally:
        backend.close()


def assert_settled(scenario: Scenario, expected: Tree, written: str) -> None:
    """The servers form `expected`, replicate, keep read_only, hold `written`, and no lock is left."""
    sb = scenario.sandbox
    assert scenario.tree() == expected
    for i, parent in expected.items():
        status = sb.replica_status(i)
        if parent is None:
            assert status is None, f"server {i} replicates from {status and status['Master_Port']}"
            continue
        assert status is not None
        assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes"), (i, status)
    master = next(i for i, parent in expected.items() if parent is None)
    assert scenario.read_only() == {i: int(i != master) for i in expected}
    sb.wait_replicated()
    scenario.assert_rows_everywhere(written, expected)
    assert active_locks(scenario) == []


def relocated(scenario: Scenario, i: int, below: int) -> None:
    k = scenario.sandbox.key
    assert scenario.ok("-c", "relocate", "-i", k(i), "-d", k(below)).lines == [f"{k(i)}<{k(below)}"]


# -- item 6: "already replicates from" is the configured source with running threads ---------------


def test_relocate_moves_a_stopped_replica_pointed_at_a_sibling(scenario: Scenario) -> None:
    """Issue 8 item 6: MariaDB keeps Master_Server_Id of the old master until the IO thread reconnects."""
    sb = scenario.sandbox
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    sb.execute(3, "STOP SLAVE", f"CHANGE MASTER TO MASTER_PORT={sb.ports[1]}")
    relocated(scenario, 3, 0)
    assert_settled(scenario, STAR, written)
    assert "via gtid" in str(audit_rows(scenario, "relocate")[0]["message"])


def test_relocate_onto_the_current_master_restarts_stopped_threads(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    sb.execute(2, "STOP SLAVE")
    relocated(scenario, 2, 0)
    assert_settled(scenario, STAR, written)
    assert audit_rows(scenario, "relocate")[0]["message"] == (
        f"{sb.key(2)} already replicates from {sb.key(0)}; replication restarted"
    )


def test_relocate_replicas_moves_stopped_and_repointed_replicas_too(scenario: Scenario) -> None:
    """The bulk moves go through the same judgement: one stopped replica, one silently repointed one."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    sb.execute(2, "STOP SLAVE")
    sb.execute(3, "STOP SLAVE", f"CHANGE MASTER TO MASTER_PORT={sb.ports[2]}")
    moved = scenario.ok("-c", "relocate-replicas", "-i", k(0), "-d", k(1)).lines
    assert sorted(moved) == sorted([k(2), k(3)])
    assert_settled(scenario, {0: None, 1: 0, 2: 1, 3: 1}, written)


# -- chains of moves -----------------------------------------------------------------------------


def test_relocate_and_relocate_replicas_chains(scenario: Scenario) -> None:
    """Deepen the tree to a chain and back; moves that would create a cycle are refused, changing nothing."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    refused = None
    steps: list[tuple[str, int, int, Tree | None]] = [
        ("relocate", 2, 1, {0: None, 1: 0, 2: 1, 3: 0}),
        ("relocate", 3, 2, {0: None, 1: 0, 2: 1, 3: 2}),  # a chain 0 < 1 < 2 < 3
        ("relocate", 1, 3, refused),  # 3 is below 1
        ("relocate", 3, 0, {0: None, 1: 0, 2: 1, 3: 0}),  # from depth 3 to the master
        ("relocate-replicas", 1, 3, {0: None, 1: 0, 2: 3, 3: 0}),
        ("relocate", 1, 2, {0: None, 1: 2, 2: 3, 3: 0}),  # 0 < 3 < 2 < 1
        ("relocate-replicas", 0, 1, refused),  # 1 is below 3, the replica to move
        ("relocate-replicas", 2, 0, {0: None, 1: 0, 2: 3, 3: 0}),
        ("relocate-replicas", 3, 0, STAR),
    ]
    tree = STAR
    for command, instance, destination, expected in steps:
        written = sb.write_row()
        result = scenario.cli("-c", command, "-i", k(instance), "-d", k(destination))
        if expected is None:
            assert (result.code, result.out) == (1, ""), result
            assert "descendant" in result.err, result.err
        else:
            assert result.code == 0, (command, instance, destination, result.err)
            tree = expected
        assert_settled(scenario, tree, written)


# -- item 7: kill -9 in the middle of a relocation -------------------------------------------------


@pytest.mark.parametrize("step", ["locked", "stopped", "changed", "started"])
def test_relocate_killed_at_each_step_is_completed_by_a_retry(scenario: Scenario, step: str) -> None:
    """Issue 8 item 7: the killed process's locks name it while it lives, are taken over once it is gone,
    and the retried relocate completes the move with replication running."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    relocate = ("-c", "relocate", "-i", k(3), "-d", k(1))
    proc = Frozen(scenario.config, step, k(3), *relocate)
    try:
        refused = scenario.cli(*relocate)
        assert (refused.code, refused.out) == (1, ""), refused
        assert f"cannot begin maintenance on {k(3)} (held by " in refused.err
        assert f"relocate {k(3)}, process {proc.pid} on {socket.gethostname()} (still running), until " in refused.err
        assert f"`orchestrator -c end-maintenance -i {k(3)}` releases it" in refused.err
    finally:
        proc.kill_9()
    assert len(active_locks(scenario)) == 2, "the killed process left its locks"
    if step == "changed":
        status = sb.replica_status(3)
        assert status is not None and int(status["Master_Port"]) == sb.ports[1]
        assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    assert scenario.ok(*relocate).lines == [f"{k(3)}<{k(1)}"]
    assert_settled(scenario, {0: None, 1: 0, 2: 0, 3: 1}, written)
    takeovers = audit_rows(scenario, "maintenance-takeover")
    assert sorted(f"{r['hostname']}:{r['port']}" for r in takeovers) == sorted([k(1), k(3)])
    assert all(f"its process {proc.pid} on " in str(r["message"]) for r in takeovers)


@pytest.mark.parametrize(("step", "on"), [("stopped", 3), ("changed", 3), ("stopped", 2)])
def test_file_pos_relocate_killed_mid_path_leaves_nothing_stopped_after_a_retry(
    scenario: Scenario, step: str, on: int
) -> None:
    """A file:pos relocate 0<1<3 → below 2 goes up, then below the sibling, stopping other servers on the
    way. Killed anywhere, the retry takes over every lock of the killed process and restarts what it
    left stopped, also the intermediate master it no longer needs (killed after moving up)."""
    sb = scenario.sandbox
    k = sb.key
    sb.reset_replication(layout=[None, 0, 0, 1], gtid=False)
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    relocate = ("-c", "relocate", "-i", k(3), "-d", k(2))
    Frozen(scenario.config, step, k(on), *relocate).kill_9()
    left_stopped = [i for i in (1, 2, 3) if (sb.replica_status(i) or {}).get("Slave_SQL_Running") == "No"]
    assert left_stopped, "the kill left replication stopped somewhere"
    assert scenario.ok(*relocate).lines == [f"{k(3)}<{k(2)}"]
    assert_settled(scenario, {0: None, 1: 0, 2: 0, 3: 2}, written)
    assert "file:pos" in str(audit_rows(scenario, "relocate")[0]["message"])


def test_relocate_replicas_killed_in_the_middle_is_completed_by_a_retry(scenario: Scenario) -> None:
    """The bulk move is killed right after re-pointing a replica; the retry finishes it and the rest."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    bulk = ("-c", "relocate-replicas", "-i", k(0), "-d", k(1))
    Frozen(scenario.config, "changed", k(3), *bulk).kill_9()
    assert scenario.tree()[3] == 1
    assert (sb.replica_status(3) or {}).get("Slave_IO_Running") != "Yes", "the kill left 3 stopped"
    moved = scenario.ok(*bulk).lines  # 2 too, unless the killed process had moved it before 3
    assert k(3) in moved and set(moved) <= {k(2), k(3)}
    assert_settled(scenario, {0: None, 1: 0, 2: 1, 3: 1}, written)


# -- take-master killed mid-swap -------------------------------------------------------------------

CHAIN: Tree = {0: None, 1: 0, 2: 1, 3: 2}
SWAPPED: Tree = {0: None, 1: 0, 2: 3, 3: 1}


@pytest.mark.parametrize("gtid", [True, False], ids=["gtid", "file-pos"])
def test_take_master_killed_after_the_swap_is_completed_by_a_retry_not_swapped_again(
    scenario: Scenario, gtid: bool
) -> None:
    """Chain 0<1<2<3, `take-master -i 3` killed after both CHANGE MASTERs (3<1, 2<3, both stopped).
    Automation retries the same command: it must restart the two and report the swap, not take 3's
    new master 1 as well (which left 3<0 with 1 and 2 below it)."""
    sb = scenario.sandbox
    k = sb.key
    sb.reset_replication(layout=[None, 0, 1, 2], gtid=gtid)
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    take = ("-c", "take-master", "-i", k(3))
    Frozen(scenario.config, "changed", k(2), *take).kill_9()
    assert scenario.tree() == SWAPPED
    assert (sb.replica_status(2) or {}).get("Slave_SQL_Running") == "No"
    assert scenario.ok(*take).lines == [k(3)]
    assert_settled(scenario, SWAPPED, written)
    assert "completed" in str(audit_rows(scenario, "take-master")[0]["message"])


def test_take_master_killed_halfway_is_restarted_and_names_the_missing_step(scenario: Scenario) -> None:
    """Killed after moving 3 below 1 but before 2 below 3: the retry must not swap 3 with 1; it restarts
    the siblings 2 and 3, refuses with the command that finishes the swap, and that command does."""
    sb = scenario.sandbox
    k = sb.key
    sb.reset_replication(layout=[None, 0, 1, 2])
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    take = ("-c", "take-master", "-i", k(3))
    Frozen(scenario.config, "changed", k(3), *take).kill_9()
    siblings: Tree = {0: None, 1: 0, 2: 1, 3: 1}
    assert scenario.tree() == siblings
    refused = scenario.cli(*take)
    assert (refused.code, refused.out) == (1, ""), refused
    assert f"orchestrator -c move-below -i {k(2)} -d {k(3)}" in refused.err, refused.err
    assert_settled(scenario, siblings, written)
    assert scenario.ok("-c", "move-below", "-i", k(2), "-d", k(3)).lines == [f"{k(2)}<{k(3)}"]
    assert_settled(scenario, SWAPPED, written)


@pytest.mark.parametrize("gtid", [True, False], ids=["gtid", "file-pos"])
def test_move_up_killed_after_the_move_is_not_moved_up_twice_by_a_retry(scenario: Scenario, gtid: bool) -> None:
    """Chain 0<1<2<3, `move-up -i 3` killed right after its CHANGE MASTER (3<1, stopped): the retry
    restarts what was left stopped and reports 3<1, instead of moving 3 up again below 0."""
    sb = scenario.sandbox
    k = sb.key
    sb.reset_replication(layout=[None, 0, 1, 2], gtid=gtid)
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    move_up = ("-c", "move-up", "-i", k(3))
    Frozen(scenario.config, "changed", k(3), *move_up).kill_9()
    moved: Tree = {0: None, 1: 0, 2: 1, 3: 1}
    assert scenario.tree() == moved
    assert scenario.ok(*move_up).lines == [f"{k(3)}<{k(1)}"]
    assert_settled(scenario, moved, written)
    assert "completed" in str(audit_rows(scenario, "move-up")[0]["message"])


def test_match_up_killed_after_the_match_is_not_matched_up_twice_by_a_retry(scenario: Scenario) -> None:
    """File:pos chain 0<1<2<3 with Pseudo-GTID: `match-up -i 3` killed right after its CHANGE MASTER
    (3<1, stopped): the retry restarts 3 and reports 3<1 instead of matching it up again below 0."""
    from tests.integration.test_binlog_tools import PSEUDO_GTID_CONFIG, write_with_entries

    sb = scenario.sandbox
    k = sb.key
    sb.reset_replication(layout=[None, 0, 1, 2], gtid=False)
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    scenario.reconfigure(**PSEUDO_GTID_CONFIG)
    write_with_entries(sb, rounds=3)
    sb.wait_replicated()
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    match_up = ("-c", "match-up", "-i", k(3))
    Frozen(scenario.config, "changed", k(3), *match_up).kill_9()
    moved: Tree = {0: None, 1: 0, 2: 1, 3: 1}
    assert scenario.tree() == moved
    assert scenario.ok(*match_up).lines == [f"{k(3)}<{k(1)}"]
    assert_settled(scenario, moved, written)
    assert "completed" in str(audit_rows(scenario, "match-up")[0]["message"])


def test_make_co_master_killed_after_its_change_master_is_completed_by_a_retry(scenario: Scenario) -> None:
    """`make-co-master -i 1` killed right after pointing the master 0 at 1 (stopped): the retry used to
    refuse ("already co master") and leave 0 not replicating under two live locks; it must start it."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    co_master = ("-c", "make-co-master", "-i", k(1))
    Frozen(scenario.config, "changed", k(0), *co_master).kill_9()
    status = sb.replica_status(0)
    assert status is not None and int(status["Master_Port"]) == sb.ports[1]
    assert status["Slave_SQL_Running"] == "No"
    assert scenario.ok(*co_master).lines == [k(1)]
    status = sb.replica_status(0)
    assert status is not None
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes"), status
    assert active_locks(scenario) == []
    sb.wait_replicated()
    scenario.assert_rows_everywhere(written, {0: None, 1: 0, 2: 0, 3: 0})
    assert "completed" in str(audit_rows(scenario, "make-co-master")[0]["message"])
