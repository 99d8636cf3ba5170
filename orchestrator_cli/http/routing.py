"""How route modules declare routes: responses in the original's forms, errors as `ERROR` envelopes,
legacy `slave`/`enslave` path names, and the power check on changing routes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.auth import require_power
from orchestrator_cli.http.invoke import Service, instance_row
from orchestrator_cli.model.keys import InstanceKey

log = logging.getLogger("orchestrator.http")

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "Code": {"type": "string", "enum": ["OK", "ERROR"]},
        "Message": {"type": "string"},
        "Details": {},
    },
    "required": ["Code", "Message", "Details"],
}
ERROR_RESPONSE: dict[int | str, dict[str, Any]] = {
    500: {
        "description": "ERROR envelope: the operation failed or the input was refused; Message is the one-line reason",
        "content": {"application/json": {"schema": ENVELOPE_SCHEMA}},
    }
}

# Every path with a `replica` name is also served under its legacy name, as the original registers both.
_LEGACY_NAMES = (("replica", "slave"), ("take-", "enslave-"))


def ok(message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(shapes.envelope(shapes.OK, message, details))


def error(message: str, details: Any = None, status: int = 500) -> JSONResponse:
    return JSONResponse(shapes.envelope(shapes.ERROR, " ".join(message.split())), status_code=status)


def data(value: Any) -> JSONResponse:
    """Data routes answer the raw object or array, not the envelope."""
    return JSONResponse(value)


def instance_details(svc: Service, key: InstanceKey, message: str) -> JSONResponse:
    """OK with the instance as the backend now knows it (what the client prints `key<master` from)."""
    return ok(message, shapes.instance_json(instance_row(svc, key), svc.reasonable_lag))


def _guarded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """An `OrchestratorError` becomes the ERROR envelope with the CLI's message; a bug becomes one too
    (logged with its traceback), never an HTML 500 page the client cannot parse."""

    @functools.wraps(endpoint)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        except OrchestratorError as e:
            return error(str(e))
        except Exception as e:
            log.exception("internal error in %s", endpoint.__name__)
            return error(f"internal error: {type(e).__name__}: {e}")

    return guarded


def legacy_paths(path: str) -> list[str]:
    """`/stop-replica/...` -> also `/stop-slave/...`; `/take-master/...` -> also `/enslave-master/...`."""
    head, sep, rest = path.lstrip("/").partition("/")
    names = [head]
    for new, old in _LEGACY_NAMES:
        if new in head:
            names.append(head.replace(new, old, 1))
    return ["/" + name + sep + rest for name in names]


def add(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    *,
    changes: bool = False,
    summary: str = "",
    legacy: bool = True,
) -> None:
    """Register GET `path` (and its legacy names); a changing route also requires powers."""
    dependencies = [Depends(require_power)] if changes else []
    guarded = _guarded(endpoint)
    for i, p in enumerate(legacy_paths(path) if legacy else [path]):
        router.add_api_route(
            p,
            guarded,
            methods=["GET"],
            summary=summary or None,
            dependencies=dependencies,
            responses=ERROR_RESPONSE,
            operation_id=f"{'changes' if changes else 'reads'}:{p}",
            include_in_schema=True,
            name=f"{endpoint.__name__}:{i}:{p}",
        )
