"""The harness itself under the production config: discovery reads every user query by position."""

from __future__ import annotations

from tests.scenarios.harness import DATA_CENTERS, REGIONS, Scenario


def test_discovery_reads_data_centers_regions_and_lag_by_position(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    assert scenario.known_instances() == sorted(sb.keys)
    assert scenario.analysis() == []
    scenario.set_lag(2, 42)
    scenario.discover_all()
    for i, key in enumerate(sb.keys):
        row = scenario.instance_row(key)
        assert (row["data_center"], row["region"], row["physical_environment"]) == (DATA_CENTERS[i], REGIONS[i], "prod")
    assert scenario.instance_row(sb.key(2))["slave_lag_seconds"] == 42
    assert scenario.instance_row(sb.key(1))["slave_lag_seconds"] == 0


def test_automation_loop_replaces_a_killed_master(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(0)

    def converged() -> bool:
        tree = scenario.tree()
        roots = [i for i, parent in tree.items() if parent is None]
        return len(roots) == 1 and all(parent == roots[0] for i, parent in tree.items() if i != roots[0])

    scenario.automate_until(converged)
    master = scenario.assert_single_writable_master()
    scenario.assert_rows_everywhere(before, [i for i in range(1, 4)])
    assert [r["AnalysisEntry"]["Analysis"] for r in scenario.recoveries()] == ["DeadMaster"]
    assert len(scenario.hook_lines("PostMasterFailoverProcesses")) == 1
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[1:3] == ["DeadMaster", sb.key(0)]
    assert scenario.hook_lines("PostMasterFailoverProcesses")[0].split()[3] == sb.key(master)
