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
from tests.support import cloned_mysql_database, throwaway_mysql_database  # noqa: E402

SANDBOX_FIXTURES = frozenset(
    {
        "sandbox",
        "fresh_sandbox",
        "sandbox_config",
        "sandbox_factory",
        "reusable_sandbox",
        "_sandbox_pool",
        "mariadbd_binary",
    }
)
BACKEND_FIXTURES = frozenset({"mysql_backend_db", "mysql_backend_server", "deployed_mysql_backend_db"})
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


class _SandboxPool:
    """This worker's extra sandboxes: port slots, and the idle ones kept for `reusable_sandbox`.

    With ``ORCH_SANDBOX_BASE_PORT`` set every extra sandbox holds one of the worker's port slots
    while it runs, so a kept sandbox and a new one never collide: when every slot is taken, the
    oldest kept sandbox is stopped to free one.
    """

    SLOTS = tuple(range(_FIRST_FACTORY_SLOT, _PORTS_PER_WORKER // _PORTS_PER_SLOT))
    KEPT = 3  # idle sandboxes kept running at most (each is a few mariadbd processes)

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, template: Path) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.template = template
        self.free_slots = list(self.SLOTS)
        self.slot_of: dict[int, int] = {}  # id(sandbox) -> its slot
        self.idle: list[tuple[tuple[int, str, bool], Sandbox]] = []  # oldest first

    def start(self, servers: int, layout: Layout, gtid: bool, **kwargs: Any) -> Sandbox:
        if not self.free_slots and self.idle:
            self.discard(self.idle.pop(0)[1])
        slot = self.free_slots.pop(0) if self.free_slots else None
        if slot is not None:
            kwargs.setdefault("base_port", _base_port(slot, servers))
        kwargs.setdefault("template_dir", self.template)
        kwargs.setdefault("base_dir", self.tmp_path_factory.mktemp("sandbox-extra"))
        instance = Sandbox(servers=servers, layout=layout, gtid=gtid, mariadbd=_require_mariadbd(), **kwargs)
        if slot is not None:
            self.slot_of[id(instance)] = slot
        try:
            return instance.start()
        except BaseException:
            self.release_slot(instance)
            raise

    def take_idle(self, key: tuple[int, str, bool]) -> Sandbox | None:
        """A kept sandbox of this shape, reset to a clean topology (as `fresh_sandbox` resets), or None."""
        for index, (idle_key, instance) in enumerate(self.idle):
            if idle_key == key:
                del self.idle[index]
                try:
                    instance.reset_replication()
                except Exception:  # left beyond repair by its last test: start a new one instead
                    self.discard(instance)
                    return None
                return instance
        return None

    def keep(self, key: tuple[int, str, bool], instance: Sandbox) -> None:
        self.idle.append((key, instance))
        while len(self.idle) > self.KEPT:
            self.discard(self.idle.pop(0)[1])

    def release_slot(self, instance: Sandbox) -> None:
        slot = self.slot_of.pop(id(instance), None)
        if slot is not None:
            self.free_slots.append(slot)

    def discard(self, instance: Sandbox) -> None:
        try:
            instance.stop()
        finally:
            self.release_slot(instance)

    def close(self) -> None:
        while self.idle:
            self.discard(self.idle.pop()[1])


@pytest.fixture(scope="session")
def _sandbox_pool(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[_SandboxPool]:
    pool = _SandboxPool(tmp_path_factory, sandbox_template)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def sandbox_factory(_sandbox_pool: _SandboxPool) -> Iterator[SandboxFactory]:
    """Start extra sandboxes with custom layouts: ``sandbox_factory(servers=3, layout="chain")``.

    Each is started for this test and stopped at its end (see `reusable_sandbox` for kept ones).
    """
    _require_mariadbd()
    started: list[Sandbox] = []

    def make(servers: int = 4, layout: Layout = "star", gtid: bool = True, **kwargs: Any) -> Sandbox:
        instance = _sandbox_pool.start(servers, layout, gtid, **kwargs)
        started.append(instance)
        return instance

    try:
        yield make
    finally:
        for instance in started:
            _sandbox_pool.discard(instance)


@pytest.fixture
def reusable_sandbox(_sandbox_pool: _SandboxPool) -> Iterator[SandboxFactory]:
    """Like `sandbox_factory` (same arguments, minus the custom ones), but the sandbox is kept for
    later tests that ask for the same shape, and handed to them reset the way `fresh_sandbox` is:
    dead servers restarted, paused ones resumed, replication rewired from scratch, non-system data,
    binlogs and GTID state wiped. For tests whose only lasting changes a reset undoes (global
    variables other than read_only, gtid_strict_mode and semi-sync, users and grants survive it);
    starting a sandbox takes seconds, a reset a fraction of one.
    """
    _require_mariadbd()
    taken: list[tuple[tuple[int, str, bool], Sandbox]] = []

    def make(servers: int = 4, layout: Layout = "star", gtid: bool = True) -> Sandbox:
        key = (servers, repr(layout), gtid)
        instance = _sandbox_pool.take_idle(key) or _sandbox_pool.start(servers, layout, gtid)
        taken.append((key, instance))
        return instance

    try:
        yield make
    finally:
        for key, instance in taken:
            _sandbox_pool.keep(key, instance)


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


@pytest.fixture(scope="session")
def _deployed_mysql_template(mysql_backend_server: tuple[str, int]) -> Iterator[str]:
    """A backend database this worker had orchestrator deploy once, for `deployed_mysql_backend_db` to copy."""
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    with throwaway_mysql_database(*mysql_backend_server, prefix="orch_template") as keys:
        backend = Backend(load_config(overrides=keys))
        try:
            backend.connection()  # deploys the schema
        finally:
            backend.close()
        yield str(keys["MySQLOrchestratorDatabase"])


@pytest.fixture
def deployed_mysql_backend_db(
    mysql_backend_server: tuple[str, int], _deployed_mysql_template: str
) -> Iterator[dict[str, Any]]:
    """Like `mysql_backend_db`, but the database already holds the deployed schema (a copy of one
    orchestrator deployed), so the test does not wait for a deploy. For tests about anything but
    the deploy itself."""
    with cloned_mysql_database(*mysql_backend_server, template=_deployed_mysql_template) as keys:
        yield keys
