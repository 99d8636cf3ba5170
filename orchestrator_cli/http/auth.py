"""Who may call the API, and who may change things: `AuthenticationMethod` as the original configures it.

* ``""`` (the default): open; everyone may change things.
* ``basic``: HTTP basic auth with `HTTPAuthUser` / `HTTPAuthPassword` on every request; the one
  user may change things. An empty `HTTPAuthUser` disables authentication (the original warns and
  runs open; so do we).
* ``multi``: ``basic``, plus the user ``readonly`` with any password, who may read everything and
  change nothing. `HTTPAuthUser` is required.
* ``proxy``: a reverse proxy authenticates and names the user in the `AuthUserHeader` header; reads
  are open, changes need the user in `PowerAuthUsers` (``*`` = everyone) or in one of the unix
  groups of `PowerAuthGroups`.

* ``token``: reads are open; changes need a one-time access token. `orchestrator -c access-token`
  stores a token pair in the backend and prints its public half; opening
  ``/web/access-token?publicToken=...`` within `AccessTokenUseExpirySeconds` acquires it, once, and
  sets the cookie ``access-token=<public>:<secret>``, which then authenticates its holder (named as
  the token's owner) until `AccessTokenExpiryMinutes` after generation. A client can send that cookie
  itself (``curl -b 'access-token=...'``). Checking a token reads the backend, so it is done in the
  request's worker thread, not in the middleware.

`ReadOnly: true` refuses every change whatever the method. ``oauth`` is not supported here: the
service refuses to start with it rather than run open.

Authentication is checked by a middleware on every path (the API, `/metrics`, unknown paths), so
that orchestrator-client's probe (`curl --head $ORCHESTRATOR_API`) sees ``401 Unauthorized`` as it
does against the original, and a wrong password gets the same answer whatever the path. The
password is compared in constant time; credentials are never logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import grp
import hmac
import logging
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator_cli.errors import ConfigError

log = logging.getLogger("orchestrator.http.auth")

READONLY_USER = "readonly"
METHODS = ("", "basic", "multi", "proxy", "token")
TOKEN = "token"
TOKEN_COOKIE = "access-token"
REALM = 'Basic realm="orchestrator"'


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: a user name ("" when unknown) and whether it may change things."""

    user: str
    powerful: bool


class Unauthenticated(Exception):
    """Missing or wrong credentials: answered 401 with a WWW-Authenticate challenge."""


class ReadOnlyCaller(Exception):
    """An authenticated caller without the power to change things asked for a change."""


class CrossSiteRequest(Exception):
    """A browser says a change was asked for by another site's page (a link, an image, a script)."""


def method_of(config: Mapping[str, Any]) -> str:
    return str(config.get("AuthenticationMethod") or "").strip().lower()


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse a configuration the service cannot honour (a one-line ConfigError), before serving.

    >>> check_config({"AuthenticationMethod": "multi", "HTTPAuthUser": ""})
    Traceback (most recent call last):
    ...
    orchestrator_cli.errors.ConfigError: AuthenticationMethod is "multi" but HTTPAuthUser is empty
    >>> check_config({"AuthenticationMethod": "oauth"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orchestrator_cli.errors.ConfigError: AuthenticationMethod "oauth" is not supported by this service ...
    """
    method = method_of(config)
    if method not in METHODS:
        raise ConfigError(
            f'AuthenticationMethod "{method}" is not supported by this service (use "", basic, multi, proxy or token)'
        )
    if method == "multi" and not config.get("HTTPAuthUser"):
        raise ConfigError('AuthenticationMethod is "multi" but HTTPAuthUser is empty')
    if method == "proxy" and not str(config.get("AuthUserHeader") or "").strip():
        raise ConfigError('AuthenticationMethod is "proxy" but AuthUserHeader is empty')
    if method == "basic" and not config.get("HTTPAuthUser"):
        log.warning('AuthenticationMethod is "basic" but HTTPAuthUser is empty: running without authentication')


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header; None when absent or malformed.

    >>> basic_credentials("Basic " + base64.b64encode(b"dba:se:cret").decode())
    ('dba', 'se:cret')
    >>> basic_credentials("Bearer abc") is None, basic_credentials("Basic !!!") is None
    (True, True)
    """
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def user_groups(user: str) -> set[str]:
    """The unix groups of `user` (its primary group and every group listing it); empty if unknown."""
    if not user:
        return set()
    groups = {g.gr_name for g in grp.getgrall() if user in g.gr_mem}
    with contextlib.suppress(KeyError):  # no such user, or a primary group without a name
        groups.add(grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name)
    return groups


def proxy_power(config: Mapping[str, Any], user: str) -> bool:
    """Whether the proxy-authenticated `user` may change things (`PowerAuthUsers`, `PowerAuthGroups`).

    >>> proxy_power({"PowerAuthUsers": ["*"]}, "")
    True
    >>> proxy_power({"PowerAuthUsers": ["alice"]}, "alice"), proxy_power({"PowerAuthUsers": ["alice"]}, "bob")
    (True, False)
    """
    users = [str(u) for u in config.get("PowerAuthUsers") or []]
    if "*" in users or (user and user in users):
        return True
    groups = {str(g) for g in config.get("PowerAuthGroups") or []}
    return bool(groups) and bool(groups & user_groups(user))


def token_cookie(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(public, secret) from the `access-token` cookie of a request's headers; None without one.

    >>> token_cookie({"cookie": "theme=dark; access-token=ab12:cd34"})
    ('ab12', 'cd34')
    >>> token_cookie({"cookie": "access-token=ab12"}) is None, token_cookie({}) is None
    (True, True)
    """
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(str(headers.get("cookie") or ""))
    except CookieError:
        return None
    morsel = jar.get(TOKEN_COOKIE)
    if morsel is None:
        return None
    public, sep, secret = morsel.value.partition(":")
    return (public, secret) if sep and public and secret else None


TokenOwner = Callable[[str, str], "str | None"]


def identify(config: Mapping[str, Any], headers: Mapping[str, str], token_owner: TokenOwner | None = None) -> Caller:
    """The caller of a request with these headers (case-insensitive, or lower-case keys), or Unauthenticated.

    >>> auth = {"authorization": "Basic " + base64.b64encode(b"readonly:anything").decode()}
    >>> identify({"AuthenticationMethod": "multi", "HTTPAuthUser": "dba", "HTTPAuthPassword": "pw"}, auth)
    Caller(user='readonly', powerful=False)
    >>> identify({"AuthenticationMethod": "basic", "HTTPAuthUser": "dba", "HTTPAuthPassword": "pw"}, auth)
    Traceback (most recent call last):
    ...
    orchestrator_cli.http.auth.Unauthenticated: wrong credentials
    """
    method = method_of(config)
    writable = not config.get("ReadOnly")
    if method in ("basic", "multi"):
        expected_user = str(config.get("HTTPAuthUser") or "")
        if method == "basic" and not expected_user:
            return Caller("", writable)
        given = basic_credentials(headers.get("authorization"))
        if given is None:
            raise Unauthenticated("no credentials")
        user, password = given
        if method == "multi" and user == READONLY_USER:
            return Caller(user, False)
        # both compared, always: the time taken does not tell which one was wrong
        user_ok = _same(user, expected_user)
        password_ok = _same(password, str(config.get("HTTPAuthPassword") or ""))
        if not (user_ok and password_ok):
            raise Unauthenticated("wrong credentials")
        return Caller(user, writable)
    if method == "proxy":
        user = str(headers.get(str(config.get("AuthUserHeader") or "X-Forwarded-User").lower()) or "")
        return Caller(user, writable and proxy_power(config, user))
    if method == TOKEN:
        pair = token_cookie(headers)
        owner = token_owner(*pair) if pair is not None and token_owner is not None else None
        return Caller(owner or "", writable and owner is not None)
    return Caller("", writable)


def _config(request: Request) -> Mapping[str, Any]:
    config: Mapping[str, Any] = request.app.state.config
    return config


def _token_owner(request: Request) -> TokenOwner:
    """Checks an access token against the app's backend (blocking: call it from a worker thread)."""

    def owner(public: str, secret: str) -> str | None:
        from orchestrator_cli.backend import access_tokens
        from orchestrator_cli.errors import OrchestratorError

        minutes = int(_config(request).get("AccessTokenExpiryMinutes", 1440) or 0)
        try:
            return access_tokens.owner_of(request.app.state.backend, public, secret, minutes)
        except OrchestratorError as e:  # the backend is down: nobody is authenticated, reads still work
            log.warning("cannot check an access token: %s", e)
            return None

    return owner


def caller_of(request: Request) -> Caller:
    """The request's caller, identified once per request (by the middleware or the first dependency)."""
    caller = getattr(request.state, "caller", None)
    if isinstance(caller, Caller):
        return caller
    caller = identify(_config(request), request.headers, _token_owner(request))
    request.state.caller = caller
    return caller


def unauthenticated_response() -> Response:
    """Plain text, as the original's basic-auth middleware answers: orchestrator-client looks for
    ``401 Unauthorized`` and must not mistake the body for an API answer."""
    return PlainTextResponse("401 Unauthorized\n", status_code=401, headers={"WWW-Authenticate": REALM})


def refusal(message: str) -> Response:
    return JSONResponse({"Code": "ERROR", "Message": message, "Details": None}, status_code=403)


def authenticate(request: Request) -> None:
    """FastAPI dependency for every /api route: 401 with a challenge on missing or wrong credentials."""
    try:
        caller_of(request)
    except Unauthenticated as e:
        raise HTTPException(status_code=401, detail="Unauthorized", headers={"WWW-Authenticate": REALM}) from e


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _host_port(netloc: str, scheme: str) -> str:
    """`host:port` lower-cased, the scheme's default port made explicit, so `h` and `h:80` compare equal."""
    netloc = netloc.strip().lower().rpartition("@")[2]
    host, sep, port = netloc.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":"):  # not the inside of a bare IPv6 address
        return netloc
    return f"{netloc}:{_DEFAULT_PORTS.get(scheme, '')}"


def cross_site_reason(headers: Mapping[str, str]) -> str | None:
    """Why a browser's request (headers as sent, lower-case keys) came from another site, or None.

    Changing routes are GET, as in the original (orchestrator-client calls them with curl), so a link
    on another site could make a logged-in browser change a topology. Browsers say where a request
    comes from; curl and other clients send neither header and are not affected.

    >>> cross_site_reason({"sec-fetch-site": "cross-site"})
    'Sec-Fetch-Site is cross-site'
    >>> cross_site_reason({"origin": "https://evil.example", "host": "orc:3000"})
    'Origin https://evil.example is not this service (orc:3000)'
    >>> cross_site_reason({"origin": "http://orc:3000", "host": "orc:3000", "sec-fetch-site": "same-origin"})
    >>> cross_site_reason({"origin": "http://orc", "host": "orc:80"}), cross_site_reason({"host": "orc"})
    (None, None)
    """
    if str(headers.get("sec-fetch-site") or "").strip().lower() == "cross-site":
        return "Sec-Fetch-Site is cross-site"
    origin = headers.get("origin")
    if origin is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(origin.strip())
    hosts = [str(headers.get(h) or "") for h in ("host", "x-forwarded-host")]
    mine = {_host_port(h.split(",")[0], parts.scheme) for h in hosts if h.strip()}
    if parts.netloc and _host_port(parts.netloc, parts.scheme) in mine:
        return None
    return f"Origin {origin.strip()} is not this service ({hosts[0]})"


def _loggable(text: str) -> str:
    r"""Request text (a path, an Origin header) on one log line: control characters escaped, so a
    client cannot forge log lines.

    >>> print(_loggable("/api/x\nWARNING fake"))
    /api/x\nWARNING fake
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def require_power(request: Request) -> None:
    """FastAPI dependency for every route that changes a topology or the backend: the caller must be
    allowed to change things, and a browser must not be asking on another site's behalf."""
    authenticate(request)
    reason = cross_site_reason(request.headers)
    if reason is not None:
        log.warning("refused a cross-site request to %s: %s", _loggable(request.url.path), _loggable(reason))
        raise CrossSiteRequest(
            f"Forbidden: cross-site request refused ({reason}); changes only from this service's pages or a client"
        )
    caller = caller_of(request)
    if caller.powerful:
        return
    if _config(request).get("ReadOnly"):
        refused = ReadOnlyCaller("Unauthorized: this orchestrator service is read-only (ReadOnly is set)")
    elif method_of(_config(request)) == TOKEN:
        refused = ReadOnlyCaller(
            "Unauthorized: changes need an access token (orchestrator -c access-token, then open"
            " web/access-token?publicToken=<token>); none, or an expired one, came with this request"
        )
    else:
        who = f'user "{caller.user}"' if caller.user else "an anonymous caller"
        refused = ReadOnlyCaller(f"Unauthorized: {who} has read-only access and cannot make changes")
    log.warning("refused a change to %s: %s", _loggable(request.url.path), _loggable(str(refused)))
    raise refused


def user_name(request: Request) -> str:
    """The authenticated user's name for audit and ownership ("" when the method names nobody)."""
    try:
        return caller_of(request).user
    except Unauthenticated:
        return ""


class AuthMiddleware:
    """Pure ASGI middleware: identifies the caller of every HTTP request once, before routing (with
    ``token``, where nothing is refused before routing, the first dependency that asks does)."""

    def __init__(self, app: ASGIApp, config: Callable[[], Mapping[str, Any]]) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and method_of(self.config()) != TOKEN:
            try:
                caller = identify(self.config(), Headers(scope=scope))
            except Unauthenticated as e:
                client = scope.get("client") or ("?", 0)
                # what was wrong, never what was sent: no user name, no password, no header value
                path = _loggable(scope.get("path", ""))
                log.warning("refused %s %s from %s: %s", scope.get("method", ""), path, client[0], e)
                await unauthenticated_response()(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Check the auth configuration, authenticate every request, and answer refusals as ERROR envelopes."""
    check_config(app.state.config)
    app.add_middleware(AuthMiddleware, config=lambda: app.state.config)

    async def _refused(request: Request, exc: Exception) -> Response:
        return refusal(str(exc))

    app.add_exception_handler(ReadOnlyCaller, _refused)
    app.add_exception_handler(CrossSiteRequest, _refused)
