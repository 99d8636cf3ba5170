"""Recovery dispatch and gating on a SQLite backend, stopping before any topology server is touched."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.analysis import AnalysisCode, analyze
from orchestrator_cli.analysis.facts import AnalysisFacts
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.recovery.engine import AUTOMATED, MANUAL, PLANNED, Request, execute, recovery_kind
from orchestrator_cli.topology.env import TopologyEnv, make_env
from tests.support import sqlite_config

C = AnalysisCode


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (C.DEAD_MASTER, "master"),
        (C.DEAD_MASTER_AND_SOME_REPLICAS, "master"),
        (C.DEAD_CO_MASTER, "co-master"),
        (C.DEAD_CO_MASTER_AND_SOME_REPLICAS, "co-master"),
        (C.DEAD_INTERMEDIATE_MASTER, "intermediate-master"),
        (C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT, "intermediate-master"),
        (C.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD, "intermediate-master"),
        (C.NO_WRITEABLE_MASTER, "writeable"),
        (C.UNREACHABLE_MASTER, "detection"),
        (C.DEAD_MASTER_AND_REPLICAS, "detection"),
        (C.DEAD_MASTER_WITHOUT_REPLICAS, None),
        (C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA, None),
        (C.NO_PROBLEM, None),
    ],
)
def test_dispatch_table(code: AnalysisCode, kind: str | None) -> None:
    assert recovery_kind(code) == kind


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("engine")
    b = Backend(load_config(str(sqlite_config(directory))))
    b.connection()
    b.close()
    return directory / "orchestrator.sqlite3"


def environment(tmp_path: Path, deployed: Path, **config: Any) -> Iterator[TopologyEnv]:
    shutil.copy(deployed, tmp_path / "orchestrator.sqlite3")
    cfg = load_config(str(sqlite_config(tmp_path, **config)))
    env = make_env(Backend(cfg), TopologyAccess(cfg), cfg, "tester")
    yield env
    env.backend.close()


@pytest.fixture
def env(tmp_path: Path, deployed: Path) -> Iterator[TopologyEnv]:
    yield from environment(tmp_path, deployed, RecoverMasterClusterFilters=["^db-a"])


def dead_master(**facts: Any) -> Any:
    values: dict[str, Any] = {
        "hostname": "db-a",
        "port": 3306,
        "cluster_name": "db-a:3306",
        "cluster_alias": "main",
        "is_master": True,
        "last_check_valid": False,
        "count_replicas": 2,
        "count_valid_replicas": 2,
        "replica_keys": (InstanceKey("db-b", 3306), InstanceKey("db-c", 3306)),
    }
    values.update(facts)
    config = {"RecoverMasterClusterFilters": ["^db-a"]}
    return analyze(
        AnalysisFacts(**values, has_automated_master_recovery=values["cluster_name"].startswith("db-a")), config
    )


def test_automated_recovery_needs_the_cluster_filter(env: TopologyEnv) -> None:
    entry = dead_master(cluster_name="other:3306", hostname="other")
    outcome = execute(env, Request(entry, AUTOMATED))
    assert not outcome.attempted
    assert "RecoverMasterClusterFilters" in outcome.reason
    assert [r["analysis"] for r in rec.detections(env.backend)] == ["DeadMaster"]
    assert rec.recoveries(env.backend) == []


def test_automated_recovery_honours_the_global_switch(env: TopologyEnv) -> None:
    rec.disable_recoveries(env.backend)
    outcome = execute(env, Request(dead_master(), AUTOMATED))
    assert not outcome.attempted and "disabled globally" in outcome.reason
    assert rec.recoveries(env.backend) == []


def test_automated_recovery_skips_downtimed(env: TopologyEnv) -> None:
    outcome = execute(env, Request(dead_master(is_downtimed=True), AUTOMATED))
    assert not outcome.attempted and "downtimed" in outcome.reason


def test_detection_only_codes_record_the_detection_once(env: TopologyEnv) -> None:
    entry = dead_master(count_valid_replicas=1, count_valid_replicating_replicas=1)
    assert entry.code == C.UNREACHABLE_MASTER
    for _ in range(2):
        outcome = execute(env, Request(entry, MANUAL))
        assert not outcome.attempted and "not recoverable" in outcome.reason
    assert [r["analysis"] for r in rec.detections(env.backend)] == ["UnreachableMaster"]


def test_anti_flapping_blocks_manual_and_automated_but_not_planned(env: TopologyEnv) -> None:
    node = ("elsewhere", "e" * 64)
    earlier = rec.NewRecovery(InstanceKey("db-z", 3306), "earlier", "DeadMaster", "db-a:3306", "main", [], 0)
    rec.register_recovery(env.backend, earlier, node)
    rec.resolve_recovery(env.backend, "earlier", rec.Resolution(successful=True, successor=InstanceKey("db-a", 3306)))
    for mode in (AUTOMATED, MANUAL):
        outcome = execute(env, Request(dead_master(), mode))
        assert outcome.blocked_by is not None and outcome.blocked_by.uid == "earlier"
        assert "ack-cluster-recoveries" in outcome.reason and "RecoveryPeriodBlockSeconds" in outcome.reason
    assert [(r["hostname"], r["analysis"]) for r in rec.blocked_recoveries(env.backend)] == [("db-a", "DeadMaster")]
    assert rec.acknowledge_cluster(env.backend, "db-a:3306", "main", "ci", "ok") == 1


def test_a_second_recovery_of_the_same_instance_is_refused(env: TopologyEnv) -> None:
    node = ("elsewhere", "e" * 64)
    running = rec.NewRecovery(InstanceKey("db-a", 3306), "running", "DeadMaster", "x:1", "x", [], 0)
    rec.register_recovery(env.backend, running, node)
    outcome = execute(
        env, Request(dead_master(cluster_name="db-a:3306"), PLANNED, command_hint="force-master-failover")
    )
    assert outcome.blocked_by is not None and outcome.blocked_by.uid == "running"
    assert not outcome.attempted
