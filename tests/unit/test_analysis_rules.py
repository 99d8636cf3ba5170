"""Decision chain, structure warnings, filtering and rendering of replication analysis.

Scenarios are built on the original integration fixture topology
(22293 master; 22294, 22296, 22297 replicas; 22295 below 22294).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.analysis.codes import (
    ACTIONABLE_CODES,
    DESCRIPTIONS,
    NEVER_PRODUCED_CODES,
    AnalysisCode,
    StructureWarning,
)
from orchestrator_cli.analysis.report import format_line, format_lines, replication_analysis, to_json
from orchestrator_cli.analysis.rules import Analysis, analyze, is_skippable_due_to_downtime
from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.model.analysis_facts import AnalysisFacts
from tests.unit.test_analysis_facts import (
    CLUSTER,
    DEAD,
    DOWNTIMED,
    FAILING,
    IO_STOPPED,
    LAGGING,
    MASTER,
    STOPPED,
    make_row,
    topology,
)

C = AnalysisCode
W = StructureWarning


def analyse_rows(rows: list[dict[str, Any]], *args: Any, **kwargs: Any) -> list[Analysis]:
    """`replication_analysis` over fixture rows, mapped to snapshots as the backend maps what it reads."""
    return replication_analysis(instances_from_rows(rows), *args, **kwargs)


def analysis_of(rows: list[dict[str, Any]], port: int, config: dict[str, Any] | None = None) -> Analysis:
    """The (unfiltered) analysis entry of testhost:<port>."""
    found = [a for a in analyse_rows(rows, config, include_noproblem=True, include_downtimed=True) if a.port == port]
    assert found, f"no analysis row for port {port}"
    return found[0]


def code_of(rows: list[dict[str, Any]], port: int, config: dict[str, Any] | None = None) -> AnalysisCode:
    return analysis_of(rows, port, config).code


def lines(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> list[str]:
    return format_lines(analyse_rows(rows, config))


def below_22294(port: int, **overrides: Any) -> dict[str, Any]:
    """An extra replica of the intermediate master 22294."""
    return make_row(port, master_port=22294, replication_depth=2, **overrides)


REPLICAS = (22294, 22296, 22297)


def all_replicas(change: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {p: change for p in REPLICAS}


# ---------------------------------------------------------------------------------------
# Codes and enums
# ---------------------------------------------------------------------------------------


def test_codes_print_bare_names() -> None:
    assert str(C.DEAD_MASTER) == "DeadMaster"
    assert f"{W.NO_FAILOVER_SUPPORT}" == "NoFailoverSupportStructureWarning"
    assert all(str(w).endswith("StructureWarning") for w in W)
    assert set(DESCRIPTIONS) == set(C)
    assert C.NO_WRITEABLE_MASTER == W.NO_WRITEABLE_MASTER


def test_healthy_topology_has_no_output() -> None:
    assert lines(topology()) == []
    entries = analyse_rows(topology(), include_noproblem=True)
    assert [(a.port, a.code) for a in entries] == [(22293, C.NO_PROBLEM), (22294, C.NO_PROBLEM)]


# ---------------------------------------------------------------------------------------
# Master rows (decision chain #1-#14)
# ---------------------------------------------------------------------------------------


def test_dead_master_without_replicas() -> None:
    assert code_of([make_row(MASTER, **DEAD)], MASTER) == C.DEAD_MASTER_WITHOUT_REPLICAS


def test_dead_master() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(IO_STOPPED))
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): DeadMaster"]
    a = analysis_of(rows, MASTER)
    assert a.is_actionable
    assert a.replica_keys == ["testhost:22294", "testhost:22296", "testhost:22297"]


def test_dead_master_with_replicas_failing_to_connect() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(FAILING))
    assert code_of(rows, MASTER) == C.DEAD_MASTER
    # each first-tier replica reports its own connection failure
    assert code_of(rows, 22296) == C.FIRST_TIER_REPLICA_FAILING_TO_CONNECT_TO_MASTER


def test_dead_master_and_replicas() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(DEAD))
    assert code_of(rows, MASTER) == C.DEAD_MASTER_AND_REPLICAS
    assert not analysis_of(rows, MASTER).is_actionable


def test_dead_master_and_some_replicas() -> None:
    rows = topology({MASTER: DEAD, 22294: DEAD, 22296: STOPPED, 22297: IO_STOPPED})
    assert code_of(rows, MASTER) == C.DEAD_MASTER_AND_SOME_REPLICAS


def test_unreachable_master_with_lagging_replicas() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(LAGGING))
    assert code_of(rows, MASTER) == C.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS


def test_lag_code_needs_some_undelayed_replica() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(LAGGING | {"sql_delay": 3600}))
    assert code_of(rows, MASTER) == C.UNREACHABLE_MASTER


def test_unreachable_master() -> None:
    rows = topology({MASTER: DEAD, 22297: LAGGING})
    assert code_of(rows, MASTER) == C.UNREACHABLE_MASTER


def test_unreachable_master_partial_success_with_failing_replica() -> None:
    rows = topology({MASTER: DEAD | {"last_check_partial_success": 1}, 22297: FAILING})
    assert code_of(rows, MASTER) == C.UNREACHABLE_MASTER


def test_partial_success_master_without_failing_replica_is_no_problem() -> None:
    rows = topology({MASTER: DEAD | {"last_check_partial_success": 1}})
    assert code_of(rows, MASTER) == C.NO_PROBLEM


SEMI_SYNC_LOCKED = {
    "semi_sync_master_enabled": 1,
    "semi_sync_master_status": 1,
    "semi_sync_master_wait_for_slave_count": 2,
    "semi_sync_master_clients": 1,
}


def test_locked_semi_sync_master_hypothesis() -> None:
    rows = topology({MASTER: SEMI_SYNC_LOCKED})
    assert code_of(rows, MASTER) == C.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS
    assert not analysis_of(rows, MASTER).is_actionable


def test_locked_semi_sync_master() -> None:
    rows = topology({MASTER: SEMI_SYNC_LOCKED | {"is_stale_binlog_coordinates": 1}})
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): LockedSemiSyncMaster"]
    assert analysis_of(rows, MASTER).is_actionable


def test_semi_sync_status_off_is_not_locked() -> None:
    rows = topology({MASTER: SEMI_SYNC_LOCKED | {"semi_sync_master_status": 0}})
    assert code_of(rows, MASTER) == C.NO_PROBLEM


def test_master_with_too_many_semi_sync_replicas() -> None:
    too_many = SEMI_SYNC_LOCKED | {"semi_sync_master_wait_for_slave_count": 1, "semi_sync_master_clients": 3}
    rows = topology({MASTER: too_many})
    assert code_of(rows, MASTER, {"EnforceExactSemiSyncReplicas": True}) == C.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS
    assert code_of(rows, MASTER) == C.NO_PROBLEM


def test_no_writeable_master_as_primary_code() -> None:
    rows = topology({MASTER: {"read_only": 1}})
    a = analysis_of(rows, MASTER, {"RecoverNonWriteableMaster": True})
    assert a.code == C.NO_WRITEABLE_MASTER
    assert a.structure_warnings == [W.NO_WRITEABLE_MASTER]
    assert a.is_actionable
    # printed once even though it is both the code and a warning
    assert format_line(a) == "testhost:22293 (cluster testhost:22293): NoWriteableMasterStructureWarning"
    # without replicating replicas it is not promoted
    rows = topology({MASTER: {"read_only": 1}} | all_replicas(STOPPED))
    assert code_of(rows, MASTER, {"RecoverNonWriteableMaster": True}) == C.ALL_MASTER_REPLICAS_NOT_REPLICATING


def test_master_single_replica_not_replicating() -> None:
    rows = topology({22294: STOPPED}, drop=(22296, 22297))
    assert code_of(rows, MASTER) == C.MASTER_SINGLE_REPLICA_NOT_REPLICATING


def test_master_single_replica_dead() -> None:
    rows = topology({22294: DEAD}, drop=(22296, 22297))
    assert code_of(rows, MASTER) == C.MASTER_SINGLE_REPLICA_DEAD


def test_all_master_replicas_not_replicating() -> None:
    rows = topology(all_replicas(STOPPED))
    assert code_of(rows, MASTER) == C.ALL_MASTER_REPLICAS_NOT_REPLICATING


def test_all_master_replicas_not_replicating_or_dead() -> None:
    rows = topology({22294: DEAD, 22296: STOPPED, 22297: IO_STOPPED})
    assert code_of(rows, MASTER) == C.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD


# ---------------------------------------------------------------------------------------
# Co-masters (#15-#18): 22293 and 22294 replicate from each other
# ---------------------------------------------------------------------------------------


def co_master_topology(
    m: dict[str, Any] | None = None,
    other: dict[str, Any] | None = None,
    r22296: dict[str, Any] | None = None,
    r22297: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """22293 and 22294 as a co-master pair; 22296 and 22297 still replicate from 22293."""
    return topology(
        {
            MASTER: {"master_host": "testhost", "master_port": 22294, "is_co_master": 1} | (m or {}),
            22294: {"is_co_master": 1} | (other or {}),
            22296: r22296 or {},
            22297: r22297 or {},
        }
    )


def test_dead_co_master() -> None:
    rows = co_master_topology(DEAD, IO_STOPPED, r22296=IO_STOPPED, r22297=STOPPED)
    a = analysis_of(rows, MASTER)
    assert not a.facts.is_master and a.facts.is_co_master
    assert a.code == C.DEAD_CO_MASTER
    assert a.instance_type == "co-master"


def test_dead_co_master_and_some_replicas() -> None:
    rows = co_master_topology(DEAD, IO_STOPPED, r22296=DEAD, r22297=STOPPED)
    assert code_of(rows, MASTER) == C.DEAD_CO_MASTER_AND_SOME_REPLICAS


def test_unreachable_co_master() -> None:
    rows = co_master_topology(DEAD)
    assert code_of(rows, MASTER) == C.UNREACHABLE_CO_MASTER


def test_all_co_master_replicas_not_replicating() -> None:
    rows = co_master_topology(None, STOPPED, r22296=STOPPED, r22297=STOPPED)
    assert code_of(rows, MASTER) == C.ALL_CO_MASTER_REPLICAS_NOT_REPLICATING


def test_co_master_falls_through_to_intermediate_rows() -> None:
    # Dead co-master whose replicas are all dead: no co-master row matches (#15/#16 need a
    # valid replica), so the intermediate-master row #23 applies.
    rows = co_master_topology(DEAD, DEAD, r22296=DEAD, r22297=DEAD)
    assert code_of(rows, MASTER) == C.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS


# ---------------------------------------------------------------------------------------
# Intermediate masters (#19-#27): 22294 with 22295 (and extra replicas) below it
# ---------------------------------------------------------------------------------------


def test_dead_intermediate_master_with_single_replica_failing_to_connect() -> None:
    rows = topology({22294: DEAD, 22295: FAILING})
    a = analysis_of(rows, 22294)
    assert a.code == C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT
    assert a.is_actionable
    assert a.instance_type == "intermediate-master"


def test_dead_intermediate_master_with_single_replica() -> None:
    rows = topology({22294: DEAD, 22295: IO_STOPPED})
    assert code_of(rows, 22294) == C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA


def test_dead_intermediate_master() -> None:
    rows = topology({22294: DEAD, 22295: FAILING}, extra=(below_22294(22298, **IO_STOPPED),))
    assert code_of(rows, 22294) == C.DEAD_INTERMEDIATE_MASTER


def test_dead_intermediate_master_and_some_replicas() -> None:
    rows = topology({22294: DEAD, 22295: STOPPED}, extra=(below_22294(22298, **DEAD),))
    assert code_of(rows, 22294) == C.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS


def test_dead_intermediate_master_and_replicas() -> None:
    rows = topology({22294: DEAD, 22295: DEAD})
    assert lines(rows) == ["testhost:22294 (cluster testhost:22293): DeadIntermediateMasterAndReplicas"]


def test_unreachable_intermediate_master_with_lagging_replicas() -> None:
    rows = topology({22294: DEAD, 22295: LAGGING})
    assert code_of(rows, 22294) == C.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS


def test_unreachable_intermediate_master() -> None:
    rows = topology({22294: DEAD}, extra=(below_22294(22298, **LAGGING),))
    assert code_of(rows, 22294) == C.UNREACHABLE_INTERMEDIATE_MASTER


def test_all_intermediate_master_replicas_failing_to_connect_or_dead() -> None:
    rows = topology({22295: FAILING}, extra=(below_22294(22298, **DEAD),))
    assert code_of(rows, 22294) == C.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD


def test_all_intermediate_master_replicas_not_replicating() -> None:
    rows = topology({22295: STOPPED})
    assert code_of(rows, 22294) == C.ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING


# ---------------------------------------------------------------------------------------
# Leaves (#28, #29) and group replication (§2.3)
# ---------------------------------------------------------------------------------------


def test_binlog_server_failing_to_connect_to_master() -> None:
    rows = topology({22296: FAILING | {"binlog_server": 1}})
    assert lines(rows) == ["testhost:22296 (cluster testhost:22293): BinlogServerFailingToConnectToMaster"]


def test_first_tier_replica_failing_to_connect_to_master() -> None:
    rows = topology({22297: FAILING})
    assert lines(rows) == ["testhost:22297 (cluster testhost:22293): FirstTierReplicaFailingToConnectToMaster"]


def test_second_tier_replica_failing_to_connect_is_no_problem() -> None:
    rows = topology({22295: FAILING})
    assert code_of(rows, 22295) == C.NO_PROBLEM


def test_dead_leaf_replica_is_no_problem() -> None:
    assert code_of(topology({22297: DEAD}), 22297) == C.NO_PROBLEM


GROUP = {"replication_group_name": "8a94f357-aab4-11df-86ab-c80aa9429562", "replication_group_member_state": "ONLINE"}


def test_dead_replication_group_member_with_replicas() -> None:
    rows = topology({MASTER: DEAD | GROUP | {"replication_group_member_role": "PRIMARY"}} | all_replicas(IO_STOPPED))
    a = analysis_of(rows, MASTER)
    assert a.facts.is_replication_group_member
    assert a.code == C.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS
    assert a.is_actionable


def test_group_member_skips_async_chain() -> None:
    rows = topology({MASTER: GROUP | {"replication_group_member_role": "PRIMARY"}} | all_replicas(STOPPED))
    assert code_of(rows, MASTER) == C.NO_PROBLEM
    secondary = GROUP | {"replication_group_member_role": "SECONDARY"}
    rows = topology({MASTER: DEAD | secondary} | all_replicas(LAGGING))
    assert code_of(rows, MASTER) == C.NO_PROBLEM


def test_offline_group_member_uses_async_chain() -> None:
    offline = GROUP | {"replication_group_member_state": "OFFLINE", "replication_group_member_role": "PRIMARY"}
    rows = topology({MASTER: DEAD | offline} | all_replicas(IO_STOPPED))
    assert code_of(rows, MASTER) == C.DEAD_MASTER


# ---------------------------------------------------------------------------------------
# Structure warnings (§2.4)
# ---------------------------------------------------------------------------------------


def warnings_of(rows: list[dict[str, Any]], port: int = MASTER) -> list[StructureWarning]:
    return analysis_of(rows, port).structure_warnings


def test_no_logging_replicas_warning() -> None:
    rows = topology(all_replicas({"log_slave_updates": 0}))
    assert warnings_of(rows) == [W.NO_LOGGING_REPLICAS]


def test_no_failover_support_warning() -> None:
    rows = topology({MASTER: {"pseudo_gtid": 0}})
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): NoFailoverSupportStructureWarning"]
    # Oracle GTID on all valid replicas provides failover support
    rows = topology({MASTER: {"pseudo_gtid": 0}} | all_replicas({"oracle_gtid": 1}))
    assert warnings_of(rows) == []


def test_statement_and_mixed_logging_replicas_warning() -> None:
    assert warnings_of(topology({22294: {"binlog_format": "MIXED"}})) == [W.STATEMENT_AND_MIXED_LOGGING_REPLICAS]


def test_statement_and_row_logging_replicas_warning() -> None:
    assert warnings_of(topology({22294: {"binlog_format": "ROW"}})) == [W.STATEMENT_AND_ROW_LOGGING_REPLICAS]


def test_mixed_and_row_logging_replicas_warning() -> None:
    rows = topology({22294: {"binlog_format": "MIXED"}, 22297: {"binlog_format": "ROW"}})
    assert warnings_of(rows) == [W.MIXED_AND_ROW_LOGGING_REPLICAS]


def test_multiple_major_versions_logging_replicas_warning() -> None:
    rows = topology({22297: {"version": "5.7.30-log", "major_version": "5.7"}})
    assert warnings_of(rows) == [W.MULTIPLE_MAJOR_VERSIONS_LOGGING_REPLICAS]


def test_different_gtid_modes_warning_on_any_instance() -> None:
    rows = topology({22295: {"gtid_mode": "ON"}})
    assert warnings_of(rows, 22294) == [W.DIFFERENT_GTID_MODES]
    assert lines(rows) == ["testhost:22294 (cluster testhost:22293): DifferentGTIDModesStructureWarning"]


def test_errant_gtid_warning() -> None:
    rows = topology({22294: {"gtid_errant": "00020192-1111-1111-1111-111111111111:1"}})
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): ErrantGTIDStructureWarning"]


def test_errant_gtid_on_downtimed_replica_is_ignored() -> None:
    rows = topology({22294: {"gtid_errant": "00020192-1111-1111-1111-111111111111:1"} | DOWNTIMED})
    assert lines(rows) == []


def test_no_writeable_master_warning() -> None:
    rows = topology({MASTER: {"read_only": 1}})
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): NoWriteableMasterStructureWarning"]
    assert analysis_of(rows, MASTER).code == C.NO_PROBLEM


def test_not_enough_valid_semi_sync_replicas_warning() -> None:
    fell_back = SEMI_SYNC_LOCKED | {"semi_sync_master_status": 0, "semi_sync_master_clients": 0}
    assert warnings_of(topology({MASTER: fell_back})) == [W.NOT_ENOUGH_VALID_SEMI_SYNC_REPLICAS]


def test_code_and_several_warnings_line() -> None:
    rows = topology(
        {
            MASTER: DEAD | {"pseudo_gtid": 0, "read_only": 1},
            22294: IO_STOPPED | {"binlog_format": "ROW"},
            22296: IO_STOPPED,
            22297: IO_STOPPED,
        }
    )
    assert lines(rows) == [
        "testhost:22293 (cluster testhost:22293): DeadMaster, NoFailoverSupportStructureWarning, "
        "StatementAndRowLoggingReplicasStructureWarning, NoWriteableMasterStructureWarning"
    ]


# ---------------------------------------------------------------------------------------
# Filtering: downtime, maintenance, hostname filters, reduction (§2.5)
# ---------------------------------------------------------------------------------------


def test_downtimed_master_is_dropped() -> None:
    rows = topology({MASTER: DEAD | DOWNTIMED} | all_replicas(IO_STOPPED))
    assert lines(rows) == []
    entries = analyse_rows(rows, include_downtimed=True)
    assert [(a.key, a.code) for a in entries] == [("testhost:22293", C.DEAD_MASTER)]
    assert entries[0].is_downtimed and entries[0].skippable_due_to_downtime
    assert not entries[0].is_replicas_downtimed
    assert is_skippable_due_to_downtime(entries[0])


def test_downtimed_no_problem_with_warning_is_dropped() -> None:
    rows = topology({MASTER: DOWNTIMED | {"pseudo_gtid": 0}})
    assert lines(rows) == []


def test_all_replicas_downtimed_skips_replica_codes() -> None:
    rows = topology(all_replicas(STOPPED | DOWNTIMED))
    assert lines(rows) == []
    a = analysis_of(rows, MASTER)
    assert a.code == C.ALL_MASTER_REPLICAS_NOT_REPLICATING
    assert a.is_replicas_downtimed and a.skippable_due_to_downtime and not a.is_downtimed
    assert is_skippable_due_to_downtime(a)


def test_some_replicas_downtimed_still_reported() -> None:
    rows = topology(all_replicas(STOPPED) | {22294: STOPPED | DOWNTIMED})
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): AllMasterReplicasNotReplicating"]


def test_all_replicas_downtimed_does_not_hide_dead_master() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(IO_STOPPED | DOWNTIMED))
    assert lines(rows) == ["testhost:22293 (cluster testhost:22293): DeadMaster"]
    assert not analysis_of(rows, MASTER).skippable_due_to_downtime


def test_maintenance_excludes_instance() -> None:
    rows = topology({MASTER: DEAD | {"in_maintenance": 1}} | all_replicas(IO_STOPPED))
    assert lines(rows) == []
    assert all(a.port != MASTER for a in analyse_rows(rows, include_noproblem=True, include_downtimed=True))


def test_replica_in_maintenance_still_counts() -> None:
    rows = topology({MASTER: DEAD, 22294: IO_STOPPED | {"in_maintenance": 1}, 22296: IO_STOPPED, 22297: IO_STOPPED})
    a = analysis_of(rows, MASTER)
    assert a.code == C.DEAD_MASTER and a.facts.count_replicas == 3


def test_reduce_replication_analysis_count() -> None:
    keys = [a.port for a in analyse_rows(topology(), include_noproblem=True)]
    assert keys == [22293, 22294]
    config = {"ReduceReplicationAnalysisCount": False}
    keys = [a.port for a in analyse_rows(topology(), config, include_noproblem=True)]
    assert keys == [22293, 22294, 22295, 22296, 22297]
    assert lines(topology(), config) == []


def test_recovery_ignore_hostname_filters() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(IO_STOPPED))
    assert lines(rows, {"RecoveryIgnoreHostnameFilters": ["^testhost$"]}) == []
    assert lines(rows, {"RecoveryIgnoreHostnameFilters": ["test"]}) == []
    assert len(lines(rows, {"RecoveryIgnoreHostnameFilters": ["^other"]})) == 1
    assert len(lines(rows, {"RecoveryIgnoreHostnameFilters": ["("]})) == 1  # invalid regex ignored


def test_cluster_name_filter_and_ordering() -> None:
    other = [
        make_row(3306, hostname="a-host", cluster_name="a-host:3306", cluster_alias="a", **DEAD)
        | {"master_host": "", "master_port": 0, "replication_depth": 0}
    ]
    rows = topology({MASTER: DEAD} | all_replicas(IO_STOPPED)) + other
    assert [a.key for a in analyse_rows(rows)] == ["a-host:3306", "testhost:22293"]
    assert [a.key for a in analyse_rows(rows, cluster_name=CLUSTER)] == ["testhost:22293"]


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def test_format_line() -> None:
    rows = topology({MASTER: DEAD} | all_replicas(IO_STOPPED))
    a = analysis_of(rows, MASTER)
    assert format_line(a) == "testhost:22293 (cluster testhost:22293): DeadMaster"
    a.structure_warnings = [W.NO_FAILOVER_SUPPORT, W.ERRANT_GTID]
    assert format_line(a) == (
        "testhost:22293 (cluster testhost:22293): DeadMaster, NoFailoverSupportStructureWarning, "
        "ErrantGTIDStructureWarning"
    )
    a.code = C.NO_PROBLEM
    assert format_line(a) == (
        "testhost:22293 (cluster testhost:22293): NoFailoverSupportStructureWarning, ErrantGTIDStructureWarning"
    )


def test_to_json_shape() -> None:
    rows = topology({MASTER: DEAD | {"pseudo_gtid": 0}} | all_replicas(IO_STOPPED))
    doc = to_json(analysis_of(rows, MASTER, {"RecoverMasterClusterFilters": ["*"]}))
    json.dumps(doc)  # serialisable
    assert doc["AnalyzedInstanceKey"] == {"Hostname": "testhost", "Port": 22293}
    assert doc["AnalyzedInstanceMasterKey"] == {"Hostname": "", "Port": 0}
    assert doc["Analysis"] == "DeadMaster"
    assert doc["StructureAnalysis"] == ["NoFailoverSupportStructureWarning"]
    assert doc["ClusterDetails"]["ClusterName"] == CLUSTER
    assert doc["ClusterDetails"]["ClusterAlias"] == CLUSTER
    assert doc["ClusterDetails"]["HasAutomatedMasterRecovery"] is True
    assert doc["CountReplicas"] == 3
    assert doc["CountValidReplicas"] == 3
    assert doc["CountValidReplicatingReplicas"] == 0
    assert doc["IsDowntimed"] is False
    assert doc["IsActionableRecovery"] is True
    assert doc["IsMaster"] is True
    assert doc["SlaveHosts"] == doc["Replicas"] == [{"Hostname": "testhost", "Port": p} for p in (22294, 22296, 22297)]
    assert doc["AnalyzedInstanceBinlogCoordinates"]["LogFile"] == "mysql-bin.000167"


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------

_FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}
for _f in dataclasses.fields(AnalysisFacts):
    if _f.name in ("hostname",):
        _FIELD_STRATEGIES[_f.name] = st.just("h")
    elif _f.name == "replica_keys":
        _FIELD_STRATEGIES[_f.name] = st.just(())
    elif _f.type == "bool":
        _FIELD_STRATEGIES[_f.name] = st.booleans()
    elif _f.type == "int":
        _FIELD_STRATEGIES[_f.name] = st.integers(min_value=0, max_value=4)
    else:
        _FIELD_STRATEGIES[_f.name] = st.sampled_from(["", "OFF", "ON", "ON_PERMISSIVE", "x:1"])

facts_strategy = st.builds(AnalysisFacts, **_FIELD_STRATEGIES)


@settings(max_examples=500, deadline=None)
@given(
    facts=facts_strategy,
    flags=st.fixed_dictionaries(
        {k: st.booleans() for k in ("EnforceExactSemiSyncReplicas", "RecoverNonWriteableMaster")}
    ),
)
def test_analyze_never_raises_and_yields_known_codes(facts: AnalysisFacts, flags: dict[str, bool]) -> None:
    a = analyze(facts, flags)
    assert a.code in set(AnalysisCode)
    assert a.code not in NEVER_PRODUCED_CODES
    assert all(w in set(StructureWarning) for w in a.structure_warnings)
    assert len(set(a.structure_warnings)) == len(a.structure_warnings)
    assert a.is_actionable == (a.code in ACTIONABLE_CODES)
    assert a.skippable_due_to_downtime == is_skippable_due_to_downtime(a)
    format_line(a)
    json.dumps(to_json(a))


# A literal transcription of the spec §2.2 table, evaluated as a flat first-match list,
# to check the nested implementation keeps the exact order.
Rule = tuple[AnalysisCode, Callable[[AnalysisFacts, dict[str, bool]], bool]]


def _spec_rules() -> list[Rule]:
    def s(f: AnalysisFacts) -> tuple[bool, bool, int, int, int, int, int, int]:
        return (
            f.last_check_valid,
            f.last_check_partial_success,
            f.count_replicas,
            f.count_valid_replicas,
            f.count_valid_replicating_replicas,
            f.count_replicas_failing_to_connect_to_master,
            f.count_lagging_replicas,
            f.count_delayed_replicas,
        )

    def semi(f: AnalysisFacts) -> bool:
        return (
            f.is_master
            and f.semi_sync_master_enabled
            and f.semi_sync_master_status
            and f.semi_sync_master_wait_for_replica_count > 0
        )

    m = lambda f: f.is_master  # noqa: E731
    cm = lambda f: f.is_co_master  # noqa: E731
    return [
        (C.DEAD_MASTER_WITHOUT_REPLICAS, lambda f, c: m(f) and not s(f)[0] and s(f)[2] == 0),
        (C.DEAD_MASTER, lambda f, c: m(f) and not s(f)[0] and s(f)[3] == s(f)[2] and s(f)[4] == 0),
        (
            C.DEAD_MASTER_AND_REPLICAS,
            lambda f, c: m(f) and not s(f)[0] and s(f)[2] > 0 and s(f)[3] == 0 and s(f)[4] == 0,
        ),
        (
            C.DEAD_MASTER_AND_SOME_REPLICAS,
            lambda f, c: m(f) and not s(f)[0] and 0 < s(f)[3] < s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS,
            lambda f, c: m(f) and not s(f)[0] and s(f)[6] == s(f)[2] and s(f)[7] < s(f)[2] and s(f)[4] > 0,
        ),
        (
            C.UNREACHABLE_MASTER,
            lambda f, c: m(f) and not s(f)[0] and not s(f)[1] and s(f)[3] > 0 and s(f)[4] > 0,
        ),
        (
            C.UNREACHABLE_MASTER,
            lambda f, c: m(f) and not s(f)[0] and s(f)[1] and s(f)[5] > 0 and s(f)[3] > 0 and s(f)[4] > 0,
        ),
        (
            C.LOCKED_SEMI_SYNC_MASTER,
            lambda f, c: (
                semi(f)
                and f.semi_sync_master_clients < f.semi_sync_master_wait_for_replica_count
                and f.is_stale_binlog_coordinates
            ),
        ),
        (
            C.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS,
            lambda f, c: semi(f) and f.semi_sync_master_clients < f.semi_sync_master_wait_for_replica_count,
        ),
        (
            C.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS,
            lambda f, c: (
                c["EnforceExactSemiSyncReplicas"]
                and semi(f)
                and f.semi_sync_master_clients > f.semi_sync_master_wait_for_replica_count
            ),
        ),
        (
            C.NO_WRITEABLE_MASTER,
            lambda f, c: m(f) and s(f)[0] and f.is_read_only and s(f)[4] > 0 and c["RecoverNonWriteableMaster"],
        ),
        (
            C.MASTER_SINGLE_REPLICA_NOT_REPLICATING,
            lambda f, c: m(f) and s(f)[0] and s(f)[2] == 1 and s(f)[3] == s(f)[2] and s(f)[4] == 0,
        ),
        (C.MASTER_SINGLE_REPLICA_DEAD, lambda f, c: m(f) and s(f)[0] and s(f)[2] == 1 and s(f)[3] == 0),
        (
            C.ALL_MASTER_REPLICAS_NOT_REPLICATING,
            lambda f, c: m(f) and s(f)[0] and s(f)[2] > 1 and s(f)[3] == s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD,
            lambda f, c: m(f) and s(f)[0] and s(f)[2] > 1 and 0 < s(f)[3] < s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.DEAD_CO_MASTER,
            lambda f, c: cm(f) and not s(f)[0] and s(f)[2] > 0 and s(f)[3] == s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.DEAD_CO_MASTER_AND_SOME_REPLICAS,
            lambda f, c: cm(f) and not s(f)[0] and s(f)[2] > 0 and 0 < s(f)[3] < s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.UNREACHABLE_CO_MASTER,
            lambda f, c: cm(f) and not s(f)[0] and not s(f)[1] and s(f)[3] > 0 and s(f)[4] > 0,
        ),
        (C.ALL_CO_MASTER_REPLICAS_NOT_REPLICATING, lambda f, c: cm(f) and s(f)[0] and s(f)[2] > 0 and s(f)[4] == 0),
        (
            C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT,
            lambda f, c: (
                not m(f) and not s(f)[0] and s(f)[2] == 1 and s(f)[3] == s(f)[2] and s(f)[5] == s(f)[2] and s(f)[4] == 0
            ),
        ),
        (
            C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA,
            lambda f, c: not m(f) and not s(f)[0] and s(f)[2] == 1 and s(f)[3] == s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.DEAD_INTERMEDIATE_MASTER,
            lambda f, c: not m(f) and not s(f)[0] and s(f)[2] > 1 and s(f)[3] == s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS,
            lambda f, c: not m(f) and not s(f)[0] and 0 < s(f)[3] < s(f)[2] and s(f)[4] == 0,
        ),
        (
            C.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS,
            lambda f, c: not m(f) and not s(f)[0] and s(f)[2] > 0 and s(f)[3] == 0,
        ),
        (
            C.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS,
            lambda f, c: not m(f) and not s(f)[0] and s(f)[6] == s(f)[2] and s(f)[7] < s(f)[2] and s(f)[4] > 0,
        ),
        (
            C.UNREACHABLE_INTERMEDIATE_MASTER,
            lambda f, c: not m(f) and not s(f)[0] and not s(f)[1] and s(f)[3] > 0 and s(f)[4] > 0,
        ),
        (
            C.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD,
            lambda f, c: not m(f) and s(f)[0] and s(f)[2] > 1 and s(f)[4] == 0 and s(f)[5] > 0 and s(f)[5] == s(f)[3],
        ),
        (
            C.ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING,
            lambda f, c: not m(f) and s(f)[0] and s(f)[2] > 0 and s(f)[4] == 0,
        ),
        (
            C.BINLOG_SERVER_FAILING_TO_CONNECT_TO_MASTER,
            lambda f, c: f.is_binlog_server and f.is_failing_to_connect_to_master,
        ),
        (
            C.FIRST_TIER_REPLICA_FAILING_TO_CONNECT_TO_MASTER,
            lambda f, c: f.replication_depth == 1 and f.is_failing_to_connect_to_master,
        ),
    ]


SPEC_RULES = _spec_rules()


def _spec_code(f: AnalysisFacts, config: dict[str, bool]) -> AnalysisCode:
    if f.is_replication_group_member:
        valid, n, rr = f.last_check_valid, f.count_replicas, f.count_valid_replicating_replicas
        return C.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS if not valid and n > 0 and rr == 0 else C.NO_PROBLEM
    for code, predicate in SPEC_RULES:
        if predicate(f, config):
            return code
    return C.NO_PROBLEM


@settings(max_examples=2000, deadline=None)
@given(
    facts=facts_strategy,
    flags=st.fixed_dictionaries(
        {k: st.booleans() for k in ("EnforceExactSemiSyncReplicas", "RecoverNonWriteableMaster")}
    ),
)
def test_chain_matches_spec_table_order(facts: AnalysisFacts, flags: dict[str, bool]) -> None:
    assert analyze(facts, flags).code == _spec_code(facts, flags)


def test_every_producible_code_is_covered_by_a_scenario() -> None:
    # Names of the scenario tests above, one per code (guards against a code being added
    # without a test).
    names = set(globals())
    for code in AnalysisCode:
        if code in NEVER_PRODUCED_CODES or code in (C.NO_PROBLEM, C.NO_WRITEABLE_MASTER):
            continue
        snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in str(code)).lstrip("_")
        assert f"test_{snake}" in names, f"missing scenario test for {code}"
