"""Replication on one server: stop/start/reset, detach, skip-query, GTID and semi-sync switches,
read-only, binary logs. Each runs the CLI command of the same meaning and answers the instance as
the backend knows it afterwards; the client prints its key."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.http import shapes
from orchestrator_cli.http.changes import answer_instance, on_instance
from orchestrator_cli.http.invoke import Service, instance_text, parse_key, run, service_of
from orchestrator_cli.http.routing import add, ok

router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"

# path name -> CLI command
_ON_INSTANCE = {
    "stop-replica": "stop-replica",
    "start-replica": "start-replica",
    "restart-replica": "restart-replica",
    "reset-replica": "reset-replica",
    "detach-replica": "detach-replica-master-host",
    "reattach-replica": "reattach-replica-master-host",
    "detach-replica-master-host": "detach-replica-master-host",
    "reattach-replica-master-host": "reattach-replica-master-host",
    "skip-query": "skip-query",
    "enable-gtid": "enable-gtid",
    "disable-gtid": "disable-gtid",
    "gtid-errant-reset-master": "gtid-errant-reset-master",
    "enable-semi-sync-master": "enable-semi-sync-master",
    "disable-semi-sync-master": "disable-semi-sync-master",
    "enable-semi-sync-replica": "enable-semi-sync-replica",
    "disable-semi-sync-replica": "disable-semi-sync-replica",
    "set-read-only": "set-read-only",
    "set-writeable": "set-writeable",
    "flush-binary-logs": "flush-binary-logs",
}


def purge_binary_logs(hostname: str, port: str, logFile: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return answer_instance(svc, "purge-binary-logs", instance_text(hostname, port), binlog=logFile)


def restart_replica_statements(hostname: str, port: str, q: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "restart-replica-statements", instance=instance_text(hostname, port), statement=q)
    return ok("statements", list(out.data or []))


def locate_gtid_errant(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "locate-gtid-errant", instance=instance_text(hostname, port))
    return ok("binary logs with errant GTIDs", list(out.data or []))


def last_pseudo_gtid(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "last-pseudo-gtid", instance=instance_text(hostname, port))
    return ok("last Pseudo-GTID", out.data if out.data is not None else "\n".join(out.lines))


def can_replicate_from(hostname: str, port: str, belowHost: str, belowPort: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803, E501
    destination = parse_key(svc, belowHost, belowPort, "destination")
    out = run(
        svc,
        "can-replicate-from",
        instance=instance_text(hostname, port),
        destination=instance_text(belowHost, belowPort),
    )
    # The client greps the Message for "true", so it is exactly "true" or "false", as the original's.
    return ok("true" if (out.data or {}).get("CanReplicate") else "false", shapes.key_json(destination))


for _path, _command in _ON_INSTANCE.items():
    add(router, f"/{_path}/{HP}", on_instance(_command), changes=True, summary=f"CLI {_command}")
add(router, f"/purge-binary-logs/{HP}/{{logFile}}", purge_binary_logs, changes=True, summary="Purge binary logs")
add(router, f"/restart-replica-statements/{HP}", restart_replica_statements, summary="Statements to apply ?q=")
add(router, f"/locate-gtid-errant/{HP}", locate_gtid_errant, summary="Binary logs holding errant GTIDs")
add(router, f"/last-pseudo-gtid/{HP}", last_pseudo_gtid, summary="Last Pseudo-GTID entry")
add(router, f"/can-replicate-from/{HP}/{{belowHost}}/{{belowPort}}", can_replicate_from, summary="Message true/false")
