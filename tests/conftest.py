"""Shared fixtures: the MariaDB replication sandbox and a throw-away MySQL backend database.

Under pytest-xdist every worker gets its own sandbox.  Ports come from the kernel (free ports), or,
when ``ORCH_SANDBOX_BASE_PORT`` is set, from a 100-port block per worker, so workers never collide.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Hypothesis's per-example deadline is a timed assertion: on a loaded 2-core CI machine an example of
# a property test over a backend can take longer than 200 ms without anything being wrong. Speed is
# measured by bench/, not asserted here; tests that set their own deadline keep it.
settings.register_profile("orchestrator", deadline=None)
settings.load_profile("orchestrator")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import (  # noqa: E402  (needs the sys.path entry above)
    BASE_PORT_ENV,
    HOST,
    Layout,
    Sandbox,
    find_install_db,
    find_mariadbd,
)
from tests.support import throwaway_mysql_database  # noqa: E402

SANDBOX_FIXTURES = frozenset({"sandbox", "fresh_sandbox", "sandbox_config", "sandbox_factory", "mariadbd_binary"})
BACKEND_FIXTURES = frozenset({"mysql_backend_db", "mysql_backend_server"})
SHARED_BACKEND_PORT = 3306
_PORTS_PER_WORKER = 100
_PORTS_PER_SLOT = 10
_SLOT_SESSION_SANDBOX = 0
_SLOT_BACKEND = 1
_FIRST_FACTORY_SLOT = 2

SandboxFactory = Callable[..., Sandbox]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tag tests by the fixtures they use, so ``-m 'not sandbox'`` deselects the slow ones."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SANDBOX_FIXTURES:
            item.add_marker(pytest.mark.sandbox)
        if names & BACKEND_FIXTURES:
            item.add_marker(pytest.mark.mysql_backend)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def _base_port(slot: int, servers: int) -> int | None:
    """Fixed ports from $ORCH_SANDBOX_BASE_PORT, offset per xdist worker and per sandbox slot."""
    raw = os.environ.get(BASE_PORT_ENV)
    if not raw or servers > _PORTS_PER_SLOT:
        return None
    return int(raw) + _worker_index() * _PORTS_PER_WORKER + slot * _PORTS_PER_SLOT


def _require_mariadbd() -> str:
    binary = find_mariadbd()
    if binary is None or find_install_db(binary) is None:
        pytest.skip(
            "MariaDB sandbox unavailable: no mariadbd/mariadb-install-db found "
            "(install mariadb-server or set ORCH_SANDBOX_MARIADBD)"
        )
    return binary


@pytest.fixture(scope="session")
def mariadbd_binary() -> str:
    """Path of ``mariadbd``; skips the test when MariaDB is not installed."""
    return _require_mariadbd()


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker caches the ``mariadb-install-db`` template datadir (created on first use)."""
    return tmp_path_factory.getbasetemp() / "mariadb-template"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[Sandbox]:
    """A 4-server GTID star (server 0 master), shared by the whole session of this worker.

    Tests that reshape the topology must use ``fresh_sandbox`` instead.
    """
    mariadbd = _require_mariadbd()
    instance = Sandbox(
        servers=4,
        layout="star",
        gtid=True,
        base_dir=tmp_path_factory.mktemp("sandbox"),
        base_port=_base_port(_SLOT_SESSION_SANDBOX, 4),
        mariadbd=mariadbd,
        template_dir=sandbox_template,
    )
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Sandbox:
    """The session sandbox, rewired to the default star with clean data and GTID history."""
    sandbox.reset_replication()
    return sandbox


@pytest.fixture
def sandbox_config(sandbox: Sandbox, tmp_path: Path) -> Path:
    """Path of an orchestrator config for the session sandbox, with a fresh SQLite backend file."""
    return sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")


@pytest.fixture
def sandbox_factory(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[SandboxFactory]:
    """Start extra sandboxes with custom layouts: ``sandbox_factory(servers=3, layout="chain")``.

    Each is stopped at the end of the test.
    """
    mariadbd = _require_mariadbd()
    started: list[Sandbox] = []

    def make(servers: int = 4, layout: Layout = "star", gtid: bool = True, **kwargs: Any) -> Sandbox:
        slot = _FIRST_FACTORY_SLOT + len(started) % (_PORTS_PER_WORKER // _PORTS_PER_SLOT - _FIRST_FACTORY_SLOT)
        kwargs.setdefault("base_port", _base_port(slot, servers))
        kwargs.setdefault("template_dir", sandbox_template)
        kwargs.setdefault("base_dir", tmp_path_factory.mktemp("sandbox-extra"))
        instance = Sandbox(servers=servers, layout=layout, gtid=gtid, mariadbd=mariadbd, **kwargs)
        started.append(instance)
        return instance.start()

    try:
        yield make
    finally:
        for instance in started:
            instance.stop()


def _shared_backend_answers() -> bool:
    """Whether a server on 127.0.0.1:3306 accepts root without a password."""
    try:
        import mysql.connector

        conn = mysql.connector.connect(
            host=HOST, port=SHARED_BACKEND_PORT, user="root", password="", connection_timeout=2
        )
    except Exception:  # refused, access denied, timeout: all mean "not usable"
        return False
    conn.close()
    return True


@pytest.fixture(scope="session")
def mysql_backend_server(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[tuple[str, int]]:
    """(host, port) of a MariaDB usable as orchestrator's backend, as root with no password.

    The shared server on 3306 when it answers; otherwise a standalone server started for this
    worker.  Either way it is never part of a test topology.
    """
    if _shared_backend_answers():
        yield HOST, SHARED_BACKEND_PORT
        return
    standalone = Sandbox(
        servers=1,
        layout=[None],
        base_dir=tmp_path_factory.mktemp("backend"),
        base_port=_base_port(_SLOT_BACKEND, 1),
        mariadbd=_require_mariadbd(),
        template_dir=sandbox_template,
    )
    standalone.start()
    try:
        yield HOST, standalone.ports[0]
    finally:
        standalone.stop()


@pytest.fixture
def mysql_backend_db(mysql_backend_server: tuple[str, int]) -> Iterator[dict[str, Any]]:
    """Orchestrator ``MySQLOrchestrator*`` config keys for a new, uniquely named, empty database.

    The database is dropped after the test.
    """
    with throwaway_mysql_database(*mysql_backend_server) as keys:
        yield keys


@pytest.fixture(scope="module")
def mysql_backend_db_module(mysql_backend_server: tuple[str, int]) -> Iterator[dict[str, Any]]:
    """Like `mysql_backend_db`, but one database for a whole module (a schema deploy takes seconds)."""
    with throwaway_mysql_database(*mysql_backend_server) as keys:
        yield keys
