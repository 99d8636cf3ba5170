"""Hook processes: placeholders, ORC_* environment, failure policy, background hooks, timeouts."""

from __future__ import annotations

import time
from pathlib import Path

from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.hooks import HookContext, run_hooks, run_one, substitute


def context(**overrides: object) -> HookContext:
    values: dict[str, object] = {
        "failure_type": "DeadMaster",
        "instance_type": "master",
        "is_master": True,
        "is_co_master": False,
        "failure_description": "Master cannot be reached",
        "failed": InstanceKey("db1", 3306),
        "cluster": "db1:3306",
        "cluster_alias": "main",
        "cluster_domain": "main.example.com",
        "replicas": ["db2:3306", "db3:3306"],
        "is_downtimed": False,
        "auto_master_recovery": True,
        "auto_intermediate_master_recovery": False,
        "orchestrator_host": "orc1",
        "command": "force-master-failover",
        "recovery_uid": "123:abc",
    }
    values.update(overrides)
    return HookContext(**values)  # type: ignore[arg-type]


def test_every_placeholder_is_substituted() -> None:
    ctx = context(
        is_successful=True,
        lost=["db3:3306"],
        successor=InstanceKey("db2", 3306),
        successor_alias="db2-alias",
        successor_binlog_coordinates="mysql-bin.000003:154",
    )
    names = [
        "failureType", "instanceType", "isMaster", "isCoMaster", "failureDescription", "command", "failedHost",
        "failedPort", "failureCluster", "failureClusterAlias", "failureClusterDomain", "countReplicas",
        "countSlaves", "isDowntimed", "autoMasterRecovery", "autoIntermediateMasterRecovery", "orchestratorHost",
        "recoveryUID", "isSuccessful", "lostReplicas", "lostSlaves", "countLostReplicas", "replicaHosts",
        "slaveHosts", "successorHost", "successorPort", "successorBinlogCoordinates", "successorAlias",
    ]  # fmt: skip
    text = " ".join("{" + n + "}" for n in names)
    assert substitute(text, ctx.placeholders()).split(" ") == [
        "DeadMaster", "master", "true", "false", "Master", "cannot", "be", "reached", "force-master-failover",
        "db1", "3306", "db1:3306", "main", "main.example.com", "2", "2", "false", "true", "false", "orc1",
        "123:abc", "true", "db3:3306", "db3:3306", "1", "db2:3306,db3:3306", "db2:3306,db3:3306", "db2", "3306",
        "mysql-bin.000003:154", "db2-alias",
    ]  # fmt: skip


def test_successor_placeholders_stay_without_a_successor() -> None:
    assert substitute("{successorHost}:{successorPort} {failedHost}", context().placeholders()) == (
        "{successorHost}:{successorPort} db1"
    )
    assert "ORC_SUCCESSOR_HOST" not in context().environment()


def test_environment() -> None:
    env = context(successor=InstanceKey("db2", 3307), successor_binlog_coordinates="b.1:4").environment()
    assert env["ORC_FAILURE_TYPE"] == "DeadMaster"
    assert env["ORC_FAILED_HOST"] == "db1" and env["ORC_FAILED_PORT"] == "3306"
    assert env["ORC_REPLICA_HOSTS"] == "db2:3306,db3:3306"
    assert env["ORC_SUCCESSOR_HOST"] == "db2" and env["ORC_SUCCESSOR_PORT"] == "3307"
    assert env["ORC_SUCCESSOR_BINLOG_COORDINATES"] == "b.1:4"
    assert env["ORC_COMMAND"] == "force-master-failover"
    assert env["ORC_RECOVERY_UID"] == "123:abc"


def test_hooks_run_in_order_with_placeholders_and_environment(tmp_path: Path) -> None:
    out = tmp_path / "hooks.txt"
    config = {
        "PostFailoverProcesses": [
            f"echo first {{failedHost}} $ORC_FAILURE_CLUSTER >> {out}",
            f"echo second {{failureClusterAlias}} >> {out}",
        ]
    }
    steps: list[str] = []
    outcome = run_hooks(config, "PostFailoverProcesses", context(), steps.append, fail_fast=False)
    assert outcome.ok
    assert out.read_text().splitlines() == ["first db1 db1:3306", "second main"]
    assert len(steps) == 2 and "exit 0" in steps[0] and steps[0].startswith("PostFailoverProcesses[0]")


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path) -> None:
    out = tmp_path / "hooks.txt"
    config = {"PreFailoverProcesses": ["echo refusing; exit 3", f"echo never >> {out}"]}
    steps: list[str] = []
    outcome = run_hooks(config, "PreFailoverProcesses", context(), steps.append, fail_fast=True)
    assert not outcome.ok
    assert len(outcome.results) == 1
    assert "exit 3" in outcome.first_error() and "refusing" in outcome.first_error()
    assert not out.exists()


def test_post_hooks_run_all_and_report_failures(tmp_path: Path) -> None:
    out = tmp_path / "hooks.txt"
    config = {"PostFailoverProcesses": ["exit 1", f"echo still >> {out}"]}
    outcome = run_hooks(config, "PostFailoverProcesses", context(), lambda _: None, fail_fast=False)
    assert [r.exit_code for r in outcome.results] == [1, 0]
    assert len(outcome.failed) == 1
    assert out.read_text() == "still\n"


def test_background_hook_is_not_waited_for(tmp_path: Path) -> None:
    go, out = tmp_path / "go", tmp_path / "bg.txt"
    command = f"while [ ! -f {go} ]; do sleep 0.05; done; echo done > {out} &"
    result = run_one("PostFailoverProcesses", 0, command, {}, {})
    assert result.background and result.ok  # returned while the hook still waits for `go`
    assert not out.exists()
    go.touch()
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.read_text() == "done\n"


def test_hung_hook_is_killed_after_the_timeout() -> None:
    result = run_one("PreFailoverProcesses", 0, "echo partial; sleep 30", {}, {"ProcessesTimeoutSeconds": 0.3})
    assert result.timed_out and not result.ok
    assert "partial" in result.output
    assert "ProcessesTimeoutSeconds" in result.describe()


def test_shell_command_is_configurable(tmp_path: Path) -> None:
    result = run_one("PostFailoverProcesses", 0, "echo $0", {}, {"ProcessesShellCommand": "sh"})
    assert result.ok
    assert result.output.strip().endswith(".sh")


def test_missing_shell_is_a_failure() -> None:
    result = run_one("PostFailoverProcesses", 0, "true", {}, {"ProcessesShellCommand": "/nonexistent/shell"})
    assert not result.ok and "could not run" in result.describe()
