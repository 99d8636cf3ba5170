"""`lost-in-recovery` downtimes are renewed rather than left to lapse; others are not touched."""

from __future__ import annotations

from pathlib import Path

from orchestrator_cli.backend import downtime
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey


def test_renewal_extends_only_active_lost_in_recovery_rows(tmp_path: Path) -> None:
    backend = Backend(load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3")}))
    lost, other = InstanceKey("db1", 3306), InstanceKey("db2", 3306)
    try:
        downtime.begin(backend, lost, "orchestrator", downtime.LOST_IN_RECOVERY, 60)
        downtime.begin(backend, other, "ops", "kernel upgrade", 60)
        assert downtime.renew_lost_in_recovery(backend) == 1
        far = backend.query_one(
            "SELECT end_timestamp > datetime('now', '+300 days') AS far FROM database_instance_downtime"
            " WHERE hostname = 'db1'"
        )
        near = backend.query_one(
            "SELECT end_timestamp < datetime('now', '+1 days') AS near FROM database_instance_downtime"
            " WHERE hostname = 'db2'"
        )
        assert far == {"far": 1} and near == {"near": 1}
    finally:
        backend.close()
