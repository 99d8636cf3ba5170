"""Recoveries as operators read them: the `audit-recovery` line and the original API's JSON shape, of
past recoveries (backend rows) and of one just run (`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator_cli.backend.recovery import split_keys
from orchestrator_cli.model.coerce import to_str

if TYPE_CHECKING:
    from orchestrator_cli.recovery.engine import Outcome


def _key_json(text: str) -> dict[str, Any]:
    host, _, port = text.rpartition(":")
    return {"Hostname": host, "Port": int(port) if port.isdigit() else 0}


def _successor(row: Mapping[str, Any]) -> str:
    if not row.get("successor_hostname"):
        return ""
    return f"{row['successor_hostname']}:{row['successor_port']}"


def recovery_line(row: Mapping[str, Any]) -> str:
    """Tab-separated: id, uid, failed instance, analysis, successor (`-` if none), success, acknowledged,
    start, end (`-` while running)."""
    fields = [
        str(row["recovery_id"]),
        to_str(row["uid"]),
        f"{row['hostname']}:{row['port']}",
        to_str(row["analysis"]),
        _successor(row) or "-",
        "true" if int(row["is_successful"] or 0) else "false",
        "true" if int(row["acknowledged"] or 0) else "false",
        to_str(row["start_active_period"]),
        to_str(row["end_recovery"]) or "-",
    ]
    return "\t".join(fields)


def step_line(step: Mapping[str, Any]) -> str:
    return f"  {step['audit_at']}\t{step['message']}"


def recovery_json(row: Mapping[str, Any], steps: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The original API's TopologyRecovery object (plus `Steps` when given)."""
    successor = _successor(row)
    data: dict[str, Any] = {
        "Id": int(row["recovery_id"]),
        "UID": to_str(row["uid"]),
        "AnalysisEntry": {
            "AnalyzedInstanceKey": {"Hostname": row["hostname"], "Port": int(row["port"])},
            "Analysis": to_str(row["analysis"]),
            "ClusterDetails": {
                "ClusterName": to_str(row["cluster_name"]),
                "ClusterAlias": to_str(row["cluster_alias"]),
            },
            "CountReplicas": int(row["count_affected_slaves"] or 0),
            "SlaveHosts": [_key_json(k) for k in split_keys(row["slave_hosts"])],
        },
        "SuccessorKey": _key_json(successor) if successor else None,
        "SuccessorAlias": to_str(row["successor_alias"]),
        "IsActive": bool(int(row["in_active_period"] or 0)),
        "IsSuccessful": bool(int(row["is_successful"] or 0)),
        "LostReplicas": [_key_json(k) for k in split_keys(row["lost_slaves"])],
        "ParticipatingInstanceKeys": [_key_json(k) for k in split_keys(row["participating_instances"])],
        "AllErrors": [e for e in to_str(row["all_errors"]).split("\n") if e],
        "RecoveryStartTimestamp": to_str(row["start_active_period"]),
        "RecoveryEndTimestamp": to_str(row["end_recovery"]),
        "ProcessingNodeHostname": to_str(row["processing_node_hostname"]),
        "ProcessingNodeToken": to_str(row["processcing_node_token"]),
        "Acknowledged": bool(int(row["acknowledged"] or 0)),
        "AcknowledgedAt": to_str(row["acknowledged_at"]),
        "AcknowledgedBy": to_str(row["acknowledged_by"]),
        "AcknowledgedComment": to_str(row["acknowledge_comment"]),
        "LastDetectionId": int(row["last_detection_id"] or 0),
    }
    if steps is not None:
        data["Steps"] = [{"AuditAt": to_str(s["audit_at"]), "Message": to_str(s["message"])} for s in steps]
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
