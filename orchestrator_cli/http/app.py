"""The FastAPI application of `orchestrator http`.

`create_app(config, backend=None, continuous=None)` builds the app; `service.py` runs it under uvicorn
next to continuous mode. Everything lives under `/api/`; `/` is left to the web UI's router.

Names on `app.state` other parts (auth, metrics, health routes, web UI) rely on:

* `app.state.config`: the loaded `Config` (the original's keys);
* `app.state.backend`: the process-wide backend, shared by all requests: a `BackendPool` (one connection
  per request worker thread at most, `backend/connection_pool.py`) unless the caller gave a `Backend`;
* `app.state.continuous`: the running `ContinuousMode`, or None when the app serves without it (tests);
* `app.state.service`: an `invoke.Service` bundling the three, what route modules take via
  `Depends(invoke.service_of)`.

With `URLPrefix` set, everything (API, `/metrics`, health routes, web UI) is served below it (`prefix.py`).
Every /api route depends on `auth.authenticate`; changing routes also on `auth.require_power`.
Routes answer the original's forms: raw JSON for data routes, `{Code, Message, Details}` with HTTP 200
(`OK`) or 500 (`ERROR`) for changes and errors, and a 404 JSON envelope for an unknown /api path.
Changing routes run in the worker threadpool (sync endpoints); a client that disconnects does not stop
an operation that started: it finishes and writes its audit rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator_cli import __version__
from orchestrator_cli.http import shapes, web
from orchestrator_cli.http.auth import authenticate
from orchestrator_cli.http.invoke import Service

if TYPE_CHECKING:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import Config

API_PREFIX = "/api"
ROUTE_MODULES = (
    "orchestrator_cli.http.routes_info",
    "orchestrator_cli.http.routes_management",
    "orchestrator_cli.http.routes_relocation",
    "orchestrator_cli.http.routes_replication",
    "orchestrator_cli.http.routes_tags_pools",
    "orchestrator_cli.http.routes_recovery",
    "orchestrator_cli.http.routes_meta",
)


class _StripTrailingSlash:
    """`/api/downtimed/` is `/api/downtimed`: orchestrator-client leaves an empty last segment when an
    optional argument is missing, and does not follow redirects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")  # `URLPrefix`, which the path still starts with
            if root and path.startswith(root + "/"):
                path = path[len(root) :]
            if path.startswith(API_PREFIX + "/") and len(path) > len(API_PREFIX) + 1 and path.endswith("/"):
                scope = {**scope, "path": scope["path"].rstrip("/") or "/"}
                if "raw_path" in scope and scope["raw_path"]:
                    scope["raw_path"] = scope["raw_path"].rstrip(b"/")
        await self.app(scope, receive, send)


def _api_router() -> APIRouter:
    import importlib

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authenticate)])
    for name in ROUTE_MODULES:
        api.include_router(importlib.import_module(name).router)
    return api


def create_app(
    config: Config,
    backend: Backend | None = None,
    continuous: Any = None,
    config_path: str | None = None,
    *,
    metrics: bool = True,
) -> FastAPI:
    """The service app on `backend` (opened from `config` when not given); `config_path` is what
    `reload-configuration` re-reads (None: the default locations). Auth (`AuthenticationMethod`) is
    checked on every request; `metrics` adds `/metrics`, whose observer is removed at the app's shutdown.
    Without `backend`, requests share a `BackendPool` over `config`'s backend."""
    owns_backend = backend is None
    if backend is None:
        from orchestrator_cli.backend.connection_pool import BackendPool

        backend = BackendPool(config)
    app = FastAPI(
        title="orchestrator",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.config = config
    app.state.backend = backend
    app.state.owns_backend = owns_backend  # closed at the app's shutdown; a given backend is the caller's
    app.state.continuous = continuous
    app.state.service = Service(config, backend, continuous, config_path)
    app.include_router(_api_router())
    from orchestrator_cli.http import routes_health

    routes_health.install(app)  # health, leader-check, election, raft-*; `status` at StatusEndpoint
    app.include_router(web.router)  # the web interface: pages at /, assets and helpers under /web/

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"Unknown API path: {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(shapes.envelope(shapes.ERROR, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()]
        return JSONResponse(shapes.envelope(shapes.ERROR, "invalid request: " + "; ".join(parts)), status_code=500)

    app.add_middleware(_StripTrailingSlash)
    from orchestrator_cli.http import auth

    auth.install(app)
    if metrics:
        from orchestrator_cli.http import metrics as prometheus

        prometheus.install(app)
    from orchestrator_cli.http.prefix import UnderPrefix, url_prefix

    app.add_middleware(UnderPrefix, prefix=url_prefix(config))  # outermost: everything is below URLPrefix
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, take the metrics observer out of `observe` (another app may be built later), and
    close the backend connections the app opened itself."""
    yield
    if getattr(app.state, "owns_backend", False):
        app.state.backend.close()
    if getattr(app.state, "metrics_observer", None) is not None:
        from orchestrator_cli.http import metrics as prometheus

        prometheus.uninstall(app)
