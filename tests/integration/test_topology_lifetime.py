"""MySQLConnectionLifetimeSeconds on topology connections, as on the backend's (the original sets the
same ConnMaxLifetime on its topology pools): a connection older than that is closed and replaced
before its next statement, never between the statements of one change (they may share a session),
and continuous mode's long-lived discovery connections are replaced the same way.

Against the session sandbox, read-only: no statement here changes replication.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.sandbox.settings import TOPOLOGY_USER
from orchestrator_cli.sandbox.topology import Sandbox

LIFETIME = 1


def _past_lifetime() -> None:
    time.sleep(LIFETIME + 0.2)


def _open_connections(sb: Sandbox, i: int) -> set[int]:
    """Ids of the topology user's connections to server `i`."""
    rows = sb.query(i, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (TOPOLOGY_USER,))
    return {int(r["ID"]) for r in rows}


def _gone(sb: Sandbox, i: int, connection_id: int) -> bool:
    """Whether the server no longer lists the connection (it leaves the processlist soon after QUIT)."""
    for _ in range(50):
        if connection_id not in _open_connections(sb, i):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def access(sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., TopologyAccess]]:
    made: list[TopologyAccess] = []

    def make(**overrides: Any) -> TopologyAccess:
        path = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **overrides)
        made.append(TopologyAccess(load_config(str(path))))
        return made[-1]

    yield make
    for a in made:
        a.close()


def _connection_id(server: Any) -> int:
    return int(server.single_value("SELECT CONNECTION_ID()"))


def test_an_old_topology_connection_is_closed_and_replaced(sandbox: Sandbox, access: Callable[..., Any]) -> None:
    server = access(MySQLConnectionLifetimeSeconds=LIFETIME).server(InstanceKey("127.0.0.1", sandbox.ports[0]))
    first = _connection_id(server)
    assert _connection_id(server) == first  # young: kept
    _past_lifetime()
    status = server.replica_status()  # any statement: a typed read here
    assert not status.is_replica  # server 0 is the master
    second = _connection_id(server)
    assert second != first
    assert _gone(sandbox, 0, first)  # closed, not leaked
    assert _connection_id(server) == second


def test_one_change_keeps_its_session_past_the_lifetime(sandbox: Sandbox, access: Callable[..., Any]) -> None:
    """`change` runs its statements on one session (an empty transaction as a GTID is SET GTID_NEXT,
    BEGIN, COMMIT): a lifetime reached in between replaces the connection only after the last one."""
    server = access(MySQLConnectionLifetimeSeconds=LIFETIME).server(InstanceKey("127.0.0.1", sandbox.ports[0]))
    first = _connection_id(server)
    rows = server.change(
        ["SET @orch_lifetime = CONNECTION_ID()", f"DO SLEEP({LIFETIME + 0.2})", "SELECT @orch_lifetime AS v"]
    )
    assert rows == [{"v": first}]  # the variable set by the first statement: the same session
    assert _connection_id(server) != first  # replaced before the next statement


def test_unlimited_by_default(sandbox: Sandbox, access: Callable[..., Any]) -> None:
    topology = access()
    server = topology.server(InstanceKey("127.0.0.1", sandbox.ports[0]))
    assert server.lifetime_seconds == 0
    first = _connection_id(server)
    _past_lifetime()
    assert _connection_id(server) == first


def test_continuous_discovery_replaces_its_old_connections(
    sandbox: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    """A continuous run polling every second with a lifetime of one: the discovery connection to a
    server is replaced (new ids appear) and the old ones are closed (never more open than before)."""
    from orchestrator_cli.daemon.continuous import ContinuousMode
    from tests.support import run_cli

    config = sandbox.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        InstancePollSeconds=1,
        MySQLConnectionLifetimeSeconds=LIFETIME,
    )
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    before = _open_connections(sandbox, 1)
    mode = ContinuousMode(load_config(str(config)), duration=300)
    runner = threading.Thread(target=mode.run, name="continuous-lifetime")
    runner.start()
    seen: set[int] = set()
    most = 0

    def replaced_twice() -> bool:
        nonlocal most
        now = _open_connections(sandbox, 1) - before
        most = max(most, len(now))
        seen.update(now)
        return len(seen) >= 3

    try:
        wait_until(replaced_twice, timeout=60, interval=0.2, message="discovery connections replaced")
    finally:
        mode.stop()
        runner.join(timeout=60)
    assert not runner.is_alive()
    assert most <= 2, f"old connections left open: up to {most} at once"
