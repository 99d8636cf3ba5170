"""`replication-analysis` over backend rows written the way the original's integration tests write them.

Every test starts from the five create-per-test rows (22293 master; 22294, 22296, 22297 replicas;
22295 below 22294; all valid, pseudo-GTID on), applies plain-SQL changes like the original's
per-test `create.sql` files, and checks the exact output lines. One test per analysis code and per
structure warning, plus the listing filters (downtime, maintenance, ignored hosts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.fixtures import OriginalFixture, original_fixture
from tests.support import run_cli

Setup = Callable[[OriginalFixture], None]


@pytest.fixture(scope="module")
def _mysql_database(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Resolved lazily, so the SQLite parametrisation never needs a MySQL server."""
    keys: dict[str, Any] = request.getfixturevalue("mysql_backend_db_module")
    return keys


@pytest.fixture(scope="module")
def sqlite_deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalFixture]:
    with original_fixture("sqlite", tmp_path_factory.mktemp("analysis-sqlite")) as fixture:
        yield fixture


@pytest.fixture(scope="module")
def mysql_deployed(
    tmp_path_factory: pytest.TempPathFactory, _mysql_database: dict[str, Any]
) -> Iterator[OriginalFixture]:
    with original_fixture("mysql", tmp_path_factory.mktemp("analysis-mysql"), _mysql_database) as fixture:
        yield fixture


@pytest.fixture
def fx(sqlite_deployed: OriginalFixture) -> OriginalFixture:
    sqlite_deployed.create_per_test()
    return sqlite_deployed


def analysis(fx: OriginalFixture, tmp_path: Path, **config: Any) -> list[str]:
    """Run `replication-analysis`, with extra config keys on top of the fixture's backend config."""
    path = fx.config
    if config:
        values = json.loads(Path(fx.config).read_text())
        values.update(config)
        path = tmp_path / "orchestrator.conf.json"
        path.write_text(json.dumps(values))
    result = run_cli("-c", "replication-analysis", config=path)
    assert result.code == 0, result.err
    assert result.err == ""
    return result.lines


def line(port: int, codes: str) -> str:
    return f"testhost:{port} (cluster testhost:22293): {codes}"


# -- building blocks: the statements the original's create.sql files use ----------------------------


def dead(fx: OriginalFixture, *ports: int) -> None:
    """Last check invalid: seen a minute before checked (NULL on SQLite, as test.sh's rewrite yields)."""
    for port in ports:
        fx.execute(
            f"UPDATE database_instance SET last_seen = {fx.column_minus_minute('last_checked')} WHERE port = ?", (port,)
        )


def io_stopped(fx: OriginalFixture, *ports: int, error: str = "") -> None:
    for port in ports:
        fx.execute(
            "UPDATE database_instance SET slave_io_running = 0, replication_io_thread_state = 0, last_io_error = ?"
            " WHERE port = ?",
            (error, port),
        )


def lagging(fx: OriginalFixture, *ports: int) -> None:
    for port in ports:
        fx.execute(
            "UPDATE database_instance SET slave_lag_seconds = 60, seconds_behind_master = 60 WHERE port = ?", (port,)
        )


def replicate_from(fx: OriginalFixture, port: int, master_port: int, depth: int) -> None:
    fx.execute(
        "UPDATE database_instance SET master_host = 'testhost', master_port = ?, replication_depth = ? WHERE port = ?",
        (master_port, depth, port),
    )


def remove(fx: OriginalFixture, *ports: int) -> None:
    for port in ports:
        fx.execute("DELETE FROM database_instance WHERE port = ?", (port,))


def co_masters(fx: OriginalFixture) -> None:
    """22293 and 22294 replicate from each other."""
    replicate_from(fx, 22293, 22294, 1)
    fx.execute(
        "UPDATE database_instance SET is_co_master = 1, replication_sql_thread_state = 1,"
        " replication_io_thread_state = 1, slave_sql_running = 1, slave_io_running = 1,"
        " master_log_file = 'mysql-bin.000132', read_master_log_pos = 15931747,"
        " relay_master_log_file = 'mysql-bin.000132', exec_master_log_pos = 15931747 WHERE port IN (22293, 22294)"
    )


def semi_sync_master(fx: OriginalFixture, *, status: int, wait: int, clients: int) -> None:
    fx.execute(
        "UPDATE database_instance SET semi_sync_master_enabled = 1, semi_sync_master_status = ?,"
        " semi_sync_master_wait_for_slave_count = ?, semi_sync_master_clients = ? WHERE port = 22293",
        (status, wait, clients),
    )


CONNECT_ERROR = "error reconnecting to master 'repl@testhost:22293' - retry-time: 60 retries: 1"


# -- primary codes --------------------------------------------------------------------------------------


def _dead_master(fx: OriginalFixture) -> None:
    dead(fx, 22293)
    io_stopped(fx, 22294, 22296, 22297)


def _dead_master_and_replicas(fx: OriginalFixture) -> None:
    remove(fx, 22295)  # otherwise dead 22294 with a replicating replica adds UnreachableIntermediateMaster
    dead(fx, 22293, 22294, 22296, 22297)


def _dead_master_and_some_replicas(fx: OriginalFixture) -> None:
    dead(fx, 22293, 22296)
    io_stopped(fx, 22294, 22297)


def _dead_master_without_replicas(fx: OriginalFixture) -> None:
    remove(fx, 22294, 22295, 22296, 22297)
    dead(fx, 22293)


def _unreachable_master_with_lagging_replicas(fx: OriginalFixture) -> None:
    dead(fx, 22293)
    lagging(fx, 22294, 22296, 22297)


def _unreachable_master(fx: OriginalFixture) -> None:
    dead(fx, 22293)


def _unreachable_master_partial_with_failing_replica(fx: OriginalFixture) -> None:
    dead(fx, 22293)
    fx.execute("UPDATE database_instance SET last_check_partial_success = 1 WHERE port = 22293")
    io_stopped(fx, 22296, error=CONNECT_ERROR)


def _locked_semi_sync_hypothesis(fx: OriginalFixture) -> None:
    semi_sync_master(fx, status=1, wait=2, clients=1)


def _locked_semi_sync(fx: OriginalFixture) -> None:
    semi_sync_master(fx, status=1, wait=2, clients=1)
    fx.execute(
        "INSERT INTO database_instance_stale_binlog_coordinates (hostname, port, binary_log_file, binary_log_pos,"
        f" first_seen) VALUES ('testhost', 22293, 'mysql-bin.000167', 137086726, {fx.now})"
    )
    fx.execute(f"UPDATE database_instance_stale_binlog_coordinates SET first_seen = {fx.now_plus(-1)}")


def _too_many_semi_sync_replicas(fx: OriginalFixture) -> None:
    semi_sync_master(fx, status=1, wait=1, clients=3)


def _no_writeable_master_as_code(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET read_only = 1 WHERE port = 22293")


def _master_single_replica_not_replicating(fx: OriginalFixture) -> None:
    remove(fx, 22296, 22297)
    io_stopped(fx, 22294)


def _master_single_replica_dead(fx: OriginalFixture) -> None:
    remove(fx, 22295, 22296, 22297)
    dead(fx, 22294)


def _all_master_replicas_not_replicating(fx: OriginalFixture) -> None:
    io_stopped(fx, 22294, 22296, 22297)


def _all_master_replicas_not_replicating_or_dead(fx: OriginalFixture) -> None:
    io_stopped(fx, 22294, 22297)
    dead(fx, 22296)


def _dead_co_master(fx: OriginalFixture) -> None:
    co_masters(fx)
    dead(fx, 22294)
    io_stopped(fx, 22293, 22295)


def _dead_co_master_and_some_replicas(fx: OriginalFixture) -> None:
    co_masters(fx)
    dead(fx, 22294, 22295)
    io_stopped(fx, 22293)


def _unreachable_co_master(fx: OriginalFixture) -> None:
    co_masters(fx)
    dead(fx, 22294)


def _all_co_master_replicas_not_replicating(fx: OriginalFixture) -> None:
    co_masters(fx)
    io_stopped(fx, 22293, 22295)


def _dead_intermediate_master(fx: OriginalFixture) -> None:
    replicate_from(fx, 22297, 22294, 2)
    dead(fx, 22294)
    io_stopped(fx, 22295, 22297)


def _dead_intermediate_master_with_single_replica(fx: OriginalFixture) -> None:
    dead(fx, 22294)
    io_stopped(fx, 22295)


def _dead_intermediate_master_single_replica_failing(fx: OriginalFixture) -> None:
    dead(fx, 22294)
    io_stopped(fx, 22295, error=CONNECT_ERROR)


def _dead_intermediate_master_and_some_replicas(fx: OriginalFixture) -> None:
    replicate_from(fx, 22297, 22294, 2)
    dead(fx, 22294, 22297)
    io_stopped(fx, 22295)


def _dead_intermediate_master_and_replicas(fx: OriginalFixture) -> None:
    dead(fx, 22294, 22295)


def _unreachable_intermediate_master_with_lagging_replicas(fx: OriginalFixture) -> None:
    dead(fx, 22294)
    lagging(fx, 22295)


def _unreachable_intermediate_master(fx: OriginalFixture) -> None:
    dead(fx, 22294)


def _all_intermediate_master_replicas_failing(fx: OriginalFixture) -> None:
    replicate_from(fx, 22297, 22294, 2)
    io_stopped(fx, 22295, 22297, error=CONNECT_ERROR)


def _all_intermediate_master_replicas_not_replicating(fx: OriginalFixture) -> None:
    io_stopped(fx, 22295)


def _first_tier_replica_failing(fx: OriginalFixture) -> None:
    io_stopped(fx, 22296, error=CONNECT_ERROR)


def _binlog_server_failing(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET binlog_server = 1 WHERE port = 22296")
    io_stopped(fx, 22296, error=CONNECT_ERROR)


def _dead_group_member_with_replicas(fx: OriginalFixture) -> None:
    fx.execute(
        "UPDATE database_instance SET replication_group_name = 'a6d4cb6a-0000-0000-0000-000000000001',"
        " replication_group_member_state = 'ONLINE', replication_group_member_role = 'SECONDARY' WHERE port = 22294"
    )
    dead(fx, 22294)
    io_stopped(fx, 22295)


CODE_CASES: list[tuple[str, Setup, dict[str, Any], list[str]]] = [
    ("DeadMaster", _dead_master, {}, [line(22293, "DeadMaster")]),
    ("DeadMasterAndReplicas", _dead_master_and_replicas, {}, [line(22293, "DeadMasterAndReplicas")]),
    ("DeadMasterAndSomeReplicas", _dead_master_and_some_replicas, {}, [line(22293, "DeadMasterAndSomeReplicas")]),
    ("DeadMasterWithoutReplicas", _dead_master_without_replicas, {}, [line(22293, "DeadMasterWithoutReplicas")]),
    (
        "UnreachableMasterWithLaggingReplicas",
        _unreachable_master_with_lagging_replicas,
        {},
        [line(22293, "UnreachableMasterWithLaggingReplicas")],
    ),
    ("UnreachableMaster", _unreachable_master, {}, [line(22293, "UnreachableMaster")]),
    (
        "UnreachableMaster-partial",
        _unreachable_master_partial_with_failing_replica,
        {},
        [line(22293, "UnreachableMaster"), line(22296, "FirstTierReplicaFailingToConnectToMaster")],
    ),
    (
        "LockedSemiSyncMasterHypothesis",
        _locked_semi_sync_hypothesis,
        {},
        [line(22293, "LockedSemiSyncMasterHypothesis")],
    ),
    ("LockedSemiSyncMaster", _locked_semi_sync, {}, [line(22293, "LockedSemiSyncMaster")]),
    (
        "MasterWithTooManySemiSyncReplicas",
        _too_many_semi_sync_replicas,
        {"EnforceExactSemiSyncReplicas": True},
        [line(22293, "MasterWithTooManySemiSyncReplicas")],
    ),
    (
        "NoWriteableMasterStructureWarning-as-code",
        _no_writeable_master_as_code,
        {"RecoverNonWriteableMaster": True},
        [line(22293, "NoWriteableMasterStructureWarning")],
    ),
    (
        "MasterSingleReplicaNotReplicating",
        _master_single_replica_not_replicating,
        {},
        [line(22293, "MasterSingleReplicaNotReplicating")],
    ),
    ("MasterSingleReplicaDead", _master_single_replica_dead, {}, [line(22293, "MasterSingleReplicaDead")]),
    (
        "AllMasterReplicasNotReplicating",
        _all_master_replicas_not_replicating,
        {},
        [line(22293, "AllMasterReplicasNotReplicating")],
    ),
    (
        "AllMasterReplicasNotReplicatingOrDead",
        _all_master_replicas_not_replicating_or_dead,
        {},
        [line(22293, "AllMasterReplicasNotReplicatingOrDead")],
    ),
    ("DeadCoMaster", _dead_co_master, {}, [line(22294, "DeadCoMaster")]),
    (
        "DeadCoMasterAndSomeReplicas",
        _dead_co_master_and_some_replicas,
        {},
        [line(22294, "DeadCoMasterAndSomeReplicas")],
    ),
    ("UnreachableCoMaster", _unreachable_co_master, {}, [line(22294, "UnreachableCoMaster")]),
    (
        "AllCoMasterReplicasNotReplicating",
        _all_co_master_replicas_not_replicating,
        {},
        [line(22294, "AllCoMasterReplicasNotReplicating")],
    ),
    ("DeadIntermediateMaster", _dead_intermediate_master, {}, [line(22294, "DeadIntermediateMaster")]),
    (
        "DeadIntermediateMasterWithSingleReplica",
        _dead_intermediate_master_with_single_replica,
        {},
        [line(22294, "DeadIntermediateMasterWithSingleReplica")],
    ),
    (
        "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
        _dead_intermediate_master_single_replica_failing,
        {},
        [line(22294, "DeadIntermediateMasterWithSingleReplicaFailingToConnect")],
    ),
    (
        "DeadIntermediateMasterAndSomeReplicas",
        _dead_intermediate_master_and_some_replicas,
        {},
        [line(22294, "DeadIntermediateMasterAndSomeReplicas")],
    ),
    (
        "DeadIntermediateMasterAndReplicas",
        _dead_intermediate_master_and_replicas,
        {},
        [line(22294, "DeadIntermediateMasterAndReplicas")],
    ),
    (
        "UnreachableIntermediateMasterWithLaggingReplicas",
        _unreachable_intermediate_master_with_lagging_replicas,
        {},
        [line(22294, "UnreachableIntermediateMasterWithLaggingReplicas")],
    ),
    (
        "UnreachableIntermediateMaster",
        _unreachable_intermediate_master,
        {},
        [line(22294, "UnreachableIntermediateMaster")],
    ),
    (
        "AllIntermediateMasterReplicasFailingToConnectOrDead",
        _all_intermediate_master_replicas_failing,
        {},
        [line(22294, "AllIntermediateMasterReplicasFailingToConnectOrDead")],
    ),
    (
        "AllIntermediateMasterReplicasNotReplicating",
        _all_intermediate_master_replicas_not_replicating,
        {},
        [line(22294, "AllIntermediateMasterReplicasNotReplicating")],
    ),
    (
        "FirstTierReplicaFailingToConnectToMaster",
        _first_tier_replica_failing,
        {},
        [line(22296, "FirstTierReplicaFailingToConnectToMaster")],
    ),
    (
        "BinlogServerFailingToConnectToMaster",
        _binlog_server_failing,
        {},
        [line(22296, "BinlogServerFailingToConnectToMaster")],
    ),
    (
        "DeadReplicationGroupMemberWithReplicas",
        _dead_group_member_with_replicas,
        {},
        [line(22294, "DeadReplicationGroupMemberWithReplicas")],
    ),
]


def test_healthy_fixture_has_no_problems(fx: OriginalFixture, tmp_path: Path) -> None:
    assert analysis(fx, tmp_path) == []


@pytest.mark.parametrize(("setup", "config", "expected"), [c[1:] for c in CODE_CASES], ids=[c[0] for c in CODE_CASES])
def test_analysis_code(
    fx: OriginalFixture, tmp_path: Path, setup: Setup, config: dict[str, Any], expected: list[str]
) -> None:
    setup(fx)
    assert analysis(fx, tmp_path, **config) == expected


def test_every_produced_code_has_a_case() -> None:
    from orchestrator_cli.analysis.codes import NEVER_PRODUCED_CODES, AnalysisCode

    covered = {c[3][0].rsplit(": ", 1)[1] for c in CODE_CASES}
    expected = {str(c) for c in AnalysisCode} - {str(c) for c in NEVER_PRODUCED_CODES} - {"NoProblem"}
    assert expected <= covered


# -- structure warnings ---------------------------------------------------------------------------------


def _set(port: int, **columns: Any) -> Setup:
    def apply(fx: OriginalFixture) -> None:
        sets = ", ".join(f"{c} = ?" for c in columns)
        fx.execute(f"UPDATE database_instance SET {sets} WHERE port = ?", (*columns.values(), port))

    return apply


def _all(*setups: Setup) -> Setup:
    def apply(fx: OriginalFixture) -> None:
        for s in setups:
            s(fx)

    return apply


def _no_logging_replicas(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET log_slave_updates = 0 WHERE port <> 22293")


def _not_enough_semi_sync_replicas(fx: OriginalFixture) -> None:
    semi_sync_master(fx, status=0, wait=2, clients=1)


WARNING_CASES: list[tuple[str, Setup, list[str]]] = [
    ("NoLoggingReplicas", _no_logging_replicas, [line(22293, "NoLoggingReplicasStructureWarning")]),
    ("NoFailoverSupport", _set(22293, pseudo_gtid=0), [line(22293, "NoFailoverSupportStructureWarning")]),
    (
        "StatementAndMixedLoggingReplicas",
        _set(22294, binlog_format="MIXED"),
        [line(22293, "StatementAndMixedLoggingReplicasStructureWarning")],
    ),
    (
        "StatementAndRowLoggingReplicas",
        _set(22294, binlog_format="ROW"),
        [line(22293, "StatementAndRowLoggingReplicasStructureWarning")],
    ),
    (
        "MixedAndRowLoggingReplicas",
        _all(_set(22294, binlog_format="MIXED"), _set(22297, binlog_format="ROW")),
        [line(22293, "MixedAndRowLoggingReplicasStructureWarning")],
    ),
    (
        "MultipleMajorVersionsLoggingReplicas",
        _set(22297, version="5.7.30-log", major_version="5.7"),
        [line(22293, "MultipleMajorVersionsLoggingReplicasStructureWarning")],
    ),
    ("DifferentGTIDModes", _set(22295, gtid_mode="ON"), [line(22294, "DifferentGTIDModesStructureWarning")]),
    (
        "ErrantGTID",
        _set(22294, gtid_errant="00022294-0101-1111-1111-111111111111:1-3"),
        [line(22293, "ErrantGTIDStructureWarning")],
    ),
    ("NoWriteableMaster", _set(22293, read_only=1), [line(22293, "NoWriteableMasterStructureWarning")]),
    (
        "NotEnoughValidSemiSyncReplicas",
        _not_enough_semi_sync_replicas,
        [line(22293, "NotEnoughValidSemiSyncReplicasStructureWarning")],
    ),
]


@pytest.mark.parametrize(("setup", "expected"), [c[1:] for c in WARNING_CASES], ids=[c[0] for c in WARNING_CASES])
def test_structure_warning(fx: OriginalFixture, tmp_path: Path, setup: Setup, expected: list[str]) -> None:
    setup(fx)
    assert analysis(fx, tmp_path) == expected


def test_every_warning_has_a_case() -> None:
    from orchestrator_cli.analysis.codes import StructureWarning

    covered = {c[2][0].rsplit(": ", 1)[1] for c in WARNING_CASES}
    assert {str(w) for w in StructureWarning} == covered


def test_code_and_warnings_share_one_line(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    fx.execute("UPDATE database_instance SET pseudo_gtid = 0 WHERE port = 22293")
    assert analysis(fx, tmp_path) == [line(22293, "DeadMaster, NoFailoverSupportStructureWarning")]


# -- listing filters ---------------------------------------------------------------------------------------


def _downtime(fx: OriginalFixture, port: int) -> None:
    columns = "hostname, port, downtime_active, begin_timestamp, end_timestamp, owner, reason"
    fx.execute(
        f"INSERT INTO database_instance_downtime ({columns})"
        f" VALUES ('testhost', ?, 1, {fx.now}, {fx.now}, 'ci', 'test')",
        (port,),
    )
    fx.execute(f"UPDATE database_instance_downtime SET end_timestamp = {fx.now_plus(1)} WHERE port = ?", (port,))


def test_downtimed_master_is_omitted(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    _downtime(fx, 22293)
    assert analysis(fx, tmp_path) == []


def test_expired_downtime_does_not_hide(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    _downtime(fx, 22293)
    fx.execute(f"UPDATE database_instance_downtime SET end_timestamp = {fx.now_plus(-1)}")
    assert analysis(fx, tmp_path) == [line(22293, "DeadMaster")]


def test_errant_gtid_on_downtimed_replica_is_ignored(fx: OriginalFixture, tmp_path: Path) -> None:
    _set(22294, gtid_errant="00022294-0101-1111-1111-111111111111:1-3")(fx)
    _downtime(fx, 22294)
    assert analysis(fx, tmp_path) == []


def test_all_replicas_downtimed_hides_replica_only_codes(fx: OriginalFixture, tmp_path: Path) -> None:
    _all_master_replicas_not_replicating(fx)
    for port in (22294, 22296, 22297):
        _downtime(fx, port)
    assert analysis(fx, tmp_path) == []


def test_master_in_maintenance_is_not_analysed(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    columns = (
        "hostname, port, maintenance_active, begin_timestamp, end_timestamp, owner, reason,"
        " processing_node_hostname, processing_node_token, explicitly_bounded"
    )
    fx.execute(
        f"INSERT INTO database_instance_maintenance ({columns}) VALUES"
        f" ('testhost', 22293, 1, {fx.now}, {fx.now_plus(1)}, 'ci', 'test', 'node', 'token', 1)"
    )
    assert analysis(fx, tmp_path) == []


def test_recovery_ignore_hostname_filters(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    assert analysis(fx, tmp_path, RecoveryIgnoreHostnameFilters=["^testhost$"]) == []
    assert analysis(fx, tmp_path, RecoveryIgnoreHostnameFilters=["^otherhost"]) == [line(22293, "DeadMaster")]


def test_cluster_alias_in_json(fx: OriginalFixture, tmp_path: Path) -> None:
    _dead_master(fx)
    result = run_cli("-c", "replication-analysis", "--format", "json", config=fx.config)
    assert result.code == 0, result.err
    [entry] = result.json()
    assert entry["Analysis"] == "DeadMaster"
    assert entry["AnalyzedInstanceKey"] == {"Hostname": "testhost", "Port": 22293}
    assert entry["ClusterDetails"]["ClusterName"] == "testhost:22293"
    assert entry["ClusterDetails"]["ClusterAlias"] == "testhost:22293"  # no alias registered: the name
    assert entry["CountReplicas"] == 3
    assert entry["IsActionableRecovery"] is True


# -- the same rows on the MySQL backend ---------------------------------------------------------------------


@pytest.mark.mysql_backend
@pytest.mark.parametrize("case", ["DeadMaster", "LockedSemiSyncMaster", "DeadIntermediateMaster", "DeadCoMaster"])
def test_analysis_code_on_mysql_backend(mysql_deployed: OriginalFixture, tmp_path: Path, case: str) -> None:
    [(_, setup, config, expected)] = [c for c in CODE_CASES if c[0] == case]
    mysql_deployed.create_per_test()
    setup(mysql_deployed)
    assert analysis(mysql_deployed, tmp_path, **config) == expected
