"""General and meta routes: audit log (paged), reload-configuration, snapshots, name resolution,
request headers, and the raft family (answered with a clear ERROR: leadership here is elected on the
backend database, there is no raft)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from orchestrator_cli.errors import UsageError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.invoke import Service, instance_text, parse_key, run, service_of
from orchestrator_cli.http.routing import add, data, error, ok

router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"
AUDIT_PAGE_SIZE = 20  # the original's AuditPageSize

RAFT_PATHS = (
    "raft-add-peer/{peer}", "raft-remove-peer/{peer}", "raft-yield/{node}", "raft-yield-hint/{hint}",
    "raft-peers", "raft-state", "raft-leader", "raft-health", "raft-status", "raft-snapshot",
    "raft-follower-health-report/{authenticationToken}/{raftBind}/{raftAdvertise}",
)  # fmt: skip
RAFT_MESSAGE = (
    "raft is not supported: this orchestrator elects its leader on the shared backend database "
    "(see leader-check and status)"
)


def _page(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"invalid page {text!r}: expected a non-negative integer")
    return int(text)


def _audit_rows(svc: Service, hostname: str = "", port: str = "", page: int = 0) -> JSONResponse:
    from orchestrator_cli.backend import audit

    key = parse_key(svc, hostname, port) if hostname else None
    rows = audit.read_audit(svc.backend, key, limit=AUDIT_PAGE_SIZE, offset=page * AUDIT_PAGE_SIZE)
    return data(
        [
            {
                "AuditId": shapes.plain(r["audit_id"]),
                "AuditTimestamp": shapes.plain(r["audit_timestamp"]),
                "AuditType": shapes.plain(r["audit_type"]),
                "AuditInstanceKey": shapes.key_json_of(r["hostname"], r["port"]),
                "ClusterName": shapes.plain(r["cluster_name"]) or "",
                "Message": shapes.plain(r["message"]),
            }
            for r in rows
        ]
    )


def audit(svc: Service = SVC) -> JSONResponse:
    return _audit_rows(svc)


def audit_page(page: str, svc: Service = SVC) -> JSONResponse:
    return _audit_rows(svc, page=_page(page))


def audit_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return _audit_rows(svc, hostname, port)


def audit_instance_page(hostname: str, port: str, page: str, svc: Service = SVC) -> JSONResponse:
    return _audit_rows(svc, hostname, port, _page(page))


def reload_configuration(request: Request, svc: Service = SVC) -> JSONResponse:
    """Re-read the config file the service started with: routes see it at once, continuous mode opens
    its next topology connections with it (`Service.reload`). A changed backend database or listen
    address needs a restart: the message and the log name the keys."""
    from orchestrator_cli.backend import audit as audit_log
    from orchestrator_cli.config import load_config

    fresh = load_config(svc.config_path)
    shared: Service = request.app.state.service  # `svc` is this request's view of it
    ignored = shared.reload(fresh)
    request.app.state.config = shared.config
    source = f"from {svc.config_path or 'default locations'}"
    details = f"{source}; needs a restart: {', '.join(ignored)}" if ignored else source
    audit_log.audit(svc.backend, "reload-configuration", None, details)
    message = f"Config reloaded; needs a restart to take effect: {', '.join(ignored)}" if ignored else "Config reloaded"
    return ok(message, None)


def snapshot_topologies(svc: Service = SVC) -> JSONResponse:
    out = run(svc, "snapshot-topologies")
    return ok("Topologies snapshot taken", out.data)


def resolve(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "resolve", instance=instance_text(hostname, port))
    return ok("Instance resolved", shapes.key_text_json(out.lines[0]))


def reset_hostname_resolve_cache(svc: Service = SVC) -> JSONResponse:
    run(svc, "reset-hostname-resolve-cache")
    return ok("Hostname cache cleared", None)


def hostname_resolve_cache(svc: Service = SVC) -> JSONResponse:
    out = run(svc, "show-resolve-hosts")
    return ok("Cache retrieved", {str(r["hostname"]): str(r["resolved_hostname"]) for r in out.data or []})


def headers(request: Request) -> JSONResponse:
    return data({k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "cookie")})


def raft(request: Request) -> JSONResponse:
    return error(RAFT_MESSAGE)


add(router, "/audit", audit, summary="Audit log, newest first (20 per page)")
add(router, "/audit/{page}", audit_page, summary="Audit log page")
add(router, f"/audit/instance/{HP}", audit_instance, summary="Audit log of one instance")
add(router, f"/audit/instance/{HP}/{{page}}", audit_instance_page, summary="Audit log page of one instance")
add(router, "/reload-configuration", reload_configuration, changes=True, summary="Re-read the config file")
add(router, "/snapshot-topologies", snapshot_topologies, changes=True, summary="Record host/master pairs")
add(router, f"/resolve/{HP}", resolve, summary="Resolve an instance's hostname")
add(router, "/reset-hostname-resolve-cache", reset_hostname_resolve_cache, changes=True, summary="Clear the cache")
add(router, "/hostname-resolve-cache", hostname_resolve_cache, summary="Resolved host names")
add(router, "/headers", headers, summary="The request's headers (credentials left out)")
for _path in RAFT_PATHS:
    add(router, f"/{_path}", raft, summary="raft is not supported here (ERROR)", legacy=False)
