"""Dead intermediate master, driven by the automation loop under the production config (spec §3.9).

Data centers by server index: dc-east-1, dc-east-1, dc-east-2, dc-west. Each test wires the four
servers into a layout with an intermediate master (IM), shuts the IM down cleanly (`mysqladmin
shutdown`), and lets the loop (discover all, analyse, `recover -i` every entry) repair it. Then it
checks the tree the servers report, read_only everywhere, the recovery record (which plan, which
successor), the PostIntermediateMasterFailoverProcesses line, and that rows written before and after
the failure are on every live server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.scenarios.harness import Scenario, prepare_servers

Layout = list[int | None]


def rewire(scenario: Scenario, parents: Layout) -> None:
    """Wire the sandbox as `parents`; the root writable, every replica read-only, as in production."""
    sb = scenario.sandbox
    sb.reset_replication(layout=parents)
    for i, parent in enumerate(parents):
        sb.execute(i, f"SET GLOBAL read_only = {0 if parent is None else 1}")
    prepare_servers(sb)
    scenario.discover_all()
    assert scenario.known_instances() == sorted(sb.keys)


def fail_intermediate_master(scenario: Scenario, im: int, expected: Mapping[int, int | None]) -> str:
    """Write a row, shut the IM down, run the loop until the servers form `expected`; returns the row."""
    sb = scenario.sandbox
    before = sb.write_row()
    sb.wait_replicated()
    sb.shutdown(im)
    scenario.automate_until(lambda: scenario.tree() == dict(expected))
    return before


def the_recovery(scenario: Scenario, im: int) -> Mapping[str, Any]:
    [record] = scenario.recoveries()
    assert record["AnalysisEntry"]["AnalyzedInstanceKey"]["Port"] == scenario.sandbox.ports[im]
    assert record["AnalysisEntry"]["Analysis"].startswith("DeadIntermediateMaster"), record["AnalysisEntry"]
    assert record["IsSuccessful"] is True, record["AllErrors"]
    return record


def successor_of(record: Mapping[str, Any]) -> str:
    key = record["SuccessorKey"]
    return f"{key['Hostname']}:{key['Port']}"


def plan_steps(record: Mapping[str, Any]) -> list[str]:
    return [s["Message"] for s in record["Steps"] if s["Message"].startswith("plan ")]


def assert_healthy(scenario: Scenario, master: int, dead: int, before: str) -> None:
    """One writable master, every other live server read-only, old and new data everywhere alive."""
    sb = scenario.sandbox
    live = [i for i in range(len(sb.ports)) if i != dead]
    assert scenario.assert_single_writable_master() == master
    assert {i: ro for i, ro in scenario.read_only().items()} == {i: int(i != master) for i in live}
    scenario.assert_rows_everywhere(before, live)
    after = sb.write_row(i=master)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, live)


def assert_one_hook_line(scenario: Scenario, im: int, successor: str) -> None:
    sb = scenario.sandbox
    [line] = scenario.hook_lines("PostIntermediateMasterFailoverProcesses")
    kind, failure, failed, succ, _ = line.split()
    assert (kind, failed, succ) == ("PostIntermediateMasterFailoverProcesses", sb.key(im), successor)
    assert failure.startswith("DeadIntermediateMaster")
    assert scenario.hook_lines("PostMasterFailoverProcesses") == []
    assert len(scenario.hook_lines("PostFailoverProcesses")) == 1


def test_plan_a_relocates_below_a_sibling_in_the_same_data_center(scenario: Scenario) -> None:
    """Master 2 (dc-east-2); IM 0 and its sibling 1 both in dc-east-1; 3 below the IM → 3 below 1."""
    sb = scenario.sandbox
    rewire(scenario, [2, 2, None, 0])
    before = fail_intermediate_master(scenario, 0, {1: 2, 2: None, 3: 1})
    record = the_recovery(scenario, 0)
    assert successor_of(record) == sb.key(1)
    steps = plan_steps(record)
    assert steps[-1] == f"plan A: 1 moved below {sb.key(1)}", steps
    assert not any(s.startswith(("plan B", "plan C", "plan D")) for s in steps), steps
    assert_one_hook_line(scenario, 0, sb.key(1))
    assert_healthy(scenario, master=2, dead=0, before=before)


def test_plan_c_relocates_below_a_sibling_in_another_data_center(scenario: Scenario) -> None:
    """The issue's reproduction: master 0, replicas 1 and 3, 2 below 1; shut 1 down → 2 below 3.

    The only sibling (3, dc-west) is in another data center than the IM (dc-east-1): plan A does not
    apply, plan B has a single replica to regroup, plan C moves it below the sibling; the IM's master
    is not used (plan D).
    """
    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 0])
    before = fail_intermediate_master(scenario, 1, {0: None, 2: 3, 3: 0})
    record = the_recovery(scenario, 1)
    assert successor_of(record) == sb.key(3)
    steps = plan_steps(record)
    assert steps[-1] == f"plan C: 1 moved below {sb.key(3)}", steps
    assert any(s.startswith("plan B") for s in steps), steps
    assert not any(s.startswith(("plan A", "plan D")) for s in steps), steps
    assert_one_hook_line(scenario, 1, sb.key(3))
    assert_healthy(scenario, master=0, dead=1, before=before)


def test_plan_b_regroups_the_replicas_and_plan_d_moves_them_up(scenario: Scenario) -> None:
    """Master 0, IM 1 with replicas 2 and 3, no sibling: one of them takes the other (plan B), then
    goes below the IM's master (plan D); the regrouped replica is the successor."""
    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 1])
    before = sb.write_row()
    sb.wait_replicated()
    sb.shutdown(1)

    def regrouped_below_master() -> bool:
        tree = scenario.tree()
        return sorted(tree.items()) in ([(0, None), (2, 0), (3, 2)], [(0, None), (2, 3), (3, 0)])

    scenario.automate_until(regrouped_below_master)
    tree = scenario.tree()
    local_master = 2 if tree[2] == 0 else 3
    record = the_recovery(scenario, 1)
    assert successor_of(record) == sb.key(local_master)
    steps = plan_steps(record)
    assert f"plan B: {sb.key(local_master)} took 1 sibling(s)" in steps, steps
    assert steps[-1] == f"plan D: 1 moved below {sb.key(0)}", steps
    assert not any(s.startswith(("plan A", "plan C")) for s in steps), steps
    assert_one_hook_line(scenario, 1, sb.key(local_master))
    assert_healthy(scenario, master=0, dead=1, before=before)


def test_plan_d_moves_up_when_the_only_sibling_is_banned(scenario: Scenario) -> None:
    """As the issue's layout, but the sibling 3 is `must_not`: no valid sibling, so 2 goes below the
    IM's master 0 (plan D), and the single replica (its own regroup) is the successor."""
    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 0])
    scenario.ok("-c", "register-candidate", "-i", sb.key(3), "--promotion-rule", "must_not")
    before = fail_intermediate_master(scenario, 1, {0: None, 2: 0, 3: 0})
    record = the_recovery(scenario, 1)
    assert successor_of(record) == sb.key(2)
    steps = plan_steps(record)
    assert steps[-1] == f"plan D: 1 moved below {sb.key(0)}", steps
    assert not any(s.startswith(("plan A", "plan C")) for s in steps), steps
    assert "no valid sibling" in " ".join(s["Message"] for s in record["Steps"])
    assert_one_hook_line(scenario, 1, sb.key(2))
    assert_healthy(scenario, master=0, dead=1, before=before)


def test_continuous_mode_takes_plan_c_too(scenario: Scenario) -> None:
    """The issue's reproduction under `continuous` instead of the cron loop: 2 goes below the sibling 3."""
    import signal
    import subprocess
    import sys
    import time

    from tests.support import ROOT

    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 0])
    before = sb.write_row()
    sb.wait_replicated()
    command = [sys.executable, "-m", "orchestrator_cli", f"--config={scenario.config}", "-c", "continuous"]
    proc = subprocess.Popen(
        [*command, "--duration", "5m"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sb.shutdown(1)
        deadline = time.monotonic() + 90
        while scenario.tree() != {0: None, 2: 3, 3: 0} and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert scenario.tree() == {0: None, 2: 3, 3: 0}, err[-2000:]
    record = the_recovery(scenario, 1)
    assert successor_of(record) == sb.key(3)
    assert plan_steps(record)[-1] == f"plan C: 1 moved below {sb.key(3)}"
    assert_one_hook_line(scenario, 1, sb.key(3))
    assert_healthy(scenario, master=0, dead=1, before=before)


def test_a_dead_replica_of_the_dead_intermediate_master_is_lost_not_fatal(scenario: Scenario) -> None:
    """IM 1 has replicas 2 and 3, and 3 dies with it: the live replica 2 is recovered (plan B: alone,
    plan D: below 0) and 3 is reported lost instead of failing the recovery."""
    sb = scenario.sandbox
    rewire(scenario, [None, 0, 1, 1])
    before = sb.write_row()
    sb.wait_replicated()
    sb.shutdown(3)
    sb.shutdown(1)
    scenario.automate_until(lambda: scenario.tree() == {0: None, 2: 0})
    record = the_recovery(scenario, 1)
    assert successor_of(record) == sb.key(2)
    assert [f"{k['Hostname']}:{k['Port']}" for k in record["LostReplicas"]] == [sb.key(3)]
    assert plan_steps(record)[-1] == f"plan D: 1 moved below {sb.key(0)}"
    assert_one_hook_line(scenario, 1, sb.key(2))
    live = [0, 2]
    assert scenario.read_only() == {0: 0, 2: 1}
    scenario.assert_rows_everywhere(before, live)
