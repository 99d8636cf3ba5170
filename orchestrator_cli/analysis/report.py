"""Replication analysis as listed by ``replication-analysis`` and the API.

Applies the listing filters of spec §2.5 on top of :mod:`rules` and renders entries
as the CLI text line (cli-catalog §3.3) or as the original API's JSON object, so both
frontends share one implementation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from orchestrator_cli.analysis.codes import AnalysisCode
from orchestrator_cli.analysis.facts import Config, build_facts, config_list
from orchestrator_cli.analysis.rules import Analysis, analyze
from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey


def _compile_filters(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile RecoveryIgnoreHostnameFilters; invalid regexes are skipped (never match)."""
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error:
            continue
    return compiled


def _sort_key(a: Analysis) -> tuple[str, str, int]:
    return (a.cluster_name, a.hostname, a.port)


def replication_analysis(
    instances: Iterable[Instance],
    config: Config = None,
    include_noproblem: bool = False,
    include_downtimed: bool = False,
    cluster_name: str | None = None,
) -> list[Analysis]:
    """Analyse instance snapshots and return the entries a listing should show.

    Dropped (spec §2.5): NoProblem entries without structure warnings (unless
    ``include_noproblem``), hosts matching RecoveryIgnoreHostnameFilters, and entries
    skippable due to downtime (unless ``include_downtimed``; the recovery loop asks for
    them and skips them itself).  ``cluster_name`` restricts the result to one cluster,
    like the API's per-cluster route.  Ordered by cluster name, then hostname and port.
    """
    return listed_analysis(
        build_facts(instances, config),
        config,
        include_noproblem=include_noproblem,
        include_downtimed=include_downtimed,
        cluster_name=cluster_name,
    )


def listed_analysis(
    facts: Iterable[AnalysisFacts],
    config: Config = None,
    include_noproblem: bool = False,
    include_downtimed: bool = False,
    cluster_name: str | None = None,
) -> list[Analysis]:
    """:func:`replication_analysis` over facts already built (e.g. aggregated by the backend)."""
    ignore = _compile_filters(config_list(config, "RecoveryIgnoreHostnameFilters"))
    result: list[Analysis] = []
    for f in facts:
        if cluster_name and f.cluster_name != cluster_name:
            continue
        a = analyze(f, config)
        if a.code == AnalysisCode.NO_PROBLEM and not a.structure_warnings and not include_noproblem:
            continue
        if any(p.search(a.hostname) for p in ignore):
            continue
        if a.skippable_due_to_downtime and not include_downtimed:
            continue
        result.append(a)
    result.sort(key=_sort_key)
    return result


def format_line(a: Analysis) -> str:
    """``host:port (cluster C): Code[, Warning…]`` (code omitted when NoProblem).

    The original printed the code twice when NoWriteableMasterStructureWarning is both
    the primary code and a warning; we print it once (the last field is unchanged).
    """
    return f"{a.key} (cluster {a.cluster_name}): {a.analysis_string}"


def format_lines(analyses: Iterable[Analysis]) -> list[str]:
    """One :func:`format_line` per entry; an empty list means "no problems"."""
    return [format_line(a) for a in analyses]


def _key_json(key: InstanceKey) -> dict[str, Any]:
    return {"Hostname": key.hostname, "Port": key.port}


def to_json(a: Analysis) -> dict[str, Any]:
    """The entry as the original API's ``ReplicationAnalysis`` JSON object.

    Fields that only the recovery process fills in (processing node, agreeing nodes,
    active period) are present with empty values so clients see the same shape.
    """
    f = a.facts
    replicas = [_key_json(k) for k in f.replica_keys]
    return {
        "AnalyzedInstanceKey": _key_json(f.key),
        "AnalyzedInstanceMasterKey": _key_json(f.master_key),
        "ClusterDetails": {
            "ClusterName": a.cluster_name,
            "ClusterAlias": a.cluster_alias,
            "ClusterDomain": a.cluster_domain,
            "CountInstances": 0,
            "HeuristicLag": 0,
            "HasAutomatedMasterRecovery": f.has_automated_master_recovery,
            "HasAutomatedIntermediateMasterRecovery": f.has_automated_intermediate_master_recovery,
        },
        "AnalyzedInstanceDataCenter": f.data_center,
        "AnalyzedInstanceRegion": f.region,
        "AnalyzedInstancePhysicalEnvironment": f.physical_environment,
        "AnalyzedInstanceBinlogCoordinates": {
            "LogFile": f.binary_log_file,
            "LogPos": f.binary_log_pos,
            "Type": 0,
        },
        "IsMaster": f.is_master,
        "IsReplicationGroupMember": f.is_replication_group_member,
        "IsCoMaster": f.is_co_master,
        "LastCheckValid": f.last_check_valid,
        "LastCheckPartialSuccess": f.last_check_partial_success,
        "CountReplicas": f.count_replicas,
        "CountValidReplicas": f.count_valid_replicas,
        "CountValidReplicatingReplicas": f.count_valid_replicating_replicas,
        "CountReplicasFailingToConnectToMaster": f.count_replicas_failing_to_connect_to_master,
        "CountDowntimedReplicas": f.count_downtimed_replicas,
        "ReplicationDepth": f.replication_depth,
        "Replicas": replicas,
        "SlaveHosts": [dict(k) for k in replicas],
        "IsFailingToConnectToMaster": f.is_failing_to_connect_to_master,
        "Analysis": str(a.code),
        "Description": a.description,
        "StructureAnalysis": [str(w) for w in a.structure_warnings],
        "IsDowntimed": a.is_downtimed,
        "IsReplicasDowntimed": a.is_replicas_downtimed,
        "DowntimeEndTimestamp": f.downtime_end_timestamp,
        "DowntimeRemainingSeconds": f.downtime_remaining_seconds,
        "IsBinlogServer": f.is_binlog_server,
        "PseudoGTIDImmediateTopology": f.pseudo_gtid_immediate_topology,
        "OracleGTIDImmediateTopology": f.oracle_gtid_immediate_topology,
        "MariaDBGTIDImmediateTopology": f.mariadb_gtid_immediate_topology,
        "BinlogServerImmediateTopology": f.binlog_server_immediate_topology,
        "SemiSyncMasterEnabled": f.semi_sync_master_enabled,
        "SemiSyncMasterStatus": f.semi_sync_master_status,
        "SemiSyncMasterWaitForReplicaCount": f.semi_sync_master_wait_for_replica_count,
        "SemiSyncMasterClients": f.semi_sync_master_clients,
        "CountSemiSyncReplicasEnabled": f.count_semi_sync_replicas_enabled,
        "CountLoggingReplicas": f.count_logging_replicas,
        "CountStatementBasedLoggingReplicas": f.count_statement_based_logging_replicas,
        "CountMixedBasedLoggingReplicas": f.count_mixed_based_logging_replicas,
        "CountRowBasedLoggingReplicas": f.count_row_based_logging_replicas,
        "CountDistinctMajorVersionsLoggingReplicas": f.count_distinct_major_versions_logging_replicas,
        "CountDelayedReplicas": f.count_delayed_replicas,
        "CountLaggingReplicas": f.count_lagging_replicas,
        "IsActionableRecovery": a.is_actionable,
        "ProcessingNodeHostname": "",
        "ProcessingNodeToken": "",
        "CountAdditionalAgreeingNodes": 0,
        "StartActivePeriod": "",
        "SkippableDueToDowntime": a.skippable_due_to_downtime,
        "GTIDMode": f.gtid_mode,
        "MinReplicaGTIDMode": f.min_replica_gtid_mode,
        "MaxReplicaGTIDMode": f.max_replica_gtid_mode,
        "MaxReplicaGTIDErrant": f.max_replica_gtid_errant,
        "CommandHint": a.command_hint,
        "IsReadOnly": f.is_read_only,
    }
