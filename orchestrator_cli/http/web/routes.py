"""Routes of the web interface: the page at `/`, its assets, the caller's powers, action dry runs and
the acquisition of access tokens (`AuthenticationMethod: token`)."""

from __future__ import annotations

import logging
import mimetypes
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from orchestrator_cli.http.invoke import service_of
from orchestrator_cli.http.web import plan as planning
from orchestrator_cli.http.web.powers import caller_powers, require_changes

log = logging.getLogger("orchestrator.http.web")
router = APIRouter(include_in_schema=False)

_STATIC = "static"
# The browser must see a new release right away; the assets are small and served from the package.
_NO_CACHE = {"Cache-Control": "no-cache"}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}


def _asset(path: str) -> bytes | None:
    """The bytes of a packaged asset, or None; a path leaving the static folder is never read."""
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in {".", ".."} or p.startswith(".") or "\\" in p for p in parts):
        return None
    node = resources.files(__package__).joinpath(_STATIC, *parts)
    return node.read_bytes() if node.is_file() else None


def _media_type(path: str) -> str:
    for suffix, kind in _TYPES.items():
        if path.endswith(suffix):
            return kind
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


@router.get("/")
def index() -> Response:
    """The one page; its addresses are relative, so it also works below a path prefix (`/prefix/`)."""
    body = _asset("index.html")
    assert body is not None, "index.html is missing from the package"
    return Response(body, media_type="text/html; charset=utf-8", headers=_NO_CACHE)


@router.get("/web/static/{path:path}")
def asset(path: str) -> Response:
    body = _asset(path)
    if body is None:
        raise HTTPException(status_code=404, detail=f"no asset {path}")
    return Response(body, media_type=_media_type(path), headers=_NO_CACHE)


@router.get("/web/whoami")
def whoami(request: Request) -> dict[str, Any]:
    """Who the service thinks the caller is and whether they may change anything (the UI hides controls)."""
    return caller_powers(request)


@router.get("/web/plan/{command}", dependencies=[Depends(require_changes)])
async def dry_run(
    command: str,
    request: Request,
    instance: str = "",
    destination: str = "",
    alias: str = "",
    rule: str = "",
    duration: str = "",
    reason: str = "",
    owner: str = "",
) -> JSONResponse:
    """What `command` would do with these arguments: statements (dry run) or a description, or the refusal."""
    from orchestrator_cli.errors import OrchestratorError

    wanted = planning.Request(command, instance, destination, alias, rule, duration, reason, owner)
    try:
        result = await run_in_threadpool(planning.plan, service_of(request), wanted)
    except OrchestratorError as e:
        return JSONResponse({"Code": "ERROR", "Message": str(e), "Details": None}, status_code=500)
    return JSONResponse({"Code": "OK", "Message": "", "Details": result.as_json()})


def _refused(message: str, status: int) -> JSONResponse:
    return JSONResponse({"Code": "ERROR", "Message": message, "Details": None}, status_code=status)


@router.get("/web/access-token")
def access_token(request: Request, public_token: str = Query("", alias="publicToken")) -> Response:
    """Acquire a token from `orchestrator -c access-token` (`AuthenticationMethod: token`): once, within
    `AccessTokenUseExpirySeconds`; the answer sets the `access-token` cookie that authenticates the
    holder's changes, and sends the browser to the page."""
    from orchestrator_cli.backend import access_tokens
    from orchestrator_cli.errors import OrchestratorError
    from orchestrator_cli.http import auth

    config = request.app.state.config
    method = auth.method_of(config)
    if method != auth.TOKEN:
        return _refused(f'access tokens are not in use here (AuthenticationMethod is "{method}", not "token")', 403)
    public_token = public_token.strip()
    if not public_token:
        return _refused("publicToken is required (from orchestrator -c access-token)", 400)
    use_seconds = int(config.get("AccessTokenUseExpirySeconds", 60) or 0)
    try:
        secret = access_tokens.acquire(request.app.state.backend, public_token, use_seconds)
    except OrchestratorError as e:
        return _refused(f"cannot acquire the access token: {e}", 500)
    if secret is None:
        return _refused(
            f"access token not acquired: unknown, already acquired, or older than {use_seconds}s"
            " (AccessTokenUseExpirySeconds); generate another with orchestrator -c access-token",
            403,
        )
    root = str(request.scope.get("root_path", ""))
    response = RedirectResponse(root + "/", status_code=302)
    response.set_cookie(
        auth.TOKEN_COOKIE,
        f"{public_token}:{secret}",
        max_age=int(config.get("AccessTokenExpiryMinutes", 1440) or 0) * 60,
        path=root or "/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    client = request.client.host if request.client else "?"
    log.info("an access token was acquired from %s", client)
    return response
