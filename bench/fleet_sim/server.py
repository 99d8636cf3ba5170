"""Serving the fleet: one asyncio loop, one mysql-mimic listener per simulated server, and the faults.

mysql-mimic speaks the protocol (handshake, authentication, result sets); `SimSession` answers each
statement from the model through `answers.answer` without sqlglot. Faults act on the sockets as a
real failure would:

* kill: the listener closes (new connections are refused) and open connections are reset;
* hang: new connections are accepted but never greeted, statements on open ones never answered;
* lag, stop IO/SQL thread: the model changes, and the replica reports it in SHOW SLAVE STATUS.

`rtt` (seconds) delays every answer, and the greeting of every new connection, by that much: the
network round trip and server time of a production fleet, on other hosts. It is an asyncio sleep,
so it costs this process no CPU: a benchmark can then tell a daemon that is CPU-bound because the
simulator shares its cores from one that is bound by latency and its own concurrency.

`FleetSimulator` runs the loop in a thread of the calling process (tests); `bench/fleet_sim/__main__`
runs it as its own process with a control port (benchmarks: its CPU is then measured apart).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any

from mysql_mimic import MysqlServer, Session
from mysql_mimic.auth import IdentityProvider, NativePasswordAuthPlugin, NoLoginAuthPlugin, User
from mysql_mimic.errors import MysqlError
from mysql_mimic.variables import GlobalVariables, SessionVariables

from bench.fleet_sim.answers import SimError, answer
from bench.fleet_sim.model import VERSION, Fleet

log = logging.getLogger("fleet_sim")
TICK_SECONDS = 0.25


class AnyPassword(NativePasswordAuthPlugin):
    """mysql_native_password that lets every user in: the simulator checks no credentials."""

    def password_matches(self, user: User, scramble: bytes, nonce: bytes) -> bool:
        return True


class OpenDoor(IdentityProvider):
    def get_plugins(self) -> list[Any]:
        return [AnyPassword(), NoLoginAuthPlugin()]

    async def get_user(self, username: str) -> User | None:
        return User(name=username, auth_plugin=AnyPassword.name)


class SimSession(Session):
    """One client connection to one simulated server."""

    def __init__(self, sim: FleetSimulator, port: int, variables: GlobalVariables) -> None:
        super().__init__(SessionVariables(variables))
        # the handshake's server version: the model's, so a test can upgrade or swap a server
        self.variables.set("version", sim.fleet.servers[port].globals.get("version", VERSION), force=True)
        self.sim = sim
        self.port = port

    async def init(self, connection: Any) -> None:
        await super().init(connection)
        self.sim.connections.setdefault(self.port, set()).add(connection)

    async def close(self) -> None:
        connection = self._connection
        if connection is not None:
            self.sim.connections.get(self.port, set()).discard(connection)
        await super().close()

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        await self.sim.unhung(self.port)
        sim = self.sim
        if sim.rtt > 0:
            await asyncio.sleep(sim.rtt)
        started = time.perf_counter()
        try:
            with sim.fleet.lock:
                return answer(sim.fleet, sim.fleet.servers[self.port], sql)
        except SimError as e:
            if e.code == 1064:
                sim.unknown[" ".join(sql.split())[:160]] += 1
            raise MysqlError(e.message, code=e.code) from None
        finally:
            sim.queries += 1
            sim.query_seconds += time.perf_counter() - started


class FleetSimulator:
    """N simulated servers on 127.0.0.1, served by one event loop in a background thread."""

    def __init__(self, fleet: Fleet, *, rtt: float = 0.0) -> None:
        if rtt < 0:
            raise ValueError(f"rtt must not be negative: {rtt}")
        self.fleet = fleet
        self.rtt = rtt  # seconds added to every answer and greeting (network + server time)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: dict[int, MysqlServer] = {}
        self.connections: dict[int, set[Any]] = {}
        self.hang_gates: dict[int, asyncio.Event] = {}
        self.unknown: Counter[str] = Counter()
        self.queries = 0
        self.query_seconds = 0.0
        self.accepted = 0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._globals: dict[int, GlobalVariables] = {}
        self._stopping = False

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FleetSimulator:
        raise_open_files_limit()
        self._thread = threading.Thread(target=self._run, name="fleet-sim", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=120)
        if self._error is not None:
            raise RuntimeError(f"fleet simulator failed to start: {self._error}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("fleet simulator did not start within 120 s")
        return self

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def __enter__(self) -> FleetSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as e:  # reported to start()
            self._error = e
            self._ready.set()

    async def serve(self, ready: Coroutine[Any, Any, None] | None = None) -> None:
        """Listen on every port, tick the model, until stop(); `ready` runs once all are listening."""
        self.loop = asyncio.get_running_loop()
        self.loop.set_exception_handler(self._loop_error)
        self._stop = asyncio.Event()
        for port in self.fleet.ports():
            await self._listen(port)
        ticker = asyncio.create_task(self._tick())
        if ready is not None:
            await ready
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            ticker.cancel()
            for server in self.listeners.values():
                server.close()
            self._stopping = True
            for port in list(self.connections):
                self._reset_connections(port)
            await asyncio.sleep(0.1)  # let the reset connections' tasks end before the loop closes

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Connections reset by a kill or at shutdown end in CancelledError or ConnectionResetError:
        expected, not worth a traceback; anything else is logged."""
        error = context.get("exception")
        if self._stopping or isinstance(error, asyncio.CancelledError | ConnectionError):
            return
        loop.default_exception_handler(context)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.fleet.tick()

    async def _listen(self, port: int) -> None:
        variables = self._globals.get(port)
        if variables is None:
            variables = self._globals[port] = GlobalVariables()

        async def session_factory() -> SimSession:
            self.accepted += 1
            await self.unhung(port)  # a hung server accepts the connection and never greets
            if self.rtt > 0:
                await asyncio.sleep(self.rtt)
            return SimSession(self, port, variables)

        server = MysqlServer(session_factory=session_factory, identity_provider=OpenDoor())
        await server.start_server(host="127.0.0.1", port=port, reuse_address=True, backlog=128)
        self.listeners[port] = server

    def _reset_connections(self, port: int) -> None:
        for connection in list(self.connections.get(port, ())):
            transport = connection.stream.writer.transport
            transport.abort()
        self.connections.pop(port, None)

    async def unhung(self, port: int) -> None:
        gate = self.hang_gates.get(port)
        if gate is not None:
            await gate.wait()

    # -- faults (thread-safe: each runs on the loop) ---------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self.loop is None:
            raise RuntimeError("simulator not started")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def kill(self, port: int) -> None:
        """The server dies: port closed (connection refused), open connections reset."""
        self._call(self._kill(port))

    async def _kill(self, port: int) -> None:
        self.fleet.mark_dead(port)
        listener = self.listeners.pop(port, None)
        if listener is not None:
            listener.close()  # not wait_closed(): that waits for the open connections too
        self._reset_connections(port)

    def revive(self, port: int) -> None:
        """A killed or hung server is back, with the replication state it had."""
        self._call(self._revive(port))

    async def _revive(self, port: int) -> None:
        gate = self.hang_gates.pop(port, None)
        if gate is not None:
            gate.set()
        if port not in self.listeners:
            await self._listen(port)
        self.fleet.mark_alive(port)

    def hang(self, port: int) -> None:
        """The server stops answering: connections are accepted, nothing is ever sent back."""
        self._call(self._hang(port))

    async def _hang(self, port: int) -> None:
        self.hang_gates.setdefault(port, asyncio.Event())
        self.fleet.mark_hung(port, True)

    def set_lag(self, port: int, seconds: int) -> None:
        with self.fleet.lock:
            self.fleet.servers[port].lag_seconds = seconds

    def stop_thread(self, port: int, thread: str) -> None:
        """Stop a replica's ``io`` or ``sql`` thread (or ``both``), as STOP SLAVE would."""
        with self.fleet.lock:
            self.fleet.tick()
            server = self.fleet.servers[port]
            if thread in ("io", "both"):
                server.io_thread = False
            if thread in ("sql", "both"):
                server.sql_thread = False

    def start_threads(self, port: int) -> None:
        with self.fleet.lock:
            self.fleet.tick()
            server = self.fleet.servers[port]
            server.io_thread = server.sql_thread = server.master_port is not None

    # -- observation ----------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "servers": len(self.fleet.servers),
            "listening": len(self.listeners),
            "connections": sum(len(c) for c in self.connections.values()),
            "accepted": self.accepted,
            "queries": self.queries,
            "query_seconds": round(self.query_seconds, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "max_rss_kib": usage.ru_maxrss,
            "unknown_statements": dict(self.unknown.most_common(20)),
        }

    def describe(self, port: int) -> dict[str, Any]:
        """The model's view of one server (for assertions): role, master, threads, read_only, counts."""
        with self.fleet.lock:
            s = self.fleet.servers[port]
            io = self.fleet.io_view(s)
            return {
                "port": s.port,
                "cluster": s.cluster,
                "role": s.role,
                "alive": s.alive,
                "hung": s.hung,
                "read_only": s.read_only,
                "master_port": s.master_port,
                "io": io.running,
                "sql": "Yes" if s.sql_thread else ("No" if s.master_port is not None else ""),
                "executed": int(s.executed),
            }


def raise_open_files_limit() -> None:
    """Thousands of listeners and connections need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
