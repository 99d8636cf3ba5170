"""The live replication state: who replicates from whom right now, and waiting for replicas to
catch up.

Unlike a :mod:`.layout`, which is what the sandbox was asked to build, this reads the servers, so
it reflects whatever orchestrator (or a test) did to them since.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from orchestrator_cli.sandbox.connection import Row, query
from orchestrator_cli.sandbox.errors import SandboxError
from orchestrator_cli.sandbox.layout import root_of
from orchestrator_cli.sandbox.process import Server, index_of, is_alive
from orchestrator_cli.sandbox.settings import HOST

_THREAD_POLL_SECONDS = 0.02


def replica_status(server: Server) -> Row | None:
    """``SHOW SLAVE STATUS`` as a dict, or None when the server replicates from nobody."""
    rows = query(server.port, "SHOW SLAVE STATUS")
    return rows[0] if rows else None


def replication_parents(servers: Sequence[Server]) -> dict[int, int | None]:
    """For each live server, the index of the sandbox server it replicates from.

    Dead and paused servers are left out; replicas of hosts outside the sandbox, or detached
    ones, map to None.
    """
    parents: dict[int, int | None] = {}
    for server in servers:
        if not is_alive(server):
            continue
        status = replica_status(server)
        parent: int | None = None
        if status and status.get("Master_Host") in (HOST, "localhost"):
            try:
                parent = index_of(servers, int(status["Master_Port"]))
            except SandboxError:
                parent = None
        parents[server.index] = parent
    return parents


def wait_replicated(servers: Sequence[Server], timeout: float) -> None:
    """Block until every live replica has applied its root master's ``gtid_binlog_pos``.

    Uses ``MASTER_GTID_WAIT``, which also works for file:pos replicas because MariaDB records
    the GTID of every replicated transaction regardless of ``MASTER_USE_GTID``.
    """
    deadline = time.monotonic() + timeout
    parents = replication_parents(servers)
    positions: dict[int, str] = {}
    for i in sorted(parents):
        root = root_of(i, parents)
        if root is None or root == i:
            continue
        if root not in positions:
            positions[root] = str(query(servers[root].port, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"])
        position = positions[root]
        if not position:
            continue
        remaining = max(0.0, deadline - time.monotonic())
        rows = query(servers[i].port, "SELECT MASTER_GTID_WAIT(%s, %s) AS waited", (position, remaining))
        if rows[0]["waited"] != 0:
            raise SandboxError(
                f"{servers[i].key} did not reach {servers[root].key}'s position {position} within {timeout}s "
                f"({_thread_summary(replica_status(servers[i]) or {})})"
            )


def wait_threads_running(server: Server, deadline: float) -> None:
    """Block until both replication threads of ``server`` run; fail with their errors at ``deadline``."""
    while True:
        status = replica_status(server) or {}
        if status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes":
            return
        if time.monotonic() > deadline:
            raise SandboxError(f"replication on {server.key} did not start: {_thread_summary(status)}")
        time.sleep(_THREAD_POLL_SECONDS)


def _thread_summary(status: Row) -> str:
    return (
        f"IO={status.get('Slave_IO_Running')} SQL={status.get('Slave_SQL_Running')} "
        f"io_error={status.get('Last_IO_Error')!r} sql_error={status.get('Last_SQL_Error')!r}"
    )
