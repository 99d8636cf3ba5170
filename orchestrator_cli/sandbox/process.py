"""Process control: which port and directory each server has, and starting, stopping, killing,
pausing and resuming its ``mariadbd``.

Nothing here speaks SQL beyond the login that proves a server is ready; what the servers contain
is :mod:`.provisioning`'s business and how they replicate is :mod:`.replication`'s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator_cli.sandbox.connection import connect
from orchestrator_cli.sandbox.errors import PortTakenError, SandboxError
from orchestrator_cli.sandbox.settings import FORBIDDEN_PORTS, HOST, SERVER_ID_BASE

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
# Unix socket paths longer than this fail to bind (sun_path is 108 bytes on Linux).
_MAX_SOCKET_PATH = 100
_PORT_RETRIES = 5
_KILL_WAIT_SECONDS = 30.0
_GRACEFUL_WAIT_SECONDS = 60.0


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
    # Set by `pause`, cleared by `resume`, and saved in the state file; `is_paused` asks the kernel
    # instead wherever it can (another process may have paused or resumed the server since).
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
        """True while the mariadbd process exists (paused servers count as running).

        A server attached from a state file has no ``Popen``; its pid is trusted only while the
        process's command line still names this datadir (pids get reused).
        """
        if self.process is not None:
            return self.process.poll() is None
        if self.pid is None:
            return False
        return _pid_running(self.pid, str(self.datadir))

    def is_paused(self) -> bool:
        """Whether the process is stopped (SIGSTOP), whichever process paused it: read from
        ``/proc`` (the ``paused`` flag only where there is no ``/proc``)."""
        pid = self.process.pid if self.process is not None else self.pid
        if pid is None or not _HAVE_PROC:
            return self.paused
        return _process_state(pid) == "T"


def is_alive(server: Server) -> bool:
    """Whether the server runs and is not paused, i.e. would answer a query."""
    return server.running() and not server.is_paused()


def index_of(servers: Sequence[Server], key_or_port: str | int) -> int:
    """Server index for a port or a ``host:port`` key among ``servers``."""
    port = key_or_port if isinstance(key_or_port, int) else int(str(key_or_port).rsplit(":", 1)[1])
    for server in servers:
        if server.port == port:
            return server.index
    raise SandboxError(f"{key_or_port} is not a member of this sandbox")


# ----------------------------------------------------------------- ports and directories


def free_ports(count: int) -> list[int]:
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


def port_is_free(port: int) -> bool:
    """Whether ``HOST:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def plan_servers(base_dir: Path, count: int, base_port: int | None) -> list[Server]:
    """Ports, server ids and directories for ``count`` servers under ``base_dir``.

    Fixed consecutive ports from ``base_port`` (refused when reserved or busy), else free ports
    from the kernel.
    """
    if base_port is not None:
        ports = [base_port + i for i in range(count)]
        clash = FORBIDDEN_PORTS.intersection(ports)
        if clash:
            raise SandboxError(f"sandbox ports {ports[0]}-{ports[-1]} would include reserved port {clash}")
        busy = [port for port in ports if not port_is_free(port)]
        if busy:
            raise SandboxError(f"sandbox ports already in use on {HOST}: {busy}")
    else:
        ports = free_ports(count)
    servers = []
    for i, port in enumerate(ports):
        directory = base_dir / f"node{i}"
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


# ----------------------------------------------------------------- starting


@dataclass(frozen=True)
class Launcher:
    """Starts ``mariadbd`` processes with the sandbox's settings and waits for them to log in."""

    binary: str
    startup_timeout: float
    extra_args: tuple[str, ...] = ()

    def command(self, server: Server) -> list[str]:
        args = [
            self.binary,
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

    def launch(self, server: Server) -> None:
        """Spawn mariadbd in its own session so a Ctrl-C aimed at the caller does not reach it."""
        server.tmpdir.mkdir(parents=True, exist_ok=True)
        with open(server.error_log, "ab") as log:
            server.log_offset = log.tell()
            process = subprocess.Popen(
                self.command(server),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        server.process = process
        server.pid = process.pid
        server.paused = False

    def wait_ready(self, server: Server, deadline: float) -> None:
        """Poll until the server accepts a root login; fail fast, with its log, if it dies."""
        polls = 0
        last_error: Exception | None = None
        while True:
            if not server.running():
                tail = _log_tail(server.error_log, offset=server.log_offset)
                if "Address already in use" in tail or "Bind on TCP/IP port" in tail:
                    raise PortTakenError(f"{server.key} could not bind its port:\n{tail}")
                raise SandboxError(f"mariadbd for {server.key} exited during start-up; error log tail:\n{tail}")
            try:
                conn = connect(server.port, timeout=2)
            except Exception as exc:  # mysql.connector raises several unrelated types while starting
                last_error = exc
            else:
                conn.close()
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"{server.key} did not accept connections within {self.startup_timeout}s "
                    f"(last error: {last_error}); error log tail:\n{_log_tail(server.error_log)}"
                )
            polls += 1
            time.sleep(0.05 if polls < 100 else 0.2)

    def start(self, server: Server) -> None:
        """Launch one server and wait until it is ready."""
        self.launch(server)
        self.wait_ready(server, time.monotonic() + self.startup_timeout)

    def start_all(self, servers: Sequence[Server], allow_port_change: bool) -> None:
        """Start all servers in parallel; re-pick a port if someone grabbed it meanwhile."""
        for server in servers:
            self.launch(server)
        deadline = time.monotonic() + self.startup_timeout
        for server in servers:
            for attempt in range(_PORT_RETRIES):
                try:
                    self.wait_ready(server, deadline)
                    break
                except PortTakenError:
                    if not allow_port_change or attempt == _PORT_RETRIES - 1:
                        raise
                    server.port = free_ports(1)[0]
                    self.launch(server)

    def ensure_running(self, servers: Sequence[Server]) -> None:
        """Resume paused servers and start dead ones (in parallel), then wait for all to be ready."""
        deadline = time.monotonic() + self.startup_timeout
        for server in servers:
            resume(server)
            if not server.running():
                self.launch(server)
        for server in servers:
            self.wait_ready(server, deadline)


# ----------------------------------------------------------------- stopping, signals


def kill(server: Server) -> None:
    """SIGKILL the server and wait until it is gone, to simulate a crashed host."""
    if server.running():
        _send(server, signal.SIGKILL)
        _wait_exit(server, _KILL_WAIT_SECONDS)
    server.paused = False


def shutdown(server: Server, timeout: float) -> None:
    """Cleanly shut the server down (SIGTERM), falling back to SIGKILL after ``timeout``."""
    if not server.running():
        return
    _send(server, signal.SIGTERM)
    if server.paused or server.is_paused():
        _send(server, signal.SIGCONT)
        server.paused = False
    if not _wait_exit(server, timeout, raise_on_timeout=False):
        _send(server, signal.SIGKILL)
        _wait_exit(server, _KILL_WAIT_SECONDS)


def pause(server: Server) -> None:
    """SIGSTOP the server: its port stays open but nothing answers, like a hung host. Returns once
    the kernel reports it stopped, so that another process reading ``/proc`` sees it paused."""
    if server.running() and not server.is_paused():
        _send(server, signal.SIGSTOP)
        _await_state(server, stopped=True)
    server.paused = server.running()


def resume(server: Server) -> None:
    """SIGCONT a paused server, whichever process paused it (the flag of this one may not know)."""
    if server.running() and (server.paused or server.is_paused()):
        _send(server, signal.SIGCONT)
        _await_state(server, stopped=False)
    server.paused = False


def _await_state(server: Server, *, stopped: bool, timeout: float = 5.0) -> None:
    """Wait (briefly: signals are delivered at once) until the process is, or is no longer, stopped."""
    deadline = time.monotonic() + timeout
    while _HAVE_PROC and server.running() and server.is_paused() != stopped and time.monotonic() < deadline:
        time.sleep(0.005)


def terminate_all(servers: Sequence[Server], graceful: bool) -> None:
    """Stop every running server at once: SIGTERM (then SIGKILL on timeout) or straight SIGKILL."""
    live = [server for server in servers if server.running()]
    for server in live:
        if graceful:
            _send(server, signal.SIGTERM)
            if server.paused or server.is_paused():
                _send(server, signal.SIGCONT)
        else:
            _send(server, signal.SIGKILL)
    for server in live:
        timeout = _GRACEFUL_WAIT_SECONDS if graceful else _KILL_WAIT_SECONDS
        if not _wait_exit(server, timeout, raise_on_timeout=not graceful):
            _send(server, signal.SIGKILL)
            _wait_exit(server, _KILL_WAIT_SECONDS)
    for server in servers:
        server.paused = False


def _send(server: Server, signum: int) -> None:
    pid = server.process.pid if server.process is not None else server.pid
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_exit(server: Server, timeout: float, raise_on_timeout: bool = True) -> bool:
    """Wait for the process to end (reaping it when we are its parent); False on timeout."""
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


_HAVE_PROC = Path("/proc/self/stat").exists()


def _process_state(pid: int) -> str | None:
    """The one-letter state of ``/proc/<pid>/stat`` (``T``: stopped), None when unreadable."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


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


def _log_tail(path: Path, lines: int = 25, offset: int = 0) -> str:
    """The last lines of an error log written since ``offset``, for start-up failure messages."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            content = log.read().decode(errors="replace").splitlines()
    except OSError:
        return f"(no error log at {path})"
    return "\n".join(content[-lines:])
