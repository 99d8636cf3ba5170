"""What the backend shows right after a change, with no discovery pass in between.

Cron-only deployments read `topology` and `clusters` right after a takeover or a move; the rows of the
whole subtree that changed master (cluster name, depth) must be right at once.
"""

from __future__ import annotations

from tests.scenarios.harness import Scenario


def _depths(scenario: Scenario, key: str) -> dict[str, int]:
    """Instance → depth in the plain `topology` output (two spaces of indent per level)."""
    depths = {}
    for line in scenario.ok("-c", "topology", "-i", key).lines:
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 2
        name = stripped.removeprefix("+ ").split()[0]
        depths[name] = indent + (1 if stripped.startswith("+ ") else 0)
    return depths


def test_takeover_renames_the_cluster_of_every_instance_below(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.ok("-c", "relocate", "-i", sb.key(3), "-d", sb.key(1))
    scenario.ok("-c", "graceful-master-takeover-auto", "-i", sb.key(0), "-d", sb.key(2))

    assert scenario.ok("-c", "clusters").lines == [sb.key(2)]
    assert _depths(scenario, sb.key(2)) == {sb.key(2): 0, sb.key(0): 1, sb.key(1): 1, sb.key(3): 2}
    assert scenario.ok("-c", "which-cluster", "-i", sb.key(3)).lines == [sb.key(2)]


def test_moving_an_intermediate_master_updates_the_depth_below_it(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.ok("-c", "relocate", "-i", sb.key(3), "-d", sb.key(1))
    scenario.ok("-c", "relocate", "-i", sb.key(1), "-d", sb.key(2))

    assert _depths(scenario, sb.key(0)) == {sb.key(0): 0, sb.key(2): 1, sb.key(1): 2, sb.key(3): 3}
