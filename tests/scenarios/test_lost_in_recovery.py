"""The failed master stays visible as `lost-in-recovery` the way scripts read it (issue 8, item 3).

Automation: discover every known instance each second, then `recover -i` every entry
`replication-analysis` printed, stale `FirstTierReplicaFailingToConnectToMaster` entries of the
replicas included. Scripts then list downtimed instances per cluster:

    for c in $(orchestrator -c clusters); do orchestrator -c which-downtimed-instances -i $c; done

The dead master keeps its own cluster row (its backend row still names itself as the cluster, as in
the original) and stays listed there, round after round, until it replicates again or the downtime
expires.
"""

from __future__ import annotations

import time

from tests.scenarios.harness import Scenario


def downtimed_per_cluster(scenario: Scenario) -> dict[str, list[str]]:
    clusters = scenario.ok("-c", "clusters").lines
    return {c: scenario.ok("-c", "which-downtimed-instances", "-i", c).lines for c in clusters}


def test_dead_master_stays_listed_as_lost_in_recovery_under_the_automation_loop(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(0)
    dead = sb.key(0)

    def failed_over() -> bool:
        tree = scenario.tree()
        roots = [i for i, parent in tree.items() if parent is None]
        return len(roots) == 1 and all(parent == roots[0] for i, parent in tree.items() if i != roots[0])

    scenario.automate_until(failed_over)
    master = scenario.assert_single_writable_master()
    scenario.assert_rows_everywhere(before, [1, 2, 3])

    # the loop acted on stale entries too: only the dead master's entry did anything
    stale = [(i, c, r) for i, c, r in scenario.recover_results if c == "FirstTierReplicaFailingToConnectToMaster"]
    assert stale, scenario.recover_results
    for instance, _code, result in stale:
        assert (result.code, result.out) == (0, ""), result.err
        assert result.err.strip().endswith("nothing done"), result.err
        assert instance in result.err
    assert [r["AnalysisEntry"]["Analysis"] for r in scenario.recoveries()] == ["DeadMaster"]
    assert [line.split()[1] for line in scenario.hook_lines("OnFailureDetectionProcesses")] == ["DeadMaster"]

    for _ in range(5):
        assert downtimed_per_cluster(scenario) == {dead: [dead], sb.key(master): []}
        assert scenario.ok("-c", "which-lost-in-recovery").lines == [dead]
        assert downtime_of(scenario, dead) == ("lost-in-recovery", 1)
        scenario.automation_round()
        time.sleep(1)
    assert scenario.instance_row(dead)["cluster_name"] == dead

    # back, but not replicating: still lost, still listed under its own cluster, left alone by the loop
    sb.start_server(0)
    for _ in range(3):
        scenario.automation_round()
        assert downtimed_per_cluster(scenario) == {dead: [dead], sb.key(master): []}
    row = scenario.instance_row(dead)
    assert (row["cluster_name"], row["last_checked"]) == (dead, row["last_seen"])  # probed again, answered
    assert sb.replica_status(0) is None
    assert [r["AnalysisEntry"]["Analysis"] for r in scenario.recoveries()] == ["DeadMaster"]


def downtime_of(scenario: Scenario, key: str) -> tuple[str, int]:
    """(reason, active) of the instance's downtime row, as the backend holds it."""
    from orchestrator_cli.backend import downtime
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.model.keys import InstanceKey

    backend = Backend(load_config(str(scenario.config)))
    try:
        row = downtime.read(backend, InstanceKey.parse(key))
    finally:
        backend.close()
    assert row is not None, f"{key} is not downtimed"
    return str(row["reason"]), int(row["is_active"])
