"""Analysis codes and structure-warning names.

The string values are part of the compatible surface: they appear verbatim in
``replication-analysis`` output, in the JSON API, in hook placeholders
(``{failureType}``) and in the backend (``topology_recovery.analysis``), so they
must match the original's spelling exactly.  Both enums are ``StrEnum`` so that
``str(code)`` and f-strings print the bare code.
"""

from __future__ import annotations

from enum import StrEnum


class AnalysisCode(StrEnum):
    """Primary analysis code of one analysed instance (first match of the decision chain)."""

    NO_PROBLEM = "NoProblem"
    DEAD_MASTER_WITHOUT_REPLICAS = "DeadMasterWithoutReplicas"
    DEAD_MASTER = "DeadMaster"
    DEAD_MASTER_AND_REPLICAS = "DeadMasterAndReplicas"
    DEAD_MASTER_AND_SOME_REPLICAS = "DeadMasterAndSomeReplicas"
    UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS = "UnreachableMasterWithLaggingReplicas"
    UNREACHABLE_MASTER = "UnreachableMaster"
    MASTER_SINGLE_REPLICA_NOT_REPLICATING = "MasterSingleReplicaNotReplicating"
    MASTER_SINGLE_REPLICA_DEAD = "MasterSingleReplicaDead"
    ALL_MASTER_REPLICAS_NOT_REPLICATING = "AllMasterReplicasNotReplicating"
    ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD = "AllMasterReplicasNotReplicatingOrDead"
    LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS = "LockedSemiSyncMasterHypothesis"
    LOCKED_SEMI_SYNC_MASTER = "LockedSemiSyncMaster"
    MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS = "MasterWithTooManySemiSyncReplicas"
    # Defined by the original but never produced (its rule is commented out); kept so
    # that consumers parsing stored codes recognise it.
    MASTER_WITHOUT_REPLICAS = "MasterWithoutReplicas"
    # A structure warning promoted to a primary code when RecoverNonWriteableMaster is set.
    NO_WRITEABLE_MASTER = "NoWriteableMasterStructureWarning"
    DEAD_CO_MASTER = "DeadCoMaster"
    DEAD_CO_MASTER_AND_SOME_REPLICAS = "DeadCoMasterAndSomeReplicas"
    UNREACHABLE_CO_MASTER = "UnreachableCoMaster"
    ALL_CO_MASTER_REPLICAS_NOT_REPLICATING = "AllCoMasterReplicasNotReplicating"
    DEAD_INTERMEDIATE_MASTER = "DeadIntermediateMaster"
    DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA = "DeadIntermediateMasterWithSingleReplica"
    DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT = (
        "DeadIntermediateMasterWithSingleReplicaFailingToConnect"
    )
    DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS = "DeadIntermediateMasterAndSomeReplicas"
    DEAD_INTERMEDIATE_MASTER_AND_REPLICAS = "DeadIntermediateMasterAndReplicas"
    UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS = "UnreachableIntermediateMasterWithLaggingReplicas"
    UNREACHABLE_INTERMEDIATE_MASTER = "UnreachableIntermediateMaster"
    ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD = "AllIntermediateMasterReplicasFailingToConnectOrDead"
    ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING = "AllIntermediateMasterReplicasNotReplicating"
    FIRST_TIER_REPLICA_FAILING_TO_CONNECT_TO_MASTER = "FirstTierReplicaFailingToConnectToMaster"
    BINLOG_SERVER_FAILING_TO_CONNECT_TO_MASTER = "BinlogServerFailingToConnectToMaster"
    DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS = "DeadReplicationGroupMemberWithReplicas"


class StructureWarning(StrEnum):
    """Topology-shape warnings, computed independently of the primary code."""

    STATEMENT_AND_MIXED_LOGGING_REPLICAS = "StatementAndMixedLoggingReplicasStructureWarning"
    STATEMENT_AND_ROW_LOGGING_REPLICAS = "StatementAndRowLoggingReplicasStructureWarning"
    MIXED_AND_ROW_LOGGING_REPLICAS = "MixedAndRowLoggingReplicasStructureWarning"
    MULTIPLE_MAJOR_VERSIONS_LOGGING_REPLICAS = "MultipleMajorVersionsLoggingReplicasStructureWarning"
    NO_LOGGING_REPLICAS = "NoLoggingReplicasStructureWarning"
    DIFFERENT_GTID_MODES = "DifferentGTIDModesStructureWarning"
    ERRANT_GTID = "ErrantGTIDStructureWarning"
    NO_FAILOVER_SUPPORT = "NoFailoverSupportStructureWarning"
    NO_WRITEABLE_MASTER = "NoWriteableMasterStructureWarning"
    NOT_ENOUGH_VALID_SEMI_SYNC_REPLICAS = "NotEnoughValidSemiSyncReplicasStructureWarning"


# Codes the original never emits; useful for coverage checks and documentation.
NEVER_PRODUCED_CODES: frozenset[AnalysisCode] = frozenset({AnalysisCode.MASTER_WITHOUT_REPLICAS})

# Codes whose recovery handler actually changes the topology (the original's
# "actionable" dispatch entries).  The recovery layer may still downgrade one of these
# to non-actionable, e.g. during the emergency graceful period.
ACTIONABLE_CODES: frozenset[AnalysisCode] = frozenset(
    {
        AnalysisCode.DEAD_MASTER,
        AnalysisCode.DEAD_MASTER_AND_SOME_REPLICAS,
        AnalysisCode.LOCKED_SEMI_SYNC_MASTER,
        AnalysisCode.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT,
        AnalysisCode.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD,
        AnalysisCode.DEAD_CO_MASTER,
        AnalysisCode.DEAD_CO_MASTER_AND_SOME_REPLICAS,
        AnalysisCode.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS,
        AnalysisCode.NO_WRITEABLE_MASTER,
    }
)

# Codes that only trigger failure-detection hooks (generic, non-actionable handler).
DETECTION_ONLY_CODES: frozenset[AnalysisCode] = frozenset(
    {
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS,
        AnalysisCode.DEAD_MASTER_AND_REPLICAS,
        AnalysisCode.UNREACHABLE_MASTER,
        AnalysisCode.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS,
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING,
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD,
        AnalysisCode.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS,
    }
)

# Codes that are "about the replicas": when every replica is downtimed, the entry is as
# good as downtimed (spec §2.5, flag IsReplicasDowntimed).
REPLICAS_DOWNTIME_SKIPPABLE_CODES: frozenset[AnalysisCode] = frozenset(
    {
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING,
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD,
        AnalysisCode.MASTER_SINGLE_REPLICA_DEAD,
        AnalysisCode.ALL_CO_MASTER_REPLICAS_NOT_REPLICATING,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS,
        AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS,
        AnalysisCode.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD,
        AnalysisCode.ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING,
    }
)

# Human-readable descriptions (API field ``Description``); wording is ours.
DESCRIPTIONS: dict[AnalysisCode, str] = {
    AnalysisCode.NO_PROBLEM: "",
    AnalysisCode.DEAD_MASTER_WITHOUT_REPLICAS: "Master cannot be reached by orchestrator and has no replica",
    AnalysisCode.DEAD_MASTER: "Master cannot be reached by orchestrator and none of its replicas is replicating",
    AnalysisCode.DEAD_MASTER_AND_REPLICAS: "Master cannot be reached by orchestrator and none of its replicas "
    "can be reached either",
    AnalysisCode.DEAD_MASTER_AND_SOME_REPLICAS: "Master cannot be reached by orchestrator; some of its "
    "replicas are unreachable and none of its reachable replicas is replicating",
    AnalysisCode.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS: "Master cannot be reached by orchestrator and all "
    "of its replicas are lagging",
    AnalysisCode.UNREACHABLE_MASTER: "Master cannot be reached by orchestrator but it has replicating "
    "replicas; possibly a network/host issue",
    AnalysisCode.MASTER_SINGLE_REPLICA_NOT_REPLICATING: "Master is reachable but its single replica is not replicating",
    AnalysisCode.MASTER_SINGLE_REPLICA_DEAD: "Master is reachable but its single replica is dead",
    AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING: "Master is reachable but none of its replicas is replicating",
    AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD: "Master is reachable but none of its replicas "
    "is replicating, and some are unreachable",
    AnalysisCode.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS: "Semi-sync master is possibly locked: it waits for "
    "more semi-sync replicas than are connected",
    AnalysisCode.LOCKED_SEMI_SYNC_MASTER: "Semi-sync master is locked: it waits for more semi-sync replicas "
    "than are connected and its binlog coordinates have not moved",
    AnalysisCode.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS: "Semi-sync master has more semi-sync replicas "
    "than configured to wait for",
    AnalysisCode.MASTER_WITHOUT_REPLICAS: "Master has no replicas",
    AnalysisCode.NO_WRITEABLE_MASTER: "Master is read-only",
    AnalysisCode.DEAD_CO_MASTER: "Co-master cannot be reached by orchestrator and none of its replicas is replicating",
    AnalysisCode.DEAD_CO_MASTER_AND_SOME_REPLICAS: "Co-master cannot be reached by orchestrator; some of its "
    "replicas are unreachable and none of its reachable replicas is replicating",
    AnalysisCode.UNREACHABLE_CO_MASTER: "Co-master cannot be reached by orchestrator but it has replicating "
    "replicas; possibly a network/host issue",
    AnalysisCode.ALL_CO_MASTER_REPLICAS_NOT_REPLICATING: "Co-master is reachable but none of its replicas is "
    "replicating",
    AnalysisCode.DEAD_INTERMEDIATE_MASTER: "Intermediate master cannot be reached by orchestrator and none of "
    "its replicas is replicating",
    AnalysisCode.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA: "Intermediate master cannot be reached by "
    "orchestrator and its (single) replica is not replicating",
    AnalysisCode.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT: "Intermediate master "
    "cannot be reached by orchestrator and its (single) replica is failing to connect",
    AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS: "Intermediate master cannot be reached by "
    "orchestrator; some of its replicas are unreachable and none of its reachable replicas is replicating",
    AnalysisCode.DEAD_INTERMEDIATE_MASTER_AND_REPLICAS: "Intermediate master cannot be reached by "
    "orchestrator and none of its replicas can be reached either",
    AnalysisCode.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS: "Intermediate master cannot be "
    "reached by orchestrator and all of its replicas are lagging",
    AnalysisCode.UNREACHABLE_INTERMEDIATE_MASTER: "Intermediate master cannot be reached by orchestrator but "
    "it has replicating replicas; possibly a network/host issue",
    AnalysisCode.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD: "Intermediate master is "
    "reachable but all of its replicas are failing to connect or are unreachable",
    AnalysisCode.ALL_INTERMEDIATE_MASTER_REPLICAS_NOT_REPLICATING: "Intermediate master is reachable but "
    "none of its replicas is replicating",
    AnalysisCode.FIRST_TIER_REPLICA_FAILING_TO_CONNECT_TO_MASTER: "1st tier replica (directly replicating "
    "from the topology master) is unable to connect to the master",
    AnalysisCode.BINLOG_SERVER_FAILING_TO_CONNECT_TO_MASTER: "Binlog server is unable to connect to its master",
    AnalysisCode.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS: "Replication group member cannot be reached "
    "by orchestrator and none of its replicas is replicating",
}
