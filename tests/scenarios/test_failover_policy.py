"""Failover policy knobs an operator sets, checked on real sandboxes through the automation loop.

Server 0 is the master of the star (see test_master_failover.py for the data centers by index).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.scenarios.harness import Scenario, production_scenario

FAILED = 0


def _discovered_with_a_row(scenario: Scenario) -> Any:
    """Discover the sandbox, then write a row every replica has received: the value written."""
    scenario.discover_all()
    value = scenario.sandbox.write_row()
    scenario.sandbox.wait_replicated()
    return value


def _wait_on(scenario: Scenario, servers: list[int], master: int = FAILED) -> None:
    sb = scenario.sandbox
    position = sb.query(master, "SELECT @@GLOBAL.gtid_binlog_pos AS p")[0]["p"]
    for i in servers:
        assert sb.query(i, "SELECT MASTER_GTID_WAIT(%s, 30) AS w", (position,))[0]["w"] == 0


def test_master_failover_detach_replica_master_host_detaches_an_unreset_successor(scenario: Scenario) -> None:
    """ApplyMySQLPromotionAfterMasterFailover off and MasterFailoverDetachReplicaMasterHost on: the
    successor is left stopped for the hooks, and its master host is detached (`//host`), so a START
    SLAVE by mistake cannot reconnect it to the failed master when that one comes back (spec §3.7.9
    step 3)."""
    sb = scenario.sandbox
    scenario.reconfigure(ApplyMySQLPromotionAfterMasterFailover=False, MasterFailoverDetachReplicaMasterHost=True)
    before = _discovered_with_a_row(scenario)
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    successor = scenario.index(record["SuccessorKey"])
    assert successor == 1
    status = sb.replica_status(1)
    assert status is not None
    assert status["Master_Host"].startswith("//"), status["Master_Host"]
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    scenario.assert_rows_everywhere(before, range(1, 4))


# ------------------------------------------------------------------------------------------ file:pos clusters


@pytest.fixture
def filepos_scenario(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> Scenario:
    """The 4-server star replicating by file:pos (MASTER_USE_GTID=no), under the production config."""
    return production_scenario(sandbox_factory(servers=4, gtid=False), tmp_path)


def _using_gtid(sb: Sandbox, i: int) -> str:
    status = sb.replica_status(i)
    assert status is not None, i
    return str(status["Using_Gtid"])


def test_graceful_takeover_keeps_file_pos_siblings_on_file_pos(filepos_scenario: Scenario) -> None:
    """On MariaDB replicating by file:pos, a graceful takeover moves the siblings below the designated
    replica at its own binlog position: every replica executed the same position of the read-only
    master, so they need no GTID, and the original (which has no file:pos relocation but never forces
    GTID on a replica that does not use it) would not change how they replicate. The demoted master
    joins the same way (spec §3.13 step 12: neutral unless the failover used GTID)."""
    scenario = filepos_scenario
    sb = scenario.sandbox
    scenario.discover_all()
    assert [_using_gtid(sb, i) for i in (1, 2, 3)] == ["No", "No", "No"]
    before = sb.write_row()
    sb.wait_replicated()
    result = scenario.ok("-c", "graceful-master-takeover-auto", "-i", sb.key(0), "-d", sb.key(1))
    assert result.lines[0] == sb.key(1), result.lines
    assert scenario.tree() == {0: 1, 1: None, 2: 1, 3: 1}
    assert scenario.read_only() == {0: 1, 1: 0, 2: 1, 3: 1}
    assert {i: _using_gtid(sb, i) for i in (0, 2, 3)} == {0: "No", 2: "No", 3: "No"}
    scenario.assert_rows_everywhere(before, range(4))
    after = sb.write_row(i=1)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, range(4))
    # and back: the old master, now a file:pos replica, is designated
    result = scenario.ok("-c", "graceful-master-takeover-auto", "-i", sb.key(1), "-d", sb.key(0))
    assert result.lines[0] == sb.key(0), result.lines
    assert scenario.tree() == {0: None, 1: 0, 2: 0, 3: 0}
    assert {i: _using_gtid(sb, i) for i in (1, 2, 3)} == {1: "No", 2: "No", 3: "No"}
    back = sb.write_row()
    sb.wait_replicated()
    scenario.assert_rows_everywhere(back, range(4))


# ------------------------------------------------------------------------------------------ continuous mode


def _continuous(scenario: Scenario) -> subprocess.Popen[str]:
    from tests.support import ROOT

    command = [sys.executable, "-m", "orchestrator_cli", f"--config={scenario.config}", "-c", "continuous"]
    return subprocess.Popen(
        [*command, "--duration", "5m"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return err


def _wait(condition: Callable[[], bool], proc: subprocess.Popen[str], seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def test_continuous_mode_detects_but_does_not_recover_a_cluster_outside_the_filters(scenario: Scenario) -> None:
    """RecoverMasterClusterFilters not selecting the cluster: continuous mode registers the detection
    and runs OnFailureDetectionProcesses once, starts no recovery and runs no other hook (spec §3.2,
    §3.7.1); `audit-failure-detection` shows it. A manual `recover -i` overrides the filter."""
    sb = scenario.sandbox
    scenario.reconfigure(RecoverMasterClusterFilters=["no-such-cluster"])
    before = _discovered_with_a_row(scenario)
    proc = _continuous(scenario)
    try:
        sb.kill(FAILED)
        detected = _wait(lambda: any(" DeadMaster " in line for line in scenario.hook_lines()), proc)
        # a few more ticks: nothing else may happen
        time.sleep(5)
    finally:
        err = _stop(proc)
    assert detected, err[-3000:]
    # one detection hook per failure code seen on the way (UnreachableMaster first, if a tick saw it:
    # it is not actionable but runs the detection hooks, spec §3.2), none of the other hooks
    lines = scenario.hook_lines()
    assert {line.split()[0] for line in lines} == {"OnFailureDetectionProcesses"}, lines
    assert sorted(line.split()[1] for line in lines) in (["DeadMaster"], ["DeadMaster", "UnreachableMaster"]), lines
    assert scenario.recoveries_of(FAILED) == []
    assert scenario.tree() == {1: FAILED, 2: FAILED, 3: FAILED}
    with sqlite3.connect(scenario.config.parent / "orchestrator.sqlite3") as conn:
        detections = list(conn.execute("SELECT port, analysis FROM topology_failure_detection"))
    assert (sb.ports[FAILED], "DeadMaster") in detections, detections
    # the operator decides: a manual recovery is not held back by the filter
    result = scenario.ok("-c", "recover", "-i", sb.key(FAILED))
    assert result.lines == [sb.key(1)], result
    assert scenario.assert_single_writable_master() == 1
    scenario.assert_rows_everywhere(before, range(1, 4))


# ------------------------------------------------------------------------------------------ hooks, lost replicas


def test_hooks_are_told_the_lost_replica(scenario: Scenario) -> None:
    """A replica with an errant transaction is lost in the failover: the post hooks get it in
    {lostReplicas}/{countLostReplicas} and $ORC_LOST_REPLICAS, with {isSuccessful}=true."""
    sb = scenario.sandbox
    told = scenario.hooks_log.parent / "told.log"
    line = (
        "echo '{kind} {lostReplicas} {countLostReplicas} {isSuccessful} {successorPort}'"
        f' "$ORC_LOST_REPLICAS $ORC_IS_SUCCESSFUL $ORC_SUCCESSOR_PORT" >> {told}'
    )
    scenario.reconfigure(
        **{
            kind: [line.replace("{kind}", kind)]
            for kind in ("PostMasterFailoverProcesses", "PostFailoverProcesses", "PostUnsuccessfulFailoverProcesses")
        }
    )
    scenario.discover_all()
    sb.write_row()
    sb.wait_replicated()
    sb.write_row(i=3)  # errant on 3
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    lines = sorted(told.read_text().splitlines())
    port = sb.ports[1]
    assert lines == [
        f"PostFailoverProcesses {sb.key(3)} 1 true {port} {sb.key(3)} true {port}",
        f"PostMasterFailoverProcesses {sb.key(3)} 1 true {port} {sb.key(3)} true {port}",
    ], lines


# ------------------------------------------------------------------------------------------ a hung master


def test_a_hung_master_is_failed_over(scenario: Scenario) -> None:
    """SIGSTOP the master: its port accepts connections, nothing answers. The automation loop gets a
    DeadMaster once the replicas' IO threads give up on it, and fails over to server 1."""
    sb = scenario.sandbox
    before = _discovered_with_a_row(scenario)
    started = time.monotonic()
    sb.pause(FAILED)
    try:
        scenario.automate_until(lambda: scenario.recovered(FAILED), rounds=60)
        print(f"hung master recovered after {time.monotonic() - started:.1f}s")
        [record] = scenario.recoveries_of(FAILED)
        assert record["IsSuccessful"] is True, record
        assert scenario.index(record["SuccessorKey"]) == 1
        tree = scenario.tree()
        assert {i: tree[i] for i in (1, 2, 3)} == {1: None, 2: 1, 3: 1}, tree
        scenario.assert_rows_everywhere(before, range(1, 4))
    finally:
        sb.resume(FAILED)
    # The hung master comes back writable, beside the new master. The cron loop (discover, analyse,
    # recover) does not touch it; continuous mode fences it (recovery/returning_master.py).
    assert scenario.writable() == [0, 1], scenario.read_only()
    proc = _continuous(scenario)
    try:
        fenced = _wait(lambda: scenario.writable() == [1], proc, seconds=60)
    finally:
        err = _stop(proc)
    assert fenced, err[-3000:]
    assert scenario.downtimes() == {FAILED: "lost-in-recovery"}


# ------------------------------------------------------------------------------------------ relay log backlog


def _backlog_everywhere(scenario: Scenario) -> str:
    """Every replica's SQL thread stopped, then a row written: received by all, applied by none."""
    sb = scenario.sandbox
    scenario.discover_all()
    for i in (1, 2, 3):
        sb.execute(i, "STOP SLAVE SQL_THREAD")
    value = sb.write_row()
    position = sb.query(FAILED, "SHOW MASTER STATUS")[0]
    deadline = time.monotonic() + 30
    for i in (1, 2, 3):
        while True:
            status = sb.replica_status(i)
            assert status is not None
            if (status["Master_Log_File"], int(status["Read_Master_Log_Pos"])) == (
                position["File"],
                int(position["Position"]),
            ):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert sb.count_rows(i, value) == 0
    scenario.discover_all()
    return value


@pytest.mark.parametrize(
    "flag",
    [None, "DelayMasterPromotionIfSQLThreadNotUpToDate", "FailMasterPromotionIfSQLThreadNotUpToDate"],
)
def test_relay_log_backlog_of_stopped_sql_threads_is_applied_not_discarded(
    scenario: Scenario, flag: str | None
) -> None:
    """Every replica received a row its stopped SQL thread did not apply, then the master dies. The
    regroup lets each replica apply what it holds before it stops receiving (spec §3.7.3: stopped
    nicely), so the successor is up to date (the Fail flag has nothing to refuse) and the row reaches
    every server. MariaDB discards the relay log of a GTID replica whose two threads were both
    stopped, so the SQL thread must run before the IO thread stops: the row used to be lost while
    the recovery reported the relay log applied."""
    sb = scenario.sandbox
    if flag is not None:
        scenario.reconfigure(**{flag: True})
    value = _backlog_everywhere(scenario)
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    assert scenario.index(record["SuccessorKey"]) == 1
    assert scenario.assert_single_writable_master() == 1
    assert scenario.tree() == {1: None, 2: 1, 3: 1}
    scenario.assert_rows_everywhere(value, [1])
    after = sb.write_row(i=1)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(value, range(1, 4))
    scenario.assert_rows_everywhere(after, range(1, 4))


# ------------------------------------------------------------------------------------------ promotion rules


def test_promotion_rules_from_the_detect_query(scenario: Scenario) -> None:
    """DetectPromotionRuleQuery (read at every probe): server 1 must_not, server 2 prefer_not, server
    3 neutral. Server 1 would be the natural successor (the failed master's data center); the rules
    make it server 3, though it is in another region, and server 2 only follows."""
    sb = scenario.sandbox
    rules = {1: "must_not", 2: "prefer_not", 3: "neutral"}
    arms = " ".join(f"WHEN {sb.ports[i]} THEN '{rule}'" for i, rule in rules.items())
    scenario.reconfigure(DetectPromotionRuleQuery=f"select CASE @@port {arms} ELSE 'neutral' END")
    before = _discovered_with_a_row(scenario)
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    assert scenario.index(record["SuccessorKey"]) == 3
    assert scenario.tree() == {1: 3, 2: 3, 3: None}
    assert scenario.assert_single_writable_master() == 3
    scenario.assert_rows_everywhere(before, range(1, 4))


# ------------------------------------------------------------------------------------------ intermediate masters


def test_a_hung_intermediate_master_is_recovered(scenario: Scenario) -> None:
    """SIGSTOP the intermediate master 1 (replicas 2 and 3): the loop moves its replicas up to the
    master 0, and PostIntermediateMasterFailoverProcesses names the adopting server."""
    from tests.scenarios.test_intermediate_master import rewire

    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 1])
    before = sb.write_row()
    sb.wait_replicated()
    sb.pause(1)
    try:
        scenario.automate_until(lambda: scenario.recovered(1), rounds=60)
        [record] = scenario.recoveries_of(1)
        assert record["IsSuccessful"] is True, record
        tree = {i: p for i, p in scenario.tree().items() if i != 1}
        assert tree in ({0: None, 2: 0, 3: 0}, {0: None, 2: 0, 3: 2}, {0: None, 2: 3, 3: 0}), tree
        scenario.assert_rows_everywhere(before, (0, 2, 3))
        after = sb.write_row()
        sb.wait_replicated()
        scenario.assert_rows_everywhere(after, (0, 2, 3))
        [line] = scenario.hook_lines("PostIntermediateMasterFailoverProcesses")
        assert line.split()[2] == sb.key(1)
        assert line.split()[3] == f"{record['SuccessorKey']['Hostname']}:{record['SuccessorKey']['Port']}"
        assert scenario.hook_lines("PostMasterFailoverProcesses") == []
    finally:
        sb.resume(1)


def test_continuous_mode_leaves_an_intermediate_master_outside_the_filters(scenario: Scenario) -> None:
    """RecoverIntermediateMasterClusterFilters not selecting the cluster (the master filter does):
    the dead intermediate master is detected, nothing is moved and no recovery is recorded."""
    from tests.scenarios.test_intermediate_master import rewire

    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 1])
    scenario.reconfigure(RecoverIntermediateMasterClusterFilters=["no-such-cluster"])
    proc = _continuous(scenario)
    try:
        sb.kill(1)
        detected = _wait(lambda: any("DeadIntermediateMaster" in line for line in scenario.hook_lines()), proc)
        time.sleep(5)
    finally:
        err = _stop(proc)
    assert detected, err[-3000:]
    assert {line.split()[0] for line in scenario.hook_lines()} == {"OnFailureDetectionProcesses"}, scenario.hook_lines()
    assert scenario.recoveries_of(1) == []
    assert {i: p for i, p in scenario.tree().items() if i != 1} == {0: None, 2: 1, 3: 1}


def test_promotion_ignore_hostname_filters_matching_every_replica_fail_the_recovery(scenario: Scenario) -> None:
    """PromotionIgnoreHostnameFilters matching every replica's host (the sandbox has one host name):
    nothing may be promoted, the recovery fails with nothing changed, `recover` exits non-zero with
    one line, PostUnsuccessfulFailoverProcesses runs once and later rounds do not retry."""
    from tests.scenarios.test_master_failover import _fail_master, _failed_failover_changed_nothing

    scenario.reconfigure(PromotionIgnoreHostnameFilters=[r"^127\.0\.0\."])
    before = _fail_master(scenario)
    record = _failed_failover_changed_nothing(scenario, before)
    assert "PromotionIgnoreHostnameFilters" in " ".join(record["AllErrors"]), record["AllErrors"]


def test_dead_master_of_a_file_pos_cluster(filepos_scenario: Scenario) -> None:
    """A MariaDB file:pos cluster loses its master; server 2's SQL thread was stopped with a backlog
    and server 3 was fully stopped (both threads) with one too. The siblings follow the successor
    by file:pos (they all executed as much as it did once their relay logs were applied)."""
    scenario = filepos_scenario
    sb = scenario.sandbox
    before = _discovered_with_a_row(scenario)
    for i in (2, 3):
        sb.execute(i, "STOP SLAVE SQL_THREAD")
    backlog = sb.write_row()
    position = sb.query(FAILED, "SHOW MASTER STATUS")[0]
    for i in (1, 2, 3):
        deadline = time.monotonic() + 30
        while True:
            status = sb.replica_status(i)
            assert status is not None
            if int(status["Read_Master_Log_Pos"]) == int(position["Position"]):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
    sb.execute(3, "STOP SLAVE")
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    assert scenario.index(record["SuccessorKey"]) == 1
    assert scenario.tree() == {1: None, 2: 1, 3: 1}
    assert {i: _using_gtid(sb, i) for i in (2, 3)} == {2: "No", 3: "No"}
    after = sb.write_row(i=1)
    deadline = time.monotonic() + 30
    while sb.count_rows(3, after) == 0 or sb.count_rows(2, after) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    scenario.assert_rows_everywhere(before, range(1, 4))
    scenario.assert_rows_everywhere(backlog, range(1, 4))
    scenario.assert_rows_everywhere(after, range(1, 4))


def test_a_discarded_relay_log_backlog_is_reported_lost_not_applied(scenario: Scenario) -> None:
    """Every replica received a row, then an operator stopped replication entirely (both threads)
    before it was applied. MariaDB discards a GTID replica's relay log when its threads restart, and
    the master is dead: the row is gone. The recovery promotes server 1 and its steps say the
    backlog is lost (they used to say it was being applied)."""
    sb = scenario.sandbox
    value = _backlog_everywhere(scenario)
    for i in (1, 2, 3):
        sb.execute(i, "STOP SLAVE")
    scenario.discover_all()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    assert scenario.index(record["SuccessorKey"]) == 1
    steps = "\n".join(step["Message"] for step in record["Steps"])
    assert "applying the rest of its relay log" not in steps, steps
    assert f"{sb.key(1)}: the rest of its relay log" in steps and "those transactions are lost" in steps, steps
    assert all(sb.count_rows(i, value) == 0 for i in (1, 2, 3))


def test_continuous_mode_alias_filter_follows_the_cluster_through_two_failovers(scenario: Scenario) -> None:
    """RecoverMasterClusterFilters selects the cluster by its alias (DetectClusterAliasQuery): the
    cluster is renamed after its new master by the first failover, and the alias, hence the
    filter, still selects it, so the new master's own failure (after an acknowledgement) is
    recovered automatically too."""
    sb = scenario.sandbox
    scenario.reconfigure(DetectClusterAliasQuery="select 'prod-main'", RecoverMasterClusterFilters=["alias=prod-main"])
    before = _discovered_with_a_row(scenario)
    proc = _continuous(scenario)
    try:
        sb.kill(FAILED)
        first = _wait(lambda: scenario.recovered(FAILED), proc)
        assert first, _stop(proc)[-3000:]
        [record] = scenario.recoveries_of(FAILED)
        new = scenario.index(record["SuccessorKey"])
        assert new == 1, record
        scenario.ok("-c", "ack-all-recoveries", "--reason", "test")
        _wait(lambda: scenario.tree().get(2) == 1 and scenario.tree().get(3) == 1, proc, seconds=10)
        sb.kill(1)
        second = _wait(lambda: scenario.recovered(1), proc)
    finally:
        err = _stop(proc)
    assert second, err[-3000:]
    [record] = scenario.recoveries_of(1)
    assert record["IsSuccessful"] is True, record
    successor = scenario.index(record["SuccessorKey"])
    assert successor in (2, 3)
    assert scenario.assert_single_writable_master() == successor
    scenario.assert_rows_everywhere(before, (2, 3))


def test_a_failing_detection_hook_delays_the_recovery_by_one_round(scenario: Scenario) -> None:
    """OnFailureDetectionProcesses failing stops that attempt (non-zero exit, one line, nothing
    changed); the detection is registered, so the next round does not run the hook again and
    recovers (spec §3.2 step 5 quirk, §6 item 3)."""
    sb = scenario.sandbox
    marker = scenario.hooks_log.parent / "detected.log"
    scenario.reconfigure(OnFailureDetectionProcesses=[f"echo {{failureType}} >> {marker}; exit 3"])
    before = _discovered_with_a_row(scenario)
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    attempts = [r for k, code, r in scenario.recover_results if k == sb.key(FAILED) and code == "DeadMaster"]
    assert len(attempts) == 2, [(r.code, r.out, r.err) for r in attempts]
    assert attempts[0].code != 0 and attempts[0].out == "", attempts[0]
    # the hook's own ERROR log line, then the command's error
    last = attempts[0].err.splitlines()[-1]
    assert last.startswith("orchestrator: recover: OnFailureDetectionProcesses failed: "), attempts[0].err
    assert attempts[1].code == 0 and attempts[1].lines == [sb.key(1)]
    assert marker.read_text().split() == ["DeadMaster"]
    assert scenario.assert_single_writable_master() == 1
    scenario.assert_rows_everywhere(before, range(1, 4))
