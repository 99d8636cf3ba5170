"""The typed snapshot of a live read (`Live.instance`) and the merges of a live read over the backend's."""

from __future__ import annotations

import dataclasses

from orchestrator_cli.backend.instance_rows import instance_from_row, probe_over_backend
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.topology.primitives import Live, overlay_live

DB2 = InstanceKey("db2", 3306)

STATUS = ReplicaStatus.from_row(
    {"Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
     "Master_Log_File": "bin.000010", "Read_Master_Log_Pos": 500,
     "Relay_Master_Log_File": "bin.000009", "Exec_Master_Log_Pos": 120}
)  # fmt: skip

PROBE_ROW = {
    "hostname": "db2", "port": 3306, "version": "10.11.6-MariaDB-log", "log_bin": 1, "log_slave_updates": 1,
    "binlog_format": "ROW", "binary_log_file": "db2-bin.000004", "binary_log_pos": 777, "server_id": 2,
    "server_uuid": "uuid-2", "read_only": 1, "sql_delay": 0, "has_replication_filters": 0, "binlog_server": 0,
    "master_host": "db1", "master_port": 3306, "last_sql_error": "", "semi_sync_enforced": 3,
}  # fmt: skip

BACKEND_ROW = {
    "hostname": "db2", "port": 3306, "version": "10.6.1-MariaDB", "log_bin": 0, "promotion_rule": "prefer",
    "data_center": "dc1", "gtid_errant": "uuid-x:1", "is_last_check_valid": 0, "ancestry_uuid": "uuid-1",
    "master_host": "db9", "master_port": 3306, "master_log_file": "old.000001", "read_master_log_pos": 4,
}  # fmt: skip


def live(row: dict[str, object]) -> Live:
    return Live(DB2, dict(row), STATUS, fl.MariaDB("10.11.6-MariaDB-log"), GtidFacts())


def test_live_instance_is_built_once_and_follows_a_replaced_row() -> None:
    lv = live(PROBE_ROW)
    assert lv.instance is lv.instance
    assert lv.self_coordinates == BinlogCoordinates("db2-bin.000004", 777)
    assert lv.instance.semi_sync_priority == 3 and lv.instance.semi_sync_enforced
    moved = dataclasses.replace(lv, row={**lv.row, "binary_log_pos": 900})
    assert moved.self_coordinates == BinlogCoordinates("db2-bin.000004", 900)
    assert lv.self_coordinates.pos == 777


def test_overlay_live_keeps_the_backends_rule_and_location_and_takes_the_live_facts() -> None:
    merged = overlay_live(instance_from_row(BACKEND_ROW), live(PROBE_ROW))
    assert (merged.promotion_rule, merged.data_center, merged.gtid_errant) == ("prefer", "dc1", "uuid-x:1")
    assert (merged.version, merged.log_bin, merged.server_uuid) == ("10.11.6-MariaDB-log", True, "uuid-2")
    assert merged.master_key == InstanceKey("db1", 3306)
    assert merged.exec_coordinates == BinlogCoordinates("bin.000009", 120)
    assert merged.read_coordinates == BinlogCoordinates("bin.000010", 500)
    assert merged.self_coordinates == BinlogCoordinates("db2-bin.000004", 777)


def test_probe_over_backend_takes_every_probed_column() -> None:
    merged = probe_over_backend(BACKEND_ROW, PROBE_ROW, InstanceKey("db2.example", 3306))
    assert merged.key == InstanceKey("db2.example", 3306)
    assert (merged.version, merged.log_bin, merged.master_host) == ("10.11.6-MariaDB-log", True, "db1")
    assert (merged.promotion_rule, merged.ancestry_uuid, merged.last_check_valid) == ("prefer", "uuid-1", False)
    assert probe_over_backend(None, PROBE_ROW, DB2).promotion_rule == "neutral"
