"""AutoPseudoGTID: the continuous leader writes ascending Pseudo-GTID entries on each cluster's master,
records the injection per cluster, and discovery then marks the cluster's instances P-GTID."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from orchestrator_cli.config import load_config
from orchestrator_cli.daemon.continuous import ContinuousMode
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


def test_leader_injects_and_discovery_marks_pseudo_gtid(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = fresh_sandbox
    backend_file = tmp_path / "orchestrator.sqlite3"
    config_path = sb.write_config(
        tmp_path / "orchestrator.conf.json", backend_file, InstancePollSeconds=1, AutoPseudoGTID=True
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config_path).code == 0
    mode = ContinuousMode(load_config(str(config_path)), duration=6)
    started = time.monotonic()
    mode.run()
    assert time.monotonic() - started < 60

    events = sb.query(0, "SHOW BINLOG EVENTS")
    entries = [e["Info"] for e in events if "_pseudo_gtid_" in str(e["Info"])]
    assert entries, "no Pseudo-GTID entry reached the master's binary log"
    assert all("`_asc:" in e for e in entries)
    assert entries == sorted(entries)  # ascending, so the monotonic hint holds
    with sqlite3.connect(backend_file) as db:
        assert db.execute("SELECT cluster_name FROM cluster_injected_pseudo_gtid").fetchall() == [(sb.key(0),)]
        audited = db.execute("SELECT COUNT(*) FROM audit WHERE message LIKE '%_pseudo_gtid_%'").fetchone()[0]
    assert audited == 0  # recorded per cluster, not one audit row per injection

    assert run_cli("-c", "discover", "-i", sb.key(0), config=config_path).code == 0
    status = run_cli("-c", "instance-status", "-i", sb.key(1), config=config_path)
    assert "P-GTID" in status.out
