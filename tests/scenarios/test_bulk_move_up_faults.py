"""`move-up-replicas` and `match-up-replicas` killed (`kill -9`) after some replicas moved, then retried.

A five-server chain 0<1<2<{3,4}: the bulk command on 2 moves 3 and 4 up below 1, one operation each.
The process is frozen at a chosen step of one replica's move and killed there; automation retries the
same command. The retry must finish the move: every replica of 2 ends below 1 (none moved a second
level up, below 0), replication runs everywhere, no lock is left, and the retry itself succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_refactoring_helpers import Frozen
from tests.scenarios.harness import CREDENTIALS_QUERY, Scenario, prepare_servers
from tests.scenarios.test_relocate_faults import Tree, assert_settled, audit_rows

CHAIN: list[int | None] = [None, 0, 1, 2, 2]  # 0<1<2<{3,4}
MOVED: Tree = {0: None, 1: 0, 2: 1, 3: 1, 4: 1}


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path, mariadbd_binary: str) -> Iterator[Sandbox]:
    """One five-server sandbox for the module (the session one has four); rewired by each test."""
    sb = Sandbox(
        servers=5,
        layout=CHAIN,
        base_dir=tmp_path_factory.mktemp("five"),
        mariadbd=mariadbd_binary,
        template_dir=sandbox_template,
    )
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


def chain_scenario(sb: Sandbox, tmp_path: Path, *, gtid: bool, **settings: object) -> Scenario:
    sb.reset_replication(layout=CHAIN, gtid=gtid)
    for i in range(1, 5):
        sb.execute(i, "SET GLOBAL read_only = 1")
    prepare_servers(sb)
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        ReplicationCredentialsQuery=CREDENTIALS_QUERY,
        **settings,
    )
    return Scenario(sb, config, tmp_path / "hooks.log")


def killed_then_retried(scenario: Scenario, command: str, step: str, on: str) -> list[str]:
    """Run `command -i 2`, kill it at `step` of the `on` ("first" or "second") replica's move, check
    that the first had moved by then; retry it. The replicas move in the backend's order, by port."""
    sb = scenario.sandbox
    k = sb.key
    first, second = sorted((3, 4), key=lambda i: sb.ports[i])
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    bulk = ("-c", command, "-i", k(2))
    Frozen(scenario.config, step, k(first if on == "first" else second), *bulk).kill_9()
    tree = scenario.tree()
    assert tree[first] == 1, f"{first} had not moved before the kill: {tree}"
    assert set(tree.values()) <= {None, 0, 1, 2}, f"something moved too far up: {tree}"
    moved = scenario.ok(*bulk).lines
    assert_settled(scenario, MOVED, written)
    return moved


@pytest.mark.parametrize(
    ("gtid", "step", "on"),
    [
        (True, "changed", "second"),
        (True, "started", "first"),
        (False, "stopped", "second"),
        (False, "changed", "second"),
        (False, "started", "first"),
        (True, "audited", "first"),
        (False, "audited", "first"),
    ],
    ids=lambda v: str(v).replace("True", "gtid").replace("False", "filepos"),
)
def test_move_up_replicas_killed_midway_is_finished_by_a_retry(
    five: Sandbox, tmp_path: Path, gtid: bool, step: str, on: str
) -> None:
    scenario = chain_scenario(five, tmp_path, gtid=gtid)
    moved = killed_then_retried(scenario, "move-up-replicas", step, on)
    k = five.key
    assert moved and set(moved) <= {k(3), k(4), k(1)}, moved
    audited = [str(r["message"]) for r in audit_rows(scenario, "move-up")]
    assert not [m for m in audited if "failed" in m], audited


@pytest.mark.parametrize(
    ("gtid", "step", "on"),
    [
        (False, "changed", "second"),
        (False, "started", "first"),
        (False, "audited", "first"),
        (True, "changed", "second"),
    ],
    ids=lambda v: str(v).replace("True", "gtid").replace("False", "filepos"),
)
def test_match_up_replicas_killed_midway_is_finished_by_a_retry(
    five: Sandbox, tmp_path: Path, gtid: bool, step: str, on: str
) -> None:
    from tests.integration.test_binlog_tools import PSEUDO_GTID_CONFIG, write_with_entries

    scenario = chain_scenario(five, tmp_path, gtid=gtid, **PSEUDO_GTID_CONFIG)
    write_with_entries(five, rounds=3)
    moved = killed_then_retried(scenario, "match-up-replicas", step, on)
    k = five.key
    assert moved and set(moved) <= {k(3), k(4), k(1)}, moved
