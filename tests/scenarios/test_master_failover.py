"""Master failover as automation drives it, under the production-style configuration.

Server 0 is the master of the star; servers 1..3 replicate from it. Data centers by index:
dc-east-1, dc-east-1, dc-east-2, dc-west; regions us-east ×3, us-west. So, with nothing registered,
server 1 (the failed master's data center) is the natural successor; each scenario changes that with
a promotion rule, a location constraint, a lag limit or a replica that cannot follow the successor.

Every scenario kills the master, runs the automation loop (discover all, analyse, `recover -i` each
entry) until the recovery of server 0 is recorded, runs one more round (nothing may change), and
checks the tree from the servers, read_only everywhere, the recovery record, the hook lines, and the
rows written before the failure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from tests.scenarios.harness import Scenario

FAILED = 0


def _fail_master(scenario: Scenario) -> str:
    """Discover, write a row everyone has, kill the master, and automate until its recovery is recorded."""
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    return before


def _settled_tree(scenario: Scenario) -> dict[int, int | None]:
    """The tree after the recovery; one more automation round must not change it."""
    tree = scenario.tree()
    scenario.automation_round()
    assert scenario.tree() == tree, "a further automation round changed the topology"
    return tree


def _only_recovery(scenario: Scenario) -> Mapping[str, Any]:
    [record] = scenario.recoveries_of(FAILED)
    assert record["AnalysisEntry"]["Analysis"] == "DeadMaster"
    return record


def _successful_failover(scenario: Scenario, successor: int, before: str) -> Mapping[str, Any]:
    """The checks every successful failover shares; returns the recovery record."""
    sb = scenario.sandbox
    tree = _settled_tree(scenario)
    assert scenario.assert_single_writable_master() == successor
    others = [i for i in range(1, 4) if i != successor]
    assert {i: tree[i] for i in others} == {i: successor for i in others}, tree
    scenario.assert_rows_everywhere(before, range(1, 4))
    after = sb.write_row(i=successor)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, range(1, 4))

    record = _only_recovery(scenario)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == successor
    assert record["LostReplicas"] == []
    assert scenario.indices(record["ParticipatingInstanceKeys"]) == [1, 2, 3]
    assert scenario.downtimes() == {FAILED: "lost-in-recovery"}

    failed, new = sb.key(FAILED), sb.key(successor)
    for kind in ("PreFailoverProcesses", "PostMasterFailoverProcesses", "PostFailoverProcesses"):
        lines = scenario.hook_lines(kind)
        assert len(lines) == 1, (kind, scenario.hook_lines())
        assert lines[0].split()[1:3] == ["DeadMaster", failed]
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[3] == new
    assert scenario.hook_lines("PostUnsuccessfulFailoverProcesses") == []
    return record


def _failed_failover_changed_nothing(scenario: Scenario, before: str) -> Mapping[str, Any]:
    """A recovery that found no successor: every replica still points at the dead master, none writable."""
    tree = _settled_tree(scenario)
    assert tree == {1: FAILED, 2: FAILED, 3: FAILED}, tree
    assert scenario.writable() == []
    scenario.assert_rows_everywhere(before, range(1, 4))
    record = _only_recovery(scenario)
    assert record["IsSuccessful"] is False
    assert record["SuccessorKey"] is None
    assert record["ParticipatingInstanceKeys"] == []
    assert record["AllErrors"], record
    # No replica was lost. Whether the failed master itself gets its lost-in-recovery downtime after a
    # failed attempt (the original downtimes it unconditionally, spec §3.7.2 step 7) is left to the
    # lost-in-recovery handling; it is not asserted here.
    assert set(scenario.downtimes()) <= {FAILED}
    assert len(scenario.hook_lines("PostUnsuccessfulFailoverProcesses")) == 1
    assert scenario.hook_lines("PostMasterFailoverProcesses") == []
    assert scenario.hook_lines("PostFailoverProcesses") == []
    # later rounds are refused by the unfinished recovery: no second attempt, no second hook
    assert len(scenario.recoveries_of(FAILED)) == 1
    # the attempt itself exits non-zero with one line on stderr, and prints no successor
    key = scenario.sandbox.key(FAILED)
    first = next(r for k, code, r in scenario.recover_results if k == key and code == "DeadMaster")
    assert first.code != 0 and first.out == "" and len(first.err.splitlines()) == 1, first
    return record


def _steps(record: Mapping[str, Any]) -> str:
    return "\n".join(step["Message"] for step in record["Steps"])


# ------------------------------------------------------------------------------------------ candidates


def test_prefer_candidate_behind_the_others_is_caught_up_and_promoted(scenario: Scenario) -> None:
    """`prefer` on server 2 (another data center), whose replication was stopped: it misses the last
    writes, catches up from a more advanced sibling and is promoted; nothing is lost."""
    sb = scenario.sandbox
    scenario.register_candidate(2, "prefer")
    scenario.discover_all()
    sb.execute(2, "STOP SLAVE")
    missed = sb.write_row()
    _wait_on(scenario, [1, 3])
    assert sb.count_rows(2, missed) == 0
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    record = _successful_failover(scenario, 2, missed)
    assert "catching it up first" in _steps(record)


def _wait_on(scenario: Scenario, servers: list[int], master: int = FAILED) -> None:
    """Wait until `servers` applied `master`'s binlog position (the others may be stopped or lost)."""
    sb = scenario.sandbox
    position = sb.query(master, "SELECT @@GLOBAL.gtid_binlog_pos AS p")[0]["p"]
    for i in servers:
        assert sb.query(i, "SELECT MASTER_GTID_WAIT(%s, 30) AS w", (position,))[0]["w"] == 0


def test_must_not_on_the_best_replica_is_never_promoted(scenario: Scenario) -> None:
    """Server 1 shares the failed master's data center and would be chosen; `must_not` keeps it a
    replica: another one is promoted and server 1 follows it."""
    scenario.register_candidate(1, "must_not")
    before = _fail_master(scenario)
    successor = scenario.assert_single_writable_master()
    assert successor in (2, 3)
    record = _successful_failover(scenario, successor, before)
    assert "its promotion rule is must_not" in _steps(record)


def test_must_not_on_the_only_candidate_fails_the_recovery_and_changes_nothing(scenario: Scenario) -> None:
    """Failover must stay in dc-east-1, where only server 1 is, and server 1 is `must_not`: nothing
    may be promoted, so the recovery fails and every replica still replicates from the dead master."""
    scenario.reconfigure(PreventCrossDataCenterMasterFailover=True)
    scenario.register_candidate(1, "must_not")
    before = _fail_master(scenario)
    record = _failed_failover_changed_nothing(scenario, before)
    assert "no candidate replica found" in _steps(record)
    assert "its promotion rule is must_not" in _steps(record)
    for i in (1, 2, 3):
        status = scenario.sandbox.replica_status(i)
        assert status is not None and status["Slave_SQL_Running"] == "Yes", (i, status)


@pytest.mark.parametrize(("lag_seconds", "promoted"), [(600, False), (30, True)], ids=["lagging", "within-limit"])
def test_lagging_prefer_candidate_is_refused_by_fail_master_promotion_on_lag_minutes(
    scenario: Scenario, lag_seconds: int, promoted: bool
) -> None:
    """Server 1 is `prefer` and reports `lag_seconds` through ReplicationLagQuery. With
    FailMasterPromotionOnLagMinutes=5, 600 s refuses it (another replica is promoted), 30 s does not."""
    scenario.reconfigure(FailMasterPromotionOnLagMinutes=5)
    scenario.register_candidate(1, "prefer")
    scenario.set_lag(1, lag_seconds)
    before = _fail_master(scenario)
    successor = scenario.assert_single_writable_master()
    if promoted:
        assert successor == 1
    else:
        assert successor in (2, 3)
    record = _successful_failover(scenario, successor, before)
    refusal = f"it lags {lag_seconds}s (FailMasterPromotionOnLagMinutes=5)"
    assert (refusal in _steps(record)) is not promoted


# ------------------------------------------------------------------------------------------ location


@pytest.mark.parametrize(
    ("prevent_dc", "prevent_region", "successor"),
    [(False, False, 3), (False, True, 2), (True, False, None)],
    ids=["unconstrained", "same-region", "same-data-center"],
)
def test_cross_data_center_and_cross_region_failover(
    scenario: Scenario, prevent_dc: bool, prevent_region: bool, successor: int | None
) -> None:
    """Server 3 (dc-west, us-west) is `prefer`; server 1 (the failed master's data center) is
    `must_not`; server 2 is in dc-east-2, us-east.

    Unconstrained, the preferred server 3 is promoted across region. PreventCrossRegionMasterFailover
    keeps the master in us-east: server 2. PreventCrossDataCenterMasterFailover keeps it in dc-east-1,
    where only the must_not server 1 is: the recovery fails and nothing changes.
    """
    scenario.reconfigure(
        PreventCrossDataCenterMasterFailover=prevent_dc, PreventCrossRegionMasterFailover=prevent_region
    )
    scenario.register_candidate(1, "must_not")
    scenario.register_candidate(3, "prefer")
    before = _fail_master(scenario)
    if successor is None:
        record = _failed_failover_changed_nothing(scenario, before)
        assert "in data center 'dc-east-2', the failed master in 'dc-east-1'" in _steps(record)
        assert "in data center 'dc-west', the failed master in 'dc-east-1'" in _steps(record)
        return
    record = _successful_failover(scenario, successor, before)
    if prevent_region:
        assert "it is in region 'us-west', the failed master in 'us-east'" in _steps(record)


def test_prevent_cross_data_center_refuses_a_prefer_candidate_elsewhere(scenario: Scenario) -> None:
    """`prefer` on server 2 (dc-east-2) does not take the master out of dc-east-1 when
    PreventCrossDataCenterMasterFailover is on: server 1 is promoted, server 2 follows it."""
    scenario.reconfigure(PreventCrossDataCenterMasterFailover=True)
    scenario.register_candidate(2, "prefer")
    before = _fail_master(scenario)
    record = _successful_failover(scenario, 1, before)
    assert "it is in data center 'dc-east-2', the failed master in 'dc-east-1'" in _steps(record)


# ------------------------------------------------------------------------------------------ lost replicas


def _lost_failover(scenario: Scenario, lost: int, before: str, *, detached: bool) -> Mapping[str, Any]:
    """Server 1 promoted, server 2 below it, `lost` left out: downtimed lost-in-recovery, read-only,
    and (DetachLostReplicasAfterMasterFailover) detached so a returning master cannot feed it."""
    sb = scenario.sandbox
    tree = _settled_tree(scenario)
    assert scenario.assert_single_writable_master() == 1
    assert tree[2] == 1, tree
    status = sb.replica_status(lost)
    assert status is not None, f"lost replica {lost} forgot its replication"
    if detached:
        assert str(status["Master_Host"]).startswith("//"), status["Master_Host"]
        assert tree[lost] is None
    else:
        assert tree[lost] == FAILED, tree  # left where it was: it never followed the successor
    assert scenario.read_only()[lost] == 1
    scenario.assert_rows_everywhere(before, range(1, 4))

    record = _only_recovery(scenario)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 1
    assert scenario.indices(record["LostReplicas"]) == [lost]
    assert scenario.indices(record["ParticipatingInstanceKeys"]) == [1, 2]
    assert scenario.downtimes() == {FAILED: "lost-in-recovery", lost: "lost-in-recovery"}
    assert len(scenario.hook_lines("PostMasterFailoverProcesses")) == 1
    assert len(scenario.hook_lines("PostFailoverProcesses")) == 1
    return record


@pytest.mark.parametrize("detach", [True, False], ids=["detached", "not-detached"])
def test_replica_that_cannot_replicate_from_the_successor_is_lost(scenario: Scenario, detach: bool) -> None:
    """Server 3 logs STATEMENT while the successor logs ROW (spec §4.2 rule 5): it cannot replicate
    from it, so it is lost, downtimed `lost-in-recovery`, and detached only with
    DetachLostReplicasAfterMasterFailover (its synonym DetachLostSlavesAfterMasterFailover, true by
    default, must be off too for the "off" case)."""
    sb = scenario.sandbox
    scenario.reconfigure(DetachLostReplicasAfterMasterFailover=detach, DetachLostSlavesAfterMasterFailover=detach)
    sb.execute(3, "SET GLOBAL binlog_format = 'STATEMENT'")
    try:
        before = _fail_master(scenario)
        record = _lost_failover(scenario, 3, before, detached=detach)
    finally:
        sb.execute(3, "SET GLOBAL binlog_format = 'ROW'")
    assert f"{sb.key(3)} logs STATEMENT while {sb.key(1)} logs ROW" in _steps(record)


def _purge_binary_logs(scenario: Scenario, i: int) -> None:
    """Rotate and purge every older binary log of server `i` (a purge waits for the binlog checkpoint,
    so it is retried until only the current file is left)."""
    sb = scenario.sandbox
    sb.execute(i, "FLUSH BINARY LOGS")
    current = sb.query(i, "SHOW MASTER STATUS")[0]["File"]
    for _ in range(100):
        sb.execute(i, f"PURGE BINARY LOGS TO '{current}'")
        if [row["Log_name"] for row in sb.query(i, "SHOW BINARY LOGS")] == [current]:
            return
        time.sleep(0.1)
    raise AssertionError(f"server {i} kept binary logs older than {current}")


def test_stopped_replica_the_successor_cannot_serve_is_lost(scenario: Scenario) -> None:
    """Server 3 was stopped (a backup, say) and missed writes; the successor then purged the binary
    logs that hold them. Server 3 cannot be moved below it: lost, downtimed and detached, while the
    rest of the cluster fails over."""
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.execute(3, "STOP SLAVE")
    missed = sb.write_row()
    _wait_on(scenario, [1, 2])
    for i in (1, 2):
        _purge_binary_logs(scenario, i)
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    record = _lost_failover(scenario, 3, before, detached=True)
    steps = _steps(record)
    assert "Could not find GTID state requested by slave" in steps
    # the lost replica's restart failed: the record must not claim it resumed
    assert f"replication restarted on: {sb.key(3)}" not in steps
    assert sb.count_rows(3, missed) == 0
    scenario.assert_rows_everywhere(missed, [1, 2])


# ------------------------------------------------------------------------------------------ read-only master


@pytest.mark.parametrize("recover_non_writeable", [False, True], ids=["default", "RecoverNonWriteableMaster"])
def test_recover_of_a_read_only_master(scenario: Scenario, recover_non_writeable: bool) -> None:
    """The master answers and its replicas replicate, but it is read_only=1 (spec §2.2 row 10, §3.12).

    By default that is only the structure warning NoWriteableMasterStructureWarning, which has no
    recovery action (§3.2, last row): `recover` does nothing at all (no detection, no record, no hook,
    the master stays read-only) and says so on stderr. With RecoverNonWriteableMaster it is the
    primary code, and the recovery makes the master writable: a successful recovery whose successor
    is the master itself, with detection, pre- and post-failover hooks.
    """
    sb = scenario.sandbox
    scenario.reconfigure(RecoverNonWriteableMaster=recover_non_writeable)
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.execute(0, "SET GLOBAL read_only = 1")
    entries = scenario.automation_round()
    assert (sb.key(0), "NoWriteableMasterStructureWarning") in entries, entries
    scenario.automation_round()
    assert scenario.tree() == {0: None, 1: 0, 2: 0, 3: 0}
    scenario.assert_rows_everywhere(before, range(4))
    recovers = [r for key, _, r in scenario.recover_results if key == sb.key(0)]
    # made writable by the first round, the master is no longer reported by the second
    assert len(recovers) == (1 if recover_non_writeable else 2)
    if not recover_non_writeable:
        assert scenario.writable() == []
        assert scenario.recoveries() == []
        assert scenario.hook_lines() == []
        for result in recovers:
            assert (result.code, result.out) == (0, "")
            assert sb.key(0) in result.err, f"recover did nothing without saying so: {result.err!r}"
        return
    assert scenario.assert_single_writable_master() == 0
    [record] = scenario.recoveries_of(0)
    assert record["AnalysisEntry"]["Analysis"] == "NoWriteableMasterStructureWarning"
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 0
    assert record["LostReplicas"] == []
    assert scenario.downtimes() == {}
    assert recovers[0].code == 0 and recovers[0].out.strip() == sb.key(0)
    kinds = [line.split()[0] for line in scenario.hook_lines()]
    assert kinds == ["OnFailureDetectionProcesses", "PreFailoverProcesses", "PostFailoverProcesses"]
    assert scenario.hook_lines("PostFailoverProcesses")[0].split()[1:4] == [
        "NoWriteableMasterStructureWarning",
        sb.key(0),
        sb.key(0),
    ]
    after = sb.write_row(i=0)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, range(4))


# ------------------------------------------------------------------------------------------ promotion left to hooks


def test_without_apply_promotion_the_successor_is_left_stopped_below_the_dead_master(scenario: Scenario) -> None:
    """ApplyMySQLPromotionAfterMasterFailover off: the siblings are regrouped below the successor, but
    the successor itself is left read-only with replication stopped, still configured for the failed
    master (spec §3.7.4 step 5, §3.7.9): the hooks finish the promotion. That holds even when the
    successor (server 2, `prefer`, stopped before the failure) first caught up from a sibling: it must
    not be left pointing at that sibling, which now replicates from it."""
    sb = scenario.sandbox
    scenario.reconfigure(ApplyMySQLPromotionAfterMasterFailover=False)
    scenario.register_candidate(2, "prefer")
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.execute(2, "STOP SLAVE")
    missed = sb.write_row()
    _wait_on(scenario, [1, 3])
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    tree = _settled_tree(scenario)
    assert tree == {1: 2, 2: FAILED, 3: 2}, tree
    assert scenario.writable() == []
    status = sb.replica_status(2)
    assert status is not None
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    scenario.assert_rows_everywhere(before, range(1, 4))
    scenario.assert_rows_everywhere(missed, range(1, 4))
    record = _only_recovery(scenario)
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 2
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[3] == sb.key(2)


def test_replica_with_an_errant_transaction_is_lost(scenario: Scenario) -> None:
    """Server 3 took a local write (an errant transaction, logged as 0-<its server id>-N+1). Under
    gtid_strict_mode it cannot apply the successor's next transaction, which gets the same sequence
    number: moving it would report success and break at the first write. It is lost instead, left
    where it was, downtimed and detached; the successor's writes reach the others."""
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    errant = sb.write_row(i=3)
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    record = _lost_failover(scenario, 3, before, detached=True)
    assert "(errant)" in _steps(record)
    after = sb.write_row(i=1)
    _wait_on(scenario, [2], master=1)
    scenario.assert_rows_everywhere(after, [1, 2])
    assert sb.count_rows(1, errant) == 0 and sb.count_rows(2, errant) == 0


def test_master_and_one_replica_dead(scenario: Scenario) -> None:
    """Server 3 died with the master (`DeadMasterAndSomeReplicas`): servers 1 and 2 fail over; the dead
    replica is reported lost and downtimed `lost-in-recovery` (it cannot be detached while it is down)."""
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(3)
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    tree = _settled_tree(scenario)
    assert tree == {1: None, 2: 1}, tree
    assert scenario.assert_single_writable_master() == 1
    scenario.assert_rows_everywhere(before, [1, 2])
    [record] = scenario.recoveries_of(FAILED)
    assert record["AnalysisEntry"]["Analysis"] == "DeadMasterAndSomeReplicas"
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == 1
    assert scenario.indices(record["LostReplicas"]) == [3]
    assert scenario.indices(record["ParticipatingInstanceKeys"]) == [1, 2]
    assert scenario.downtimes() == {FAILED: "lost-in-recovery", 3: "lost-in-recovery"}
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[1:4] == [
        "DeadMasterAndSomeReplicas",
        sb.key(FAILED),
        sb.key(1),
    ]


# ------------------------------------------------------------------------------------------ a second failure


def test_second_failure_of_the_new_master_waits_for_an_acknowledgement(scenario: Scenario) -> None:
    """Server 1 replaced the master; then it dies too, within RecoveryPeriodBlockSeconds. Anti-flapping
    (spec §3.5 rule 1: the instance was just promoted) blocks its recovery, and `recover` says what
    blocks it; nothing changes. After `ack-all-recoveries` the next round fails over again."""
    sb = scenario.sandbox
    before = _fail_master(scenario)
    _successful_failover(scenario, 1, before)
    second = sb.write_row(i=1)
    sb.wait_replicated()
    scenario.discover_all()
    sb.kill(1)
    scenario.recover_results.clear()
    for _ in range(3):
        scenario.automation_round()
    blocked = [r for key, code, r in scenario.recover_results if key == sb.key(1) and code == "DeadMaster"]
    assert blocked, scenario.recover_results
    for result in blocked:
        assert result.out == "" and "blocked by recovery" in result.err, result
    assert scenario.tree() == {2: 1, 3: 1}
    assert scenario.writable() == []
    assert scenario.recoveries_of(1) == []

    scenario.ok("-c", "ack-all-recoveries", "--reason", "scenario: first failover reviewed")
    scenario.automate_until(lambda: scenario.recovered(1))
    tree = _settled_tree(scenario)
    # neither is in the failed master's data center: either may be promoted, the other follows it
    third = scenario.assert_single_writable_master()
    other = 5 - third
    assert tree == {third: None, other: third}, tree
    scenario.assert_rows_everywhere(before, [2, 3])
    scenario.assert_rows_everywhere(second, [2, 3])
    [record] = scenario.recoveries_of(1)
    assert record["AnalysisEntry"]["Analysis"] == "DeadMaster"
    assert record["IsSuccessful"] is True
    assert scenario.index(record["SuccessorKey"]) == third
    assert scenario.downtimes() == {FAILED: "lost-in-recovery", 1: "lost-in-recovery"}
    lines = scenario.hook_lines("PostMasterFailoverProcesses")
    assert [line.split()[2:4] for line in lines] == [[sb.key(0), sb.key(1)], [sb.key(1), sb.key(third)]]
