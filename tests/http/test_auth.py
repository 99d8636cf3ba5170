"""Auth of the service as the original configures it, on a bare FastAPI app with one read and one
changing route (the real routes use the same two dependencies)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi import Depends, FastAPI, Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from orchestrator_cli.errors import ConfigError  # noqa: E402
from orchestrator_cli.http import auth  # noqa: E402


def make_app(**config: Any) -> tuple[FastAPI, list[str]]:
    """An app with a read route and a changing route; `changes` records each change that ran."""
    app = FastAPI()
    app.state.config = {"AuthUserHeader": "X-Forwarded-User", "PowerAuthUsers": ["*"], **config}
    changes: list[str] = []

    @app.get("/api/clusters", dependencies=[Depends(auth.authenticate)])
    def clusters() -> list[str]:
        return ["c1"]

    @app.get("/api/begin-downtime/{host}", dependencies=[Depends(auth.authenticate), Depends(auth.require_power)])
    def begin_downtime(host: str, request: Request) -> dict[str, Any]:
        changes.append(f"{host} by {auth.user_name(request)!r}")
        return {"Code": "OK", "Message": host, "Details": None}

    auth.install(app)
    return app, changes


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_open_by_default() -> None:
    app, changes = make_app()
    client = TestClient(app)
    assert client.get("/api/clusters").json() == ["c1"]
    assert client.get("/api/begin-downtime/db1").json()["Code"] == "OK"
    assert changes == ["db1 by ''"]


BASIC = {"AuthenticationMethod": "basic", "HTTPAuthUser": "dba", "HTTPAuthPassword": "s3cret"}


@pytest.mark.parametrize(
    "headers",
    [{}, basic("dba", "wrong"), basic("other", "s3cret"), basic("readonly", "x"), {"Authorization": "Basic !!"}],
    ids=["none", "wrong-password", "wrong-user", "readonly-is-not-special", "malformed"],
)
def test_basic_refuses_missing_or_wrong_credentials_everywhere(headers: dict[str, str]) -> None:
    app, changes = make_app(**BASIC)
    client = TestClient(app)
    for path in ("/api/clusters", "/api/begin-downtime/db1", "/api/no-such-path", "/api"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic")
        assert "s3cret" not in response.text
    # orchestrator-client probes the API root with `curl --head` and looks for this status line
    assert client.head("/api", headers=headers).status_code == 401
    assert changes == []


def test_basic_user_reads_and_changes() -> None:
    app, changes = make_app(**BASIC)
    client = TestClient(app)
    assert client.get("/api/clusters", headers=basic("dba", "s3cret")).json() == ["c1"]
    assert client.get("/api/begin-downtime/db1", headers=basic("dba", "s3cret")).json()["Code"] == "OK"
    assert changes == ["db1 by 'dba'"]


MULTI = {**BASIC, "AuthenticationMethod": "multi"}


def test_multi_readonly_user_reads_with_any_password_and_is_refused_changes() -> None:
    app, changes = make_app(**MULTI)
    client = TestClient(app)
    assert client.get("/api/clusters", headers=basic("readonly", "whatever")).json() == ["c1"]
    refused = client.get("/api/begin-downtime/db1", headers=basic("readonly", ""))
    assert refused.status_code == 403
    body = refused.json()
    assert body["Code"] == "ERROR" and body["Details"] is None
    assert body["Message"] == 'Unauthorized: user "readonly" has read-only access and cannot make changes'
    assert changes == []
    assert client.get("/api/begin-downtime/db1", headers=basic("dba", "s3cret")).json()["Code"] == "OK"
    assert client.get("/api/clusters", headers=basic("dba", "nope")).status_code == 401
    assert changes == ["db1 by 'dba'"]


def test_method_name_is_case_insensitive() -> None:
    app, _ = make_app(**{**MULTI, "AuthenticationMethod": "Multi"})
    assert TestClient(app).get("/api/clusters").status_code == 401


PROXY = {"AuthenticationMethod": "proxy", "AuthUserHeader": "X-Auth-User", "PowerAuthUsers": ["alice"]}


def test_proxy_powers_from_header_user() -> None:
    app, changes = make_app(**PROXY)
    client = TestClient(app)
    assert client.get("/api/clusters").json() == ["c1"]  # the proxy authenticates; reads are open
    assert client.get("/api/clusters", headers={"X-Auth-User": "bob"}).json() == ["c1"]
    assert client.get("/api/begin-downtime/db1", headers={"X-Auth-User": "bob"}).status_code == 403
    assert client.get("/api/begin-downtime/db1").status_code == 403
    # the default X-Forwarded-User is not the configured header
    assert client.get("/api/begin-downtime/db1", headers={"X-Forwarded-User": "alice"}).status_code == 403
    assert client.get("/api/begin-downtime/db1", headers={"x-auth-user": "alice"}).json()["Code"] == "OK"
    assert changes == ["db1 by 'alice'"]


def test_proxy_star_gives_everyone_power() -> None:
    app, changes = make_app(AuthenticationMethod="proxy", PowerAuthUsers=["*"])
    assert TestClient(app).get("/api/begin-downtime/db1", headers={"X-Forwarded-User": "bob"}).json()["Code"] == "OK"
    assert changes == ["db1 by 'bob'"]


def test_proxy_power_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "user_groups", lambda user: {"dba"} if user == "carol" else {"users"})
    app, changes = make_app(AuthenticationMethod="proxy", PowerAuthUsers=[], PowerAuthGroups=["dba"])
    client = TestClient(app)
    assert client.get("/api/begin-downtime/db1", headers={"X-Forwarded-User": "dave"}).status_code == 403
    assert client.get("/api/begin-downtime/db1", headers={"X-Forwarded-User": "carol"}).json()["Code"] == "OK"
    assert changes == ["db1 by 'carol'"]


def test_user_groups_of_root() -> None:
    assert "root" in auth.user_groups("root")
    assert auth.user_groups("no-such-user-here") == set()


@pytest.mark.parametrize("method", ["", "basic", "multi", "proxy"])
def test_read_only_config_refuses_every_change(method: str) -> None:
    app, changes = make_app(**{**MULTI, "AuthenticationMethod": method, "ReadOnly": True})
    client = TestClient(app)
    headers = {**basic("dba", "s3cret"), "X-Forwarded-User": "alice"}
    assert client.get("/api/clusters", headers=headers).json() == ["c1"]
    refused = client.get("/api/begin-downtime/db1", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["Message"] == "Unauthorized: this orchestrator service is read-only (ReadOnly is set)"
    assert changes == []


def test_basic_without_user_runs_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="orchestrator.http.auth"):
        app, changes = make_app(AuthenticationMethod="basic", HTTPAuthUser="")
    assert "running without authentication" in caplog.text
    assert TestClient(app).get("/api/begin-downtime/db1").json()["Code"] == "OK"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"AuthenticationMethod": "multi"}, 'AuthenticationMethod is "multi" but HTTPAuthUser is empty'),
        ({"AuthenticationMethod": "oauth"}, 'AuthenticationMethod "oauth" is not supported by this service'),
        ({"AuthenticationMethod": "proxy", "AuthUserHeader": ""}, "AuthUserHeader is empty"),
    ],
)
def test_unusable_configuration_refused_at_start(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_app(**config)


def test_credentials_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    app, _ = make_app(**MULTI)
    client = TestClient(app)
    with caplog.at_level(logging.DEBUG):
        client.get("/api/clusters", headers=basic("dba", "s3cret"))
        client.get("/api/clusters", headers=basic("dba", "guess-one"))
        client.get("/api/begin-downtime/db1", headers=basic("readonly", "guess-two"))
    for secret in ("s3cret", "guess-one", "guess-two"):
        assert secret not in caplog.text


def test_password_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both the user and the password go through hmac.compare_digest, even when the user is wrong."""
    compared: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    with pytest.raises(auth.Unauthenticated):
        auth.identify(BASIC, {"authorization": basic("mallory", "guess")["Authorization"]})
    assert compared == [(b"mallory", b"dba"), (b"guess", b"s3cret")]


def _changing_paths(schema: dict[str, Any]) -> list[str]:
    """Every route of the service that changes something, its path parameters filled in."""
    paths = []
    for path, item in schema["paths"].items():
        operation = item.get("get", {})
        if operation.get("operationId", "").startswith("changes:") or path in ("/api/grab-election", "/api/reelect"):
            filled = path
            for name in [p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"]:
                filled = filled.replace("{" + name + "}", "3306" if "port" in name.lower() else "db1")
            paths.append(filled)
    return paths


def test_service_refuses_the_readonly_user_on_every_changing_route(tmp_path: Any) -> None:
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app

    config = load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3"), **MULTI})
    app = create_app(config, metrics=False)
    try:
        with TestClient(app) as client:
            readonly, full = basic("readonly", "x"), basic("dba", "s3cret")
            assert client.head("/api", headers=basic("dba", "wrong")).status_code == 401
            assert client.get("/api/clusters-info", headers=readonly).json() == []
            changing = _changing_paths(client.get("/api/openapi.json", headers=readonly).json())
            assert len(changing) > 80
            tables = (
                "audit", "database_instance_downtime", "candidate_database_instance", "database_instance_tags",
                "database_instance_maintenance", "global_recovery_disable", "active_node", "kv_store",
            )  # fmt: skip

            def counts() -> dict[str, int]:
                return {t: int(app.state.backend.scalar(f"SELECT COUNT(*) FROM {t}")) for t in tables}

            before = counts()
            for path in changing:
                response = client.get(path, headers=readonly)
                assert response.status_code == 403, (path, response.status_code, response.text)
                assert response.json()["Message"].startswith('Unauthorized: user "readonly"'), path
            assert counts() == before
            # the full user passes the same check (what the route then does is its own business)
            assert client.get("/api/register-candidate/db1/3306/prefer", headers=full).status_code != 403
    finally:
        app.state.backend.close()


CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
    {"Origin": "https://elsewhere.example"},
    {"Origin": "http://testserver:8080"},
    {"Origin": "null"},
]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=["fetch-metadata", "origin", "origin-port", "origin-null"])
def test_cross_site_browser_requests_are_refused_changes_and_keep_reads(headers: dict[str, str]) -> None:
    app, changes = make_app(**BASIC)
    client = TestClient(app)
    full = {**basic("dba", "s3cret"), **headers}
    response = client.get("/api/begin-downtime/db1", headers=full)
    assert response.status_code == 403
    assert response.json()["Code"] == "ERROR" and "cross-site" in response.json()["Message"]
    assert changes == []
    assert client.get("/api/clusters", headers=full).json() == ["c1"]  # reads are harmless


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, orchestrator-client: no Fetch-Metadata, no Origin
        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://orc.example", "X-Forwarded-Host": "orc.example"},  # behind a reverse proxy
    ],
    ids=["client", "same-origin", "address-bar", "same-origin-with-origin", "proxied"],
)
def test_same_origin_and_client_requests_still_change(headers: dict[str, str]) -> None:
    app, changes = make_app()
    assert TestClient(app).get("/api/begin-downtime/db1", headers=headers).json()["Code"] == "OK"
    assert changes == ["db1 by ''"]


def test_service_refuses_cross_site_requests_on_every_changing_route(tmp_path: Any) -> None:
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app

    config = load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3")})
    app = create_app(config, metrics=False)
    try:
        with TestClient(app) as client:
            changing = _changing_paths(client.get("/api/openapi.json").json())
            changing.append("/web/plan/relocate?instance=db1:3306&destination=db2:3306")
            assert len(changing) > 80

            def audit_rows() -> int:
                return int(app.state.backend.scalar("SELECT COUNT(*) FROM audit"))

            before = audit_rows()
            for path in changing:
                response = client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
                assert response.status_code == 403, (path, response.status_code, response.text)
                assert response.json()["Code"] == "ERROR", path
            assert audit_rows() == before
            assert client.get("/api/clusters-info", headers={"Sec-Fetch-Site": "cross-site"}).json() == []
    finally:
        app.state.backend.close()


# -- AuthenticationMethod: token ------------------------------------------------------------------------------


@pytest.fixture
def token_service(tmp_path: Any) -> Any:
    """(config file, backend, app, changes) of a token-authenticated app on a SQLite backend that
    `orchestrator -c access-token` writes to as well."""
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http import web
    from tests.support import sqlite_config

    config_file = sqlite_config(tmp_path, AuthenticationMethod="token")
    backend = Backend(load_config(str(config_file)))
    app, changes = make_app(AuthenticationMethod="token")
    app.state.backend = backend
    app.include_router(web.router)
    yield config_file, backend, app, changes
    backend.close()


def generated_token(config_file: Any, owner: str = "alice") -> str:
    from tests.support import run_cli

    result = run_cli("-c", "access-token", "--owner", owner, config=config_file)
    assert result.code == 0, result.err
    (token,) = result.lines
    return token


def acquire(client: TestClient, token: str) -> Any:
    return client.get("/web/access-token", params={"publicToken": token}, follow_redirects=False)


def test_access_token_prints_64_hex_characters_stored_for_its_owner(token_service: Any) -> None:
    config_file, backend, _, _ = token_service
    token = generated_token(config_file, "alice")
    assert len(token) == 64 and int(token, 16) >= 0
    rows = backend.query("SELECT generated_by, is_acquired, length(secret_token) AS n FROM access_token")
    assert rows == [{"generated_by": "alice", "is_acquired": 0, "n": 64}]
    assert generated_token(config_file) != token


def test_a_token_is_accepted_once_and_then_authenticates_changes(token_service: Any) -> None:
    config_file, _, app, changes = token_service
    client = TestClient(app)
    # reads are open; changes need a token
    assert client.get("/api/clusters").json() == ["c1"]
    refused = client.get("/api/begin-downtime/db1")
    assert refused.status_code == 403 and "changes need an access token" in refused.json()["Message"]

    token = generated_token(config_file, "alice")
    acquired = acquire(client, token)
    assert acquired.status_code == 302 and acquired.headers["location"] == "/"
    assert client.cookies["access-token"].startswith(f"{token}:")
    assert client.get("/web/whoami").json()["User"] == "alice"
    assert client.get("/api/begin-downtime/db1").json()["Code"] == "OK"
    assert changes == ["db1 by 'alice'"]

    # a second acquisition (a leaked link, a replay) gets nothing
    again = acquire(TestClient(app), token)
    assert again.status_code == 403 and "already acquired" in again.json()["Message"]
    assert "set-cookie" not in again.headers


def test_unknown_stale_or_forged_tokens_authenticate_nobody(token_service: Any) -> None:
    config_file, backend, app, changes = token_service
    client = TestClient(app)
    assert acquire(client, "ab" * 32).status_code == 403
    assert acquire(client, "").status_code == 400

    stale = generated_token(config_file)
    backend.execute(
        "UPDATE access_token SET generated_at = datetime('now', '-2 minutes') WHERE public_token = ?", (stale,)
    )
    assert acquire(client, stale).status_code == 403  # past AccessTokenUseExpirySeconds (60)

    token = generated_token(config_file)
    forged = TestClient(app, cookies={"access-token": f"{token}:{'0' * 64}"})
    assert forged.get("/api/begin-downtime/db1").status_code == 403
    assert acquire(client, token).status_code == 302  # the forgery did not use it up
    assert client.get("/api/begin-downtime/db1").json()["Code"] == "OK"

    # past AccessTokenExpiryMinutes (1440) the acquired pair stops working
    backend.execute(
        "UPDATE access_token SET generated_at = datetime('now', '-2 days') WHERE public_token = ?", (token,)
    )
    assert client.get("/api/begin-downtime/db2").status_code == 403
    assert changes == ["db1 by 'alice'"]


def test_a_reentrant_token_may_be_acquired_again(token_service: Any) -> None:
    config_file, backend, app, _ = token_service
    token = generated_token(config_file)
    backend.execute("UPDATE access_token SET is_reentrant = 1 WHERE public_token = ?", (token,))
    assert acquire(TestClient(app), token).status_code == 302
    assert acquire(TestClient(app), token).status_code == 302


def test_tokens_are_refused_when_the_service_does_not_use_them(token_service: Any) -> None:
    config_file, _, app, _ = token_service
    app.state.config = {**app.state.config, "AuthenticationMethod": "proxy"}
    answer = acquire(TestClient(app), generated_token(config_file))
    assert answer.status_code == 403 and 'AuthenticationMethod is "proxy"' in answer.json()["Message"]


def test_expired_tokens_are_purged_by_retention(token_service: Any) -> None:
    from orchestrator_cli.backend import retention

    config_file, backend, _, _ = token_service
    old, fresh = generated_token(config_file), generated_token(config_file)
    backend.execute("UPDATE access_token SET generated_at = datetime('now', '-2 days') WHERE public_token = ?", (old,))
    assert retention.purge(backend)["access_token"] == 1
    assert [r["public_token"] for r in backend.query("SELECT public_token FROM access_token")] == [fresh]


def test_the_service_accepts_a_cli_token_once_under_its_url_prefix(tmp_path: Any) -> None:
    """The real app: `orchestrator -c access-token` on the service's backend, acquired below URLPrefix,
    then a real changing route; reads stay open."""
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app
    from tests.support import sqlite_config

    config_file = sqlite_config(tmp_path, AuthenticationMethod="token", URLPrefix="/orc")
    app = create_app(load_config(str(config_file)), metrics=False)
    try:
        with TestClient(app) as client:
            assert client.get("/orc/api/check-global-recoveries").json()["Details"] == "enabled"
            assert client.get("/orc/api/disable-global-recoveries").status_code == 403
            token = generated_token(config_file, "bob")
            acquired = client.get("/orc/web/access-token", params={"publicToken": token}, follow_redirects=False)
            assert acquired.status_code == 302 and acquired.headers["location"] == "/orc/"
            assert "Path=/orc" in acquired.headers["set-cookie"] and "HttpOnly" in acquired.headers["set-cookie"]
            assert client.get("/orc/api/disable-global-recoveries").json()["Code"] == "OK"
            assert client.get("/orc/api/check-global-recoveries").json()["Details"] == "disabled"
            replay = client.get("/orc/web/access-token", params={"publicToken": token}, follow_redirects=False)
            assert replay.status_code == 403
    finally:
        app.state.backend.close()
