"""The failure-analysis decision chain and structure warnings.

Pure functions over :class:`AnalysisFacts`: the recovery loop, the CLI and the API all
classify the same facts the same way, and the order of the rules is itself behaviour
(first match wins), so it is written out literally rather than table-driven.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.analysis.codes import (
    ACTIONABLE_CODES,
    DESCRIPTIONS,
    REPLICAS_DOWNTIME_SKIPPABLE_CODES,
    AnalysisCode,
    StructureWarning,
)
from orchestrator_cli.analysis.facts import Config, config_bool
from orchestrator_cli.model.analysis_facts import AnalysisFacts

C = AnalysisCode
W = StructureWarning


@dataclass
class Analysis:
    """One analysed instance: its primary code, structure warnings and downtime status.

    Mutable on purpose: the recovery layer annotates entries (e.g. downgrades
    ``is_actionable`` during an emergency graceful period, sets ``command_hint``).
    """

    key: str
    hostname: str
    port: int
    cluster_name: str
    cluster_alias: str
    cluster_domain: str
    code: AnalysisCode
    description: str
    structure_warnings: list[StructureWarning]
    is_actionable: bool
    is_downtimed: bool
    is_replicas_downtimed: bool
    skippable_due_to_downtime: bool
    facts: AnalysisFacts
    command_hint: str = ""

    @property
    def replica_keys(self) -> list[str]:
        """The direct replicas as `host:port`, sorted; made on demand: a listing drops most entries
        (NoProblem) and never reads theirs."""
        return [str(k) for k in self.facts.replica_keys]

    @property
    def codes(self) -> list[str]:
        """The code (unless NoProblem) followed by the warnings, without repeating the code."""
        result: list[str] = [] if self.code == C.NO_PROBLEM else [str(self.code)]
        for warning in self.structure_warnings:
            if str(warning) not in result:
                result.append(str(warning))
        return result

    @property
    def analysis_string(self) -> str:
        """Comma-joined codes as printed by ``replication-analysis``."""
        return ", ".join(self.codes)

    @property
    def instance_type(self) -> str:
        """``co-master``, ``master`` or ``intermediate-master`` (co-master checked first)."""
        if self.facts.is_co_master:
            return "co-master"
        if self.facts.is_master:
            return "master"
        return "intermediate-master"


def _semi_sync_active(f: AnalysisFacts) -> bool:
    return (
        f.is_master
        and f.semi_sync_master_enabled
        and f.semi_sync_master_status
        and f.semi_sync_master_wait_for_replica_count > 0
    )


def primary_code(f: AnalysisFacts, config: Config = None) -> AnalysisCode:
    """Decision chain of spec §2.2/§2.3: first matching rule wins."""
    valid = f.last_check_valid
    partial = f.last_check_partial_success
    n = f.count_replicas
    v = f.count_valid_replicas
    rr = f.count_valid_replicating_replicas
    failing = f.count_replicas_failing_to_connect_to_master
    lagging = f.count_lagging_replicas
    delayed = f.count_delayed_replicas

    if f.is_replication_group_member:
        if not valid and n > 0 and rr == 0:
            return C.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS
        return C.NO_PROBLEM

    if f.is_master:
        if not valid:
            if n == 0:
                return C.DEAD_MASTER_WITHOUT_REPLICAS
            if v == n and rr == 0:
                return C.DEAD_MASTER
            if v == 0 and rr == 0:
                return C.DEAD_MASTER_AND_REPLICAS
            if 0 < v < n and rr == 0:
                return C.DEAD_MASTER_AND_SOME_REPLICAS
            if lagging == n and delayed < n and rr > 0:
                return C.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS
            if not partial and v > 0 and rr > 0:
                return C.UNREACHABLE_MASTER
            if partial and failing > 0 and v > 0 and rr > 0:
                return C.UNREACHABLE_MASTER
        if _semi_sync_active(f) and f.semi_sync_master_clients < f.semi_sync_master_wait_for_replica_count:
            if f.is_stale_binlog_coordinates:
                return C.LOCKED_SEMI_SYNC_MASTER
            return C.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS
        if (
            config_bool(config, "EnforceExactSemiSyncReplicas", False)
            and _semi_sync_active(f)
            and f.semi_sync_master_clients > f.semi_sync_master_wait_for_replica_count
        ):
            return C.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS
        if valid:
            if f.is_read_only and rr > 0 and config_bool(config, "RecoverNonWriteableMaster", False):
                return C.NO_WRITEABLE_MASTER
            if n == 1 and v == n and rr == 0:
                return C.MASTER_SINGLE_REPLICA_NOT_REPLICATING
            if n == 1 and v == 0:
                return C.MASTER_SINGLE_REPLICA_DEAD
            if n > 1 and v == n and rr == 0:
                return C.ALL_MASTER_REPLICAS_NOT_REPLICATING
            if n > 1 and 0 < v < n and rr == 0:
                return C.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD

    if f.is_co_master:
        if not valid and n > 0 and v == n and rr == 0:
            return C.DEAD_CO_MASTER
        if not valid and n > 0 and 0 < v < n and rr == 0:
            return C.DEAD_CO_MASTER_AND_SOME_REPLICAS
        if not valid and not partial and v > 0 and rr > 0:
            return C.UNREACHABLE_CO_MASTER
        if valid and n > 0 and rr == 0:
            return C.ALL_CO_MASTER_REPLICAS_NOT_REPLICATING

    if not f.is_master:
        if not valid:
            if n == 1 and v == n and failing == n and rr == 0:
                return C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT
            if n == 1 and v == n and rr == 0:
                return C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA
            if n > 1 and v == n and rr == 0:
                return C.DEAD_INTERMEDIATE_MASTER
            if 0 < v < n and rr == 0:
                return C.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS
            if n > 0 and v == 0:
                return C.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS
            if lagging == n and delayed < n and rr > 0:
                return C.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS
            if not partial and v > 0 and rr > 0:
                return C.UNREACHABLE_INTERMEDIATE_MASTER
        else:
            if n > 1 and rr == 0 and failing > 0 and failing == v:
                return C.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD
            if n > 0 and rr == 0:
                return C.ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING

    if f.is_binlog_server and f.is_failing_to_connect_to_master:
        return C.BINLOG_SERVER_FAILING_TO_CONNECT_TO_MASTER
    if f.replication_depth == 1 and f.is_failing_to_connect_to_master:
        return C.FIRST_TIER_REPLICA_FAILING_TO_CONNECT_TO_MASTER
    return C.NO_PROBLEM


def structure_warnings(f: AnalysisFacts) -> list[StructureWarning]:
    """Structure warnings of spec §2.4, in the original's order."""
    warnings: list[StructureWarning] = []
    n = f.count_replicas
    if f.is_master and f.count_logging_replicas == 0 and n > 1:
        warnings.append(W.NO_LOGGING_REPLICAS)
    if (
        f.is_master
        and n > 1
        and not f.oracle_gtid_immediate_topology
        and not f.mariadb_gtid_immediate_topology
        and not f.binlog_server_immediate_topology
        and not f.pseudo_gtid_immediate_topology
    ):
        warnings.append(W.NO_FAILOVER_SUPPORT)
    statement = f.count_statement_based_logging_replicas
    mixed = f.count_mixed_based_logging_replicas
    row = f.count_row_based_logging_replicas
    if f.is_master and statement > 0 and mixed > 0:
        warnings.append(W.STATEMENT_AND_MIXED_LOGGING_REPLICAS)
    if f.is_master and statement > 0 and row > 0:
        warnings.append(W.STATEMENT_AND_ROW_LOGGING_REPLICAS)
    if f.is_master and mixed > 0 and row > 0:
        warnings.append(W.MIXED_AND_ROW_LOGGING_REPLICAS)
    if f.is_master and f.count_distinct_major_versions_logging_replicas > 1:
        warnings.append(W.MULTIPLE_MAJOR_VERSIONS_LOGGING_REPLICAS)
    if n > 0 and (f.gtid_mode != f.min_replica_gtid_mode or f.gtid_mode != f.max_replica_gtid_mode):
        warnings.append(W.DIFFERENT_GTID_MODES)
    if f.max_replica_gtid_errant != "":
        warnings.append(W.ERRANT_GTID)
    if f.is_master and f.is_read_only:
        warnings.append(W.NO_WRITEABLE_MASTER)
    if (
        f.is_master
        and f.semi_sync_master_enabled
        and not f.semi_sync_master_status
        and f.semi_sync_master_wait_for_replica_count > 0
        and f.semi_sync_master_clients < f.semi_sync_master_wait_for_replica_count
    ):
        warnings.append(W.NOT_ENOUGH_VALID_SEMI_SYNC_REPLICAS)
    return warnings


def replicas_downtimed(code: AnalysisCode, f: AnalysisFacts) -> bool:
    """All replicas are downtimed and the code is only about the replicas (IsReplicasDowntimed)."""
    return f.count_replicas == f.count_downtimed_replicas and code in REPLICAS_DOWNTIME_SKIPPABLE_CODES


def is_skippable_due_to_downtime(analysis: Analysis) -> bool:
    """Spec §2.5: automatic recovery and default listings skip downtimed entries.

    Skippable when the analysed instance is downtimed, or when every replica is downtimed
    and the code concerns only the replicas.
    """
    return analysis.is_downtimed or replicas_downtimed(analysis.code, analysis.facts)


def analyze(facts: AnalysisFacts, config: Config = None) -> Analysis:
    """Classify one analysed instance."""
    code = primary_code(facts, config)
    is_replicas_downtimed = replicas_downtimed(code, facts)
    return Analysis(
        key=str(facts.key),
        hostname=facts.hostname,
        port=facts.port,
        cluster_name=facts.cluster_name,
        cluster_alias=facts.cluster_alias,
        cluster_domain=facts.cluster_domain,
        code=code,
        description=DESCRIPTIONS.get(code, ""),
        structure_warnings=structure_warnings(facts),
        is_actionable=code in ACTIONABLE_CODES,
        is_downtimed=facts.is_downtimed,
        is_replicas_downtimed=is_replicas_downtimed,
        skippable_due_to_downtime=facts.is_downtimed or is_replicas_downtimed,
        facts=facts,
    )
