"""What the service writes to its log at its default level: start, leadership and stop at INFO,
refusals at WARNING, and never a credential."""

from __future__ import annotations

import base64
import doctest
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from orchestrator_cli import logs
from orchestrator_cli.config import load_config
from orchestrator_cli.http import auth
from orchestrator_cli.http.app import create_app
from tests.http.test_service import backend_rows, free_port, start_service, wait_for

SECRETS = ("mallory", "guess-never-logged", "pw-never-logged")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def auth_records() -> Iterator[Records]:
    logger = logging.getLogger("orchestrator.http.auth")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # the service's level, whatever an earlier in-process CLI run configured
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def write_config(directory: Path, **settings: object) -> Path:
    path = directory / "orchestrator.conf.json"
    path.write_text(
        json.dumps({"BackendDB": "sqlite", "SQLite3DataFile": str(directory / "orchestrator.db"), **settings})
    )
    return path


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_auth_refusals_are_warnings_without_credentials(tmp_path: Path, auth_records: Records) -> None:
    config = write_config(
        tmp_path, AuthenticationMethod="multi", HTTPAuthUser="dba", HTTPAuthPassword="pw-never-logged"
    )
    app = create_app(load_config(str(config)), metrics=False)
    with TestClient(app) as client:
        assert client.get("/api/clusters").status_code == 401
        assert client.get("/api/clusters", headers=basic("mallory", "guess-never-logged")).status_code == 401
        refused = client.get("/api/discover/db.example/3306", headers=basic("readonly", "guess-never-logged"))
        assert refused.status_code == 403
    assert auth_records.lines(logging.WARNING) == [
        "refused GET /api/clusters from testclient: no credentials",
        "refused GET /api/clusters from testclient: wrong credentials",
        'refused a change to /api/discover/db.example/3306: Unauthorized: user "readonly" has read-only access'
        " and cannot make changes",
    ]
    logged = " ".join(r.getMessage() for r in auth_records.records)
    assert not [s for s in SECRETS if s in logged]


def test_a_forged_log_line_stays_on_its_line(tmp_path: Path, auth_records: Records) -> None:
    config = write_config(tmp_path, AuthenticationMethod="basic", HTTPAuthUser="dba", HTTPAuthPassword="pw")
    with TestClient(create_app(load_config(str(config)), metrics=False)) as client:
        assert client.get("/api/x%0A2026-01-01 00:00:00 INFO forged").status_code == 401
    [line] = auth_records.lines(logging.WARNING)
    assert "\n" not in line and "/api/x\\n2026" in line


def test_the_service_logs_start_leadership_refusals_and_stop(tmp_path: Path) -> None:
    """A real `orchestrator http` at its default level (no --verbose): what an operator reads in its log."""
    config = write_config(
        tmp_path, ListenAddress=f"127.0.0.1:{free_port()}", AuthenticationMethod="proxy", PowerAuthUsers=["dba"]
    )
    service = start_service(config)
    try:
        assert wait_for(lambda: backend_rows(config, "SELECT hostname FROM active_node WHERE hostname <> ''"))
        refused = httpx.get(f"{service.url}/api/discover/db.example/3306", timeout=30)
        assert refused.json()["Code"] == "ERROR"
    finally:
        code, err = service.stop()
    assert code == 0, err
    lines = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line) for line in err.splitlines()]
    port = json.loads(config.read_text())["ListenAddress"].rsplit(":", 1)[1]
    expected = [
        f"INFO serving on 127.0.0.1:{port} (continuous mode running, up to 40 backend connections)",
        "INFO elected: this node runs discovery and recovery",
        "WARNING refused a change to /api/discover/db.example/3306: Unauthorized: an anonymous caller has"
        " read-only access and cannot make changes",
        "INFO HTTP server stopped: stopping continuous mode",
        "INFO stopped",
    ]
    assert [line for line in expected if line not in lines] == [], err


@pytest.mark.parametrize("module", [logs, auth])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
