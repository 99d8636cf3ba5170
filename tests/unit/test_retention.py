"""Retention deletes only what is past its configured age."""

from __future__ import annotations

from pathlib import Path

from orchestrator_cli.backend import instances, retention
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey


def _backend(tmp_path: Path) -> Backend:
    return Backend(load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3"), "AuditPurgeDays": 2}))


def test_old_history_goes_recent_history_stays(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    try:
        for age in ("-3 days", "-1 days"):
            backend.execute(
                "INSERT INTO audit (audit_timestamp, audit_type, hostname, port, cluster_name, message)"
                " VALUES (datetime('now', ?), 't', 'h', 1, '', ?)",
                (age, age),
            )
        backend.execute(
            "INSERT INTO database_instance_maintenance (hostname, port, maintenance_active, begin_timestamp,"
            " end_timestamp, owner, reason, processing_node_hostname, processing_node_token, explicitly_bounded)"
            " VALUES ('h', 1, NULL, datetime('now', '-9 days'), datetime('now', '-8 days'), 'o', 'r', 'n', 't', 1),"
            " ('h', 2, 1, datetime('now', '-9 days'), datetime('now', '-8 days'), 'o', 'r', 'n', 't', 1)"
        )
        deleted = retention.purge(backend)
        assert deleted["audit"] == 1
        assert [r["message"] for r in backend.query("SELECT message FROM audit")] == ["-1 days"]
        # an ended lock is history; an active one (even expired) is not deleted here
        assert deleted["database_instance_maintenance"] == 1
        assert backend.query("SELECT port FROM database_instance_maintenance") == [{"port": 2}]
    finally:
        backend.close()


def test_unseen_instances_are_forgotten_after_the_configured_hours(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    try:
        instances.insert_unseen(backend, InstanceKey("old", 3306))
        instances.insert_unseen(backend, InstanceKey("new", 3306))
        backend.execute(
            "UPDATE database_instance SET last_checked = datetime('now', '-11 days') WHERE hostname = 'old'"
        )
        assert retention.purge(backend)["database_instance"] == 1
        assert [r["hostname"] for r in backend.query("SELECT hostname FROM database_instance")] == ["new"]
    finally:
        backend.close()
