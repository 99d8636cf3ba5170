"""Recoveries as operators read them: the `audit-recovery` line and the original API's JSON shape, of
past recoveries (backend rows) and of one just run (`Outcome`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator_cli.backend.recovery import RecoveryRecord, RecoveryStep
    from orchestrator_cli.recovery.engine import Outcome


def _key_json(text: str) -> dict[str, Any]:
    host, _, port = text.rpartition(":")
    return {"Hostname": host, "Port": int(port) if port.isdigit() else 0}


def recovery_line(record: RecoveryRecord) -> str:
    """Tab-separated: id, uid, failed instance, analysis, successor (`-` if none), success, acknowledged,
    start, end (`-` while running)."""
    fields = [
        str(record.recovery_id),
        record.uid,
        str(record.key),
        record.analysis,
        record.successor or "-",
        "true" if record.is_successful else "false",
        "true" if record.acknowledged else "false",
        record.start_active_period,
        record.end_recovery or "-",
    ]
    return "\t".join(fields)


def step_line(step: RecoveryStep) -> str:
    return f"  {step.audit_at}\t{step.message}"


def recovery_json(record: RecoveryRecord, steps: Sequence[RecoveryStep] | None = None) -> dict[str, Any]:
    """The original API's TopologyRecovery object (plus `Steps` when given)."""
    successor = record.successor
    data: dict[str, Any] = {
        "Id": record.recovery_id,
        "UID": record.uid,
        "AnalysisEntry": {
            "AnalyzedInstanceKey": {"Hostname": record.key.hostname, "Port": record.key.port},
            "Analysis": record.analysis,
            "ClusterDetails": {
                "ClusterName": record.cluster_name,
                "ClusterAlias": record.cluster_alias,
            },
            "CountReplicas": record.count_affected_replicas,
            "SlaveHosts": [_key_json(k) for k in record.replica_hosts],
        },
        "SuccessorKey": _key_json(successor) if successor else None,
        "SuccessorAlias": record.successor_alias,
        "IsActive": record.in_active_period,
        "IsSuccessful": record.is_successful,
        "LostReplicas": [_key_json(k) for k in record.lost_replicas],
        "ParticipatingInstanceKeys": [_key_json(k) for k in record.participating_instances],
        "AllErrors": [e for e in record.all_errors.split("\n") if e],
        "RecoveryStartTimestamp": record.start_active_period,
        "RecoveryEndTimestamp": record.end_recovery,
        "ProcessingNodeHostname": record.processing_node[0],
        "ProcessingNodeToken": record.processing_node[1],
        "Acknowledged": record.acknowledged,
        "AcknowledgedAt": record.acknowledged_at,
        "AcknowledgedBy": record.acknowledged_by,
        "AcknowledgedComment": record.acknowledge_comment,
        "LastDetectionId": record.last_detection_id,
    }
    if steps is not None:
        data["Steps"] = [{"AuditAt": s.audit_at, "Message": s.message} for s in steps]
    return data


def outcome_json(outcome: Outcome) -> dict[str, object]:
    """A recovery just run (recover, takeovers, continuous mode), as `--format json` prints it."""
    return {
        "FailedInstance": str(outcome.failed),
        "Analysis": outcome.code,
        "Attempted": outcome.attempted,
        "Successful": outcome.successful,
        "SuccessorKey": str(outcome.successor) if outcome.successor else None,
        "SuccessorBinlogCoordinates": outcome.successor_coordinates,
        "MovedReplicas": outcome.moved,
        "LostReplicas": outcome.lost,
        "RecoveryUID": outcome.uid,
        "Reason": outcome.reason,
        "Errors": outcome.errors,
        "HookFailures": outcome.hook_failures,
        "Steps": outcome.steps,
    }
