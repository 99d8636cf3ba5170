"""Health, load-balancer and leadership routes under /api, with the original's answers.

* `lb-check`, `_ping`: always 200 ``"OK"`` while the process serves.
* `leader-check[/{code}]`, `routed-leader-check`: 200 ``"OK"`` on the elected node, else 404 (or the
  given code, 100-599) ``"Not leader"``: a load balancer health-checking `leader-check` sends
  traffic to the leader only. Leadership is the running continuous mode's (its lease thread renews
  the `active_node` seat every second); a process without continuous mode never leads.
* `health`, `status` (or the path of `StatusEndpoint`): registers this node (a write: the backend
  works), then reports the elected node and the live service nodes. `health` answers an unhealthy
  node with an ERROR envelope; `status` does too, with HTTP 500 (as the original: monitors that
  expect a failing status code use it).
* `grab-election`, `reelect`: force the election (changes: read-only callers are refused).
* `raft-*` paths answer ERROR from `routes_meta.py` (no raft here: the election is on the backend).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from orchestrator_cli import __version__
from orchestrator_cli.http import shapes
from orchestrator_cli.http.auth import authenticate, require_power, user_name
from orchestrator_cli.http.routing import ERROR_RESPONSE

log = logging.getLogger("orchestrator.http.health")

DEFAULT_STATUS_ENDPOINT = "/api/status"
HEALTHY = "Application node is healthy"

router = APIRouter(prefix="/api", dependencies=[Depends(authenticate)], tags=["health"], responses=ERROR_RESPONSE)
NOT_LEADER: dict[int | str, dict[str, Any]] = {
    404: {
        "description": 'Not the elected leader: the JSON string "Not leader" (with the status code given in the'
        " path, for leader-check/{code}), as the original answers",
        "content": {"application/json": {"schema": {"type": "string"}}},
    }
}


def envelope(code: str, message: str, details: Any = None, status: int | None = None) -> JSONResponse:
    """The original's `{Code, Message, Details}` answer: 200 for OK, 500 for ERROR unless told."""
    if status is None:
        status = 200 if code == shapes.OK else 500
    return JSONResponse(shapes.envelope(code, message, details), status_code=status)


def is_leader(request: Request) -> bool:
    mode = getattr(request.app.state, "continuous", None)
    return bool(mode is not None and getattr(mode, "leader", False))


@contextmanager
def backend_of(request: Request) -> Iterator[Any]:
    """The service's shared backend (`app.state.backend`), or a connection of this request's own."""
    from orchestrator_cli.backend.connection import Backend

    shared = getattr(request.app.state, "backend", None)
    if shared is not None:
        yield shared
        return
    backend = Backend(request.app.state.config)
    try:
        yield backend
    finally:
        backend.close()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _node(row: Mapping[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    return {
        "Hostname": _text(row.get("hostname")),
        "Token": _text(row.get("token")),
        "AppVersion": _text(row.get("app_version")),
        "FirstSeenActive": _text(row.get("first_seen_active")),
        "LastSeenActive": _text(row.get("last_seen_active")),
        "ExtraInfo": _text(row.get("extra_info")),
        "Command": _text(row.get("command")),
        "DBBackend": _text(row.get("db_backend")),
    }


def health_test(request: Request) -> tuple[dict[str, Any], str | None]:
    """The original's HealthTest: (details, error). Registering is the test: it writes."""
    from orchestrator_cli.backend import election, health
    from orchestrator_cli.errors import OrchestratorError

    hostname, token = health.identity()
    details: dict[str, Any] = {
        "Healthy": False,
        "Hostname": hostname,
        "Token": token,
        "IsActiveNode": False,
        "ActiveNode": _node(None),
        "Error": None,
        "AvailableNodes": [],
    }
    try:
        with backend_of(request) as backend:
            health.register(backend, "HttpMode", "http", __version__)
            details["Healthy"] = True
            active = election.active_node(backend)
            details["ActiveNode"] = _node(active)
            details["IsActiveNode"] = active is not None and (active["hostname"], active["token"]) == (hostname, token)
            details["AvailableNodes"] = [
                _node(row) for row in health.active_nodes(backend) if row.get("extra_info") != "CLIMode"
            ]
    except OrchestratorError as e:
        details["Error"] = str(e)
        log.error("health test failed: %s", e)
        return details, str(e)
    return details, None


@router.get("/health", summary="Self test: register this node in the backend; the elected node")
def health(request: Request) -> JSONResponse:
    details, error = health_test(request)
    if error is not None:
        return envelope("ERROR", f"Application node is unhealthy {error}", details)
    return envelope("OK", HEALTHY, details)


def status(request: Request) -> JSONResponse:
    details, error = health_test(request)
    if error is not None:
        return envelope("ERROR", f"Application node is unhealthy {error}", details, status=500)
    return envelope("OK", HEALTHY, details)


@router.get("/lb-check", summary="Constant answer for load balancers")
def lb_check() -> str:
    return "OK"


@router.get("/_ping", summary="Constant answer for load balancers")
def ping() -> str:
    return "OK"


def leader_answer(request: Request, code: str | None = None) -> JSONResponse:
    if is_leader(request):
        return JSONResponse("OK", status_code=200)
    status = 404
    if code is not None and code.isdigit() and 100 <= int(code) <= 599:
        status = int(code)
    return JSONResponse("Not leader", status_code=status)


@router.get("/leader-check", responses=NOT_LEADER, summary="200 on the elected leader, 404 elsewhere")
def leader_check(request: Request) -> JSONResponse:
    return leader_answer(request)


@router.get(
    "/leader-check/{code}", responses=NOT_LEADER, summary="200 on the elected leader, the given status code elsewhere"
)
def leader_check_code(request: Request, code: str) -> JSONResponse:
    return leader_answer(request, code)


@router.get("/routed-leader-check", responses=NOT_LEADER, summary="As leader-check (no raft routing here)")
def routed_leader_check(request: Request) -> JSONResponse:
    return leader_answer(request)


@router.get("/grab-election", dependencies=[Depends(require_power)], summary="Take leadership now")
def grab_election(request: Request) -> JSONResponse:
    from orchestrator_cli.backend import health
    from orchestrator_cli.daemon import leadership
    from orchestrator_cli.errors import OrchestratorError

    if getattr(request.app.state, "continuous", None) is None:
        return envelope("ERROR", "Unable to grab election: this process does not run continuous discovery")
    try:
        with backend_of(request) as backend:
            leadership.grab(backend, health.identity(), user_name(request))
    except OrchestratorError as e:
        return envelope("ERROR", f"Unable to grab election: {e}")
    return envelope("OK", "Node elected as leader")


@router.get("/reelect", dependencies=[Depends(require_power)], summary="Empty the election seat")
def reelect(request: Request) -> JSONResponse:
    from orchestrator_cli.daemon import leadership
    from orchestrator_cli.errors import OrchestratorError

    try:
        with backend_of(request) as backend:
            leadership.reelect(backend, user_name(request))
    except OrchestratorError as e:
        return envelope("ERROR", f"Unable to re-elect: {e}")
    return envelope("OK", "Set re-elections")


def install(app: FastAPI) -> None:
    """Add these routes, and `status` at `StatusEndpoint` (default /api/status)."""
    app.include_router(router)
    endpoint = str(app.state.config.get("StatusEndpoint") or DEFAULT_STATUS_ENDPOINT)
    if not endpoint.startswith("/"):
        endpoint = "/" + endpoint
    app.add_api_route(
        endpoint,
        status,
        methods=["GET"],
        dependencies=[Depends(authenticate)],
        responses=ERROR_RESPONSE,
        summary="Self test for monitors: as health, with HTTP 500 when unhealthy",
        tags=["health"],
    )
