"""Analysis and recovery: `replication-analysis`, `recover`, takeovers, acks, audits, global switches.

Every route runs the CLI command of the same meaning; the answers take the original API's forms
(`replication-analysis` is an envelope whose Details is the array; takeovers answer a recovery whose
`SuccessorKey` is an InstanceKey object, which the client prints).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.clusters import cluster_name
from orchestrator_cli.http.invoke import Service, instance_text, parse_key, run, service_of
from orchestrator_cli.http.routing import add, data, error, ok

router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"
DHP = "{destinationHostname}/{destinationPort}"


# -- analysis ------------------------------------------------------------------------------------------------


def _analysis(svc: Service) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = run(svc, "replication-analysis").data or []
    return entries


def replication_analysis(svc: Service = SVC) -> JSONResponse:
    return ok("Analysis", _analysis(svc))


def replication_analysis_cluster(clusterName: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    name = cluster_name(svc, clusterName)
    return ok("Analysis", [e for e in _analysis(svc) if e["ClusterDetails"]["ClusterName"] == name])


def replication_analysis_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    key = shapes.key_json(parse_key(svc, hostname, port))
    return ok("Analysis", [e for e in _analysis(svc) if e["AnalyzedInstanceKey"] == key])


def replication_analysis_changelog(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.backend import analysis

    rows = analysis.changelog(svc.backend, None, limit=1000)
    return data([{k: shapes.plain(v) for k, v in r.items()} for r in rows])


# -- recovery ------------------------------------------------------------------------------------------------


def _successor(outcome: dict[str, Any]) -> dict[str, Any]:
    """A command's recovery JSON with `SuccessorKey` as an InstanceKey object (as the original sends it)."""
    result = dict(outcome)
    result["SuccessorKey"] = shapes.key_text_json(outcome["SuccessorKey"]) if outcome.get("SuccessorKey") else None
    return result


def _recover(svc: Service, command: str, text: str, destination: str = "") -> JSONResponse:
    out = run(svc, command, instance=text, destination=destination)
    outcome: dict[str, Any] = out.data or {}
    if not outcome.get("Attempted"):
        return error(f"Recovery not attempted on {text}: {outcome.get('Analysis') or 'no actionable analysis'}")
    if not outcome.get("Successful") or not outcome.get("SuccessorKey"):
        errors = "; ".join(outcome.get("Errors") or []) or "no successor"
        return error(f"Recovery of {text} failed: {errors}", _successor(outcome))
    return ok(f"Recovered {text}", shapes.key_text_json(outcome["SuccessorKey"]))


def recover(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return _recover(svc, "recover", instance_text(hostname, port))


def recover_with_candidate(
    hostname: str, port: str, candidateHost: str, candidatePort: str, svc: Service = SVC
) -> JSONResponse:  # noqa: N803, E501
    return _recover(svc, "recover", instance_text(hostname, port), instance_text(candidateHost, candidatePort))


def recover_lite(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return _recover(svc, "recover-lite", instance_text(hostname, port))


def recover_lite_with_candidate(
    hostname: str, port: str, candidateHost: str, candidatePort: str, svc: Service = SVC
) -> JSONResponse:  # noqa: N803, E501
    return _recover(svc, "recover-lite", instance_text(hostname, port), instance_text(candidateHost, candidatePort))


def _takeover(svc: Service, command: str, hint: str, destination: str = "") -> JSONResponse:
    out = run(svc, command, alias=cluster_name(svc, hint), destination=destination)
    outcome = _successor(out.data or {})
    if outcome.get("SuccessorKey") is None:
        return error(f"{command}: no successor promoted", outcome)
    successor = outcome["SuccessorKey"]
    return ok(f"{command}: promoted {successor['Hostname']}:{successor['Port']}", outcome)


def _takeover_routes(command: str) -> None:
    def plain(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
        return _takeover(svc, command, clusterHint)

    def designated(
        clusterHint: str, destinationHostname: str, destinationPort: str, svc: Service = SVC
    ) -> JSONResponse:  # noqa: N803, E501
        return _takeover(svc, command, clusterHint, instance_text(destinationHostname, destinationPort))

    plain.__name__ = designated.__name__ = command.replace("-", "_")
    if command != "force-master-takeover":  # the original's force-master-takeover needs the designated master
        add(router, f"/{command}/{{clusterHint}}", plain, changes=True, summary=f"CLI {command}")
    add(router, f"/{command}/{{clusterHint}}/{DHP}", designated, changes=True, summary=f"CLI {command} -d")


# -- acknowledgements and switches ------------------------------------------------------------------------------


def _acked(out_data: Any) -> JSONResponse:
    count = int((out_data or {}).get("Acknowledged", 0))
    return ok(f"Acknowledged {count} recoveries", count)


def ack_cluster(clusterHint: str, comment: str = "", svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _acked(run(svc, "ack-cluster-recoveries", alias=clusterHint, instance=clusterHint, reason=comment).data)


def ack_instance(hostname: str, port: str, comment: str = "", svc: Service = SVC) -> JSONResponse:
    return _acked(run(svc, "ack-instance-recoveries", instance=instance_text(hostname, port), reason=comment).data)


def ack_all(comment: str = "", svc: Service = SVC) -> JSONResponse:
    return _acked(run(svc, "ack-all-recoveries", reason=comment).data)


def ack_recovery(recoveryId: str, comment: str = "", svc: Service = SVC) -> JSONResponse:  # noqa: N803
    """One recovery by id or uid: no CLI command does this, so the backend's acknowledgement and an audit row."""
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import recovery as rec

    if not comment:
        raise OrchestratorError("comment is required: comment your ack (?comment=...)")
    owner = "orchestrator-http"
    count = rec.acknowledge_recovery(svc.backend, recoveryId, owner, comment)
    if count:
        audit.audit(svc.backend, "ack-recovery", None, f"recovery {recoveryId} acknowledged by {owner}: {comment}")
    return ok(f"Acknowledged {count} recoveries", count)


def _switch(command: str, svc: Service) -> JSONResponse:
    out = run(svc, command)
    state = "disabled" if (out.data or {}).get("RecoveriesDisabled") else "enabled"
    return ok(f"Global recoveries {state}", state)


def disable_global_recoveries(svc: Service = SVC) -> JSONResponse:
    return _switch("disable-global-recoveries", svc)


def enable_global_recoveries(svc: Service = SVC) -> JSONResponse:
    return _switch("enable-global-recoveries", svc)


def check_global_recoveries(svc: Service = SVC) -> JSONResponse:
    return _switch("check-global-recoveries", svc)


# -- past recoveries and detections -------------------------------------------------------------------------------


def _audit_recovery(svc: Service, **options: str) -> JSONResponse:
    return data(run(svc, "audit-recovery", **options).data or [])


def audit_recovery(svc: Service = SVC) -> JSONResponse:
    return _audit_recovery(svc)


def audit_recovery_cluster(clusterName: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _audit_recovery(svc, alias=clusterName)


def audit_recovery_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return _audit_recovery(svc, instance=instance_text(hostname, port))


def audit_recovery_id(recoveryId: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _audit_recovery(svc, pattern=recoveryId)


def audit_recovery_steps(uid: str, svc: Service = SVC) -> JSONResponse:
    records = run(svc, "audit-recovery", pattern=uid).data or []
    return data(records[0].get("Steps", []) if records else [])


def active_cluster_recovery(clusterName: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    records = run(svc, "audit-recovery", alias=clusterName).data or []
    return data([r for r in records if r.get("IsActive")])


def blocked_recoveries(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.backend import recovery as rec

    return data(
        [
            {
                "FailedInstanceKey": shapes.key_json_of(r["hostname"], r["port"]),
                "ClusterName": shapes.plain(r["cluster_name"]),
                "Analysis": shapes.plain(r["analysis"]),
                "LastBlockedTimestamp": shapes.plain(r["last_blocked_timestamp"]),
                "BlockingRecoveryId": shapes.plain(r["blocking_recovery_id"]),
            }
            for r in rec.blocked_recoveries(svc.backend)
        ]
    )


def audit_failure_detection(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.backend import recovery as rec

    return data([{k: shapes.plain(v) for k, v in r.items()} for r in rec.detections(svc.backend)])


def automated_recovery_filters(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.analysis.facts import config_list

    keys = ("RecoverMasterClusterFilters", "RecoverIntermediateMasterClusterFilters", "RecoveryIgnoreHostnameFilters")
    return ok("Automated recovery configuration details", {k: config_list(svc.config, k) for k in keys})


add(router, "/replication-analysis", replication_analysis, summary="Current analysis (Details: entries)")
add(router, "/replication-analysis/{clusterName}", replication_analysis_cluster, summary="Analysis of one cluster")
add(router, f"/replication-analysis/instance/{HP}", replication_analysis_instance, summary="Analysis of one instance")
add(router, "/replication-analysis-changelog", replication_analysis_changelog, summary="Analysis changes")
add(router, f"/recover/{HP}", recover, changes=True, summary="CLI recover")
add(router, f"/recover/{HP}/{{candidateHost}}/{{candidatePort}}", recover_with_candidate, changes=True)
add(router, f"/recover-lite/{HP}", recover_lite, changes=True, summary="CLI recover-lite")
add(router, f"/recover-lite/{HP}/{{candidateHost}}/{{candidatePort}}", recover_lite_with_candidate, changes=True)
for _command in ("graceful-master-takeover", "graceful-master-takeover-auto", "force-master-failover"):
    _takeover_routes(_command)
_takeover_routes("force-master-takeover")
add(router, "/ack-recovery/cluster/{clusterHint}", ack_cluster, changes=True, summary="Acknowledge a cluster's")
add(router, "/ack-recovery/cluster/alias/{clusterHint}", ack_cluster, changes=True, summary="... by alias")
add(router, f"/ack-recovery/instance/{HP}", ack_instance, changes=True, summary="Acknowledge an instance's")
add(router, "/ack-recovery/{recoveryId}", ack_recovery, changes=True, summary="Acknowledge one recovery by id")
add(router, "/ack-recovery/uid/{recoveryId}", ack_recovery, changes=True, summary="Acknowledge one by uid")
add(router, "/ack-all-recoveries", ack_all, changes=True, summary="Acknowledge all recoveries")
add(router, "/disable-global-recoveries", disable_global_recoveries, changes=True, summary="Disable recoveries")
add(router, "/enable-global-recoveries", enable_global_recoveries, changes=True, summary="Enable recoveries")
add(router, "/check-global-recoveries", check_global_recoveries, summary="Are recoveries disabled?")
add(router, "/audit-recovery", audit_recovery, summary="Past recoveries")
add(router, "/audit-recovery/{clusterName}", audit_recovery_cluster, summary="Past recoveries of a cluster")
add(router, "/audit-recovery/alias/{clusterName}", audit_recovery_cluster, summary="... by alias")
add(router, f"/audit-recovery/instance/{HP}", audit_recovery_instance, summary="Past recoveries of an instance")
add(router, "/audit-recovery/id/{recoveryId}", audit_recovery_id, summary="One recovery by id")
add(router, "/audit-recovery/uid/{recoveryId}", audit_recovery_id, summary="One recovery by uid")
add(router, "/audit-recovery-steps/{uid}", audit_recovery_steps, summary="Steps of one recovery")
add(router, "/active-cluster-recovery/{clusterName}", active_cluster_recovery, summary="Active recoveries")
add(router, "/blocked-recoveries", blocked_recoveries, summary="Recoveries blocked by anti-flapping")
add(router, "/audit-failure-detection", audit_failure_detection, summary="Failure detections")
add(router, "/automated-recovery-filters", automated_recovery_filters, summary="Recovery filters from the config")
