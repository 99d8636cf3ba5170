"""Health, load-balancer and leadership routes, with a real continuous mode electing itself on a
SQLite backend (the same election code a shared MySQL backend runs)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from orchestrator_cli.backend import election, health  # noqa: E402
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.daemon.continuous import ContinuousMode  # noqa: E402
from orchestrator_cli.http import auth, routes_health  # noqa: E402


def make_app(config: Any, continuous: Any = None) -> FastAPI:
    app = FastAPI()
    app.state.config = config
    app.state.continuous = continuous
    routes_health.install(app)
    auth.install(app)
    return app


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3")})


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def continuous(config: Any) -> Iterator[ContinuousMode]:
    mode = ContinuousMode(config, owner="test")
    thread = threading.Thread(target=mode.run, daemon=True)
    thread.start()
    yield mode
    mode.stop()
    thread.join(timeout=20)
    assert not thread.is_alive()


def audit_types(config: Any) -> list[str]:
    backend = Backend(config)
    try:
        return [str(r["audit_type"]) for r in backend.query("SELECT audit_type FROM audit ORDER BY audit_id")]
    finally:
        backend.close()


def test_lb_check_and_ping(config: Any) -> None:
    client = TestClient(make_app(config))
    for path in ("/api/lb-check", "/api/_ping"):
        response = client.get(path)
        assert (response.status_code, response.json()) == (200, "OK")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/leader-check", 404),
        ("/api/routed-leader-check", 404),
        ("/api/leader-check/503", 503),
        ("/api/leader-check/200", 200),
        ("/api/leader-check/42", 404),
        ("/api/leader-check/-1", 404),
        ("/api/leader-check/abc", 404),
    ],
)
def test_leader_check_on_a_follower(config: Any, path: str, status: int) -> None:
    response = TestClient(make_app(config, SimpleNamespace(leader=False))).get(path)
    assert (response.status_code, response.json()) == (status, "Not leader")


def test_leader_check_without_continuous_mode_is_never_leader(config: Any) -> None:
    assert TestClient(make_app(config)).get("/api/leader-check").status_code == 404


def test_leader_check_on_the_leader(config: Any) -> None:
    client = TestClient(make_app(config, SimpleNamespace(leader=True)))
    for path in ("/api/leader-check", "/api/leader-check/503", "/api/routed-leader-check"):
        response = client.get(path)
        assert (response.status_code, response.json()) == (200, "OK")


def test_elected_continuous_mode_leads_and_health_says_so(config: Any, continuous: ContinuousMode) -> None:
    client = TestClient(make_app(config, continuous))
    wait_for(lambda: client.get("/api/leader-check").status_code == 200)
    body = client.get("/api/health").json()
    assert body["Code"] == "OK" and body["Message"] == "Application node is healthy"
    details = body["Details"]
    hostname, token = health.identity()
    assert details["Healthy"] is True and details["IsActiveNode"] is True
    assert (details["Hostname"], details["Token"]) == (hostname, token)
    assert (details["ActiveNode"]["Hostname"], details["ActiveNode"]["Token"]) == (hostname, token)
    assert token in [n["Token"] for n in details["AvailableNodes"]]
    status = client.get("/api/status")
    assert status.status_code == 200 and status.json()["Details"]["IsActiveNode"] is True


def test_another_leader_then_grab_election(config: Any, continuous: ContinuousMode) -> None:
    client = TestClient(make_app(config, continuous))
    wait_for(lambda: continuous.leader)
    backend = Backend(config)
    try:
        election.grab_election(backend, ("other-host", "other-token"))  # another node took the seat
    finally:
        backend.close()
    wait_for(lambda: client.get("/api/leader-check").status_code == 404)
    health_body = client.get("/api/health").json()["Details"]
    assert health_body["IsActiveNode"] is False and health_body["ActiveNode"]["Hostname"] == "other-host"
    body = client.get("/api/grab-election").json()
    assert body == {"Code": "OK", "Message": "Node elected as leader", "Details": None}
    wait_for(lambda: client.get("/api/leader-check").status_code == 200, seconds=3)  # well before the 5 s lease
    assert "grab-election" in audit_types(config)


def test_reelect_empties_the_seat_and_the_node_claims_it_again(config: Any, continuous: ContinuousMode) -> None:
    client = TestClient(make_app(config, continuous))
    wait_for(lambda: continuous.leader)
    assert client.get("/api/reelect").json() == {"Code": "OK", "Message": "Set re-elections", "Details": None}
    wait_for(lambda: client.get("/api/leader-check").status_code == 200, seconds=3)
    assert "reelect" in audit_types(config)


def test_grab_election_without_continuous_mode(config: Any) -> None:
    response = TestClient(make_app(config)).get("/api/grab-election")
    assert response.status_code == 500
    assert response.json()["Message"] == "Unable to grab election: this process does not run continuous discovery"


MULTI = {"AuthenticationMethod": "multi", "HTTPAuthUser": "dba", "HTTPAuthPassword": "pw"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_read_only_caller_reads_health_and_cannot_change_the_election(config: Any) -> None:
    app = make_app({**config, **MULTI}, SimpleNamespace(leader=True))
    client = TestClient(app)
    readonly = basic("readonly", "x")
    assert client.get("/api/leader-check").status_code == 401
    assert client.get("/api/leader-check", headers=readonly).status_code == 200
    assert client.get("/api/health", headers=readonly).json()["Code"] == "OK"
    for path in ("/api/grab-election", "/api/reelect"):
        response = client.get(path, headers=readonly)
        assert response.status_code == 403, path
        assert response.json()["Message"].startswith("Unauthorized:")
    assert "reelect" not in audit_types(config) and "grab-election" not in audit_types(config)


@pytest.mark.parametrize(
    "name",
    ["raft-peers", "raft-state", "raft-leader", "raft-health", "raft-status", "raft-snapshot", "raft-yield/n1",
     "raft-yield-hint/dc1", "raft-add-peer/h:1", "raft-remove-peer/h:1", "raft-follower-health-report/t/b/a"],
)  # fmt: skip
def test_raft_paths_answer_error_in_the_service_app(config: Any, name: str) -> None:
    from orchestrator_cli.http.app import create_app

    with TestClient(create_app(config, metrics=False)) as client:
        response = client.get(f"/api/{name}")
    assert response.status_code == 500
    body = response.json()
    assert body["Code"] == "ERROR" and "raft is not supported" in body["Message"]


def test_service_app_serves_the_health_routes(config: Any) -> None:
    from orchestrator_cli.http.app import create_app

    with TestClient(
        create_app(load_config(overrides={**config, "StatusEndpoint": "/my/status"}), metrics=False)
    ) as client:
        assert client.get("/api/lb-check").json() == "OK"
        assert client.get("/api/leader-check").status_code == 404
        assert client.get("/api/health").json()["Details"]["Healthy"] is True
        assert client.get("/my/status").json()["Code"] == "OK"
        paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/leader-check/{code}", "/api/grab-election", "/api/reelect", "/my/status"):
        assert path in paths


def test_custom_status_endpoint(config: Any) -> None:
    client = TestClient(make_app({**config, "StatusEndpoint": "/my/status"}))
    assert client.get("/my/status").json()["Code"] == "OK"
    assert client.get("/api/status").status_code == 404


def test_unhealthy_backend(config: Any, tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    broken = {**config, "SQLite3DataFile": str(tmp_path / "not-a-dir" / "o.sqlite3")}
    client = TestClient(make_app(broken, SimpleNamespace(leader=False)))
    response = client.get("/api/health")
    body = response.json()
    assert body["Code"] == "ERROR" and body["Message"].startswith("Application node is unhealthy")
    assert body["Details"]["Healthy"] is False and body["Details"]["Error"]
    assert client.get("/api/status").status_code == 500
    assert client.get("/api/lb-check").status_code == 200  # the process itself still serves
