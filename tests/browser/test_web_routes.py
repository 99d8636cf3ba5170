"""The web interface's own routes, without a browser: packaged assets, the caller's powers, dry runs."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402
from tests.support import run_cli  # noqa: E402

MULTI = {"AuthenticationMethod": "multi", "HTTPAuthUser": "dba", "HTTPAuthPassword": "s3cret"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


DBA = basic("dba", "s3cret")
READ_ONLY = basic("readonly", "anything")


def client_for(config: Path) -> Iterator[TestClient]:
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app

    app = create_app(load_config(str(config)))
    with TestClient(app) as client:
        yield client
    app.state.backend.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from tests.support import sqlite_config

    yield from client_for(sqlite_config(tmp_path, **MULTI))


@pytest.fixture(scope="module")
def star_client(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The sandbox star discovered into a fresh backend, behind `multi` auth."""
    sandbox.reset_replication()
    directory = tmp_path_factory.mktemp("web-routes")
    config = sandbox.write_config(directory / "orchestrator.conf.json", directory / "orchestrator.sqlite3", **MULTI)
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    yield from client_for(config)


def test_the_page_and_its_assets_come_from_the_package(client: TestClient) -> None:
    page = client.get("/", headers=DBA)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="web/static/js/app.js">' in page.text
    assets = (("app.css", "text/css"), ("js/app.js", "text/javascript"), ("js/views/cluster.js", "text/javascript"))
    for path, kind in assets:
        asset = client.get(f"/web/static/{path}", headers=DBA)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind), path
        assert asset.headers["cache-control"] == "no-cache"
    assert "https://" not in page.text + client.get("/web/static/js/app.js", headers=DBA).text  # nothing from a CDN


def test_the_pages_use_relative_addresses_only() -> None:
    """So the page also works below a path prefix (a reverse proxy's `/orchestrator/`)."""
    from importlib import resources

    static = resources.files("orchestrator_cli.http.web").joinpath("static")
    folders = (static.joinpath("js"), static.joinpath("js", "views"))
    sources = [static.joinpath("index.html")] + [f for d in folders for f in d.iterdir() if f.name.endswith(".js")]
    assert len(sources) > 10
    for source in sources:
        text = source.read_text()
        for absolute in ("'/api/", '"/api/', "`/api/", "'/web/", '"/web/', "`/web/", "http://", "https://"):
            assert absolute not in text, f"{source.name} has {absolute}"


@pytest.mark.parametrize("path", ["../routes.py", "%2e%2e/routes.py", "js/../../plan.py", ".hidden", "js/missing.js"])
def test_no_file_outside_the_static_folder_is_served(client: TestClient, path: str) -> None:
    response = client.get(f"/web/static/{path}", headers=DBA)
    assert response.status_code == 404
    assert "import" not in response.text


def test_whoami_tells_the_pages_who_may_change_things(client: TestClient) -> None:
    assert client.get("/web/whoami", headers=DBA).json() == {
        "User": "dba",
        "CanWrite": True,
        "AuthenticationMethod": "multi",
    }
    assert client.get("/web/whoami", headers=READ_ONLY).json()["CanWrite"] is False
    assert client.get("/web/whoami").status_code == 401
    assert client.get("/", headers=basic("dba", "wrong")).status_code == 401


def test_dry_runs_are_for_callers_who_may_change_things(client: TestClient) -> None:
    refused = client.get("/web/plan/end-downtime?instance=127.0.0.1:1", headers=READ_ONLY)
    assert refused.status_code == 403 and refused.json()["Code"] == "ERROR"
    unknown = client.get("/web/plan/forget?instance=127.0.0.1:1", headers=DBA)
    assert unknown.status_code == 500 and "offers no action named 'forget'" in unknown.json()["Message"]


def plan(client: TestClient, command: str, **args: str) -> dict[str, Any]:
    response = client.get(f"/web/plan/{command}", params=args, headers=DBA)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["Details"]
    return body


def test_a_relocate_dry_run_lists_statements_and_changes_nothing(star_client: TestClient, sandbox: Sandbox) -> None:
    before = sandbox.replication_parents()
    result = plan(star_client, "relocate", instance=sandbox.key(3), destination=sandbox.key(2))
    assert result["DryRun"] and not result["Refused"]
    assert {s["Key"] for s in result["Statements"]} == {sandbox.key(3)}
    assert any(str(sandbox.ports[2]) in s["Statement"] for s in result["Statements"])
    changes = [s["Statement"] for s in result["Statements"] if s["Statement"].startswith("CHANGE MASTER")]
    assert changes == [
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sandbox.ports[2]}, MASTER_USE_GTID=slave_pos"
    ]
    assert sandbox.replication_parents() == before
    audit = star_client.get("/api/audit", headers=DBA).json()
    assert not [a for a in audit if a["AuditType"].startswith("relocate")]


def test_a_refused_relocate_says_why(star_client: TestClient, sandbox: Sandbox) -> None:
    result = plan(star_client, "relocate", instance=sandbox.key(0), destination=sandbox.key(1))
    assert result["Refused"] and result["Statements"] == []
    below_itself = plan(star_client, "relocate", instance=sandbox.key(1), destination=sandbox.key(1))
    assert below_itself["Refused"]


def test_actions_without_a_dry_run_are_described_and_checked(star_client: TestClient, sandbox: Sandbox) -> None:
    downtime = plan(star_client, "begin-downtime", instance=sandbox.key(1), duration="10m", reason="disk")
    assert not downtime["DryRun"] and not downtime["TouchesServers"] and not downtime["Refused"]
    assert plan(star_client, "begin-downtime", instance=sandbox.key(1), duration="soon", reason="x")["Refused"]
    assert plan(star_client, "begin-downtime", instance="127.0.0.1:1", duration="1h", reason="x")["Refused"]
    assert plan(star_client, "register-candidate", instance=sandbox.key(1), rule="always")["Refused"]
    takeover = plan(star_client, "graceful-master-takeover", alias=sandbox.key(0), destination=sandbox.key(1))
    assert takeover["TouchesServers"] and not takeover["Refused"] and "read-only" in takeover["Details"]
    assert plan(star_client, "graceful-master-takeover", alias="no-such-cluster")["Refused"]
    instance = star_client.get(f"/api/instance/{sandbox.key(1).replace(':', '/')}", headers=DBA).json()
    assert instance["IsDowntimed"] is False  # describing changed nothing
