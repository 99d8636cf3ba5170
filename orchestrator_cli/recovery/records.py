"""Recoveries as operators read them: the `audit-recovery` line and the original API's JSON shape, of
past recoveries (backend rows) and of one just run (`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator_cli.backend.recovery import split_keys

if TYPE_CHECKING:
    from orchestrator_cli.recovery.engine import Outcome


def _key_json(text: str) -> dict[str, Any]:
    host, _, port = text.rpartition(":")
    return {"Hostname": host, "Port": int(port) if port.isdigit() else 0}


def _successor(row: Mapping[str, Any]) -> str:
    if not row.get("successor_hostname"):
        return ""
    return f"{row['successor_hostname']}:{row['successor_port']}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def recovery_line(row: Mapping[str, Any]) -> str:
    """Tab-separated: id, uid, failed instance, analysis, successor (`-` if none), success, acknowledged,
    start, end (`-` while running)."""
    fields = [
        str(row["recovery_id"]),
        _text(row["uid"]),
        f"{row['hostname']}:{row['port']}",
        _text(row["analysis"]),
        _successor(row) or "-",
        "true" if int(row["is_successful"] or 0) else "false",
        "true" if int(row["acknowledged"] or 0) else "false",
        _text(row["start_active_period"]),
        _text(row["end_recovery"]) or "-",
    ]
    return "\t".join(fields)


def step_line(step: Mapping[str, Any]) -> str:
    return f"  {step['audit_at']}\t{step['message']}"


def recovery_json(row: Mapping[str, Any], steps: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The original API's TopologyRecovery object (plus `Steps` when given)."""
    successor = _successor(row)
    data: dict[str, Any] = {
        "Id": int(row["recovery_id"]),
        "UID": _text(row["uid"]),
        "AnalysisEntry": {
            "AnalyzedInstanceKey": {"Hostname": row["hostname"], "Port": int(row["port"])},
            "Analysis": _text(row["analysis"]),
            "ClusterDetails": {"ClusterName": _text(row["cluster_name"]), "ClusterAlias": _text(row["cluster_alias"])},
            "CountReplicas": int(row["count_affected_slaves"] or 0),
            "SlaveHosts": [_key_json(k) for k in split_keys(row["slave_hosts"])],
        },
        "SuccessorKey": _key_json(successor) if successor else None,
        "SuccessorAlias": _text(row["successor_alias"]),
        "IsActive": bool(int(row["in_active_period"] or 0)),
        "IsSuccessful": bool(int(row["is_successful"] or 0)),
        "LostReplicas": [_key_json(k) for k in split_keys(row["lost_slaves"])],
        "ParticipatingInstanceKeys": [_key_json(k) for k in split_keys(row["participating_instances"])],
        "AllErrors": [e for e in _text(row["all_errors"]).split("\n") if e],
        "RecoveryStartTimestamp": _text(row["start_active_period"]),
        "RecoveryEndTimestamp": _text(row["end_recovery"]),
        "ProcessingNodeHostname": _text(row["processing_node_hostname"]),
        "ProcessingNodeToken": _text(row["processcing_node_token"]),
        "Acknowledged": bool(int(row["acknowledged"] or 0)),
        "AcknowledgedAt": _text(row["acknowledged_at"]),
        "AcknowledgedBy": _text(row["acknowledged_by"]),
        "AcknowledgedComment": _text(row["acknowledge_comment"]),
        "LastDetectionId": int(row["last_detection_id"] or 0),
    }
    if steps is not None:
        data["Steps"] = [{"AuditAt": _text(s["audit_at"]), "Message": _text(s["message"])} for s in steps]
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
