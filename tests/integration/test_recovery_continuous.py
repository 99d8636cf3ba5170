"""`continuous` as a real process: it detects a killed master and recovers it, honouring the global switch."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT, run_cli


@pytest.fixture
def killed(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def start_continuous(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "-c", "continuous", "--duration", "5m"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def setup(sb: Sandbox, tmp_path: Path) -> tuple[Path, Path]:
    backend = tmp_path / "orchestrator.sqlite3"
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json", backend, InstancePollSeconds=1, RecoverMasterClusterFilters=[".*"]
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config, backend


def promoted_with_all_replicas(sb: Sandbox) -> int | None:
    parents = sb.replication_parents()
    roots = [i for i, p in parents.items() if p is None]
    if len(roots) != 1 or roots[0] == 0:
        return None
    root = roots[0]
    return root if all(p == root for i, p in parents.items() if i != root) else None


def elected(backend: Path) -> bool:
    try:
        with sqlite3.connect(backend) as conn:
            return any(r[0] for r in conn.execute("SELECT hostname FROM active_node"))
    except sqlite3.OperationalError:  # schema not deployed yet
        return False


def detections(backend: Path) -> list[str]:
    with sqlite3.connect(backend) as conn:
        return [r[0] for r in conn.execute("SELECT analysis FROM topology_failure_detection")]


def test_continuous_recovers_a_killed_master(
    killed: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sb = killed
    config, backend = setup(sb, tmp_path)
    proc = start_continuous(config)
    try:
        wait_until(lambda: elected(backend), timeout=30, message="election")
        value = sb.write_row(i=0)
        sb.wait_replicated()
        sb.kill(0)
        promoted = wait_until(lambda: promoted_with_all_replicas(sb), timeout=60, message="automated failover")
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert out == ""
    assert sb.count_rows(int(promoted), value) == 1  # type: ignore[call-overload]
    [recovery] = run_cli("-c", "audit-recovery", "--format", "json", config=config).json()
    assert recovery["IsSuccessful"] is True
    assert recovery["SuccessorKey"]["Port"] == sb.ports[int(promoted)]  # type: ignore[call-overload]
    assert any("(automated)" in s["Message"] for s in recovery["Steps"])


def test_continuous_honours_disabled_recoveries(
    killed: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sb = killed
    config, backend = setup(sb, tmp_path)
    assert run_cli("-c", "disable-global-recoveries", config=config).code == 0
    proc = start_continuous(config)
    try:
        sb.kill(0)
        wait_until(lambda: "DeadMaster" in detections(backend), timeout=60, message="detection")
        # the detection was evaluated and refused by the global switch: nothing changed
        assert {i: p for i, p in sb.replication_parents().items()} == {1: 0, 2: 0, 3: 0}
        assert run_cli("-c", "audit-recovery", config=config).lines == []
        assert run_cli("-c", "enable-global-recoveries", config=config).code == 0
        wait_until(lambda: promoted_with_all_replicas(sb), timeout=60, message="failover once enabled")
    finally:
        code, _, err = stop(proc)
    assert code == 0, err


def test_only_one_continuous_node_is_elected(tmp_path: Path, wait_until: Callable[..., object]) -> None:
    """Two processes on one backend: the second stays a follower while the first holds the lease."""
    from tests.support import sqlite_config

    config = sqlite_config(tmp_path)
    backend = tmp_path / "orchestrator.sqlite3"

    def start(duration: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous",
             "--duration", duration],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = start("60s")
    try:
        wait_until(lambda: backend.exists() and elected(backend), timeout=30, message="first node elected")
        second = start("3s")
        second_code, _, second_err = stop_when_done(second)
    finally:
        first_code, _, first_err = stop(first)
    assert (first_code, second_code) == (0, 0), first_err + second_err
    assert "elected: this node runs discovery and recovery" in first_err
    assert "elected: this node" not in second_err


def stop_when_done(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_two_recoveries_in_one_run_leave_the_injection_access_alone(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    """Two dead masters, one after the other, are both recovered by one daemon run; AutoPseudoGTID
    keeps injecting meanwhile, over the main loop's own topology access: a recovery (on a worker
    thread) once closed that access after each run, dropping the main loop's connection to every
    master in the middle of whatever it was doing. Seen from a third cluster's master: the daemon's
    connections there (discovery's and the injection's) outlive both recoveries."""
    import threading

    from orchestrator_cli.config import load_config
    from orchestrator_cli.daemon.continuous import ContinuousMode
    from orchestrator_cli.sandbox.settings import TOPOLOGY_USER

    sb = sandbox_factory(servers=6, layout=[None, 0, None, 2, None, 4])  # three clusters of two
    backend = tmp_path / "orchestrator.sqlite3"
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        backend,
        InstancePollSeconds=1,
        RecoverMasterClusterFilters=[".*"],
        AutoPseudoGTID=True,
    )
    for master in (0, 2, 4):
        assert run_cli("-c", "discover", "-i", sb.key(master), config=config).code == 0

    def entries(i: int) -> int:
        return sum("_pseudo_gtid_" in str(e["Info"]) for e in sb.query(i, "SHOW BINLOG EVENTS"))

    def daemon_connections(i: int) -> set[int]:
        rows = sb.query(i, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (TOPOLOGY_USER,))
        return {int(r["ID"]) for r in rows}

    mode = ContinuousMode(load_config(str(config)), duration=600)
    runner = threading.Thread(target=mode.run, name="continuous-under-test")
    runner.start()
    try:
        wait_until(lambda: entries(4) > 0, timeout=60, message="Pseudo-GTID injected on the third master")
        # discovery's and the injection's (the first pass may have found the CLI's rows fresh)
        held = wait_until(lambda: len(c := daemon_connections(4)) >= 2 and c, timeout=60, message="both connected")
        assert isinstance(held, set)
        for dead, replica in ((0, 1), (2, 3)):
            sb.kill(dead)
            wait_until(
                lambda replica=replica: sb.replica_status(replica) is None, timeout=90, message=f"failover of {dead}"
            )
        wait_until(lambda: len(mode.recoveries) == 2, timeout=30, message="both recoveries recorded")
        injected = entries(4)
        wait_until(lambda: entries(4) > injected, timeout=60, message="injection after both recoveries")
        assert held <= daemon_connections(4), "a recovery closed connections the main loop holds"
    finally:
        mode.stop()
        runner.join(timeout=120)
    assert not runner.is_alive()
    assert {(str(o.failed), o.successful, str(o.successor)) for o in mode.recoveries} == {
        (sb.key(0), True, sb.key(1)),
        (sb.key(2), True, sb.key(3)),
    }
