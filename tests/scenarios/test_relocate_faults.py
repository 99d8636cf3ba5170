"""Refactoring under an operator's week: relocate chains, stopped replicas, and `kill -9` mid-move.

Every test ends with the checks an operator makes: the tree as the servers report it (``SHOW SLAVE
STATUS``), both replication threads running on every replica, ``read_only`` unchanged (the master
writable, the replicas read-only), no maintenance lock left active, and a row written on the master
before the event present on every server.
"""

from __future__ import annotations

from tests.scenarios.harness import Scenario

Tree = dict[int, int | None]
STAR: Tree = {0: None, 1: 0, 2: 0, 3: 0}


def active_locks(scenario: Scenario) -> list[dict[str, object]]:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(scenario.config)))
    try:
        rows = backend.query("SELECT * FROM database_instance_maintenance WHERE maintenance_active = 1")
        return [dict(r) for r in rows]
    finally:
        backend.close()


def audit_rows(scenario: Scenario, audit_type: str) -> list[dict[str, object]]:
    """Audit rows of one type, newest first."""
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(scenario.config)))
    try:
        return [dict(r) for r in audit.read_audit(backend, limit=1000) if r["audit_type"] == audit_type]
    finally:
        backend.close()


def assert_settled(scenario: Scenario, expected: Tree, written: str) -> None:
    """The servers form `expected`, replicate, keep read_only, hold `written`, and no lock is left."""
    sb = scenario.sandbox
    assert scenario.tree() == expected
    for i, parent in expected.items():
        status = sb.replica_status(i)
        if parent is None:
            assert status is None, f"server {i} replicates from {status and status['Master_Port']}"
            continue
        assert status is not None
        assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes"), (i, status)
    master = next(i for i, parent in expected.items() if parent is None)
    assert scenario.read_only() == {i: int(i != master) for i in expected}
    sb.wait_replicated()
    scenario.assert_rows_everywhere(written, expected)
    assert active_locks(scenario) == []


def relocated(scenario: Scenario, i: int, below: int) -> None:
    k = scenario.sandbox.key
    assert scenario.ok("-c", "relocate", "-i", k(i), "-d", k(below)).lines == [f"{k(i)}<{k(below)}"]


# -- item 6: "already replicates from" is the configured source with running threads ---------------


def test_relocate_moves_a_stopped_replica_pointed_at_a_sibling(scenario: Scenario) -> None:
    """Issue 8 item 6: MariaDB keeps Master_Server_Id of the old master until the IO thread reconnects."""
    sb = scenario.sandbox
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    sb.execute(3, "STOP SLAVE", f"CHANGE MASTER TO MASTER_PORT={sb.ports[1]}")
    relocated(scenario, 3, 0)
    assert_settled(scenario, STAR, written)
    assert "via gtid" in audit_rows(scenario, "relocate")[0]["message"]


def test_relocate_onto_the_current_master_restarts_stopped_threads(scenario: Scenario) -> None:
    sb = scenario.sandbox
    scenario.discover_all()
    written = sb.write_row()
    sb.wait_replicated()
    sb.execute(2, "STOP SLAVE")
    relocated(scenario, 2, 0)
    assert_settled(scenario, STAR, written)
    assert audit_rows(scenario, "relocate")[0]["message"] == (
        f"{sb.key(2)} already replicates from {sb.key(0)}; replication restarted"
    )
