"""Co-master failover as automation drives it, under the production-style configuration.

Server 0 (writable) and server 1 (read-only) are co-masters: each replicates from the other; servers 2
and 3 replicate from server 0. Whichever co-master dies, the analysis says `DeadCoMaster` and the
other co-master is promoted (CoMasterRecoveryMustPromoteOtherCoMaster, on by default; spec §3.8): the
result is a single-master topology, the other co-master writable and replicating from nobody, the dead
one downtimed `lost-in-recovery`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.scenarios.harness import CREDENTIALS_PASSWORD, CREDENTIALS_USER, Scenario


def _co_masters_by_sql(scenario: Scenario) -> None:
    """Server 0 replicates from server 1 by GTID, with the account the credentials query names."""
    sb = scenario.sandbox
    sb.execute(
        0,
        "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos",
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sb.ports[1]}, MASTER_USER='{CREDENTIALS_USER}',"
        f" MASTER_PASSWORD='{CREDENTIALS_PASSWORD}', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos",
        "START SLAVE",
    )


def _co_masters_by_make_co_master(scenario: Scenario) -> None:
    """The operator's way: `make-co-master -i <server 1>` (credentials from the duplicate-name query)."""
    scenario.ok("-c", "make-co-master", "-i", scenario.sandbox.key(1))


def _wait_co_masters(scenario: Scenario) -> None:
    sb = scenario.sandbox
    for _ in range(100):
        status = sb.replica_status(0)
        if status and status["Slave_IO_Running"] == "Yes" and status["Slave_SQL_Running"] == "Yes":
            break
        sb.query(0, "SELECT SLEEP(0.1)")
    assert scenario.tree() == {0: 1, 1: 0, 2: 0, 3: 0}, scenario.tree()
    assert scenario.writable() == [0]


def _recovery(scenario: Scenario, failed: int) -> Mapping[str, Any]:
    [record] = scenario.recoveries_of(failed)
    assert record["AnalysisEntry"]["Analysis"] == "DeadCoMaster"
    return record


def _check_hooks(scenario: Scenario, failed: int, successor: int) -> None:
    sb = scenario.sandbox
    for kind in ("PreFailoverProcesses", "PostMasterFailoverProcesses", "PostFailoverProcesses"):
        lines = scenario.hook_lines(kind)
        assert len(lines) == 1, (kind, scenario.hook_lines())
        assert lines[0].split()[1:3] == ["DeadCoMaster", sb.key(failed)]
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[3] == sb.key(successor)
    assert scenario.hook_lines("PostUnsuccessfulFailoverProcesses") == []


@pytest.mark.parametrize("setup", [_co_masters_by_sql, _co_masters_by_make_co_master], ids=["sql", "make-co-master"])
def test_dead_writable_co_master_promotes_the_other(scenario: Scenario, setup: Any) -> None:
    """The writable co-master dies: server 1 becomes the only master, servers 2 and 3 follow it."""
    sb = scenario.sandbox
    scenario.discover_all()
    setup(scenario)
    _wait_co_masters(scenario)
    scenario.discover_all()
    before = sb.write_row(i=0)
    _wait_all_have(scenario, before)
    sb.kill(0)
    scenario.automate_until(lambda: scenario.recovered(0))
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree
    assert tree == {1: None, 2: 1, 3: 1}, tree
    assert scenario.assert_single_writable_master() == 1
    scenario.assert_rows_everywhere(before, [1, 2, 3])
    after = sb.write_row(i=1)
    _wait_all_have(scenario, after)

    record = _recovery(scenario, 0)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 1
    assert record["LostReplicas"] == []
    assert scenario.indices(record["ParticipatingInstanceKeys"]) == [1, 2, 3]
    assert scenario.downtimes() == {0: "lost-in-recovery"}
    _check_hooks(scenario, 0, 1)


def test_dead_read_only_co_master_leaves_the_writable_one_master(scenario: Scenario) -> None:
    """The read-only co-master dies: server 0 stays the master (it no longer replicates from the dead
    one), its replicas are untouched."""
    sb = scenario.sandbox
    scenario.discover_all()
    _co_masters_by_sql(scenario)
    _wait_co_masters(scenario)
    scenario.discover_all()
    before = sb.write_row(i=0)
    _wait_all_have(scenario, before)
    sb.kill(1)
    scenario.automate_until(lambda: scenario.recovered(1))
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree
    assert tree == {0: None, 2: 0, 3: 0}, tree
    assert scenario.assert_single_writable_master() == 0
    after = sb.write_row(i=0)
    _wait_all_have(scenario, after)
    scenario.assert_rows_everywhere(before, [0, 2, 3])

    record = _recovery(scenario, 1)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 0
    assert record["LostReplicas"] == []
    assert scenario.downtimes() == {1: "lost-in-recovery"}
    _check_hooks(scenario, 1, 0)


def test_dead_co_master_promotes_a_prefer_replica_when_the_other_need_not_be_promoted(scenario: Scenario) -> None:
    """CoMasterRecoveryMustPromoteOtherCoMaster off and the other co-master read-only: the successor is
    chosen as for a master (server 2 is `prefer`), and the other co-master becomes its replica."""
    sb = scenario.sandbox
    scenario.reconfigure(CoMasterRecoveryMustPromoteOtherCoMaster=False)
    scenario.register_candidate(2, "prefer")
    scenario.discover_all()
    _co_masters_by_sql(scenario)
    _wait_co_masters(scenario)
    scenario.discover_all()
    before = sb.write_row(i=0)
    _wait_all_have(scenario, before)
    sb.kill(0)
    scenario.automate_until(lambda: scenario.recovered(0))
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree
    assert tree == {1: 2, 2: None, 3: 2}, tree
    assert scenario.assert_single_writable_master() == 2
    scenario.assert_rows_everywhere(before, [1, 2, 3])
    after = sb.write_row(i=2)
    _wait_all_have(scenario, after)
    record = _recovery(scenario, 0)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 2
    assert record["LostReplicas"] == []
    assert scenario.downtimes() == {0: "lost-in-recovery"}
    _check_hooks(scenario, 0, 2)


def test_dead_co_master_whose_other_co_master_is_must_not_fails_and_changes_nothing(scenario: Scenario) -> None:
    """Only the other co-master may be promoted (the default), and it is `must_not`: the recovery fails,
    no server becomes writable, every replica still replicates from the dead co-master."""
    sb = scenario.sandbox
    scenario.register_candidate(1, "must_not")
    scenario.discover_all()
    _co_masters_by_sql(scenario)
    _wait_co_masters(scenario)
    scenario.discover_all()
    before = sb.write_row(i=0)
    _wait_all_have(scenario, before)
    sb.kill(0)
    scenario.automate_until(lambda: scenario.recovered(0))
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree
    assert tree == {1: 0, 2: 0, 3: 0}, tree
    assert scenario.writable() == []
    scenario.assert_rows_everywhere(before, [1, 2, 3])
    record = _recovery(scenario, 0)
    assert record["IsSuccessful"] is False
    assert record["SuccessorKey"] is None
    assert record["AllErrors"]
    assert "must_not" in "\n".join(step["Message"] for step in record["Steps"])
    assert set(scenario.downtimes()) <= {0}  # no replica lost (the failed co-master: see test_master_failover)
    assert len(scenario.hook_lines("PostUnsuccessfulFailoverProcesses")) == 1
    assert scenario.hook_lines("PostMasterFailoverProcesses") == []
    assert len(scenario.recoveries_of(0)) == 1


def _wait_all_have(scenario: Scenario, value: str) -> None:
    """Every live server has the row (co-masters form a cycle, which `wait_replicated` cannot follow)."""
    sb = scenario.sandbox
    for i in range(len(sb.ports)):
        if not sb.is_alive(i):
            continue
        for _ in range(300):
            if sb.count_rows(i, value) == 1:
                break
            sb.query(i, "SELECT SLEEP(0.1)")
        assert sb.count_rows(i, value) == 1, f"row {value} never reached server {i}"


def test_dead_co_master_and_one_of_its_replicas(scenario: Scenario) -> None:
    """Server 3 dies with the writable co-master (`DeadCoMasterAndSomeReplicas`): server 1 is promoted,
    server 2 follows it, server 3 is lost and downtimed `lost-in-recovery`."""
    sb = scenario.sandbox
    scenario.discover_all()
    _co_masters_by_sql(scenario)
    _wait_co_masters(scenario)
    scenario.discover_all()
    before = sb.write_row(i=0)
    _wait_all_have(scenario, before)
    sb.kill(3)
    sb.kill(0)
    scenario.automate_until(lambda: scenario.recovered(0))
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree
    assert tree == {1: None, 2: 1}, tree
    assert scenario.assert_single_writable_master() == 1
    scenario.assert_rows_everywhere(before, [1, 2])
    [record] = scenario.recoveries_of(0)
    assert record["AnalysisEntry"]["Analysis"] == "DeadCoMasterAndSomeReplicas"
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 1
    assert scenario.indices(record["LostReplicas"]) == [3]
    assert scenario.downtimes() == {0: "lost-in-recovery", 3: "lost-in-recovery"}
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[1:4] == [
        "DeadCoMasterAndSomeReplicas",
        sb.key(0),
        sb.key(1),
    ]
