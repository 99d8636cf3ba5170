"""Maintenance locks of killed processes (issue 8 item 7a), on a SQLite backend without servers.

A lock records its taker's host and process token (which carries the pid). A lock whose taker ran on
this host and is gone is taken over, with an audit row; every other held lock refuses with who holds
it, until when, and how to release it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend import audit, health, maintenance
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.topology import locks
from orchestrator_cli.topology.env import TopologyEnv, make_env
from orchestrator_cli.topology.locks import Holder
from orchestrator_cli.topology.operation import is_operation_lock
from orchestrator_cli.topology.primitives import maintenance_lock
from tests.support import sqlite_config

A, B, C = (InstanceKey("db-a", 3306), InstanceKey("db-b", 3306), InstanceKey("db-c", 3306))
HOST = socket.gethostname()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("takeover-backend")
    backend = Backend(load_config(str(sqlite_config(directory))))
    backend.connection()
    backend.close()
    return directory / "orchestrator.sqlite3"


@pytest.fixture
def make(tmp_path: Path, deployed: Path) -> Iterator[Callable[..., TopologyEnv]]:
    shutil.copy(deployed, tmp_path / "orchestrator.sqlite3")
    opened: list[Backend] = []

    def build(noop: bool = False) -> TopologyEnv:
        config = load_config(str(sqlite_config(tmp_path)))
        backend = Backend(config)
        opened.append(backend)
        return make_env(backend, TopologyAccess(config, noop=noop), config, "retrier")

    yield build
    for backend in opened:
        backend.close()


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that ran on this host and was reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def token(pid: int) -> str:
    return f"{'ab' * 32}-pid{pid}"


def take(env: TopologyEnv, key: InstanceKey, pid: int, reason: str, host: str = HOST, explicit: bool = False) -> int:
    taken = maintenance.begin(
        env.backend, key, "root", reason, 600, node=(host, token(pid)), explicitly_bounded=explicit
    )
    assert taken is not None
    return taken


def holder_of(env: TopologyEnv, key: InstanceKey) -> Holder | None:
    return locks.holder(env, key)


def test_tokens_carry_the_pid_and_operation_locks_are_recognised() -> None:
    import os

    assert health.pid_of_token(health.identity()[1]) == os.getpid()
    assert health.pid_of_token("f" * 64) is None
    assert is_operation_lock("relocate db-a:3306") and is_operation_lock("move-up 127.0.0.1:10112")
    assert not is_operation_lock("stop-replica") and not is_operation_lock("kernel upgrade")


def test_a_killed_process_lock_is_taken_over_with_all_its_locks(
    make: Callable[..., TopologyEnv], dead_pid: int
) -> None:
    env = make()
    take(env, A, dead_pid, "relocate db-a:3306")
    take(env, B, dead_pid, "relocate db-a:3306")
    ended: list[list[Holder]] = []
    with maintenance_lock(env, [A], "relocate db-a:3306", on_takeover=ended.append):
        held = holder_of(env, A)
        assert held is not None and held.node == health.identity() and held.owner == "retrier"
        assert holder_of(env, B) is None, "the killed process's other lock is released too"
    assert [sorted(str(h.key) for h in e) for e in ended] == [["db-a:3306", "db-b:3306"]]
    assert holder_of(env, A) is None
    rows = [r for r in audit.read_audit(env.backend, limit=10) if r["audit_type"] == locks.TAKEOVER_AUDIT_TYPE]
    assert sorted(f"{r['hostname']}:{r['port']}" for r in rows) == ["db-a:3306", "db-b:3306"]
    assert all(f"its process {dead_pid} on {HOST} is gone; taken over by retrier" in r["message"] for r in rows)


def test_a_live_holder_is_named_with_expiry_and_release_command(
    make: Callable[..., TopologyEnv], live_pid: int
) -> None:
    env = make()
    take(env, A, live_pid, "relocate db-a:3306")
    until = holder_of(env, A).until  # type: ignore[union-attr]
    with pytest.raises(UnsafeOperationError) as refused, maintenance_lock(env, [A], "move-up db-a:3306"):
        pass
    assert str(refused.value) == (
        f"cannot begin maintenance on {A} (held by root: relocate db-a:3306, process {live_pid} on {HOST}"
        f" (still running), until {until}); `orchestrator -c end-maintenance -i {A}` releases it"
    )
    assert holder_of(env, A).owner == "root"  # type: ignore[union-attr]


def test_user_locks_and_other_hosts_locks_are_never_taken_over(make: Callable[..., TopologyEnv], dead_pid: int) -> None:
    env = make()
    take(env, A, dead_pid, "backup", explicit=True)
    take(env, B, dead_pid, "relocate db-b:3306", host="elsewhere.example.net")
    for key, says in [
        (A, "held by root: backup, taken with begin-maintenance, until "),
        (B, "on elsewhere.example.net, until "),
    ]:
        with (
            pytest.raises(UnsafeOperationError, match="end-maintenance -i") as refused,
            maintenance_lock(env, [key], "relocate x:1"),
        ):
            pass
        assert says in str(refused.value)
        assert holder_of(env, key).owner == "root"  # type: ignore[union-attr]
    assert [r for r in audit.read_audit(env.backend, limit=10) if r["audit_type"] == locks.TAKEOVER_AUDIT_TYPE] == []


def test_a_dry_run_passes_a_killed_process_lock_and_refuses_a_live_one(
    make: Callable[..., TopologyEnv], dead_pid: int, live_pid: int
) -> None:
    env = make(noop=True)
    take(env, A, dead_pid, "relocate db-a:3306")
    take(env, C, live_pid, "relocate db-c:3306")
    with maintenance_lock(env, [A], "relocate db-a:3306"):
        pass
    assert holder_of(env, A).node[1] == token(dead_pid), "a dry run changes nothing"  # type: ignore[union-attr]
    with pytest.raises(UnsafeOperationError, match="still running"), maintenance_lock(env, [C], "relocate x:1"):
        pass


def test_a_single_instance_command_takes_over_only_the_lock_it_needs(
    make: Callable[..., TopologyEnv], dead_pid: int
) -> None:
    """Without someone to restart what the killed operation stopped, its other locks stay as markers."""
    env = make()
    take(env, A, dead_pid, "relocate db-a:3306")
    take(env, B, dead_pid, "relocate db-a:3306")
    with maintenance_lock(env, [A], "start-replica"):
        assert holder_of(env, A).reason == "start-replica"  # type: ignore[union-attr]
    held = holder_of(env, B)
    assert held is not None and held.node[1] == token(dead_pid)
