"""A throw-away MariaDB replication topology on 127.0.0.1, for tests and for trying orchestrator out.

Every server is a plain ``mariadbd`` child process with its own port and datadir under one base
directory.  Datadirs are copied from a template initialised once with ``mariadb-install-db``, which
keeps a 4-server topology's start-up to a second or two.  Only the standard library is needed at
import time; ``mysql.connector`` is imported when a server is first contacted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
TOPOLOGY_USER = "orchestrator"
TOPOLOGY_PASSWORD = "orch_pass"
REPL_USER = "repl"
REPL_PASSWORD = "repl_pass"
SANDBOX_DATABASE = "sandbox_test"
SANDBOX_TABLE = "writes"
STATE_FILE = "sandbox.json"
CONFIG_FILE = "orchestrator.conf.json"
SQLITE_FILE = "orchestrator.sqlite3"
BASE_PORT_ENV = "ORCH_SANDBOX_BASE_PORT"
MARIADBD_ENV = "ORCH_SANDBOX_MARIADBD"
SERVER_ID_BASE = 100
# The shared MariaDB backend lives on 3306; a sandbox must never listen there.
FORBIDDEN_PORTS = frozenset({3306})
SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
LAYOUT_NAMES = ("star", "chain", "tree")

# Small-footprint settings: many sandboxes may run side by side under pytest-xdist.
_RESOURCE_ARGS = (
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=16M",
    "--innodb-log-buffer-size=4M",
    "--innodb-flush-log-at-trx-commit=2",
    "--innodb-use-native-aio=0",
    "--aria-pagecache-buffer-size=8M",
    "--key-buffer-size=1M",
    "--performance-schema=OFF",
)
# Fast failure detection, as the orchestrator documentation recommends.
_REPLICATION_ARGS = (
    "--log-bin=mysql-bin",
    "--relay-log=relay-bin",
    "--log-slave-updates",
    "--binlog-format=ROW",
    "--gtid-strict-mode=1",
    "--slave-net-timeout=4",
    "--master-retry-count=86400",
)
_MAX_SOCKET_PATH = 100

Layout = str | Sequence[int | None]


class SandboxError(RuntimeError):
    """The sandbox could not be started, reached or rewired."""


class _BindError(SandboxError):
    """A server could not bind its port (another process took it after we picked it)."""


def find_mariadbd() -> str | None:
    """Locate the ``mariadbd`` binary ($ORCH_SANDBOX_MARIADBD, $PATH, then the usual sbin dirs)."""
    explicit = os.environ.get(MARIADBD_ENV)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("mariadbd")
    if found:
        return found
    for candidate in ("/usr/sbin/mariadbd", "/usr/libexec/mariadbd", "/usr/local/mysql/bin/mariadbd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def find_install_db(mariadbd: str) -> str | None:
    """Locate ``mariadb-install-db``, preferring the one shipped next to ``mariadbd``."""
    prefix = Path(mariadbd).resolve().parent.parent
    for name in ("mariadb-install-db", "mysql_install_db"):
        for directory in (prefix / "bin", prefix / "scripts"):
            candidate = directory / name
            if os.access(candidate, os.X_OK):
                return str(candidate)
        found = shutil.which(name)
        if found:
            return found
    return None


def resolve_layout(layout: Layout, servers: int) -> list[int | None]:
    """Turn a layout name or parent list into ``parents[i]`` = index server i replicates from.

    ``star``: everyone replicates from server 0.  ``chain``: server i replicates from i-1.
    ``tree``: star, except the last server replicates from server 1, an intermediate master.
    An explicit list may hold several roots (independent clusters) but no cycles.
    """
    if servers < 1:
        raise SandboxError("a sandbox needs at least one server")
    if isinstance(layout, str):
        if layout == "star":
            return [None] + [0] * (servers - 1)
        if layout == "chain":
            return [None] + list(range(servers - 1))
        if layout == "tree":
            parents: list[int | None] = [None] + [0] * (servers - 1)
            if servers >= 3:
                parents[-1] = 1
            return parents
        raise SandboxError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUT_NAMES)}")
    parents = list(layout)
    if len(parents) != servers:
        raise SandboxError(f"layout has {len(parents)} entries for {servers} servers")
    for index, parent in enumerate(parents):
        if parent is None:
            continue
        if not 0 <= parent < servers or parent == index:
            raise SandboxError(f"layout entry {index}: invalid parent {parent!r}")
    for index in range(servers):
        seen = {index}
        current = parents[index]
        while current is not None:
            if current in seen:
                raise SandboxError(f"layout {parents} has a replication cycle through server {index}")
            seen.add(current)
            current = parents[current]
    return parents


def orchestrator_config(sqlite_file: str | os.PathLike[str], **overrides: Any) -> dict[str, Any]:
    """Orchestrator settings that discover and manage a sandbox, backed by a SQLite file."""
    config: dict[str, Any] = {
        "BackendDB": "sqlite",
        "SQLite3DataFile": str(sqlite_file),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "DiscoverByShowSlaveHosts": True,
        "MySQLHostnameResolveMethod": "none",
        "HostnameResolveMethod": "none",
        "InstancePollSeconds": 5,
        "RecoveryPeriodBlockSeconds": 60,
    }
    config.update(overrides)
    return config


def _free_ports(count: int) -> list[int]:
    """Ask the kernel for ``count`` distinct unused ports by holding them all bound at once."""
    held: list[socket.socket] = []
    try:
        ports: list[int] = []
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            held.append(sock)
            port = sock.getsockname()[1]
            if port not in FORBIDDEN_PORTS:
                ports.append(port)
        return ports
    finally:
        for sock in held:
            sock.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 25, offset: int = 0) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            content = log.read().decode(errors="replace").splitlines()
    except OSError:
        return f"(no error log at {path})"
    return "\n".join(content[-lines:])


def _pid_running(pid: int, marker: str | None = None) -> bool:
    """Whether ``pid`` is a live (non-zombie) process, optionally one whose command line has ``marker``."""
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            state = stat.rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return False
        if state in ("Z", "X"):
            return False
        return marker is None or marker in cmdline
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode(errors="replace")
    return value


@dataclass
class Server:
    """One sandbox member: where it lives on disk and which process serves it."""

    index: int
    port: int
    server_id: int
    directory: Path
    socket_path: Path
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    paused: bool = False
    log_offset: int = 0

    @property
    def datadir(self) -> Path:
        return self.directory / "data"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mariadbd.pid"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    @property
    def tmpdir(self) -> Path:
        return self.directory / "tmp"

    @property
    def key(self) -> str:
        return f"{HOST}:{self.port}"

    def running(self) -> bool:
        """True while the mariadbd process exists (paused servers count as running)."""
        if self.process is not None:
            return self.process.poll() is None
        if self.pid is None:
            return False
        return _pid_running(self.pid, str(self.datadir))


class Sandbox:
    """N ``mariadbd`` servers on 127.0.0.1 wired into a MariaDB replication topology.

    Server 0 is the master of the default layouts.  All servers share an empty GTID history at the
    start, so orchestrator sees no errant transactions; the replicated ``sandbox_test.writes`` table
    is there for tests to push rows through the topology.
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
            self.servers = self._plan_servers()
            self._provision(allow_port_change=self.base_port is None)
        except BaseException:
            self._terminate_all(graceful=False)
            if not self.keep:
                self._remove_files()
            raise
        self.started = True
        self.save_state()
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every server; remove the sandbox's files unless ``keep`` was requested."""
        self._terminate_all(graceful=self.keep)
        self.started = False
        if self.keep:
            self.save_state()
            return
        self._remove_files()

    def rebuild(self, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Recreate every server from the template on the same ports: the heavy-handed reset."""
        self._terminate_all(graceful=False)
        for server in self.servers:
            shutil.rmtree(server.datadir, ignore_errors=True)
        try:
            self._provision(allow_port_change=False, layout=layout, gtid=gtid)
        except BaseException:
            self._terminate_all(graceful=False)
            raise
        self.started = True
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
        server = self.servers[i]
        if server.running():
            self._signal(server, signal.SIGKILL)
            self._wait_exit(server, 30.0)
        server.paused = False

    def shutdown(self, i: int, timeout: float = 60.0) -> None:
        """Cleanly shut server ``i`` down (SIGTERM), falling back to SIGKILL after ``timeout``."""
        server = self.servers[i]
        if not server.running():
            return
        self._signal(server, signal.SIGTERM)
        if server.paused:
            self._signal(server, signal.SIGCONT)
            server.paused = False
        if not self._wait_exit(server, timeout, raise_on_timeout=False):
            self._signal(server, signal.SIGKILL)
            self._wait_exit(server, 30.0)

    def restart(self, i: int) -> None:
        """Shut server ``i`` down if it runs, then start it again on the same port and datadir."""
        self.shutdown(i)
        self.start_server(i)

    def start_server(self, i: int) -> None:
        """Start server ``i`` if it is not running (after ``kill``/``shutdown``)."""
        server = self.servers[i]
        if server.running():
            return
        self._launch(server)
        self._wait_ready(server, time.monotonic() + self.startup_timeout)
        self.save_state()

    def pause(self, i: int) -> None:
        """SIGSTOP server ``i``: its port stays open but nothing answers, like a hung host."""
        server = self.servers[i]
        if server.running() and not server.paused:
            self._signal(server, signal.SIGSTOP)
            server.paused = True

    def resume(self, i: int) -> None:
        """SIGCONT a server previously paused with :meth:`pause`."""
        server = self.servers[i]
        if server.paused:
            if server.running():
                self._signal(server, signal.SIGCONT)
            server.paused = False

    def is_alive(self, i: int) -> bool:
        """Whether server ``i`` runs and is not paused."""
        server = self.servers[i]
        return server.running() and not server.paused

    # ----------------------------------------------------------------- addressing

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
        port = key_or_port if isinstance(key_or_port, int) else int(str(key_or_port).rsplit(":", 1)[1])
        for server in self.servers:
            if server.port == port:
                return server.index
        raise SandboxError(f"{key_or_port} is not a member of this sandbox")

    def connect(
        self,
        i: int,
        user: str = "root",
        password: str = "",
        database: str | None = None,
        timeout: float = 5.0,
    ) -> Any:
        """An autocommit ``mysql.connector`` connection to server ``i`` (root by default)."""
        import mysql.connector

        kwargs: dict[str, Any] = {
            "host": HOST,
            "port": self.servers[i].port,
            "user": user,
            "password": password,
            "autocommit": True,
            "connection_timeout": max(1, int(timeout)),
        }
        if database:
            kwargs["database"] = database
        return mysql.connector.connect(**kwargs)

    def query(self, i: int, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run one statement as root on server ``i`` and return its rows as dicts."""
        with self._session(i) as run:
            return run(sql, params)

    def execute(self, i: int, *statements: str) -> None:
        """Run statements as root on server ``i`` over one connection, in order."""
        with self._session(i) as run:
            for statement in statements:
                run(statement, None)

    # ----------------------------------------------------------------- replication state

    def replica_status(self, i: int) -> dict[str, Any] | None:
        """``SHOW SLAVE STATUS`` of server ``i`` as a dict, or None when it replicates from nobody."""
        rows = self.query(i, "SHOW SLAVE STATUS")
        return rows[0] if rows else None

    def replication_parents(self) -> dict[int, int | None]:
        """The live topology: for each reachable server, the sandbox server it replicates from.

        Unlike :attr:`layout`, this reflects whatever orchestrator (or a test) did to the servers.
        Replicas of hosts outside the sandbox, or detached ones, map to None.
        """
        parents: dict[int, int | None] = {}
        for server in self.servers:
            if not self.is_alive(server.index):
                continue
            status = self.replica_status(server.index)
            parent: int | None = None
            if status and status.get("Master_Host") in (HOST, "localhost"):
                try:
                    parent = self.index_of(int(status["Master_Port"]))
                except SandboxError:
                    parent = None
            parents[server.index] = parent
        return parents

    def current_master(self) -> int:
        """Index of the live root with the most replicas beneath it (ties: lowest index)."""
        parents = self.replication_parents()
        roots = {i: 0 for i, parent in parents.items() if parent is None}
        if not roots:
            raise SandboxError("no live server is a master: the topology has a cycle or all are down")
        for i in parents:
            root = self._root_of(i, parents)
            if root is not None and root != i:
                roots[root] += 1
        return max(roots, key=lambda i: (roots[i], -i))

    def wait_replicated(self, timeout: float = 30.0) -> None:
        """Block until every live replica has applied its root master's ``gtid_binlog_pos``.

        Uses ``MASTER_GTID_WAIT``, which also works for file:pos replicas because MariaDB records
        the GTID of every replicated transaction regardless of ``MASTER_USE_GTID``.
        """
        deadline = time.monotonic() + timeout
        parents = self.replication_parents()
        positions: dict[int, str] = {}
        for i in sorted(parents):
            root = self._root_of(i, parents)
            if root is None or root == i:
                continue
            if root not in positions:
                positions[root] = str(self.query(root, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"])
            position = positions[root]
            if not position:
                continue
            remaining = max(0.0, deadline - time.monotonic())
            rows = self.query(i, "SELECT MASTER_GTID_WAIT(%s, %s) AS waited", (position, remaining))
            if rows[0]["waited"] != 0:
                status = self.replica_status(i) or {}
                raise SandboxError(
                    f"{self.key(i)} did not reach {self.key(root)}'s position {position} within {timeout}s "
                    f"(IO={status.get('Slave_IO_Running')} SQL={status.get('Slave_SQL_Running')} "
                    f"io_error={status.get('Last_IO_Error')!r} sql_error={status.get('Last_SQL_Error')!r})"
                )

    # ----------------------------------------------------------------- test data

    def write_row(self, value: str | None = None, i: int | None = None) -> str:
        """Insert a row into ``sandbox_test.writes`` on server ``i`` (default: the current master).

        Returns the row's value (random unless given), for :meth:`count_rows` on other servers.
        """
        target = self.current_master() if i is None else i
        value = uuid.uuid4().hex if value is None else value
        self.query(target, f"INSERT INTO {SANDBOX_DATABASE}.{SANDBOX_TABLE} (val) VALUES (%s)", (value,))
        return value

    def count_rows(self, i: int, value: str | None = None) -> int:
        """Rows in ``sandbox_test.writes`` on server ``i``, optionally only those with ``value``."""
        sql = f"SELECT COUNT(*) AS n FROM {SANDBOX_DATABASE}.{SANDBOX_TABLE}"
        if value is None:
            return int(self.query(i, sql)[0]["n"])
        return int(self.query(i, sql + " WHERE val = %s", (value,))[0]["n"])

    # ----------------------------------------------------------------- rewiring

    def reset_replication(self, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Bring every server back to a clean topology of ``layout`` (default: the sandbox's own).

        Restarts dead servers and resumes paused ones, stops and forgets all replication, wipes
        non-system databases and binlogs/GTID state without logging, then rewires from scratch.
        Every server therefore ends with the same data and the same GTID history.
        """
        parents = self.layout if layout is None else resolve_layout(layout, self.size)
        use_gtid = self.gtid if gtid is None else gtid
        deadline = time.monotonic() + self.startup_timeout
        for server in self.servers:
            if server.paused:
                self.resume(server.index)
            if not server.running():
                self._launch(server)
        for server in self.servers:
            self._wait_ready(server, deadline)
        for server in self.servers:
            self._stop_replication(server.index)
        for server in self.servers:
            self._wipe(server.index)
        self._wire(parents, use_gtid)
        self.save_state()

    # ----------------------------------------------------------------- orchestrator config & state

    def write_config(
        self,
        path: str | os.PathLike[str],
        sqlite_file: str | os.PathLike[str],
        **overrides: Any,
    ) -> Path:
        """Write an orchestrator JSON config that manages this sandbox with a SQLite backend."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        config = orchestrator_config(sqlite_file, **overrides)
        target.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        return target

    @property
    def state_file(self) -> Path:
        return self.base_dir / STATE_FILE

    def save_state(self) -> Path:
        """Record ports, pids and paths so another process (``orchestrator-sandbox down``) can attach."""
        state = {
            "version": 1,
            "base_dir": str(self.base_dir),
            "owns_base_dir": self._owns_base_dir,
            "template_dir": str(self.template_dir),
            "layout": self.layout,
            "gtid": self.gtid,
            "keep": self.keep,
            "mariadbd": self._mariadbd,
            "servers": [
                {
                    "index": s.index,
                    "port": s.port,
                    "server_id": s.server_id,
                    "directory": str(s.directory),
                    "socket": str(s.socket_path),
                    "pid": s.pid,
                    "key": s.key,
                }
                for s in self.servers
            ],
        }
        self.base_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)
        return self.state_file

    @classmethod
    def attach(cls, base_dir: str | os.PathLike[str]) -> Sandbox:
        """Rebuild a handle on a sandbox started by another process, from its state file."""
        state_path = Path(base_dir).resolve() / STATE_FILE
        try:
            state = json.loads(state_path.read_text())
        except FileNotFoundError as exc:
            raise SandboxError(f"no sandbox state in {state_path.parent}") from exc
        servers = state["servers"]
        sandbox = cls(
            servers=len(servers),
            layout=state["layout"],
            gtid=bool(state["gtid"]),
            base_dir=state["base_dir"],
            keep=bool(state.get("keep", False)),
            mariadbd=state.get("mariadbd"),
            template_dir=state["template_dir"],
        )
        sandbox._owns_base_dir = bool(state.get("owns_base_dir", False))
        sandbox.servers = [
            Server(
                index=entry["index"],
                port=entry["port"],
                server_id=entry["server_id"],
                directory=Path(entry["directory"]),
                socket_path=Path(entry["socket"]),
                pid=entry.get("pid"),
            )
            for entry in servers
        ]
        sandbox.started = any(server.running() for server in sandbox.servers)
        return sandbox

    # ----------------------------------------------------------------- internals: processes

    @property
    def mariadbd(self) -> str:
        if self._mariadbd is None:
            self._mariadbd = find_mariadbd()
            if self._mariadbd is None:
                raise SandboxError(f"no mariadbd binary found (set ${MARIADBD_ENV} or install mariadb-server)")
        return self._mariadbd

    def _plan_servers(self) -> list[Server]:
        if self.base_port is not None:
            ports = [self.base_port + i for i in range(self.size)]
            clash = FORBIDDEN_PORTS.intersection(ports)
            if clash:
                raise SandboxError(f"sandbox ports {ports[0]}-{ports[-1]} would include reserved port {clash}")
            busy = [port for port in ports if not _port_is_free(port)]
            if busy:
                raise SandboxError(f"sandbox ports already in use on {HOST}: {busy}")
        else:
            ports = _free_ports(self.size)
        servers = []
        for i, port in enumerate(ports):
            directory = self.base_dir / f"node{i}"
            socket_path = directory / "mariadbd.sock"
            if len(str(socket_path)) > _MAX_SOCKET_PATH:
                socket_path = Path(tempfile.gettempdir()) / f"orch-sandbox-{uuid.uuid4().hex[:12]}.sock"
            servers.append(
                Server(
                    index=i,
                    port=port,
                    server_id=SERVER_ID_BASE + i + 1,
                    directory=directory,
                    socket_path=socket_path,
                )
            )
        return servers

    def _ensure_template(self) -> None:
        """Initialise the template datadir once; an atomic rename makes concurrent creators safe."""
        if self.template_dir.is_dir():
            return
        install_db = find_install_db(self.mariadbd)
        if install_db is None:
            raise SandboxError("mariadb-install-db not found next to mariadbd nor on $PATH")
        self.template_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = self.template_dir.with_name(f"{self.template_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
        # A private tmpdir: concurrent bootstraps sharing /tmp were seen to lose their temp tables.
        scratch = staging.with_name(staging.name + "-scratch")
        scratch.mkdir(parents=True)
        command = [
            install_db,
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            f"--datadir={staging}",
            f"--tmpdir={scratch}",
            "--innodb-log-file-size=16M",
            "--innodb-buffer-pool-size=16M",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            output = (result.stdout + result.stderr)[-3000:]
            raise SandboxError(f"{' '.join(command)} failed with exit code {result.returncode}:\n{output}")
        try:
            staging.rename(self.template_dir)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not self.template_dir.is_dir():
                raise

    def _copy_datadirs(self) -> None:
        self._ensure_template()
        copies = []
        for server in self.servers:
            server.directory.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(server.datadir, ignore_errors=True)
            for stale in (server.pid_file, server.socket_path):
                stale.unlink(missing_ok=True)
            copies.append(
                subprocess.Popen(
                    ["cp", "-a", str(self.template_dir), str(server.datadir)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
        for copy in copies:
            _, err = copy.communicate()
            if copy.returncode != 0:
                raise SandboxError(f"copying the template datadir failed: {err.decode(errors='replace')}")

    def _server_args(self, server: Server) -> list[str]:
        args = [
            self.mariadbd,
            "--no-defaults",
            f"--datadir={server.datadir}",
            f"--port={server.port}",
            f"--bind-address={HOST}",
            f"--socket={server.socket_path}",
            f"--pid-file={server.pid_file}",
            f"--log-error={server.error_log}",
            f"--tmpdir={server.tmpdir}",
            f"--server-id={server.server_id}",
            "--skip-name-resolve",
            f"--report-host={HOST}",
            f"--report-port={server.port}",
            *_REPLICATION_ARGS,
            *_RESOURCE_ARGS,
            *self.extra_args,
        ]
        if os.geteuid() == 0:
            args.append("--user=root")
        return args

    def _launch(self, server: Server) -> None:
        """Spawn mariadbd in its own session so a Ctrl-C aimed at the caller does not reach it."""
        server.tmpdir.mkdir(parents=True, exist_ok=True)
        with open(server.error_log, "ab") as log:
            server.log_offset = log.tell()
            process = subprocess.Popen(
                self._server_args(server),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        server.process = process
        server.pid = process.pid
        server.paused = False

    def _wait_ready(self, server: Server, deadline: float) -> None:
        """Poll until the server accepts a root login; fail fast, with its log, if it dies."""
        polls = 0
        last_error: Exception | None = None
        while True:
            if not server.running():
                tail = _tail(server.error_log, offset=server.log_offset)
                if "Address already in use" in tail or "Bind on TCP/IP port" in tail:
                    raise _BindError(f"{server.key} could not bind its port:\n{tail}")
                raise SandboxError(f"mariadbd for {server.key} exited during start-up; error log tail:\n{tail}")
            try:
                conn = self.connect(server.index, timeout=2)
            except Exception as exc:  # mysql.connector raises several unrelated types while starting
                last_error = exc
            else:
                conn.close()
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"{server.key} did not accept connections within {self.startup_timeout}s "
                    f"(last error: {last_error}); error log tail:\n{_tail(server.error_log)}"
                )
            polls += 1
            time.sleep(0.05 if polls < 100 else 0.2)

    def _launch_all(self, allow_port_change: bool) -> None:
        """Start all servers in parallel; re-pick a port if someone grabbed it meanwhile."""
        for server in self.servers:
            self._launch(server)
        deadline = time.monotonic() + self.startup_timeout
        for server in self.servers:
            for attempt in range(5):
                try:
                    self._wait_ready(server, deadline)
                    break
                except _BindError:
                    if not allow_port_change or attempt == 4:
                        raise
                    server.port = _free_ports(1)[0]
                    self._launch(server)

    def _signal(self, server: Server, signum: int) -> None:
        pid = server.process.pid if server.process is not None else server.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    def _wait_exit(self, server: Server, timeout: float, raise_on_timeout: bool = True) -> bool:
        deadline = time.monotonic() + timeout
        if server.process is not None:
            try:
                server.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                if raise_on_timeout:
                    raise SandboxError(f"{server.key} (pid {server.pid}) did not exit within {timeout}s") from None
                return False
            return True
        while server.running():
            if time.monotonic() > deadline:
                if raise_on_timeout:
                    raise SandboxError(f"{server.key} (pid {server.pid}) did not exit within {timeout}s")
                return False
            time.sleep(0.05)
        return True

    def _terminate_all(self, graceful: bool) -> None:
        live = [server for server in self.servers if server.running()]
        for server in live:
            if graceful:
                self._signal(server, signal.SIGTERM)
                if server.paused:
                    self._signal(server, signal.SIGCONT)
            else:
                self._signal(server, signal.SIGKILL)
        for server in live:
            if not self._wait_exit(server, 60.0 if graceful else 30.0, raise_on_timeout=not graceful):
                self._signal(server, signal.SIGKILL)
                self._wait_exit(server, 30.0)
        for server in self.servers:
            server.paused = False

    def _remove_files(self) -> None:
        if self._owns_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            for server in self.servers:
                if not server.socket_path.is_relative_to(self.base_dir):
                    server.socket_path.unlink(missing_ok=True)
            return
        for server in self.servers:
            shutil.rmtree(server.directory, ignore_errors=True)
            server.socket_path.unlink(missing_ok=True)
        if self.template_dir.parent == self.base_dir:
            shutil.rmtree(self.template_dir, ignore_errors=True)
        for name in (STATE_FILE, CONFIG_FILE, SQLITE_FILE, SQLITE_FILE + "-wal", SQLITE_FILE + "-shm"):
            (self.base_dir / name).unlink(missing_ok=True)

    # ----------------------------------------------------------------- internals: SQL

    def _session(self, i: int) -> _Session:
        return _Session(self, i)

    def _provision(self, allow_port_change: bool, layout: Layout | None = None, gtid: bool | None = None) -> None:
        """Fresh datadirs → running servers → users → clean GTID state → replication."""
        self._copy_datadirs()
        self._launch_all(allow_port_change)
        for server in self.servers:
            self._create_users(server.index)
            self._wipe(server.index)
        parents = self.layout if layout is None else resolve_layout(layout, self.size)
        self._wire(parents, self.gtid if gtid is None else gtid)

    def _create_users(self, i: int) -> None:
        """Create the topology and replication users without binlogging them (no errant GTIDs)."""
        statements = ["SET SESSION sql_log_bin = 0"]
        for host in ("%", "127.0.0.1", "localhost"):
            account = f"'{TOPOLOGY_USER}'@'{host}'"
            statements += [
                f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{TOPOLOGY_PASSWORD}'",
                f"GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION",
            ]
        statements += [
            f"CREATE USER IF NOT EXISTS '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'",
            f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%'",
        ]
        self.execute(i, *statements)

    def _stop_replication(self, i: int) -> None:
        with self._session(i) as run:
            connections = run("SHOW ALL SLAVES STATUS", None)
            if connections:
                run("STOP ALL SLAVES", None)
            for row in connections:
                name = str(row.get("Connection_name") or "")
                run(f"RESET SLAVE '{name}' ALL" if name else "RESET SLAVE ALL", None)

    def _wipe(self, i: int) -> None:
        """Drop test data, binlogs and GTID state without logging, so all servers end up identical."""
        with self._session(i) as run:
            own = run("SELECT CONNECTION_ID() AS id", None)[0]["id"]
            for row in run("SHOW PROCESSLIST", None):
                if row["Id"] != own and row["User"] not in ("system user", "event_scheduler"):
                    if row["Command"] in ("Daemon", "Killed"):
                        continue
                    # The connection may have closed on its own meanwhile.
                    with contextlib.suppress(Exception):
                        run(f"KILL {int(row['Id'])}", None)
            run("SET SESSION sql_log_bin = 0", None)
            run("SET SESSION lock_wait_timeout = 30", None)
            for row in run("SHOW DATABASES", None):
                name = str(next(iter(row.values())))
                if name.lower() not in SYSTEM_DATABASES:
                    run(f"DROP DATABASE {_quote_ident(name)}", None)
            run("SET GLOBAL read_only = 0", None)
            run("SET GLOBAL gtid_strict_mode = 1", None)
            for variable in ("rpl_semi_sync_master_enabled", "rpl_semi_sync_slave_enabled"):
                if run(f"SHOW GLOBAL VARIABLES LIKE '{variable}'", None):
                    run(f"SET GLOBAL {variable} = 0", None)
            # Skipped when nothing was ever logged: a freshly started server's first RESET MASTER
            # stalls for about a second, which would double the sandbox start-up time.
            gtid_state = run("SELECT @@GLOBAL.gtid_binlog_state AS b, @@GLOBAL.gtid_slave_pos AS s", None)[0]
            if gtid_state["b"]:
                run("RESET MASTER", None)
            if gtid_state["s"]:
                run("SET GLOBAL gtid_slave_pos = ''", None)

    def _wire(self, parents: list[int | None], gtid: bool) -> None:
        """Point every replica at its parent, start it and make it read-only, then create the replicated
        test table on the masters (which stay writeable)."""
        for i, parent in enumerate(parents):
            if parent is None:
                continue
            parent_port = self.servers[parent].port
            change = (
                f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={parent_port}, "
                f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1"
            )
            if gtid:
                change += ", MASTER_USE_GTID=slave_pos"
            else:
                coordinates = self.query(parent, "SHOW MASTER STATUS")[0]
                change += (
                    f", MASTER_LOG_FILE='{coordinates['File']}', MASTER_LOG_POS={int(coordinates['Position'])}"
                    ", MASTER_USE_GTID=no"
                )
            # Replicas are read-only, as in production; root and the topology user (SUPER / READ_ONLY
            # ADMIN) may still write there, which is how tests plant errant transactions.
            self.execute(i, change, "START SLAVE", "SET GLOBAL read_only = 1")
        deadline = time.monotonic() + self.startup_timeout
        for i, parent in enumerate(parents):
            if parent is not None:
                self._wait_threads(i, deadline)
        for i, parent in enumerate(parents):
            if parent is None:
                self.execute(
                    i,
                    f"CREATE DATABASE IF NOT EXISTS {SANDBOX_DATABASE}",
                    f"CREATE TABLE IF NOT EXISTS {SANDBOX_DATABASE}.{SANDBOX_TABLE} ("
                    "id INT AUTO_INCREMENT PRIMARY KEY, val VARCHAR(255) NOT NULL, "
                    "created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (val)"
                    ") ENGINE=InnoDB",
                )
        self.wait_replicated(timeout=max(1.0, deadline - time.monotonic()))

    def _wait_threads(self, i: int, deadline: float) -> None:
        while True:
            status = self.replica_status(i) or {}
            if status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes":
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"replication on {self.key(i)} did not start: IO={status.get('Slave_IO_Running')} "
                    f"SQL={status.get('Slave_SQL_Running')} io_error={status.get('Last_IO_Error')!r} "
                    f"sql_error={status.get('Last_SQL_Error')!r}"
                )
            time.sleep(0.02)

    @staticmethod
    def _root_of(i: int, parents: Mapping[int, int | None]) -> int | None:
        """Follow parents up from ``i``; None when the chain leaves the live set or loops."""
        seen = {i}
        current = i
        while True:
            if current not in parents:
                return None
            parent = parents[current]
            if parent is None:
                return current
            if parent in seen:
                return None
            seen.add(parent)
            current = parent


class _Session:
    """Context manager yielding ``run(sql, params) -> rows`` over one root connection."""

    def __init__(self, sandbox: Sandbox, i: int) -> None:
        self._sandbox = sandbox
        self._index = i
        self._conn: Any = None

    def __enter__(self) -> Callable[[str, Sequence[Any] | None], list[dict[str, Any]]]:
        self._conn = self._sandbox.connect(self._index)
        return self._run

    def __exit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            self._conn.close()

    def _run(self, sql: str, params: Sequence[Any] | None) -> list[dict[str, Any]]:
        cursor = self._conn.cursor(dictionary=True)
        try:
            cursor.execute(sql, tuple(params) if params is not None else None)
            if cursor.with_rows:
                return [{key: _text(value) for key, value in row.items()} for row in cursor.fetchall()]
            return []
        finally:
            cursor.close()


def iter_sandbox_keys(sandbox: Sandbox) -> Iterator[tuple[str, str]]:
    """(key, role description) for each server according to the live topology, for display."""
    parents = sandbox.replication_parents() if sandbox.started else {}
    for server in sandbox.servers:
        if server.index not in parents:
            yield server.key, "down" if not server.running() else "paused"
            continue
        parent = parents[server.index]
        yield server.key, "master" if parent is None else f"replica of {sandbox.key(parent)}"
