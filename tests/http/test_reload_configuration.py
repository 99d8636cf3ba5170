"""`reload-configuration`: every later request sees the file read again (a setting that changes what a
route does: ReadOnly), and a changed backend file is reported as needing a restart, not followed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator_cli.config import load_config
from orchestrator_cli.http.app import create_app
from tests.http.conftest import ApiStar, sqlite_file
from tests.http.test_routes_change import ok


@pytest.fixture
def reloading_client(copy_config: Path) -> Iterator[TestClient]:
    app = create_app(load_config(str(copy_config)), config_path=str(copy_config))
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client
    app.state.backend.close()


def _edit(config: Path, **values: object) -> None:
    config.write_text(json.dumps({**json.loads(config.read_text()), **values}))


def test_a_reload_applies_to_every_later_request(
    api_star: ApiStar, copy_config: Path, reloading_client: TestClient, tmp_path: Path
) -> None:
    client = reloading_client
    opened = sqlite_file(copy_config)
    moved = tmp_path / "elsewhere.sqlite3"
    _edit(copy_config, ReasonableReplicationLagSeconds=33, SQLite3DataFile=str(moved))
    body = client.get("/api/reload-configuration").json()
    assert body["Message"] == "Config reloaded; needs a restart to take effect: SQLite3DataFile"
    # the service every request's view is made from (not only the reloading request's view)
    assert client.app.state.service.config["ReasonableReplicationLagSeconds"] == 33  # type: ignore[attr-defined]
    ok(client, f"begin-maintenance/{api_star.path(2)}/ops/disk")  # on the backend the service opened
    assert not moved.exists()
    with sqlite3.connect(opened) as conn:
        reloads = [r[0] for r in conn.execute("SELECT message FROM audit WHERE audit_type = 'reload-configuration'")]
    assert reloads == [f"from {copy_config}; needs a restart: SQLite3DataFile"]

    _edit(copy_config, ReadOnly=True)
    assert (
        client.get("/api/reload-configuration").json()["Message"]
        == "Config reloaded; needs a restart to take effect: SQLite3DataFile"
    )
    refusal = client.get(f"/api/end-maintenance/{api_star.path(2)}")
    assert refusal.status_code == 403 and "read-only" in refusal.json()["Message"]
