"""Planned master changes on the sandbox: graceful takeovers and forced failover/takeover."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import REPL_PASSWORD, REPL_USER, Sandbox
from tests.integration.test_refactoring_helpers import changes_of, general_log, using_gtid
from tests.support import Result, run_cli


@pytest.fixture
def reshaped(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def setup(sb: Sandbox, tmp_path: Path, **extra: object) -> Path:
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        ReplicationCredentialsQuery=f"SELECT '{REPL_USER}', '{REPL_PASSWORD}'",
        **extra,
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config


def cli(config: Path, *args: str) -> Result:
    return run_cli(*args, config=config)


def read_only(sb: Sandbox, i: int) -> int:
    return int(sb.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])


def assert_switched(sb: Sandbox, new: int, before: list[str]) -> None:
    """Everyone replicates from `new` (the old master too), nothing written before was lost."""
    parents = sb.replication_parents()
    assert parents == {i: (None if i == new else new) for i in range(4)}, parents
    assert read_only(sb, new) == 0 and read_only(sb, 0) == 1
    assert all(sb.count_rows(new, v) == 1 for v in before)
    after = sb.write_row(i=new)
    sb.wait_replicated()
    assert all(sb.count_rows(i, after) == 1 for i in range(4))


def test_graceful_takeover_to_a_designated_replica(reshaped: Sandbox, tmp_path: Path) -> None:
    sb = reshaped
    hooks = tmp_path / "hooks.log"
    config = setup(
        sb,
        tmp_path,
        PreGracefulTakeoverProcesses=[
            f"echo pregraceful {{command}} {{failedHost}}:{{failedPort}} {{successorHost}}:{{successorPort}}"
            f" $ORC_SUCCESSOR_HOST:$ORC_SUCCESSOR_PORT {{isSuccessful}} >> {hooks}"
        ],
        PostFailoverProcesses=[f"echo post $ORC_COMMAND {{successorHost}}:{{successorPort}} >> {hooks}"],
        PostGracefulTakeoverProcesses=[f"echo postgraceful {{successorHost}}:{{successorPort}} >> {hooks}"],
    )
    before = [sb.write_row(i=0) for _ in range(5)]
    result = cli(config, "-c", "graceful-master-takeover", "--alias", sb.key(0), "-d", sb.key(1))
    assert result.code == 0, result.err
    assert result.lines[0] == sb.key(1)
    assert result.lines[1].startswith("mysql-bin.") and ":" in result.lines[1]
    # The plain variant configures the old master below the new one and leaves it stopped (as the
    # original): the operator inspects it and starts it.
    status = sb.replica_status(0)
    assert status is not None and status["Master_Port"] == sb.ports[1], status
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    assert status["Master_User"] == REPL_USER
    assert cli(config, "-c", "is-replicating", "-i", sb.key(0)).lines == []
    assert cli(config, "-c", "which-lost-in-recovery").lines == [sb.key(0)]
    assert cli(config, "-c", "start-replica", "-i", sb.key(0)).code == 0
    assert cli(config, "-c", "is-replicating", "-i", sb.key(0)).lines == [sb.key(0)]
    assert_switched(sb, 1, before)
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["Acknowledged"] is True and not recovery["IsActive"]  # a switchover does not block failovers
    assert cli(config, "-c", "which-replicas", "-i", sb.key(1)).lines == sorted(sb.key(i) for i in (0, 2, 3))
    assert hooks.read_text().splitlines() == [
        f"pregraceful graceful-master-takeover {sb.key(0)} {sb.key(1)} {sb.key(1)} true",
        f"post graceful-master-takeover {sb.key(1)}",
        f"postgraceful {sb.key(1)}",
    ]


def test_graceful_takeover_needs_a_target_among_several_replicas(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = fresh_sandbox
    config = setup(sb, tmp_path)
    result = cli(config, "-c", "graceful-master-takeover", "-i", sb.key(0))
    assert result.code == 1
    assert "target instance not indicated" in result.err
    assert sb.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
    assert read_only(sb, 0) == 0
    elsewhere = cli(config, "-c", "graceful-master-takeover", "-i", sb.key(0), "-d", "127.0.0.1:1")
    assert elsewhere.code == 1 and "directly replicating" in elsewhere.err
    assert read_only(sb, 0) == 0


def test_graceful_takeover_auto_picks_the_preferred_replica(reshaped: Sandbox, tmp_path: Path) -> None:
    sb = reshaped
    config = setup(sb, tmp_path)
    assert cli(config, "-c", "register-candidate", "-i", sb.key(2), "--promotion-rule", "prefer").code == 0
    before = [sb.write_row(i=0)]
    result = cli(config, "-c", "graceful-master-takeover-auto", "-i", sb.key(3))
    assert result.code == 0, result.err
    assert result.lines[0] == sb.key(2)
    assert_switched(sb, 2, before)


def test_graceful_takeover_names_each_gtid_mode(reshaped: Sandbox, tmp_path: Path) -> None:
    """The siblings move below the successor keeping their mode (current_pos stays current_pos); the
    demoted master is attached with current_pos (its own writes are in its binary log). Every
    CHANGE MASTER that points somewhere names its mode."""
    sb = reshaped
    config = setup(sb, tmp_path)
    sb.execute(3, "STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=current_pos", "START SLAVE")
    before = using_gtid(sb, 1, 3)
    assert before == {1: "Slave_Pos", 3: "Current_Pos"}
    rows = [sb.write_row(i=0)]
    with general_log(sb, 0, 1, 3) as received:
        result = cli(config, "-c", "graceful-master-takeover-auto", "--alias", sb.key(0), "-d", sb.key(2))
    assert result.code == 0, result.err
    assert result.lines[0] == sb.key(2)
    assert using_gtid(sb, 1, 3) == before
    assert using_gtid(sb, 0) == {0: "Current_Pos"}
    host = f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sb.ports[2]}"
    assert changes_of(received[1]) == [f"{host}, MASTER_USE_GTID=slave_pos"]
    assert changes_of(received[3]) == [f"{host}, MASTER_USE_GTID=current_pos"]
    pointing = [c for c in changes_of(received[0]) if "MASTER_HOST" in c]
    assert pointing == [f"{host}, MASTER_USE_GTID=current_pos"]
    assert_switched(sb, 2, rows)


def test_force_master_takeover(reshaped: Sandbox, tmp_path: Path) -> None:
    sb = reshaped
    config = setup(sb, tmp_path)
    before = [sb.write_row(i=0)]
    result = cli(config, "-c", "force-master-takeover", "--alias", sb.key(0), "-d", sb.key(3))
    assert result.code == 0, result.err
    assert result.lines == [sb.key(3)]
    parents = sb.replication_parents()
    assert {i: parents[i] for i in (1, 2, 3)} == {1: 3, 2: 3, 3: None}
    assert read_only(sb, 0) == 1  # the old master answered: it was demoted before the promotion
    assert sb.count_rows(3, before[0]) == 1
    assert cli(config, "-c", "which-lost-in-recovery").lines == [sb.key(0)]
    not_child = cli(config, "-c", "force-master-takeover", "--alias", sb.key(3), "-d", sb.key(0))
    assert not_child.code == 1 and "direct child" in not_child.err


def test_force_master_failover(reshaped: Sandbox, tmp_path: Path) -> None:
    sb = reshaped
    config = setup(sb, tmp_path)
    result = cli(config, "-c", "force-master-failover", "-i", sb.key(2))
    assert result.code == 0, result.err
    promoted = sb.index_of(result.lines[0])
    assert promoted in (1, 2, 3)
    parents = sb.replication_parents()
    assert all(parents[i] == promoted for i in (1, 2, 3) if i != promoted)
    assert read_only(sb, promoted) == 0 and read_only(sb, 0) == 1
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["AnalysisEntry"]["Analysis"] == "DeadMaster"
