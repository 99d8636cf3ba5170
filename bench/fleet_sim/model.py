"""The replication fleet the simulated servers answer from: plain Python, no I/O.

Every server is a `SimServer` keyed by its loopback port. Replication is modelled by transaction
counts rather than events: a writable root (a master) executes `WRITE_RATE` transactions a second;
a replica whose threads run and whose master is reachable catches up to its master's count (less its
injected lag) on every `Fleet.tick`. Binary log coordinates and MariaDB GTID positions are derived
from those counts, so they advance, and a promoted replica is exactly as far as it had applied.

A dead (killed) or hung master is noticed by its replicas only after `slave_net_timeout`, as a real
IO thread does: until then they still report ``Slave_IO_Running: Yes``; then ``Connecting`` with
error 2003 (refused) or 2013 (hung: the read timed out).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

WRITE_RATE = 5.0  # transactions per second on every writable master
BYTES_PER_TRX = 200
FIRST_POS = 256  # where the first event of a binary log starts
HOST = "127.0.0.1"
VERSION = "10.11.6-MariaDB-log"
VERSION_COMMENT = "MariaDB Server (simulated)"


@dataclass
class SimServer:
    port: int
    server_id: int
    cluster: str
    role: str  # what it was built as: master, replica, intermediate, leaf (for the bench's bookkeeping)
    read_only: bool = True
    log_bin: bool = True
    log_slave_updates: bool = True
    # replication (master_port None: no replication row at all, as after RESET SLAVE ALL)
    master_port: int | None = None
    master_user: str = "repl"
    io_thread: bool = False  # started (an operator's intent); the reported state also depends on the master
    sql_thread: bool = False
    use_gtid: str = "Slave_Pos"
    lag_seconds: int = 0  # injected: the SQL thread stays this far behind
    # transaction counts: own binary log and what was read / executed from the master
    executed: float = 0.0
    read: float = 0.0
    gtid_origin: int = 0  # server_id of the master that wrote the last executed transaction
    binlog_index: int = 1
    binlog_start: float = 0.0  # transaction count where the current binary log file begins
    # faults
    alive: bool = True
    hung: bool = False
    down_since: float | None = None  # monotonic time the server died or hung (None: up)
    globals: dict[str, str] = field(default_factory=dict)  # SET GLOBAL values not modelled otherwise
    started_at: float = field(default_factory=time.time)

    @property
    def hostname(self) -> str:
        return f"sim-{self.port}"

    @property
    def binlog_file(self) -> str:
        return f"mysql-bin.{self.binlog_index:06d}"

    def binlog_pos(self, count: float | None = None) -> int:
        """Position in the current binary log after `count` transactions (default: all executed)."""
        done = self.executed if count is None else count
        return FIRST_POS + int(max(0.0, done - self.binlog_start)) * BYTES_PER_TRX

    @property
    def answering(self) -> bool:
        return self.alive and not self.hung


@dataclass(frozen=True)
class IOView:
    """What `SHOW SLAVE STATUS` reports about the IO thread."""

    running: str  # Yes, No, Connecting
    errno: int
    error: str
    master_server_id: int


class Fleet:
    """All simulated servers, guarded by one lock (the asyncio server thread and the ticker share it)."""

    def __init__(self, slave_net_timeout: float = 4.0) -> None:
        self.servers: dict[int, SimServer] = {}
        self.slave_net_timeout = slave_net_timeout
        self.lock = threading.RLock()
        self._last_tick = time.monotonic()
        self._children: dict[int, list[SimServer]] = {}  # master port -> replicas (SHOW SLAVE HOSTS)

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def of_clusters(cls, clusters: int, base_port: int, *, slave_net_timeout: float = 4.0) -> Fleet:
        """`clusters` clusters of five: a master, two replicas, an intermediate master with one replica."""
        fleet = cls(slave_net_timeout=slave_net_timeout)
        port = base_port
        for c in range(clusters):
            name = f"c{c:05d}"
            master = fleet.add(port, name, "master", None)
            fleet.add(port + 1, name, "replica", master.port)
            fleet.add(port + 2, name, "replica", master.port)
            inter = fleet.add(port + 3, name, "intermediate", master.port)
            fleet.add(port + 4, name, "leaf", inter.port)
            port += 5
        return fleet

    def add(self, port: int, cluster: str, role: str, master_port: int | None) -> SimServer:
        server = SimServer(port=port, server_id=port, cluster=cluster, role=role)
        if master_port is None:
            server.read_only = False
            server.gtid_origin = server.server_id
        else:
            server.master_port = master_port
            server.io_thread = server.sql_thread = True
        self.servers[port] = server
        if master_port is not None:
            self._children.setdefault(master_port, []).append(server)
        return server

    def reindex(self) -> None:
        """Rebuild the replicas-by-master index after a change of master."""
        children: dict[int, list[SimServer]] = {}
        for server in self.servers.values():
            if server.master_port is not None:
                children.setdefault(server.master_port, []).append(server)
        self._children = children

    def ports(self) -> list[int]:
        return sorted(self.servers)

    def masters(self) -> list[SimServer]:
        return [s for s in self.servers.values() if s.role == "master"]

    # -- derived state --------------------------------------------------------------------------
    def master_of(self, server: SimServer) -> SimServer | None:
        return None if server.master_port is None else self.servers.get(server.master_port)

    def replicas_of(self, server: SimServer) -> list[SimServer]:
        return list(self._children.get(server.port, ()))

    def io_view(self, server: SimServer, now: float | None = None) -> IOView:
        """The IO thread as the replica sees it: connected, stopped, or retrying a master it lost."""
        if not server.io_thread:
            return IOView("No", 0, "", 0)
        master = self.master_of(server)
        now = time.monotonic() if now is None else now
        if master is None:
            return IOView("Connecting", 2005, f"Unknown MySQL server host '{HOST}:{server.master_port}'", 0)
        if master.answering or (master.down_since is not None and now - master.down_since < self.slave_net_timeout):
            return IOView("Yes", 0, "", master.server_id)
        if master.hung:
            message = (
                f"error reconnecting to master '{server.master_user}@{HOST}:{master.port}' - retry-time: 60  "
                "maximum-retries: 86400  message: Lost connection to server at 'handshake: reading initial "
                "communication packet', system error: 110"
            )
            return IOView("Connecting", 2013, message, 0)
        message = (
            f"error reconnecting to master '{server.master_user}@{HOST}:{master.port}' - retry-time: 60  "
            f"maximum-retries: 86400  message: Can't connect to server on '{HOST}' (111 \"Connection refused\")"
        )
        return IOView("Connecting", 2003, message, 0)

    def replicating(self, server: SimServer, now: float) -> bool:
        return server.sql_thread and self.io_view(server, now).running == "Yes"

    # -- time -----------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> None:
        """Advance every server's transaction counts to `now`: masters write, replicas catch up."""
        with self.lock:
            now = time.monotonic() if now is None else now
            elapsed = max(0.0, now - self._last_tick)
            self._last_tick = now
            for server in self._top_down():
                if server.master_port is None:
                    if server.answering and not server.read_only:
                        server.executed += WRITE_RATE * elapsed
                        server.read = server.executed
                        server.gtid_origin = server.server_id
                    continue
                master = self.master_of(server)
                if master is None or self.io_view(server, now).running != "Yes":
                    continue
                if server.answering:
                    server.read = max(server.read, master.executed)
                    if server.sql_thread:
                        target = min(server.read, master.executed - server.lag_seconds * WRITE_RATE)
                        if target > server.executed:
                            server.executed = target
                            server.gtid_origin = master.gtid_origin

    def _top_down(self) -> Iterator[SimServer]:
        """Roots first, then each server after its master (a replication cycle is visited once)."""
        children: dict[int | None, list[SimServer]] = {}
        for server in self.servers.values():
            parent = server.master_port if server.master_port in self.servers else None
            children.setdefault(parent, []).append(server)
        seen: set[int] = set()
        stack = list(children.get(None, []))
        while stack:
            server = stack.pop()
            if server.port in seen:
                continue
            seen.add(server.port)
            yield server
            stack.extend(children.get(server.port, []))
        for server in self.servers.values():  # co-masters and other cycles
            if server.port not in seen:
                yield server

    # -- GTID -----------------------------------------------------------------------------------
    def gtid_pos(self, server: SimServer) -> str:
        """MariaDB ``gtid_binlog_pos``: domain 0, the last writer's server id, the transaction count."""
        count = int(server.executed)
        return f"0-{server.gtid_origin or server.server_id}-{count}" if count else ""

    # -- faults (called by the serving layer, which also closes or stalls the sockets) -----------
    def mark_dead(self, port: int) -> None:
        with self.lock:
            self.tick()
            server = self.servers[port]
            server.alive = False
            server.down_since = time.monotonic()

    def mark_hung(self, port: int, hung: bool) -> None:
        with self.lock:
            self.tick()
            server = self.servers[port]
            server.hung = hung
            server.down_since = time.monotonic() if hung else (None if server.alive else server.down_since)

    def mark_alive(self, port: int) -> None:
        with self.lock:
            self.tick()
            server = self.servers[port]
            server.alive = True
            server.hung = False
            server.down_since = None
            server.started_at = time.time()


def free_port_range(count: int, low: int = 20000, high: int = 60000) -> int:
    """The first port of `count` consecutive loopback ports that are free now (bound and released)."""
    import random
    import socket

    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                # as the simulator's listeners bind (asyncio's default on Unix): a port whose last
                # connections wait in TIME_WAIT (thousands, after a run over a large fleet) is free
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((HOST, port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports in {low}..{high}")
