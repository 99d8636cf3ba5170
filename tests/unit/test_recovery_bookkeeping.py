"""Recovery bookkeeping on a real SQLite backend: unique-key registration, anti-flapping blocks,
acknowledgements, the global switch and `audit-recovery` (no topology servers involved)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend import election
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from tests.support import run_cli, sqlite_config

NODE = ("orc-test-host", "f" * 64)
A = InstanceKey("db-a", 3306)
B = InstanceKey("db-b", 3306)
C = InstanceKey("db-c", 3306)


@pytest.fixture(scope="module")
def deployed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backend file deployed once per module; tests copy it (a deploy costs more than the test)."""
    directory = tmp_path_factory.mktemp("bookkeeping")
    b = Backend(load_config(str(sqlite_config(directory))))
    b.connection()
    b.close()
    return directory / "orchestrator.sqlite3"


def deployed_config(tmp_path: Path, deployed_file: Path, **values: object) -> Path:
    shutil.copy(deployed_file, tmp_path / "orchestrator.sqlite3")
    return sqlite_config(tmp_path, **values)


@pytest.fixture
def config_path(tmp_path: Path, deployed_file: Path) -> Path:
    return deployed_config(tmp_path, deployed_file, RecoveryPeriodBlockSeconds=3600)


@pytest.fixture
def backend(config_path: Path) -> Iterator[Backend]:
    b = Backend(load_config(str(config_path)))
    yield b
    b.close()


def new_recovery(key: InstanceKey, uid: str, cluster: str = "db-a:3306") -> rec.NewRecovery:
    return rec.NewRecovery(
        key=key, uid=uid, analysis="DeadMaster", cluster_name=cluster, cluster_alias="main",
        replicas=["db-b:3306", "db-c:3306"], last_detection_id=0,
    )  # fmt: skip


def test_one_active_recovery_per_instance(backend: Backend) -> None:
    assert rec.register_recovery(backend, new_recovery(A, "u1"), NODE) is not None
    assert rec.register_recovery(backend, new_recovery(A, "u2"), NODE) is None
    assert rec.register_recovery(backend, new_recovery(B, "u3"), NODE) is not None


def test_detection_registers_once_per_active_period(backend: Backend) -> None:
    detection = rec.Detection(A, "DeadMaster", "db-a:3306", "main", ["db-b:3306"], True)
    first = rec.register_detection(backend, detection, NODE)
    assert first is not None
    assert rec.register_detection(backend, detection, NODE) is None
    assert rec.last_detection_id(backend, A) == first
    assert rec.clear_detections(backend, A) == 1
    assert rec.register_detection(backend, detection, NODE) is not None


def test_successor_and_renamed_cluster_are_blocked(backend: Backend) -> None:
    rec.register_recovery(backend, new_recovery(A, "u1"), NODE)
    rec.resolve_recovery(backend, "u1", rec.Resolution(successful=True, successor=B, lost=["db-a:3306"]))
    blocking = rec.blocking_recovery(backend, B, "db-b:3306", if_promoted=True, if_cluster_recovered=False)
    assert blocking is not None and blocking.uid == "u1"
    # another instance of the cluster, now named after the successor
    assert rec.blocking_recovery(backend, C, "db-b:3306", if_promoted=False, if_cluster_recovered=True)
    assert rec.blocking_recovery(backend, C, "other:3306", if_promoted=True, if_cluster_recovered=True) is None


def test_block_period_expires(tmp_path: Path, deployed_file: Path) -> None:
    b = Backend(load_config(str(deployed_config(tmp_path, deployed_file, RecoveryPeriodBlockSeconds=1))))
    rec.register_recovery(b, new_recovery(A, "u1"), NODE)
    b.execute("UPDATE topology_recovery SET start_active_period = datetime('now', '-5 seconds')")
    assert rec.blocking_recovery(b, A, "db-a:3306", if_promoted=True, if_cluster_recovered=True) is None
    assert rec.register_recovery(b, new_recovery(A, "u2"), NODE) is not None
    b.close()


def test_resolution_is_written(backend: Backend) -> None:
    rec.register_recovery(backend, new_recovery(A, "u1"), NODE)
    rec.resolve_recovery(
        backend, "u1",
        rec.Resolution(successful=True, successor=B, successor_alias="b", lost=["db-a:3306"],
                       participating=["db-b:3306", "db-c:3306"], errors=["one", "two"]),
    )  # fmt: skip
    [row] = rec.recoveries(backend, ident="u1")
    assert (row.successor_hostname, row.successor_port, row.is_successful) == ("db-b", 3306, True)
    assert row.lost_replicas == ("db-a:3306",)
    assert row.participating_instances == ("db-b:3306", "db-c:3306")
    assert row.all_errors == "one\ntwo"
    assert row.end_recovery
    assert row.in_active_period


def test_ack_commands(config_path: Path, backend: Backend) -> None:
    rec.register_recovery(backend, new_recovery(A, "u1"), NODE)
    rec.resolve_recovery(backend, "u1", rec.Resolution(successful=True, successor=B))
    rec.register_recovery(backend, new_recovery(C, "u2", cluster="db-c:3306"), NODE)

    missing = run_cli("-c", "ack-all-recoveries", config=config_path)
    assert missing.code != 0 and "--reason" in missing.err

    # the cluster renamed after its master failover still finds its recovery
    by_cluster = run_cli("-c", "ack-cluster-recoveries", "--alias", "main", "--reason", "done", config=config_path)
    assert by_cluster.code == 0, by_cluster.err
    assert by_cluster.lines == ["2 recoveries acknowledged"]

    rec.register_recovery(backend, new_recovery(A, "u3"), NODE)
    by_instance = run_cli("-c", "ack-instance-recoveries", "-i", "db-a:3306", "--reason", "x", config=config_path)
    assert by_instance.lines == ["1 recoveries acknowledged"]
    assert run_cli("-c", "ack-all-recoveries", "--reason", "x", config=config_path).lines == [
        "0 recoveries acknowledged"
    ]
    [row] = rec.recoveries(backend, ident="u3")
    assert (row.acknowledged, row.in_active_period, row.acknowledge_comment) == (True, False, "x")


def test_global_recovery_switch(config_path: Path, backend: Backend) -> None:
    assert run_cli("-c", "check-global-recoveries", config=config_path).lines == [
        "OK: Global recoveries disabled: false"
    ]
    assert run_cli("-c", "disable-global-recoveries", config=config_path).lines == [
        "OK: Orchestrator recoveries DISABLED globally"
    ]
    assert rec.recoveries_disabled(backend)
    assert run_cli("-c", "disable-global-recoveries", config=config_path).code == 0
    assert run_cli("-c", "check-global-recoveries", config=config_path).lines == [
        "OK: Global recoveries disabled: true"
    ]
    assert run_cli("-c", "enable-global-recoveries", config=config_path).lines == [
        "OK: Orchestrator recoveries ENABLED globally"
    ]
    assert run_cli("-c", "check-global-recoveries", "--format", "json", config=config_path).json() == {
        "RecoveriesDisabled": False
    }


def test_audit_recovery(config_path: Path, backend: Backend) -> None:
    rec.register_recovery(backend, new_recovery(A, "u1"), NODE)
    rec.add_step(backend, "u1", "hook PostFailoverProcesses: exit 3")
    rec.resolve_recovery(backend, "u1", rec.Resolution(successful=True, successor=B))
    rec.register_recovery(backend, new_recovery(C, "u2", cluster="db-c:3306"), NODE)

    listing = run_cli("-c", "audit-recovery", config=config_path)
    assert listing.code == 0, listing.err
    assert len(listing.lines) == 2
    fields = listing.lines[1].split("\t")
    assert fields[1:7] == ["u1", "db-a:3306", "DeadMaster", "db-b:3306", "true", "false"]
    assert listing.lines[0].split("\t")[4:7] == ["-", "false", "false"]
    assert listing.lines[0].endswith("\t-")  # still running: no end

    one = run_cli("-c", "audit-recovery", "--pattern", "u1", config=config_path)
    assert one.lines[0].split("\t")[1] == "u1"
    assert one.lines[1].startswith("  ") and one.lines[1].endswith("hook PostFailoverProcesses: exit 3")

    by_instance = run_cli("-c", "audit-recovery", "-i", "db-c:3306", config=config_path)
    assert [ln.split("\t")[1] for ln in by_instance.lines] == ["u2"]

    data = run_cli("-c", "audit-recovery", "--format", "json", config=config_path).json()
    assert data[1]["UID"] == "u1" and data[1]["SuccessorKey"] == {"Hostname": "db-b", "Port": 3306}
    assert data[1]["Steps"][0]["Message"] == "hook PostFailoverProcesses: exit 3"

    unknown = run_cli("-c", "audit-recovery", "--pattern", "nope", config=config_path)
    assert unknown.code != 0 and "no recovery" in unknown.err


def test_election(backend: Backend) -> None:
    other = ("other-host", "0" * 64)
    assert election.attempt_election(backend, NODE)
    assert election.attempt_election(backend, NODE)  # renew
    assert not election.attempt_election(backend, other)
    backend.execute("UPDATE active_node SET last_seen_active = datetime('now', '-10 seconds')")
    assert election.attempt_election(backend, other)
    assert not election.attempt_election(backend, NODE)
    election.grab_election(backend, NODE)
    active = election.active_node(backend)
    assert active is not None and active["token"] == NODE[1]
    election.step_down(backend, NODE)
    assert election.active_node(backend) is None
    assert election.attempt_election(backend, other)


@pytest.mark.mysql_backend
def test_bookkeeping_on_the_mysql_backend(deployed_mysql_backend_db: dict[str, object], tmp_path: Path) -> None:
    """The same statements on MySQL/MariaDB: unique keys, blocks, acks, steps, switch, election."""
    config = tmp_path / "orchestrator.conf.json"
    config.write_text(json.dumps({**deployed_mysql_backend_db, "RecoveryPeriodBlockSeconds": 3600}))
    b = Backend(load_config(str(config)))
    try:
        detection = rec.Detection(A, "DeadMaster", "db-a:3306", "main", ["db-b:3306"], True)
        assert rec.register_detection(b, detection, NODE) is not None
        assert rec.register_detection(b, detection, NODE) is None
        assert rec.register_recovery(b, new_recovery(A, "u1"), NODE) is not None
        assert rec.register_recovery(b, new_recovery(A, "u2"), NODE) is None
        rec.add_step(b, "u1", "a step")
        rec.resolve_recovery(b, "u1", rec.Resolution(successful=True, successor=B, lost=["db-c:3306"]))
        assert rec.blocking_recovery(b, C, "db-b:3306", if_promoted=True, if_cluster_recovered=True)
        rec.record_blocked(b, C, "db-b:3306", "DeadMaster", 1)
        assert len(rec.blocked_recoveries(b)) == 1
        assert [r.uid for r in rec.recoveries(b, cluster_name="db-b:3306")] == ["u1"]
        assert rec.acknowledge_cluster(b, "db-b:3306", "main", "ci", "checked") == 1
        rec.register_recovery(b, new_recovery(A, "u3"), NODE)
        assert rec.acknowledge_instance(b, A, "ci", "again") == 1  # same instance, same second: no key clash
        rec.expire(b)
        assert rec.blocked_recoveries(b) == []
        assert rec.steps(b, "u1")[0].message == "a step"
        rec.disable_recoveries(b)
        rec.disable_recoveries(b)
        assert rec.recoveries_disabled(b)
        rec.enable_recoveries(b)
        assert not rec.recoveries_disabled(b)
        assert election.attempt_election(b, NODE)
        assert not election.attempt_election(b, ("other", "0" * 64))
        assert rec.aged_lost_in_recovery(b) == []
        assert rec.acknowledge_crashed(b) == 0
    finally:
        b.close()
