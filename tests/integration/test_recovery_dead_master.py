"""`recover` against real MariaDB servers: the master is SIGKILLed and a replica takes over.

Every test kills servers of the shared session sandbox and rebuilds it afterwards (the
`killed` fixture), so later tests find the default star again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import kv
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.sandbox.topology import REPL_PASSWORD, REPL_USER, Sandbox
from tests.integration.test_refactoring_helpers import changes_of, general_log, using_gtid
from tests.support import Result, run_cli


@pytest.fixture
def killed(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The star sandbox; whatever the test kills or rewires is rebuilt afterwards."""
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def config_for(sandbox: Sandbox, tmp_path: Path, **overrides: Any) -> Path:
    return sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **overrides)


def cli(config: Path, *args: str) -> Result:
    return run_cli(*args, config=config)


def discover(sandbox: Sandbox, config: Path, i: int = 0) -> None:
    result = cli(config, "-c", "discover", "-i", sandbox.key(i))
    assert result.code == 0, result.err


def read_only(sandbox: Sandbox, i: int) -> int:
    return int(sandbox.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])


def assert_serves_all(sandbox: Sandbox, master: int, replicas: list[int]) -> None:
    """The new master is writable and a row written there reaches every replica."""
    parents = sandbox.replication_parents()
    assert parents[master] is None
    for i in replicas:
        assert parents[i] == master, parents
    assert read_only(sandbox, master) == 0
    value = sandbox.write_row(i=master)
    sandbox.wait_replicated()
    for i in replicas:
        assert sandbox.count_rows(i, value) == 1


def test_recover_without_a_failure_does_nothing(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_for(fresh_sandbox, tmp_path)
    discover(fresh_sandbox, config)
    result = cli(config, "-c", "recover", "-i", fresh_sandbox.key(0))
    assert (result.code, result.out) == (0, "")
    assert result.err == f"orchestrator: recover: {fresh_sandbox.key(0)}: no problem found; nothing done\n"
    assert cli(config, "--quiet", "-c", "recover", "-i", fresh_sandbox.key(0)).err == ""
    assert fresh_sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
    dry = cli(config, "--noop", "-c", "recover", "-i", fresh_sandbox.key(0))
    assert dry.code == 1 and "no dry run" in dry.err


def test_dead_master_is_replaced(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(0)

    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    assert len(result.lines) == 1, cli(config, "-c", "recover", "-i", sb.key(0), "--format", "json").out
    [promoted_key] = result.lines
    promoted = sb.index_of(promoted_key)
    others = [i for i in (1, 2, 3) if i != promoted]
    assert_serves_all(sb, promoted, others)
    assert all(sb.count_rows(i, before) == 1 for i in (1, 2, 3))

    assert cli(config, "-c", "which-lost-in-recovery").lines == [sb.key(0)]
    assert cli(config, "-c", "which-cluster-master", "-i", promoted_key).lines == [promoted_key]
    assert cli(config, "-c", "replication-analysis").lines == []

    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["IsSuccessful"] is True
    assert recovery["AnalysisEntry"]["Analysis"] == "DeadMaster"
    assert recovery["SuccessorKey"] == {"Hostname": "127.0.0.1", "Port": sb.ports[promoted]}
    assert sorted(f"{k['Hostname']}:{k['Port']}" for k in recovery["ParticipatingInstanceKeys"]) == sorted(
        [promoted_key, *(sb.key(i) for i in others)]
    )
    assert any("RESET SLAVE ALL" in s["Message"] or "set writable" in s["Message"] for s in recovery["Steps"])
    # the new master is published where service discovery reads it
    backend = Backend(load_config(str(config)))
    try:
        pairs = {r["store_key"]: r["store_value"] for r in kv.read_prefix(backend, "mysql/master/")}
    finally:
        backend.close()
    assert pairs[f"mysql/master/{sb.key(0)}"] == promoted_key
    assert pairs[f"mysql/master/{sb.key(0)}/port"] == str(sb.ports[promoted])


def test_dead_master_and_a_dead_replica(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    sb.kill(3)
    sb.kill(0)
    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    promoted = sb.index_of(result.lines[0])
    assert promoted in (1, 2)
    assert_serves_all(sb, promoted, [3 - promoted])
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["AnalysisEntry"]["Analysis"] == "DeadMasterAndSomeReplicas"
    assert recovery["LostReplicas"] == [{"Hostname": "127.0.0.1", "Port": sb.ports[3]}]
    assert cli(config, "-c", "which-lost-in-recovery").lines == sorted([sb.key(0), sb.key(3)])


def wait_applied(sb: Sandbox, replica: int, master: int = 0) -> None:
    """Wait until `replica` applied everything `master` has written so far (MariaDB GTID positions
    are kept in file:pos replication too). A wait on the replica's own gtid_slave_pos returns at once."""
    position = sb.query(master, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"]
    row = sb.query(replica, "SELECT MASTER_GTID_WAIT(%s, 20) AS waited", (position,))[0]
    assert row["waited"] == 0, f"server {replica} did not apply {position} of server {master}"


def test_prefer_candidate_beats_a_more_advanced_neutral(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    assert cli(config, "-c", "register-candidate", "-i", sb.key(1), "--promotion-rule", "prefer").code == 0
    sb.execute(1, "STOP SLAVE")  # the preferred replica falls behind
    missed = [sb.write_row(i=0) for _ in range(3)]
    wait_applied(sb, 2)
    sb.query(3, "SELECT 1")
    assert sb.count_rows(1, missed[-1]) == 0
    sb.kill(0)

    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    assert result.lines == [sb.key(1)]
    # zero lost transactions: it caught up from the more advanced replicas before promotion
    assert all(sb.count_rows(1, v) == 1 for v in missed)
    assert_serves_all(sb, 1, [2, 3])


def test_failover_names_the_gtid_mode_of_every_repointed_replica(killed: Sandbox, tmp_path: Path) -> None:
    """The preferred replica catches up from a sibling and is pointed back at the dead master before
    its promotion; the siblings move below it. Each CHANGE MASTER names the mode the replica had, and
    the siblings keep it (current_pos stays current_pos)."""
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    assert cli(config, "-c", "register-candidate", "-i", sb.key(1), "--promotion-rule", "prefer").code == 0
    sb.execute(3, "STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=current_pos", "START SLAVE")
    sb.execute(1, "STOP SLAVE")
    missed = sb.write_row(i=0)
    position = sb.query(0, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"]
    for i in (2, 3):
        sb.query(i, "SELECT MASTER_GTID_WAIT(%s, 10)", (position,))
    before = using_gtid(sb, 2, 3)
    assert before == {2: "Slave_Pos", 3: "Current_Pos"}
    sb.kill(0)
    with general_log(sb, 1, 2, 3) as received:
        result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    assert result.lines == [sb.key(1)]
    assert sb.count_rows(1, missed) == 1
    assert using_gtid(sb, 2, 3) == before
    host = "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT="
    caught_up, pointed_back = changes_of(received[1])
    assert caught_up in (f"{host}{sb.ports[i]}, MASTER_USE_GTID=slave_pos" for i in (2, 3))
    assert pointed_back == f"{host}{sb.ports[0]}, MASTER_USE_GTID=slave_pos"
    assert changes_of(received[2]) == [f"{host}{sb.ports[1]}, MASTER_USE_GTID=slave_pos"]
    assert changes_of(received[3]) == [f"{host}{sb.ports[1]}, MASTER_USE_GTID=current_pos"]
    assert_serves_all(sb, 1, [2, 3])


def test_must_not_is_never_promoted_even_when_most_advanced(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    assert cli(config, "-c", "register-candidate", "-i", sb.key(3), "--promotion-rule", "must_not").code == 0
    sb.execute(1, "STOP SLAVE")
    sb.execute(2, "STOP SLAVE")
    value = sb.write_row(i=0)  # only 3 (must_not) has it
    wait_applied(sb, 3)
    sb.kill(0)

    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    promoted = sb.index_of(result.lines[0])
    assert promoted in (1, 2)
    assert sb.count_rows(promoted, value) == 1
    assert_serves_all(sb, promoted, [i for i in (1, 2, 3) if i != promoted])


def test_must_not_everywhere_fails_loudly_and_makes_nothing_writable(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    for i in (1, 2, 3):
        sb.execute(i, "SET GLOBAL read_only = 1")
    discover(sb, config)
    for i in (1, 2, 3):
        assert cli(config, "-c", "register-candidate", "-i", sb.key(i), "--promotion-rule", "must_not").code == 0
    sb.kill(0)

    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 1
    assert "no replica promoted" in result.err and "must_not" in result.err
    assert result.out == ""
    assert [read_only(sb, i) for i in (1, 2, 3)] == [1, 1, 1]
    for i in (1, 2, 3):
        status = sb.replica_status(i)
        assert status is not None and int(status["Master_Port"]) == sb.ports[0]
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["IsSuccessful"] is False and recovery["SuccessorKey"] is None


def test_downtimed_master_is_not_recovered(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path)
    discover(sb, config)
    assert cli(config, "-c", "begin-downtime", "-i", sb.key(0), "--reason", "kernel", "--duration", "1h").code == 0
    sb.kill(0)

    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 1
    assert "downtimed" in result.err and "end-downtime" in result.err
    assert {i: p for i, p in sb.replication_parents().items() if i} == {1: 0, 2: 0, 3: 0}
    assert cli(config, "-c", "audit-recovery").lines == []

    assert cli(config, "-c", "end-downtime", "-i", sb.key(0)).code == 0
    again = cli(config, "-c", "recover", "-i", sb.key(0))
    assert again.code == 0, again.err
    assert sb.index_of(again.lines[0]) in (1, 2, 3)


def test_second_failure_within_block_period_needs_an_ack(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = config_for(sb, tmp_path, RecoveryPeriodBlockSeconds=3600)
    discover(sb, config)
    sb.kill(0)
    first = cli(config, "-c", "recover", "-i", sb.key(0))
    assert first.code == 0, first.err
    promoted = sb.index_of(first.lines[0])
    sb.kill(promoted)

    refused = cli(config, "-c", "recover", "-i", sb.key(promoted))
    assert refused.code == 1
    assert "RecoveryPeriodBlockSeconds" in refused.err and "ack-cluster-recoveries" in refused.err
    assert refused.out == ""
    survivors = [i for i in (1, 2, 3) if i != promoted]
    assert all(sb.replication_parents()[i] == promoted for i in survivors)

    ack = cli(config, "-c", "ack-cluster-recoveries", "--alias", sb.key(promoted), "--reason", "checked")
    assert ack.lines == ["1 recoveries acknowledged"]
    second = cli(config, "-c", "recover", "-i", sb.key(promoted))
    assert second.code == 0, second.err
    new = sb.index_of(second.lines[0])
    assert new in survivors
    assert_serves_all(sb, new, [i for i in survivors if i != new])


def test_dead_co_master_promotes_the_other(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    sb.execute(
        0,
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sb.ports[1]}, MASTER_USER='{REPL_USER}',"
        f" MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=current_pos",
        "START SLAVE",
    )
    config = config_for(sb, tmp_path)
    discover(sb, config)
    sb.kill(0)
    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    assert result.lines == [sb.key(1)]
    assert sb.replica_status(1) is None  # the circle is broken
    assert_serves_all(sb, 1, [2, 3])
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["AnalysisEntry"]["Analysis"] == "DeadCoMaster"


def test_dead_intermediate_master_replicas_are_relocated(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    sb.reset_replication(layout="chain")  # the session sandbox rewired 0 -> 1 -> 2 -> 3 (a star again after)
    assert sb.replication_parents() == {0: None, 1: 0, 2: 1, 3: 2}
    hooks = tmp_path / "hooks.log"
    config = config_for(
        sb,
        tmp_path,
        PostIntermediateMasterFailoverProcesses=[
            f"echo {{instanceType}} {{successorHost}}:{{successorPort}} >> {hooks}"
        ],
        PostMasterFailoverProcesses=[f"echo wrong >> {hooks}"],
    )
    discover(sb, config)
    sb.kill(1)
    result = cli(config, "-c", "recover", "-i", sb.key(1))
    assert result.code == 0, result.err
    # no sibling: plan B "regroups" the single replica (it is its own local master), plan D moves it up
    # below the dead one's master; the regrouped replica is the successor (spec §3.9 step 6)
    assert result.lines == [sb.key(2)]
    assert hooks.read_text().splitlines() == [f"intermediate-master {sb.key(2)}"]
    assert sb.replication_parents() == {0: None, 2: 0, 3: 2}
    value = sb.write_row(i=0)
    sb.wait_replicated()
    assert sb.count_rows(3, value) == 1
    [recovery] = cli(config, "-c", "audit-recovery", "--format", "json").json()
    assert recovery["AnalysisEntry"]["Analysis"] == "DeadIntermediateMasterWithSingleReplicaFailingToConnect"
    assert recovery["IsSuccessful"] is True


def test_dead_master_of_file_pos_replicas(reusable_sandbox: Any, tmp_path: Path) -> None:
    """Without GTID replication: equal replicas continue at the successor's binlog position, a replica
    that is behind catches up by MariaDB GTID (every MariaDB transaction carries one)."""
    sb: Sandbox = reusable_sandbox(servers=4, layout="star", gtid=False)
    config = config_for(sb, tmp_path)
    discover(sb, config)
    sb.execute(3, "STOP SLAVE")
    missed = sb.write_row(i=0)
    wait_applied(sb, 1)
    wait_applied(sb, 2)
    sb.kill(0)
    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    promoted = sb.index_of(result.lines[0])
    assert promoted in (1, 2)
    other = 3 - promoted
    assert (sb.replica_status(other) or {}).get("Using_Gtid") == "No"
    assert (sb.replica_status(3) or {}).get("Using_Gtid") == "Slave_Pos"
    assert sb.count_rows(3, missed) == 1
    assert_serves_all(sb, promoted, [other, 3])


@pytest.mark.mysql_backend
def test_dead_master_with_the_mysql_backend(
    killed: Sandbox, tmp_path: Path, deployed_mysql_backend_db: dict[str, Any]
) -> None:
    sb = killed
    config = config_for(sb, tmp_path, **deployed_mysql_backend_db)
    discover(sb, config)
    sb.kill(0)
    result = cli(config, "-c", "recover", "-i", sb.key(0))
    assert result.code == 0, result.err
    promoted = sb.index_of(result.lines[0])
    assert_serves_all(sb, promoted, [i for i in (1, 2, 3) if i != promoted])
    listing = cli(config, "-c", "audit-recovery").lines
    assert len(listing) == 1 and listing[0].split("\t")[3:6] == ["DeadMaster", sb.key(promoted), "true"]
    assert cli(config, "-c", "ack-all-recoveries", "--reason", "done").lines == ["1 recoveries acknowledged"]
