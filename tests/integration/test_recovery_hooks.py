"""Hooks around a real failover: order, placeholders, a failing pre-hook, a failing post-hook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import Result, run_cli

STAR_REPLICAS = {1: 0, 2: 0, 3: 0}


@pytest.fixture
def killed(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def setup(sb: Sandbox, tmp_path: Path, **hooks: Any) -> Path:
    config = sb.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **hooks)
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    return config


def recover(config: Path, *args: str) -> Result:
    return run_cli("-c", "recover", *args, config=config)


def replicas_parents(sb: Sandbox) -> dict[int, int | None]:
    return {i: p for i, p in sb.replication_parents().items() if i}


def test_hooks_run_in_order_with_placeholders(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    out = tmp_path / "hooks.log"
    config = setup(
        sb,
        tmp_path,
        OnFailureDetectionProcesses=[f"echo detect {{failureType}} {{failedHost}}:{{failedPort}} >> {out}"],
        PreFailoverProcesses=[
            f"echo pre {{instanceType}} {{isMaster}} {{countReplicas}} {{failureCluster}} $ORC_RECOVERY_UID >> {out}"
        ],
        PostMasterFailoverProcesses=[
            f"echo postmaster {{successorHost}}:{{successorPort}} {{isSuccessful}} $ORC_SUCCESSOR_PORT >> {out}"
        ],
        PostFailoverProcesses=[f"echo post {{successorBinlogCoordinates}} {{replicaHosts}} >> {out}"],
        PostUnsuccessfulFailoverProcesses=[f"echo unsuccessful >> {out}"],
    )
    sb.kill(0)
    result = recover(config, "-i", sb.key(0))
    assert result.code == 0, result.err
    promoted = result.lines[0]
    port = promoted.rsplit(":", 1)[1]
    [recovery] = run_cli("-c", "audit-recovery", "--format", "json", config=config).json()
    lines = out.read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["detect", "pre", "postmaster", "post"]
    assert lines[0] == f"detect DeadMaster {sb.key(0)}"
    assert lines[1] == f"pre master true 3 {sb.key(0)} {recovery['UID']}"
    assert lines[2] == f"postmaster {promoted} true {port}"
    coordinates, replicas = lines[3].split()[1:]
    assert coordinates.startswith("mysql-bin.") and ":" in coordinates
    assert sorted(replicas.split(",")) == sorted(sb.key(i) for i in (1, 2, 3))
    messages = [s["Message"] for s in recovery["Steps"]]
    assert any(m.startswith("PreFailoverProcesses[0]") and "exit 0" in m for m in messages)
    assert any(m.startswith("PostFailoverProcesses[0]") for m in messages)


def test_failing_pre_failover_hook_aborts_and_does_not_block(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    out = tmp_path / "hooks.log"
    config = setup(
        sb,
        tmp_path,
        PreFailoverProcesses=["echo 'maintenance window'; exit 3"],
        PostUnsuccessfulFailoverProcesses=[f"echo unsuccessful >> {out}"],
    )
    sb.kill(0)
    refused = recover(config, "-i", sb.key(0))
    assert refused.code == 1
    assert "PreFailoverProcesses failed" in refused.err and "exit 3" in refused.err
    assert replicas_parents(sb) == STAR_REPLICAS
    assert not out.exists()
    listing = run_cli("-c", "audit-recovery", config=config).lines
    uid = listing[0].split("\t")[1]
    steps = run_cli("-c", "audit-recovery", "--pattern", uid, config=config).lines[1:]
    assert any("PreFailoverProcesses[0]" in s and "exit 3" in s and "maintenance window" in s for s in steps)

    # recover-lite runs no hooks; the aborted recovery does not hold the anti-flapping lock
    lite = run_cli("-c", "recover-lite", "-i", sb.key(0), config=config)
    assert lite.code == 0, lite.err
    assert sb.index_of(lite.lines[0]) in (1, 2, 3)
    assert not out.exists()


def test_failing_post_failover_hook_is_visible_and_can_fail_the_recovery(killed: Sandbox, tmp_path: Path) -> None:
    sb = killed
    config = setup(
        sb,
        tmp_path,
        PostFailoverProcesses=["echo 'proxy did not answer'; exit 2"],
        FailRecoveryOnPostFailoverHookError=True,
    )
    sb.kill(0)
    result = recover(config, "-i", sb.key(0))
    assert result.code == 1
    assert "marked failed" in result.err and "proxy did not answer" in result.err
    [recovery] = run_cli("-c", "audit-recovery", "--format", "json", config=config).json()
    assert recovery["IsSuccessful"] is False
    assert recovery["SuccessorKey"] is not None  # the promotion itself happened
    assert any("exit 2" in e for e in recovery["AllErrors"])
    promoted = sb.index_of(f"127.0.0.1:{recovery['SuccessorKey']['Port']}")
    assert all(p == promoted for i, p in replicas_parents(sb).items() if i != promoted)


def test_a_vetoed_automated_recovery_is_not_retried_every_tick(killed: Sandbox, tmp_path: Path) -> None:
    """The daemon's recovery that PreFailoverProcesses refused stays in its active period (spec §3.5):
    the next ticks are blocked by anti-flapping instead of registering a new recovery and running the
    refusing hook again every second; acknowledging the cluster's recoveries lets the next tick retry."""
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.mysql.access import TopologyAccess
    from orchestrator_cli.recovery.engine import AUTOMATED, Request, execute
    from orchestrator_cli.recovery.manual import current_entry
    from orchestrator_cli.topology.env import make_env

    sb = killed
    out = tmp_path / "hooks.log"
    config = setup(
        sb,
        tmp_path,
        RecoverMasterClusterFilters=["*"],
        PreFailoverProcesses=[f"echo veto >> {out}; exit 3"],
    )
    sb.kill(0)
    settings = load_config(str(config))

    def tick() -> Any:
        """One daemon tick's automated recovery of the dead master, as `continuous` runs it."""
        env = make_env(Backend(settings), TopologyAccess(settings), settings, "qa")
        try:
            entry = current_entry(env, InstanceKey.parse(sb.key(0)))
            assert entry is not None and str(entry.code) == "DeadMaster"
            return execute(env, Request(entry, AUTOMATED))
        finally:
            env.access.close()
            env.backend.close()

    first = tick()
    assert "PreFailoverProcesses failed" in first.reason
    second = tick()
    assert second.blocked_by is not None and second.blocked_by.uid == first.uid
    assert out.read_text().splitlines() == ["veto"]
    assert len(run_cli("-c", "audit-recovery", config=config).lines) == 1
    assert replicas_parents(sb) == STAR_REPLICAS

    acked = run_cli("-c", "ack-cluster-recoveries", "-i", sb.key(0), "--reason", "veto reviewed", config=config)
    assert acked.code == 0, acked.err
    third = tick()
    assert third.blocked_by is None and "PreFailoverProcesses failed" in third.reason
    assert out.read_text().splitlines() == ["veto", "veto"]
