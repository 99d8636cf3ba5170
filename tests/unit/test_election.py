"""The leader lease and the fencing of automated recoveries, on a real SQLite backend (no servers).

Expiry is simulated by moving `last_seen_active` back, never by sleeping.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.analysis import analyze
from orchestrator_cli.analysis.facts import AnalysisFacts
from orchestrator_cli.backend import election, health
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import BackendError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.recovery.engine import AUTOMATED, Request, execute
from orchestrator_cli.recovery.fencing import Fence, LeaseLost
from orchestrator_cli.topology.env import TopologyEnv, make_env
from tests.support import sqlite_config

A = ("node-a", "a" * 64)
B = ("node-b", "b" * 64)
FAILED = InstanceKey("127.0.0.1", 1)  # nothing listens there: never touched by these tests


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("election")
    b = Backend(load_config(str(sqlite_config(directory))))
    b.connection()
    b.close()
    return directory / "orchestrator.sqlite3"


def make_backend(tmp_path: Path, deployed: Path, **config: Any) -> Backend:
    shutil.copy(deployed, tmp_path / "orchestrator.sqlite3")
    return Backend(load_config(str(sqlite_config(tmp_path, **config))))


@pytest.fixture
def backend(tmp_path: Path, deployed: Path) -> Iterator[Backend]:
    b = make_backend(tmp_path, deployed)
    yield b
    b.close()


def age(backend: Backend, seconds: int) -> None:
    """The holder has not renewed for `seconds`."""
    backend.execute(f"UPDATE active_node SET last_seen_active = datetime('now', '-{seconds} seconds')")


def test_the_seeded_seat_is_claimed_at_once_and_renewals_keep_the_term(backend: Backend) -> None:
    lease = election.attempt_election(backend, A)
    assert lease is not None and lease.node == A
    for _ in range(5):  # renewing early, several times within one second, never loses the lease
        assert election.attempt_election(backend, A) == lease
    assert election.attempt_election(backend, B) is None
    assert election.holds(backend, lease)


def test_an_expired_lease_is_taken_over_with_a_new_term(backend: Backend) -> None:
    first = election.attempt_election(backend, A)
    assert first is not None
    backend.execute("UPDATE active_node SET first_seen_active = datetime('now', '-60 seconds')")
    first = election.attempt_election(backend, A)
    assert first is not None
    age(backend, election.ACTIVE_NODE_EXPIRE_SECONDS + 2)
    assert not election.holds(backend, first)
    second = election.attempt_election(backend, B)
    assert second is not None and second.node == B and second.term != first.term
    assert election.attempt_election(backend, A) is None
    assert not election.holds(backend, first)
    assert election.holds(backend, second)


def test_a_lease_that_expired_unclaimed_is_renewed_in_the_same_term(backend: Backend) -> None:
    lease = election.attempt_election(backend, A)
    assert lease is not None
    age(backend, 30)  # paused, and nobody else took the seat meanwhile
    assert election.attempt_election(backend, A) == lease
    assert election.holds(backend, lease)


def test_a_lease_close_to_expiry_no_longer_fences_changes(backend: Backend) -> None:
    lease = election.attempt_election(backend, A)
    assert lease is not None
    age(backend, election.FENCE_SECONDS + 1)
    assert not election.holds(backend, lease)  # still the holder, but another node may take over soon
    assert election.attempt_election(backend, B) is None


def test_grab_and_step_down(backend: Backend) -> None:
    a = election.attempt_election(backend, A)
    election.grab_election(backend, B)
    assert a is not None and not election.holds(backend, a)
    assert election.attempt_election(backend, A) is None
    election.step_down(backend, B)
    assert election.active_node(backend) is None
    assert election.attempt_election(backend, A) is not None


def test_races_for_the_seat_are_recognised() -> None:
    class Driver(Exception):
        errno = 1213

    error = BackendError("backend statement failed (UPDATE active_node ...): Deadlock found")
    error.__cause__ = Driver()
    assert election.is_race(error)
    assert not election.is_race(BackendError("cannot connect to MySQL backend 127.0.0.1:3306: refused"))


def test_the_fence_refuses_changes_before_they_are_sent_and_stays_shut(backend: Backend) -> None:
    lease = election.attempt_election(backend, A)
    assert lease is not None
    fence = Fence(backend, lease)
    audited: list[str] = []
    access = TopologyAccess(backend.config, on_change=lambda key, sql: audited.append(sql))
    access.guard = fence.guard
    fence.check("a first change")
    election.grab_election(backend, B)
    with pytest.raises(LeaseLost, match="no longer holds the lease"):
        access.server(FAILED).change(["SET GLOBAL read_only = 0"])
    assert audited == []  # refused before it was logged, audited or sent
    election.grab_election(backend, A)  # a new term of the same node does not revive the old one
    with pytest.raises(LeaseLost):
        fence.check("another change")


# -- recoveries of a lost term ---------------------------------------------------------------------------


def register_node(backend: Backend, node: tuple[str, str], command: str) -> None:
    backend.execute(
        "INSERT INTO node_health_history (hostname, token, first_seen_active, extra_info, command, app_version)"
        " VALUES (?, ?, datetime('now'), 'x', ?, '')",
        (*node, command),
    )


def dead_master() -> Any:
    facts = AnalysisFacts(
        hostname=FAILED.hostname, port=FAILED.port, cluster_name=str(FAILED), cluster_alias="main",
        is_master=True, last_check_valid=False, count_replicas=2, count_valid_replicas=2,
        replica_keys=(InstanceKey("127.0.0.1", 2), InstanceKey("127.0.0.1", 3)),
        has_automated_master_recovery=True,
    )  # fmt: skip
    return analyze(facts, {"RecoverMasterClusterFilters": [".*"]})


@pytest.fixture
def env(tmp_path: Path, deployed: Path) -> Iterator[TopologyEnv]:
    b = make_backend(
        tmp_path, deployed, RecoverMasterClusterFilters=[".*"], PreFailoverProcesses=["exit 7"]
    )  # a failing pre-failover hook stops each recovery before any server is touched
    env = make_env(b, TopologyAccess(b.config), b.config, "tester")
    yield env
    b.close()


def orphan(env: TopologyEnv, node: tuple[str, str], command: str, key: InstanceKey = FAILED) -> None:
    register_node(env.backend, node, command)
    new = rec.NewRecovery(key, "orphan", "DeadMaster", str(FAILED), "main", [], 0)
    assert rec.register_recovery(env.backend, new, node) is not None


def audit_types(env: TopologyEnv) -> list[str]:
    return [str(r["audit_type"]) for r in env.backend.query("SELECT audit_type FROM audit ORDER BY audit_id")]


def test_the_leader_adopts_a_recovery_whose_node_lost_the_lease(env: TopologyEnv) -> None:
    orphan(env, A, "continuous")
    lease = election.attempt_election(env.backend, health.identity())
    assert lease is not None
    outcome = execute(env, Request(dead_master(), AUTOMATED, lease=lease))
    assert outcome.uid == "orphan"  # one failure, one recovery row
    assert "PreFailoverProcesses failed" in outcome.reason
    [row] = rec.recoveries(env.backend)
    assert row.processing_node == health.identity()
    steps = [s.message for s in rec.steps(env.backend, "orphan")]
    assert any("taken over from node-a" in s for s in steps)
    assert "recovery-takeover" in audit_types(env)


def test_the_node_that_lost_the_lease_no_longer_touches_an_adopted_recovery(env: TopologyEnv) -> None:
    orphan(env, A, "continuous")
    lease = election.attempt_election(env.backend, B)
    assert lease is not None
    [row] = rec.orphaned_recoveries(env.backend, lease)
    assert rec.adopt_orphan(env.backend, row.recovery_id, lease)
    rec.abort_recovery(env.backend, "orphan", "aborted by A", A)
    rec.resolve_recovery(env.backend, "orphan", rec.Resolution(successful=False, errors=["A"]), A)
    [row] = rec.recoveries(env.backend)
    assert row.end_recovery == "" and row.in_active_period and row.all_errors == ""
    assert rec.orphaned_recoveries(env.backend, lease) == []


def test_a_recovery_of_another_instance_of_the_cluster_is_aborted(env: TopologyEnv) -> None:
    orphan(env, A, "continuous", key=InstanceKey("127.0.0.1", 2))
    lease = election.attempt_election(env.backend, health.identity())
    assert lease is not None
    outcome = execute(env, Request(dead_master(), AUTOMATED, lease=lease))
    assert outcome.uid and outcome.uid != "orphan"
    [old] = rec.recoveries(env.backend, ident="orphan")
    assert old.end_recovery and not old.in_active_period and not old.is_successful
    assert "node-a" in old.all_errors and "taken over" in old.all_errors
    assert "taken over" in rec.steps(env.backend, "orphan")[-1].message
    assert any("aborted: its node lost the lease" in s for s in outcome.steps)


def test_a_recovery_by_a_one_off_command_is_not_taken_over(env: TopologyEnv) -> None:
    orphan(env, A, "recover")
    lease = election.attempt_election(env.backend, health.identity())
    assert lease is not None
    outcome = execute(env, Request(dead_master(), AUTOMATED, lease=lease))
    assert outcome.blocked_by is not None and outcome.blocked_by.uid == "orphan"
    [old] = rec.recoveries(env.backend, ident="orphan")
    assert old.end_recovery == "" and old.in_active_period


def test_a_node_without_the_lease_takes_nothing_over_and_registers_nothing(env: TopologyEnv) -> None:
    orphan(env, A, "continuous")
    lease = election.attempt_election(env.backend, health.identity())
    assert lease is not None
    election.grab_election(env.backend, B)
    outcome = execute(env, Request(dead_master(), AUTOMATED, lease=lease))
    assert not outcome.attempted and "no longer holds the lease" in outcome.reason
    assert [r.uid for r in rec.recoveries(env.backend)] == ["orphan"]
    [old] = rec.recoveries(env.backend, ident="orphan")
    assert old.end_recovery == ""
    assert "recovery-lease-lost" in audit_types(env)


def test_a_term_lost_while_pre_failover_hooks_run_aborts_before_anything_else(
    env: TopologyEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook can run for minutes, or the process be frozen inside it: the term is confirmed again
    after the list, so an ex-leader neither acts on what it read before nor records a failure over a
    recovery the new leader took over."""
    from orchestrator_cli.recovery import engine

    lease = election.attempt_election(env.backend, health.identity())
    assert lease is not None
    real_run_hooks = engine.run_hooks

    def hooks_outlived_by_the_term(config: Any, hook_list: str, *args: Any, **kwargs: Any) -> Any:
        result = real_run_hooks(config, "OnFailureDetectionProcesses", *args, **kwargs)  # none configured
        if hook_list == "PreFailoverProcesses":
            election.grab_election(env.backend, B)  # another node took the seat meanwhile
        return result

    monkeypatch.setattr(engine, "run_hooks", hooks_outlived_by_the_term)
    outcome = execute(env, Request(dead_master(), AUTOMATED, lease=lease))
    assert not outcome.successful and "recovery aborted" in outcome.reason
    assert "going on after hook list PreFailoverProcesses" in outcome.reason
    assert "recovery-lease-lost" in audit_types(env)
    assert not any(s.startswith("recovery failed") for s in outcome.steps)
