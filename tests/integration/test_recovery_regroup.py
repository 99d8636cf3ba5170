"""`regroup-replicas` and `regroup-replicas-gtid` on a live sandbox master."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_refactoring_helpers import changes_of, general_log, using_gtid
from tests.support import run_cli


@pytest.fixture
def reshaped(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def setup(sb: Sandbox, tmp_path: Path) -> Path:
    config = sb.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config


@pytest.mark.parametrize(
    ("command", "summary"),
    [("regroup-replicas", "lost: 0, trivial: 0, pseudo-gtid: 2"), ("regroup-slaves-gtid", "lost: 0, moved: 2")],
)
def test_regroup_below_the_preferred_replica(reshaped: Sandbox, tmp_path: Path, command: str, summary: str) -> None:
    sb = reshaped
    config = setup(sb, tmp_path)
    assert run_cli("-c", "register-candidate", "-i", sb.key(2), "--promotion-rule", "prefer", config=config).code == 0
    assert run_cli("-c", "get-candidate-replica", "-i", sb.key(0), config=config).lines == [sb.key(2)]
    result = run_cli("-c", command, "-i", sb.key(0), config=config)
    assert result.code == 0, result.err
    assert result.lines == [sb.key(2), f"{sb.key(2)} {summary}"]
    assert sb.replication_parents() == {0: None, 1: 2, 2: 0, 3: 2}
    value = sb.write_row(i=0)
    sb.wait_replicated()
    assert all(sb.count_rows(i, value) == 1 for i in (1, 2, 3))
    replicas = run_cli("-c", "which-replicas", "-i", sb.key(2), config=config).lines
    assert sorted(replicas) == sorted([sb.key(1), sb.key(3)])


def test_regroup_of_an_unknown_or_leaf_instance_fails(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = fresh_sandbox
    config = setup(sb, tmp_path)
    leaf = run_cli("-c", "regroup-replicas", "-i", sb.key(3), config=config)
    assert leaf.code == 1 and "No replicas found" in leaf.err
    unknown = run_cli("-c", "regroup-replicas", "-i", "127.0.0.1:1", config=config)
    assert unknown.code == 1 and "not found" in unknown.err
    assert sb.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}


def test_regroup_names_each_gtid_mode_and_keeps_it(reshaped: Sandbox, tmp_path: Path) -> None:
    """The preferred replica is behind: it catches up from a sibling by GTID, is pointed back at the
    master, and the siblings move below it. Every CHANGE MASTER names the mode the replica had
    (current_pos stays current_pos), and Using_Gtid is what it was."""
    sb = reshaped
    config = setup(sb, tmp_path)
    assert run_cli("-c", "register-candidate", "-i", sb.key(2), "--promotion-rule", "prefer", config=config).code == 0
    sb.execute(3, "STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=current_pos", "START SLAVE")
    sb.execute(2, "STOP SLAVE")  # the preferred replica falls behind
    missed = sb.write_row(i=0)
    position = sb.query(0, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"]
    for i in (1, 3):
        sb.query(i, "SELECT MASTER_GTID_WAIT(%s, 10)", (position,))
    assert (sb.count_rows(1, missed), sb.count_rows(2, missed), sb.count_rows(3, missed)) == (1, 0, 1)
    before = using_gtid(sb, 1, 2, 3)
    assert before == {1: "Slave_Pos", 2: "Slave_Pos", 3: "Current_Pos"}
    with general_log(sb, 1, 2, 3) as received:
        result = run_cli("-c", "regroup-slaves-gtid", "-i", sb.key(0), config=config)
    assert result.code == 0, result.err
    assert sb.replication_parents() == {0: None, 1: 2, 2: 0, 3: 2}
    assert using_gtid(sb, 1, 2, 3) == before
    host = "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT="
    caught_up, pointed_back = changes_of(received[2])
    assert caught_up in (
        f"{host}{sb.ports[1]}, MASTER_USE_GTID=slave_pos",
        f"{host}{sb.ports[3]}, MASTER_USE_GTID=slave_pos",
    )
    assert pointed_back == f"{host}{sb.ports[0]}, MASTER_USE_GTID=slave_pos"
    assert changes_of(received[1]) == [f"{host}{sb.ports[2]}, MASTER_USE_GTID=slave_pos"]
    assert changes_of(received[3]) == [f"{host}{sb.ports[2]}, MASTER_USE_GTID=current_pos"]
    assert sb.count_rows(2, missed) == 1
    value = sb.write_row(i=0)
    sb.wait_replicated()
    assert all(sb.count_rows(i, value) == 1 for i in (1, 2, 3))


def test_regroup_replicas_bls_without_binlog_servers_fails_and_changes_nothing(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """MariaDB replicas answer the MaxScale check with no row: none is a binlog server, so nothing is
    promoted, no replica is stopped or repointed, and no maintenance lock is left."""
    sb = fresh_sandbox
    config = setup(sb, tmp_path)
    before = sb.replication_parents()
    result = run_cli("-c", "regroup-replicas-bls", "-i", sb.key(0), config=config)
    assert result.code == 1 and result.out == ""
    assert result.err.strip().count("\n") == 0
    assert f"Could not regroup binlog server replicas of {sb.key(0)}: it has no binlog server replicas" in result.err
    leaf = run_cli("-c", "regroup-replicas-bls", "-i", sb.key(3), config=config)
    assert leaf.code == 1 and f"Could not regroup binlog server replicas of {sb.key(3)}: it has no replicas" in leaf.err
    unknown = run_cli("-c", "regroup-replicas-bls", "-i", "127.0.0.1:1", config=config)
    assert unknown.code == 1 and "instance not found: 127.0.0.1:1" in unknown.err
    assert sb.replication_parents() == before
    assert all(
        sb.replicating(i)["Slave_SQL_Running"] == sb.replicating(i)["Slave_IO_Running"] == "Yes" for i in (1, 2, 3)
    )
    assert run_cli("-c", "in-maintenance", "-i", sb.key(1), config=config).lines == []  # no lock left
