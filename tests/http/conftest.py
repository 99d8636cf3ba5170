"""Fixtures for the service API: the sandbox star discovered into a backend, and an app over it.

`api_star` discovers the session sandbox once per module into a SQLite file; `client` is a FastAPI
TestClient over that backend (reads). Tests that change things use `changing_client`, whose backend is
a private copy of the discovered file, so each test starts from the same state.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402
from tests.support import run_cli  # noqa: E402

STABLE_POLL_SECONDS = 600  # rows written at module start stay "recently checked" for the module


@dataclass(frozen=True)
class ApiStar:
    sandbox: Sandbox
    config: Path

    @property
    def master(self) -> str:
        return self.sandbox.key(0)

    @property
    def replicas(self) -> list[str]:
        return sorted(self.sandbox.keys[1:], key=lambda k: int(k.rsplit(":", 1)[1]))

    def path(self, i: int) -> str:
        """`host/port` of server i, as the client puts an instance into a URL."""
        return self.sandbox.key(i).replace(":", "/")


def write_config(sandbox: Sandbox, directory: Path, sqlite_file: Path, **overrides: Any) -> Path:
    overrides.setdefault("InstancePollSeconds", STABLE_POLL_SECONDS)
    return sandbox.write_config(directory / "orchestrator.conf.json", sqlite_file, **overrides)


def sqlite_file(config: Path) -> Path:
    return Path(json.loads(config.read_text())["SQLite3DataFile"])


def make_client(config: Path) -> Iterator[TestClient]:
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app

    app = create_app(load_config(str(config)))
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client
    app.state.backend.close()


@pytest.fixture(scope="module")
def backend_kind() -> str:
    """Which backend `api_star` discovers into; a module overrides it (params) to run on MySQL too."""
    return "sqlite"


def _shared_mysql_answers() -> bool:
    try:
        import mysql.connector

        mysql.connector.connect(host="127.0.0.1", port=3306, user="root", password="", connection_timeout=2).close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def api_star(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, backend_kind: str) -> Iterator[ApiStar]:
    """The session sandbox reset to the star and discovered once (from replica 1) into the backend."""
    from tests.support import throwaway_mysql_database

    sandbox.reset_replication()
    directory = tmp_path_factory.mktemp("http-api")
    with contextlib.ExitStack() as stack:
        overrides: dict[str, Any] = {}
        if backend_kind == "mysql":
            if not _shared_mysql_answers():
                pytest.skip("no MySQL backend answers on 127.0.0.1:3306")
            overrides = stack.enter_context(throwaway_mysql_database("127.0.0.1", 3306, prefix="orch_http"))
        config = write_config(sandbox, directory, directory / "orchestrator.sqlite3", **overrides)
        result = run_cli("-c", "discover", "-i", sandbox.key(1), config=config)
        assert result.code == 0, result.err
        yield ApiStar(sandbox, config)


@pytest.fixture(scope="module")
def client(api_star: ApiStar) -> Iterator[TestClient]:
    yield from make_client(api_star.config)


@pytest.fixture
def copy_config(api_star: ApiStar, tmp_path: Path) -> Path:
    """A config over a private copy of the discovered backend."""
    source = sqlite_file(api_star.config)
    target = tmp_path / "orchestrator.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return write_config(api_star.sandbox, tmp_path, target)


@pytest.fixture
def changing_client(copy_config: Path) -> Iterator[TestClient]:
    yield from make_client(copy_config)
