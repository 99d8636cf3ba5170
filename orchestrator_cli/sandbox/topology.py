"""A throw-away MariaDB replication topology on 127.0.0.1, for tests and for trying orchestrator out.

Every server is a plain ``mariadbd`` child process with its own port and datadir under one base
directory.  Datadirs are copied from a template initialised once with ``mariadb-install-db``, which
keeps a 4-server topology's start-up to a second or two.  Only the standard library is needed at
import time; ``mysql.connector`` is imported when a server is first contacted.

:class:`Sandbox` is a facade: it holds the sandbox's settings and servers and composes the parts,
each of which owns one concern:

- :mod:`.process`: ports, directories, and starting/stopping/killing/pausing ``mariadbd``;
- :mod:`.provisioning`: the template datadir, users, wiping, and wiring replication per layout;
- :mod:`.layout`, :mod:`.replication`, :mod:`.state_file`, :mod:`.sample_table`: the wanted and
  the live topology, the state file other processes attach with, and the test-data table.

The names tests and scripts import from here (constants, helpers, ``Sandbox``) are re-exported.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator_cli.sandbox import process, provisioning, replication, sample_table
from orchestrator_cli.sandbox.binaries import find_install_db, find_mariadbd
from orchestrator_cli.sandbox.config import orchestrator_config, write_orchestrator_config
from orchestrator_cli.sandbox.connection import Row, connect
from orchestrator_cli.sandbox.connection import execute as _execute
from orchestrator_cli.sandbox.connection import query as _query
from orchestrator_cli.sandbox.errors import SandboxError
from orchestrator_cli.sandbox.layout import LAYOUT_NAMES, Layout, busiest_root, resolve_layout
from orchestrator_cli.sandbox.process import Launcher, Server
from orchestrator_cli.sandbox.process import free_ports as _free_ports
from orchestrator_cli.sandbox.settings import (
    BASE_PORT_ENV,
    CONFIG_FILE,
    FORBIDDEN_PORTS,
    HOST,
    MARIADBD_ENV,
    REPL_PASSWORD,
    REPL_USER,
    SANDBOX_DATABASE,
    SANDBOX_TABLE,
    SERVER_ID_BASE,
    SQLITE_FILE,
    STATE_FILE,
    TOPOLOGY_PASSWORD,
    TOPOLOGY_USER,
)
from orchestrator_cli.sandbox.state_file import SavedState, state_path

__all__ = [
    "BASE_PORT_ENV",
    "CONFIG_FILE",
    "FORBIDDEN_PORTS",
    "HOST",
    "LAYOUT_NAMES",
    "MARIADBD_ENV",
    "REPL_PASSWORD",
    "REPL_USER",
    "SANDBOX_DATABASE",
    "SANDBOX_TABLE",
    "SERVER_ID_BASE",
    "SQLITE_FILE",
    "STATE_FILE",
    "TOPOLOGY_PASSWORD",
    "TOPOLOGY_USER",
    "Layout",
    "Sandbox",
    "SandboxError",
    "Server",
    "_free_ports",  # kept for tests that ask the kernel for a port the way the sandbox does
    "find_install_db",
    "find_mariadbd",
    "iter_sandbox_keys",
    "orchestrator_config",
    "resolve_layout",
]

_SHUTDOWN_TIMEOUT = 60.0


class Sandbox:
    """N ``mariadbd`` servers on 127.0.0.1 wired into a MariaDB replication topology.

    Server 0 is the master of the default layouts.  All servers share an empty GTID history at the
    start, so orchestrator sees no errant transactions; the replicated ``sandbox_test.writes`` table
    is there for tests to push rows through the topology.  Methods take server indexes.
    """

    def __init__(
        self,
        servers: int = 4,
        layout: Layout = "star",
        gtid: bool = True,
        base_dir: str | os.PathLike[str] | None = None,
        keep: bool = False,
        base_port: int | None = None,
        mariadbd: str | None = None,
        template_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.size = servers
        self.layout: list[int | None] = resolve_layout(layout, servers)
        self.gtid = gtid
        self.keep = keep
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        if base_port is None and os.environ.get(BASE_PORT_ENV):
            base_port = int(os.environ[BASE_PORT_ENV])
        self.base_port = base_port
        self._mariadbd = mariadbd
        if base_dir is None:
            self.base_dir = Path(tempfile.mkdtemp(prefix="orch-sandbox-"))
            self._owns_base_dir = True
        else:
            self.base_dir = Path(base_dir).resolve()
            self._owns_base_dir = not self.base_dir.exists()
        self.template_dir = Path(template_dir) if template_dir else self.base_dir / "template"
        self.servers: list[Server] = []
        self.started = False
        self.startup_seconds: float | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Sandbox:
        """Create datadirs, start every server and wire the configured layout."""
        if self.started:
            raise SandboxError(f"sandbox in {self.base_dir} is already started")
        began = time.monotonic()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.servers = process.plan_servers(self.base_dir, self.size, self.base_port)
            self._provision(allow_port_change=self.base_port is None)
        except BaseException:
            process.terminate_all(self.servers, graceful=False)
            if not self.keep:
                self._remove_files()
            raise
        self.started = True
        self.save_state()
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every server; remove the sandbox's files unless ``keep`` was requested."""
        process.terminate_all(self.servers, graceful=self.keep)
        self.started = False
        if self.keep:
            self.save_state()
            return
        self._remove_files()

    def rebuild(self, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Recreate every server from the template on the same ports: the heavy-handed reset."""
        process.terminate_all(self.servers, graceful=False)
        provisioning.remove_datadirs(self.servers)
        try:
            self._provision(allow_port_change=False, layout=layout, gtid=gtid)
        except BaseException:
            process.terminate_all(self.servers, graceful=False)
            raise
        self.started = True
        self.save_state()

    def reset_replication(self, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Bring every server back to a clean topology of ``layout`` (default: the sandbox's own).

        Restarts dead servers and resumes paused ones, stops and forgets all replication, wipes
        non-system databases and binlogs/GTID state without logging, then rewires from scratch.
        Every server therefore ends with the same data and the same GTID history.
        """
        parents = self._parents(layout)
        self._launcher().ensure_running(self.servers)
        for server in self.servers:
            provisioning.stop_replication(server)
        for server in self.servers:
            provisioning.wipe(server)
        use_gtid = self.gtid if gtid is None else gtid
        provisioning.wire(self.servers, parents, use_gtid, self.startup_timeout)
        self.save_state()

    def __enter__(self) -> Sandbox:
        return self.start() if not self.started else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- single servers

    def kill(self, i: int) -> None:
        """SIGKILL server ``i`` and wait until it is gone, to simulate a crashed host."""
        process.kill(self.servers[i])

    def shutdown(self, i: int, timeout: float = _SHUTDOWN_TIMEOUT) -> None:
        """Cleanly shut server ``i`` down (SIGTERM), falling back to SIGKILL after ``timeout``."""
        process.shutdown(self.servers[i], timeout)

    def restart(self, i: int) -> None:
        """Shut server ``i`` down if it runs, then start it again on the same port and datadir."""
        self.shutdown(i)
        self.start_server(i)

    def start_server(self, i: int) -> None:
        """Start server ``i`` if it is not running (after ``kill``/``shutdown``)."""
        server = self.servers[i]
        if server.running():
            return
        self._launcher().start(server)
        self.save_state()

    def pause(self, i: int) -> None:
        """SIGSTOP server ``i``: its port stays open but nothing answers, like a hung host.

        Recorded in the state file: ``orchestrator-sandbox resume`` (another process) resumes it."""
        process.pause(self.servers[i])
        self.save_state()

    def resume(self, i: int) -> None:
        """SIGCONT server ``i`` if it is paused, by this process or by another."""
        process.resume(self.servers[i])
        self.save_state()

    def is_alive(self, i: int) -> bool:
        """Whether server ``i`` runs and is not paused."""
        return process.is_alive(self.servers[i])

    # ----------------------------------------------------------------- addressing and SQL

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    @property
    def keys(self) -> list[str]:
        """Instance keys ``127.0.0.1:port`` in server order, as orchestrator names them."""
        return [server.key for server in self.servers]

    def key(self, i: int) -> str:
        return self.servers[i].key

    def index_of(self, key_or_port: str | int) -> int:
        """Server index for a port or a ``host:port`` key of this sandbox."""
        return process.index_of(self.servers, key_or_port)

    def connect(
        self,
        i: int,
        user: str = "root",
        password: str = "",
        database: str | None = None,
        timeout: float = 5.0,
    ) -> Any:
        """An autocommit ``mysql.connector`` connection to server ``i`` (root by default)."""
        return connect(self.servers[i].port, user=user, password=password, database=database, timeout=timeout)

    def query(self, i: int, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        """Run one statement as root on server ``i`` and return its rows as dicts."""
        return _query(self.servers[i].port, sql, params)

    def execute(self, i: int, *statements: str) -> None:
        """Run statements as root on server ``i`` over one connection, in order."""
        _execute(self.servers[i].port, *statements)

    # ----------------------------------------------------------------- replication state

    def replica_status(self, i: int) -> Row | None:
        """``SHOW SLAVE STATUS`` of server ``i`` as a dict, or None when it replicates from nobody."""
        return replication.replica_status(self.servers[i])

    def replicating(self, i: int) -> Row:
        """``SHOW SLAVE STATUS`` of server ``i``, which must be a replica (AssertionError otherwise):
        for tests that read a field of it."""
        status = replication.replica_status(self.servers[i])
        assert status is not None, f"server {i} replicates from nobody"
        return status

    def replication_parents(self) -> dict[int, int | None]:
        """The live topology: for each reachable server, the sandbox server it replicates from.

        Unlike :attr:`layout`, this reflects whatever orchestrator (or a test) did to the servers.
        Replicas of hosts outside the sandbox, or detached ones, map to None.
        """
        return replication.replication_parents(self.servers)

    def current_master(self) -> int:
        """Index of the live root with the most replicas beneath it (ties: lowest index)."""
        return busiest_root(self.replication_parents())

    def wait_replicated(self, timeout: float = 30.0) -> None:
        """Block until every live replica has applied its root master's ``gtid_binlog_pos``."""
        replication.wait_replicated(self.servers, timeout)

    # ----------------------------------------------------------------- test data

    def write_row(self, value: str | None = None, i: int | None = None) -> str:
        """Insert a row into ``sandbox_test.writes`` on server ``i`` (default: the current master).

        Returns the row's value (random unless given), for :meth:`count_rows` on other servers.
        """
        target = self.current_master() if i is None else i
        return sample_table.insert_row(self.servers[target], value)

    def count_rows(self, i: int, value: str | None = None) -> int:
        """Rows in ``sandbox_test.writes`` on server ``i``, optionally only those with ``value``."""
        return sample_table.count_rows(self.servers[i], value)

    # ----------------------------------------------------------------- orchestrator config & state

    def write_config(
        self,
        path: str | os.PathLike[str],
        sqlite_file: str | os.PathLike[str],
        **overrides: Any,
    ) -> Path:
        """Write an orchestrator JSON config that manages this sandbox with a SQLite backend."""
        return write_orchestrator_config(path, sqlite_file, **overrides)

    @property
    def state_file(self) -> Path:
        return state_path(self.base_dir)

    def save_state(self) -> Path:
        """Record ports, pids and paths so another process (``orchestrator-sandbox down``) can attach."""
        return SavedState(
            base_dir=self.base_dir,
            owns_base_dir=self._owns_base_dir,
            template_dir=self.template_dir,
            layout=self.layout,
            gtid=self.gtid,
            keep=self.keep,
            mariadbd=self._mariadbd,
            servers=self.servers,
        ).write()

    @classmethod
    def attach(cls, base_dir: str | os.PathLike[str]) -> Sandbox:
        """Rebuild a handle on a sandbox started by another process, from its state file."""
        state = SavedState.read(Path(base_dir))
        sandbox = cls(
            servers=len(state.servers),
            layout=state.layout,
            gtid=state.gtid,
            base_dir=state.base_dir,
            keep=state.keep,
            mariadbd=state.mariadbd,
            template_dir=state.template_dir,
        )
        sandbox._owns_base_dir = state.owns_base_dir
        sandbox.servers = list(state.servers)
        sandbox.started = any(server.running() for server in sandbox.servers)
        return sandbox

    @property
    def mariadbd(self) -> str:
        """The ``mariadbd`` binary, looked up on first use unless given."""
        if self._mariadbd is None:
            self._mariadbd = find_mariadbd()
            if self._mariadbd is None:
                raise SandboxError(f"no mariadbd binary found (set ${MARIADBD_ENV} or install mariadb-server)")
        return self._mariadbd

    # ----------------------------------------------------------------- composition

    def _launcher(self) -> Launcher:
        return Launcher(binary=self.mariadbd, startup_timeout=self.startup_timeout, extra_args=self.extra_args)

    def _parents(self, layout: Layout | None) -> list[int | None]:
        return self.layout if layout is None else resolve_layout(layout, self.size)

    def _provision(self, allow_port_change: bool, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Fresh datadirs → running servers → users → clean GTID state → replication."""
        provisioning.copy_datadirs(self.servers, self.template_dir, self.mariadbd)
        self._launcher().start_all(self.servers, allow_port_change)
        for server in self.servers:
            provisioning.create_users(server)
            provisioning.wipe(server)
        use_gtid = self.gtid if gtid is None else gtid
        provisioning.wire(self.servers, self._parents(layout), use_gtid, self.startup_timeout)

    def _remove_files(self) -> None:
        provisioning.remove_files(self.base_dir, self.servers, self.template_dir, self._owns_base_dir)


def iter_sandbox_keys(sandbox: Sandbox) -> Iterator[tuple[str, str]]:
    """(key, role description) for each server according to the live topology, for display."""
    parents = sandbox.replication_parents() if sandbox.started else {}
    for server in sandbox.servers:
        if server.index not in parents:
            yield server.key, "down" if not server.running() else "paused"
            continue
        parent = parents[server.index]
        yield server.key, "master" if parent is None else f"replica of {sandbox.key(parent)}"
