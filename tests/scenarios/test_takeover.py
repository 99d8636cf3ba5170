"""Planned master changes under the production config: graceful takeovers there and back, the
credentials the demoted master gets, make-co-master, and what every hook kind is told.

The production config's `ReplicationCredentialsQuery` is `select 'ci', 'ci'`: two columns with one
name, so only a positional read sees both (issue 8, item 1).
"""

from __future__ import annotations

import re

from tests.scenarios.harness import CREDENTIALS_USER, HOOK_KINDS, Scenario

GRACEFUL_HOOKS = (
    "PreGracefulTakeoverProcesses",
    "OnFailureDetectionProcesses",
    "PreFailoverProcesses",
    "PostMasterFailoverProcesses",
    "PostFailoverProcesses",
    "PostGracefulTakeoverProcesses",
)


def _takeover_step(scenario: Scenario, old: int, new: int, *, auto: bool) -> None:
    """One graceful takeover old → new and every check an operator makes after it."""
    sb = scenario.sandbox
    k = sb.key
    before = sb.write_row(i=old)
    sb.wait_replicated()
    hooks_before = len(scenario.hook_lines())
    recoveries_before = len(scenario.recoveries())
    audits_before = len(scenario.audit("recover-master"))
    detections_before = {line.split()[2] for line in scenario.hook_lines("OnFailureDetectionProcesses")}

    command = "graceful-master-takeover-auto" if auto else "graceful-master-takeover"
    args = ["-c", command, "-i", k(old)] + ([] if auto else ["-d", k(new)])
    result = scenario.ok(*args)
    assert result.lines[0] == k(new), result.lines
    assert re.fullmatch(r"mysql-bin\.\d+:\d+", result.lines[1]), result.lines

    # The tree, from the servers: everyone below the new master, the old one included.
    assert scenario.tree() == {i: (None if i == new else new) for i in range(4)}
    assert scenario.read_only() == {i: int(i != new) for i in range(4)}
    status = sb.replica_status(old)
    assert status is not None and status["Master_User"] == CREDENTIALS_USER, status  # from the query, by position
    # Plain: the old master is configured and left stopped; auto: it replicates.
    assert scenario.is_replicating(old) is auto
    assert all(scenario.is_replicating(i) for i in range(4) if i not in (old, new))
    assert not scenario.is_replicating(new)
    lost = scenario.ok("-c", "which-lost-in-recovery").lines
    assert lost == ([] if auto else [k(old)])

    # Hooks, in order, each told the failed master and the successor.
    lines = scenario.hook_lines()[hooks_before:]
    kinds = [line.split()[0] for line in lines]
    if k(old) not in detections_before or "OnFailureDetectionProcesses" in kinds:
        assert kinds == list(GRACEFUL_HOOKS), lines
    else:  # a detection may stay active (FailureDetectionPeriodBlockMinutes) and not run the hook again
        assert kinds == [kind for kind in GRACEFUL_HOOKS if kind != "OnFailureDetectionProcesses"], lines
    for line in lines:
        kind, failure, failed, successor, count = line.split()
        assert (failure, failed, count) == ("DeadMaster", k(old), "3"), line
        has_successor = kind not in ("OnFailureDetectionProcesses", "PreFailoverProcesses")
        assert successor == (k(new) if has_successor else "{successorHost}:{successorPort}"), line

    # The recovery record and the audit line.
    records = scenario.recoveries()
    assert len(records) == recoveries_before + 1
    newest = records[0]
    assert newest["AnalysisEntry"]["Analysis"] == "DeadMaster"
    assert newest["AnalysisEntry"]["AnalyzedInstanceKey"]["Port"] == sb.ports[old]
    assert newest["SuccessorKey"] == {"Hostname": "127.0.0.1", "Port": sb.ports[new]}
    assert newest["IsSuccessful"] is True and newest["Acknowledged"] is True
    audits = scenario.audit("recover-master")
    assert len(audits) == audits_before + 1
    pre = scenario.audit("pre-graceful-takeover")[0]
    assert pre["port"] == sb.ports[old] and pre["message"].startswith("PreGracefulTakeoverProcesses[0] "), pre
    assert ": exit 0 in " in pre["message"], pre
    assert f"promoted {k(new)}" in audits[0]["message"] and audits[0]["port"] == sb.ports[old]

    # Data written before the takeover is on every server; the operator starts the plain variant's
    # old master, and a write on the new master reaches everyone.
    scenario.assert_rows_everywhere(before, range(4))
    if not auto:
        scenario.ok("-c", "start-replica", "-i", k(old))
        assert scenario.is_replicating(old)
    after = sb.write_row(i=new)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, range(4))
    scenario.discover_all()
    assert scenario.analysis() == []


def test_graceful_takeover_there_and_back_twice(scenario: Scenario) -> None:
    scenario.discover_all()
    for old, new in ((0, 1), (1, 0), (0, 1), (1, 0)):
        _takeover_step(scenario, old, new, auto=False)


def test_graceful_takeover_auto_there_and_back_twice(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    for i in (0, 1):  # auto picks: the two servers of the first data center are the preferred ones
        scenario.ok("-c", "register-candidate", "-i", sb.key(i), "--promotion-rule", "prefer")
    for old, new in ((0, 1), (1, 0), (0, 1), (1, 0)):
        _takeover_step(scenario, old, new, auto=True)


def _recovery_steps(scenario: Scenario, uid: str) -> list[str]:
    from orchestrator_cli.backend import recovery
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(scenario.config)))
    try:
        return [step.message for step in recovery.steps(backend, uid)]
    finally:
        backend.close()


def test_graceful_takeover_does_not_wait_for_siblings_it_already_moved(scenario: Scenario) -> None:
    """The takeover moves the siblings below the designated replica before it runs the failover on a
    forced DeadMaster entry; the failover must not then wait for them to reach the old master's
    coordinates on another master's binlogs (it could only time out, the cluster read-only all the
    while). The old master's binlog is flushed ahead, so that its coordinates are never reached by
    accident on the designated replica's binlogs, which have a lower file number."""
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.reconfigure(ReasonableMaintenanceReplicationLagSeconds=3)
    sb.execute(0, "FLUSH BINARY LOGS", "FLUSH BINARY LOGS", "FLUSH BINARY LOGS")
    sb.write_row(i=0)
    sb.wait_replicated()
    scenario.ok("-c", "graceful-master-takeover", "-i", sb.key(0), "-d", sb.key(1))
    assert scenario.tree() == {0: 1, 1: None, 2: 1, 3: 1}
    uid = scenario.recoveries()[0]["UID"]
    steps = _recovery_steps(scenario, uid)
    assert any(f"promoted {sb.key(1)}" in step for step in steps), steps
    assert not [step for step in steps if "did not execute up to" in step], steps


def _unchanged(scenario: Scenario) -> None:
    assert scenario.tree() == {0: None, 1: 0, 2: 0, 3: 0}
    assert scenario.read_only() == {0: 0, 1: 1, 2: 1, 3: 1}
    assert scenario.recoveries() == []
    assert scenario.hook_lines() == []


def test_graceful_takeover_without_credentials_is_refused_before_any_change(scenario: Scenario) -> None:
    """MariaDB keeps the replicas' passwords where SQL cannot read them: without the query the demoted
    master could only get an empty user ("Invalid (empty) username"). Refused, nothing changed."""
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.reconfigure(ReplicationCredentialsQuery=None)
    for command in ("graceful-master-takeover", "graceful-master-takeover-auto"):
        result = scenario.cli("-c", command, "-i", sb.key(0), "-d", sb.key(1))
        assert result.code != 0, result.out
        assert "configure ReplicationCredentialsQuery" in result.err and "nothing was changed" in result.err
        assert len(result.err.strip().splitlines()) == 1, result.err
        _unchanged(scenario)
    scenario.reconfigure(ReplicationCredentialsQuery="select 'ci', 'ci' from dual where 1 = 0")
    result = scenario.cli("-c", "graceful-master-takeover", "-i", sb.key(0), "-d", sb.key(1))
    assert result.code != 0 and "ReplicationCredentialsQuery returned no row" in result.err, result.err
    _unchanged(scenario)


def test_graceful_takeover_auto_fails_when_the_old_master_cannot_replicate(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.reconfigure(ReplicationCredentialsQuery=f"select '{CREDENTIALS_USER}', 'not-the-password'")
    result = scenario.cli("-c", "graceful-master-takeover-auto", "-i", sb.key(0), "-d", sb.key(1))
    assert result.code == 1, result.out
    assert f"promoted {sb.key(1)}, but {sb.key(0)} does not replicate from it" in result.err
    assert scenario.assert_single_writable_master() == 1
    assert not scenario.is_replicating(0)


def test_make_co_master_with_the_duplicate_name_credentials_query(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    scenario.reconfigure(ReplicationCredentialsQuery="select 'ci', 'ci' from dual where 1 = 0")
    refused = scenario.cli("-c", "make-co-master", "-i", sb.key(1))
    assert refused.code != 0 and "ReplicationCredentialsQuery returned no row" in refused.err, refused.err
    assert sb.replica_status(0) is None
    scenario.reconfigure(ReplicationCredentialsQuery="select 'ci', 'ci'")
    assert scenario.ok("-c", "make-co-master", "-i", sb.key(1)).lines == [sb.key(1)]
    status = sb.replica_status(0)
    assert status is not None and status["Master_Port"] == sb.ports[1] and status["Master_User"] == CREDENTIALS_USER
    assert scenario.is_replicating(0)
    for writer in (0, 1):
        value = sb.write_row(i=writer)
        sb.wait_replicated()
        scenario.assert_rows_everywhere(value, range(4))


# -- what each hook kind is told -----------------------------------------------------------------------------

PLACEHOLDERS = (
    "failureType", "instanceType", "isMaster", "isCoMaster", "failureDescription", "command", "failedHost",
    "failedPort", "failureCluster", "failureClusterAlias", "failureClusterDomain", "countReplicas", "countSlaves",
    "replicaHosts", "slaveHosts", "isDowntimed", "autoMasterRecovery", "autoIntermediateMasterRecovery",
    "orchestratorHost", "recoveryUID", "isSuccessful", "lostReplicas", "lostSlaves", "countLostReplicas",
    "successorHost", "successorPort", "successorAlias", "successorBinlogCoordinates",
)  # fmt: skip
ENVIRONMENT = (
    "ORC_FAILURE_TYPE", "ORC_INSTANCE_TYPE", "ORC_IS_MASTER", "ORC_IS_CO_MASTER", "ORC_FAILURE_DESCRIPTION",
    "ORC_COMMAND", "ORC_FAILED_HOST", "ORC_FAILED_PORT", "ORC_FAILURE_CLUSTER", "ORC_FAILURE_CLUSTER_ALIAS",
    "ORC_FAILURE_CLUSTER_DOMAIN", "ORC_COUNT_REPLICAS", "ORC_IS_DOWNTIMED", "ORC_AUTO_MASTER_RECOVERY",
    "ORC_AUTO_INTERMEDIATE_MASTER_RECOVERY", "ORC_ORCHESTRATOR_HOST", "ORC_IS_SUCCESSFUL", "ORC_LOST_REPLICAS",
    "ORC_REPLICA_HOSTS", "ORC_RECOVERY_UID", "ORC_SUCCESSOR_HOST", "ORC_SUCCESSOR_PORT", "ORC_SUCCESSOR_ALIAS",
    "ORC_SUCCESSOR_BINLOG_COORDINATES",
)  # fmt: skip
UNSET = "<unset>"


def _dump_hooks(scenario: Scenario) -> None:
    """Every hook kind writes every placeholder and every ORC_* variable, one `|`-separated line."""
    fields = [f"{name}={{{name}}}" for name in PLACEHOLDERS] + [f"{name}=${{{name}-{UNSET}}}" for name in ENVIRONMENT]
    scenario.reconfigure(**{kind: [f'echo "{kind}|{"|".join(fields)}" >> {scenario.hooks_log}'] for kind in HOOK_KINDS})


def _told(scenario: Scenario) -> dict[str, dict[str, str]]:
    told = {}
    for line in scenario.hook_lines():
        kind, *pairs = line.split("|")
        told[kind] = dict(pair.split("=", 1) for pair in pairs)
    return told


def test_every_graceful_takeover_hook_kind_gets_its_placeholders(scenario: Scenario) -> None:
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    _dump_hooks(scenario)
    scenario.ok("-c", "graceful-master-takeover-auto", "-i", k(0), "-d", k(1))
    told = _told(scenario)
    assert sorted(told) == sorted(GRACEFUL_HOOKS)
    [record] = scenario.recoveries()
    replicas = ",".join(sorted(k(i) for i in (1, 2, 3)))
    for kind, values in told.items():
        common = {
            "failureType": "DeadMaster",
            "instanceType": "master",
            "isMaster": "true",
            "isCoMaster": "false",
            "command": "graceful-master-takeover",
            "failedHost": "127.0.0.1",
            "failedPort": str(sb.ports[0]),
            "failureCluster": k(0),
            "countReplicas": "3",
            "countSlaves": "3",
            "replicaHosts": replicas,
            "slaveHosts": replicas,
            "isDowntimed": "false",
            "lostReplicas": "",
            "countLostReplicas": "0",
            "ORC_FAILURE_TYPE": "DeadMaster",
            "ORC_COMMAND": "graceful-master-takeover",
            "ORC_FAILED_HOST": "127.0.0.1",
            "ORC_FAILED_PORT": str(sb.ports[0]),
            "ORC_COUNT_REPLICAS": "3",
            "ORC_REPLICA_HOSTS": replicas,
        }
        assert {name: values[name] for name in common} == common, kind
        assert values["failureDescription"] and values["orchestratorHost"], kind
        # Every placeholder but the successor ones is always substituted; every variable is always set
        # but the successor ones.
        for name in PLACEHOLDERS:
            if not name.startswith("successor"):
                assert "{" not in values[name], (kind, name, values[name])
        for name in ENVIRONMENT:
            if not name.startswith("ORC_SUCCESSOR"):
                assert values[name] != UNSET, (kind, name)
        # The recovery's uid from its registration on; the detection and the pre-graceful hooks run before.
        registered = kind not in ("OnFailureDetectionProcesses", "PreGracefulTakeoverProcesses")
        assert values["recoveryUID"] == values["ORC_RECOVERY_UID"] == (record["UID"] if registered else ""), kind
        # The successor: known to the pre-graceful hook (the designated replica) and after the promotion.
        if kind in ("OnFailureDetectionProcesses", "PreFailoverProcesses"):
            assert values["successorHost"] == "{successorHost}" and values["successorPort"] == "{successorPort}"
            assert values["ORC_SUCCESSOR_HOST"] == values["ORC_SUCCESSOR_PORT"] == UNSET, kind
            assert values["isSuccessful"] == values["ORC_IS_SUCCESSFUL"] == "false", kind
        else:
            assert (values["successorHost"], values["successorPort"]) == ("127.0.0.1", str(sb.ports[1])), kind
            assert (values["ORC_SUCCESSOR_HOST"], values["ORC_SUCCESSOR_PORT"]) == ("127.0.0.1", str(sb.ports[1]))
            assert values["isSuccessful"] == values["ORC_IS_SUCCESSFUL"] == "true", kind
        # Coordinates only once the promotion produced them.
        if kind in ("PostMasterFailoverProcesses", "PostFailoverProcesses", "PostGracefulTakeoverProcesses"):
            assert re.fullmatch(r"mysql-bin\.\d+:\d+", values["successorBinlogCoordinates"]), (kind, values)
            assert values["ORC_SUCCESSOR_BINLOG_COORDINATES"] == values["successorBinlogCoordinates"]
        else:
            assert values["successorBinlogCoordinates"] == "{successorBinlogCoordinates}", kind
            assert values["ORC_SUCCESSOR_BINLOG_COORDINATES"] == UNSET, kind


def _check_told(
    values: dict[str, str], kind: str, *, failed: str, failure: str, instance_type: str, command: str, uid: str
) -> None:
    """What every hook kind is told, whatever the recovery."""
    host, port = failed.rsplit(":", 1)
    assert (values["failureType"], values["ORC_FAILURE_TYPE"]) == (failure, failure), kind
    assert (values["instanceType"], values["ORC_INSTANCE_TYPE"]) == (instance_type, instance_type), kind
    assert (values["command"], values["ORC_COMMAND"]) == (command, command), kind
    assert (values["failedHost"], values["failedPort"]) == (host, port), kind
    assert (values["ORC_FAILED_HOST"], values["ORC_FAILED_PORT"]) == (host, port), kind
    assert values["recoveryUID"] == values["ORC_RECOVERY_UID"] == uid, kind
    for name in PLACEHOLDERS:
        if not name.startswith("successor"):
            assert "{" not in values[name], (kind, name, values[name])
    for name in ENVIRONMENT:
        if not name.startswith("ORC_SUCCESSOR"):
            assert values[name] != UNSET, (kind, name)


def test_an_unsuccessful_failover_hook_is_told_there_is_no_successor(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    for i in (1, 2, 3):
        scenario.ok("-c", "register-candidate", "-i", sb.key(i), "--promotion-rule", "must_not")
    _dump_hooks(scenario)
    result = scenario.cli("-c", "force-master-failover", "-i", sb.key(0))
    assert result.code != 0, result.out
    told = _told(scenario)
    assert "PostUnsuccessfulFailoverProcesses" in told, sorted(told)
    assert not {"PostFailoverProcesses", "PostMasterFailoverProcesses"} & set(told), sorted(told)
    [record] = scenario.recoveries()
    assert record["IsSuccessful"] is False and record["SuccessorKey"] is None
    values = told["PostUnsuccessfulFailoverProcesses"]
    _check_told(
        values,
        "PostUnsuccessfulFailoverProcesses",
        failed=sb.key(0),
        failure="DeadMaster",
        instance_type="master",
        command="force-master-failover",
        uid=record["UID"],
    )
    assert values["isSuccessful"] == values["ORC_IS_SUCCESSFUL"] == "false"
    assert values["successorHost"] == "{successorHost}" and values["ORC_SUCCESSOR_HOST"] == UNSET
    assert scenario.tree() == {0: None, 1: 0, 2: 0, 3: 0}


def test_an_intermediate_master_failover_hook_is_told_the_adopting_instance(scenario: Scenario) -> None:
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    scenario.ok("-c", "relocate", "-i", k(3), "-d", k(2))
    scenario.discover_all()
    before = sb.write_row(i=0)
    sb.wait_replicated()
    _dump_hooks(scenario)
    sb.kill(2)
    scenario.automate_until(lambda: scenario.tree().get(3) not in (2, None))
    adopter = scenario.tree()[3]
    assert adopter is not None
    told = _told(scenario)
    assert "PostIntermediateMasterFailoverProcesses" in told, sorted(told)
    record = next(r for r in scenario.recoveries() if r["AnalysisEntry"]["AnalyzedInstanceKey"]["Port"] == sb.ports[2])
    for kind in ("PostIntermediateMasterFailoverProcesses", "PostFailoverProcesses"):
        values = told[kind]
        _check_told(
            values,
            kind,
            failed=k(2),
            failure=record["AnalysisEntry"]["Analysis"],
            instance_type="intermediate-master",
            command="",
            uid=record["UID"],
        )
        assert (values["successorHost"], values["successorPort"]) == ("127.0.0.1", str(sb.ports[adopter])), kind
        assert (values["ORC_SUCCESSOR_HOST"], values["ORC_SUCCESSOR_PORT"]) == ("127.0.0.1", str(sb.ports[adopter]))
        assert values["isSuccessful"] == values["ORC_IS_SUCCESSFUL"] == "true", kind
        assert values["countReplicas"] == values["ORC_COUNT_REPLICAS"] == "1", kind
        assert values["replicaHosts"] == values["ORC_REPLICA_HOSTS"] == k(3), kind
    scenario.assert_rows_everywhere(before, (0, 1, 3))


def test_a_stopped_sibling_refuses_the_next_takeover_unless_downtimed(scenario: Scenario) -> None:
    """The operator forgot `start-replica` after a plain takeover, and ended the demoted master's
    downtime: the next takeover cannot wait for it to catch up and says so before any change."""
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    scenario.ok("-c", "graceful-master-takeover", "-i", k(0), "-d", k(1))
    scenario.ok("-c", "end-downtime", "-i", k(0))
    before = sb.write_row(i=1)
    result = scenario.cli("-c", "graceful-master-takeover", "-i", k(1), "-d", k(2))
    assert result.code == 1, result.out
    assert f"{k(0)}: replication from {k(1)} is stopped" in result.err and "nothing was changed" in result.err
    assert scenario.tree() == {0: 1, 1: None, 2: 1, 3: 1}
    assert scenario.read_only() == {0: 1, 1: 0, 2: 1, 3: 1}
    assert len(scenario.recoveries()) == 1
    # Downtimed, it does not hold the takeover back (spec §3.14): it is moved below the new master.
    scenario.ok("-c", "begin-downtime", "-i", k(0), "--reason", "rebuilding", "--owner", "ops")
    assert scenario.ok("-c", "graceful-master-takeover", "-i", k(1), "-d", k(2)).lines[0] == k(2)
    assert scenario.tree() == {0: 2, 1: 2, 2: None, 3: 2}
    assert scenario.assert_single_writable_master() == 2
    scenario.assert_rows_everywhere(before, (1, 2, 3))


def test_force_master_takeover_to_another_data_center(scenario: Scenario) -> None:
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    before = sb.write_row(i=0)
    sb.wait_replicated()
    assert scenario.ok("-c", "force-master-takeover", "-i", k(0), "-d", k(2)).lines == [k(2)]
    tree = scenario.tree()
    assert {i: tree[i] for i in (1, 2, 3)} == {1: 2, 2: None, 3: 2}
    assert scenario.assert_single_writable_master() == 2  # the old master answered: demoted first
    assert not scenario.is_replicating(0)
    assert scenario.ok("-c", "which-lost-in-recovery").lines == [k(0)]
    scenario.assert_rows_everywhere(before, range(4))
    [record] = scenario.recoveries()
    assert record["IsSuccessful"] is True and record["SuccessorKey"]["Port"] == sb.ports[2]
    assert [line.split()[0] for line in scenario.hook_lines()] == [
        "OnFailureDetectionProcesses",
        "PreFailoverProcesses",
        "PostMasterFailoverProcesses",
        "PostFailoverProcesses",
    ]
    assert scenario.hook_lines("PostFailoverProcesses")[0].split()[2:4] == [k(0), k(2)]
    assert f"promoted {k(2)}" in scenario.audit("recover-master")[0]["message"]
    after = sb.write_row(i=2)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, (1, 2, 3))


def test_take_master_runs_its_hooks_with_two_keys_and_no_placeholders(scenario: Scenario) -> None:
    sb = scenario.sandbox
    k = sb.key
    scenario.discover_all()
    scenario.ok("-c", "relocate", "-i", k(3), "-d", k(1))
    log = scenario.hooks_log
    scenario.reconfigure(
        PostTakeMasterProcesses=[
            f'echo "take $1 $2 $ORC_SUCCESSOR_HOST $ORC_FAILED_HOST {{successorHost}} {{failedHost}}" >> {log}',
            "exit 3",
            f'echo "second ran ${{ORC_FAILURE_TYPE-unset}}" >> {log}',
        ]
    )
    result = scenario.ok("-c", "take-master", "-i", k(3))
    assert result.lines == [k(3)]
    assert scenario.tree() == {0: None, 1: 3, 2: 0, 3: 0}
    assert scenario.hook_lines() == [
        f"take {k(3)} {k(1)} {k(3)} {k(1)} {{successorHost}} {{failedHost}}",
        "second ran unset",
    ]
    assert "PostTakeMasterProcesses[1] 'exit 3': exit 3" in result.err  # reported, the swap stands
    assert len(scenario.audit("post-take-master")) == 3
