"""Continuous mode against hung servers (SIGSTOP: the port stays open, nothing answers), as real
processes on the real sandbox: a hung master is failed over, and fenced when it comes back; a hung
replica does not hold back the detection of a dead master; several daemons on a shared MySQL
backend agree on one recovery."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.recovery import RecoveryRecord
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT, run_cli

Wait = Callable[..., object]


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    for i in range(fresh_sandbox.size):
        fresh_sandbox.resume(i)
    fresh_sandbox.reset_replication()


def start(config: Path, log: Path) -> subprocess.Popen[str]:
    with open(log, "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous",
             "--duration", "5m"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True,
        )  # fmt: skip


def stop(procs: list[subprocess.Popen[str]]) -> list[int]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    return [proc.wait(timeout=90) for proc in procs]


def configure(sb: Sandbox, tmp_path: Path, **overrides: Any) -> Path:
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "orchestrator.sqlite3",
        InstancePollSeconds=1,
        RecoverMasterClusterFilters=[".*"],
        **overrides,
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config


@contextlib.contextmanager
def backend_of(config: Path) -> Iterator[Any]:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(config)))
    try:
        yield backend
    finally:
        backend.close()


def elected(config: Path) -> bool:
    with backend_of(config) as backend:
        return bool(backend.query("SELECT hostname FROM active_node WHERE hostname <> ''"))


def last_check(config: Path) -> str:
    """The oldest `last_checked` of the backend's rows (text, the backend's clock)."""
    with backend_of(config) as backend:
        return str(backend.scalar("SELECT MIN(last_checked) FROM database_instance"))


def successor(sb: Sandbox, failed: int, lost: frozenset[int] = frozenset()) -> int | None:
    """The one other server every live, non-lost replica replicates from, when it is writable."""
    parents = {i: p for i, p in sb.replication_parents().items() if i != failed and i not in lost}
    roots = [i for i, p in parents.items() if p is None]
    if len(roots) != 1:
        return None
    root = roots[0]
    if any(p != root for i, p in parents.items() if i != root):
        return None
    return root if sb.query(root, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 0 else None


def writable_masters(sb: Sandbox) -> list[int]:
    """Servers that replicate from nobody and take writes (the sandbox leaves its replicas writable)."""
    parents = sb.replication_parents()
    return [
        i for i in range(sb.size)
        if parents.get(i) is None and sb.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 0
    ]  # fmt: skip


def recoveries(config: Path) -> list[RecoveryRecord]:
    from orchestrator_cli.backend import recovery

    with backend_of(config) as backend:
        return recovery.recoveries(backend)


def audit_rows(config: Path, port: int) -> list[tuple[str, str]]:
    from orchestrator_cli.backend import audit

    with backend_of(config) as backend:
        return [(r["audit_type"], r["message"]) for r in audit.read_audit(backend, InstanceKey("127.0.0.1", port))]


def downtime_reason(config: Path, port: int) -> str:
    from orchestrator_cli.backend import downtime

    with backend_of(config) as backend:
        row = downtime.read(backend, InstanceKey("127.0.0.1", port))
    return str(row["reason"]) if row and row["is_active"] else ""


def test_hung_master_is_failed_over_and_fenced_when_it_returns(sb: Sandbox, tmp_path: Path, wait_until: Wait) -> None:
    hook_file = tmp_path / "fenced.txt"
    config = configure(
        sb, tmp_path, PostFencingProcesses=[f"echo '{{failureType}} {{failedHost}}:{{failedPort}}' >> {hook_file}"]
    )
    proc = start(config, tmp_path / "daemon.log")
    try:
        wait_until(lambda: elected(config), timeout=30, message="election")
        value = sb.write_row(i=0)
        sb.wait_replicated()
        sb.pause(0)
        new_master = wait_until(lambda: successor(sb, 0), timeout=60, message="failover of the hung master")
        assert sb.count_rows(int(new_master), value) == 1  # type: ignore[call-overload]
        sb.resume(0)
        wait_until(lambda: sb.query(0, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 1, timeout=30, message="fence")
        wait_until(hook_file.exists, timeout=30, message="PostFencingProcesses")
        # exactly one writable master: the successor; the returning master stays fenced
        assert writable_masters(sb) == [new_master]
    finally:
        [code] = stop([proc])
    log = (tmp_path / "daemon.log").read_text()
    assert code == 0, log
    [recovery] = recoveries(config)
    assert (recovery.is_successful, recovery.key.port) == (True, sb.ports[0])
    assert recovery.successor_port == sb.ports[int(new_master)]  # type: ignore[call-overload]
    assert hook_file.read_text() == f"ReturningMasterFenced 127.0.0.1:{sb.ports[0]}\n"
    assert downtime_reason(config, sb.ports[0]) == "lost-in-recovery"
    audit = audit_rows(config, sb.ports[0])
    assert ("topology-statement", "SET GLOBAL read_only = 1") in audit, audit
    assert any(t == "fence-returning-master" and "fenced: read_only=1" in m for t, m in audit), audit
    assert sb.query(0, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 1


def test_hung_replica_does_not_delay_dead_master_detection(sb: Sandbox, tmp_path: Path, wait_until: Wait) -> None:
    """With a long read timeout, the failover completes while the hung replica's probe still waits."""
    config = configure(sb, tmp_path, MySQLDiscoveryReadTimeoutSeconds=45)
    log = tmp_path / "daemon.log"
    proc = start(config, log)
    hung = 3
    try:
        discovered = last_check(config)
        wait_until(lambda: elected(config), timeout=30, message="election")
        sb.write_row(i=0)
        sb.wait_replicated()
        # every server probed by the daemon since `discover`: it holds a connection to each
        wait_until(lambda: last_check(config) > discovered, timeout=30, message="first probes")
        sb.pause(hung)
        time.sleep(3)  # the daemon's next probes of the hung replica have started, on its open connection
        sb.kill(0)
        new_master = wait_until(lambda: successor(sb, 0, frozenset({hung})), timeout=40, message="failover")
        text = log.read_text()
        # the hung replica's discovery probe has not returned yet: nothing waited for it
        assert not re.search(rf"{sb.ports[hung]}: probe failed: .*timed out", text), text
        assert new_master in (1, 2)
        # SIGTERM while the replica still hangs: the stop cuts the hung probe short instead of
        # waiting out its 45 s read timeout
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        sb.resume(hung)
        stop([proc])
    assert code == 0, log.read_text()
    [recovery] = recoveries(config)
    assert recovery.is_successful
    assert recovery.analysis in ("DeadMaster", "DeadMasterAndSomeReplicas")


def test_three_daemons_on_a_mysql_backend_fail_over_a_hung_master_once(
    sb: Sandbox, tmp_path: Path, deployed_mysql_backend_db: dict[str, Any], wait_until: Wait
) -> None:
    config = configure(sb, tmp_path, **deployed_mysql_backend_db)
    procs = [start(config, tmp_path / f"daemon{n}.log") for n in range(3)]
    try:
        wait_until(lambda: elected(config), timeout=30, message="election")
        value = sb.write_row(i=0)
        sb.wait_replicated()
        sb.pause(0)
        new_master = wait_until(lambda: successor(sb, 0), timeout=60, message="failover of the hung master")
        assert sb.count_rows(int(new_master), value) == 1  # type: ignore[call-overload]
        sb.resume(0)
        wait_until(lambda: sb.query(0, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 1, timeout=30, message="fence")
        assert writable_masters(sb) == [new_master]
    finally:
        codes = stop(procs)
    logs = "".join((tmp_path / f"daemon{n}.log").read_text() for n in range(3))
    assert codes == [0, 0, 0], logs
    [recovery] = recoveries(config)
    assert recovery.is_successful
    assert recovery.successor_port == sb.ports[int(new_master)]  # type: ignore[call-overload]


def test_a_hung_server_costs_one_read_timeout_and_no_ping(
    sandbox: Sandbox, sandbox_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a read timeout the handle is dropped without asking the hung server anything more (a ping
    after a timeout waited out a second read timeout)."""
    import mysql.connector.connection as driver

    from orchestrator_cli.config import load_config
    from orchestrator_cli.discovery.probe import probe
    from orchestrator_cli.errors import TopologyError
    from orchestrator_cli.mysql.access import TopologyAccess

    config = load_config(str(sandbox_config), {"MySQLDiscoveryReadTimeoutSeconds": 1})
    access = TopologyAccess(config)
    server = access.server(InstanceKey("127.0.0.1", sandbox.ports[3]), discovery=True)
    probe(server, config)  # connected
    pings: list[object] = []
    real_ping = driver.MySQLConnection.cmd_ping

    def counting_ping(self: driver.MySQLConnection) -> object:
        pings.append(self)
        return real_ping(self)

    monkeypatch.setattr(driver.MySQLConnection, "cmd_ping", counting_ping)
    sandbox.pause(3)
    try:
        with pytest.raises(TopologyError, match="timed out"):
            probe(server, config)
        assert pings == []
        assert server._conn is None  # type: ignore[attr-defined]  # a ConnectedServer internal: the next statement reconnects
    finally:
        sandbox.resume(3)
        access.close()
    assert probe(server, config).key.port == sandbox.ports[3]
