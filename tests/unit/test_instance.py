"""The typed Instance snapshot: built in one place from backend rows, immutable, read by analysis and views."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import orchestrator_cli
from orchestrator_cli.analysis.facts import build_facts
from orchestrator_cli.backend.instance_rows import instance_from_row, key_of
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState
from tests.unit.test_instance_view import master, replica

ROOT = Path(orchestrator_cli.__file__).parent


def full_row() -> dict[str, Any]:
    return replica(
        server_id=12,
        server_uuid="u-1",
        port="3307",
        binary_log_file="mysql-bin.000009",
        binary_log_pos=Decimal("120"),
        read_master_log_pos="4567",
        exec_master_log_pos=4000,
        relay_log_file="relay.000002",
        relay_log_pos=b"88",
        slave_lag_seconds=None,
        seconds_behind_master="3",
        executed_gtid_set="0-1-100",
        gtid_mode=None,
        promotion_rule="",
        data_center="dc1",
        region="eu",
        physical_environment="prod",
        cluster_name="db1:3306",
        instance_alias="replica-a",
        replication_depth="1",
        is_downtimed="1",
        downtime_end_timestamp="2030-01-01 00:00:00",
        replication_group_member_state=" online ",
    )


def test_one_row_maps_to_typed_fields() -> None:
    i = instance_from_row(full_row())
    assert i.key == InstanceKey("db2", 3307) and i.master_key == InstanceKey("db1", 3306)
    assert i.self_coordinates == BinlogCoordinates("mysql-bin.000009", 120)
    assert i.read_coordinates == BinlogCoordinates("mysql-bin.000003", 4567)
    assert i.exec_coordinates == BinlogCoordinates("mysql-bin.000003", 4000)
    assert i.relay_log_coordinates == BinlogCoordinates("relay.000002", 88, LogType.RELAY)
    assert i.io_state is ThreadState.RUNNING and i.sql_state is ThreadState.RUNNING
    assert i.lag is None and i.seconds_behind_master == 3
    assert i.gtid_mode is None
    assert str(i.mariadb_gtid_position()) == "0-1-100"
    assert i.promotion_rule == "neutral" and i.is_downtimed and i.replication_depth == 1
    assert (i.data_center, i.region, i.physical_environment) == ("dc1", "eu", "prod")
    assert i.replication_group_member_state == "ONLINE"
    assert i.read_only is True and i.instance_alias == "replica-a"


def test_missing_and_odd_cells_read_as_empty() -> None:
    i = instance_from_row({"hostname": b"db9", "port": "3306", "binary_log_pos": "-5", "sql_delay": "x"})
    assert i.key == InstanceKey("db9", 3306) and key_of({"hostname": "db9", "port": 3306}) == i.key
    assert i.self_coordinates == BinlogCoordinates("", 0) and i.sql_delay == 0
    assert i.master_key is None and not i.is_replica and i.io_state is ThreadState.NONE
    assert not i.last_check_valid  # neither the flag nor the timestamps


def test_a_replica_without_stored_thread_states_is_stopped() -> None:
    row = replica()
    del row["replication_io_thread_state"], row["replication_sql_thread_state"]
    i = instance_from_row(row)
    assert i.io_state is ThreadState.STOPPED and i.replication_stopped


def test_instance_is_frozen_slotted_and_replaceable() -> None:
    i = instance_from_row(master())
    with pytest.raises(AttributeError):
        i.read_only = True
    assert not hasattr(i, "__dict__")
    changed = i.replace(read_only=True)
    assert changed.read_only and not i.read_only and changed.key == i.key
    assert Instance(InstanceKey("a", 1)) == Instance(key=InstanceKey("a", 1))
    with pytest.raises(TypeError):
        Instance()  # type: ignore[call-arg]


def test_problems_follow_the_original_order() -> None:
    assert instance_from_row(replica()).problems(10) == ()
    assert instance_from_row(replica(is_last_check_valid=0, gtid_errant="u:1")).problems(10) == (
        "last_check_invalid",
        "errant_gtid",
    )
    assert instance_from_row(replica(replication_io_thread_state=0)).problems(10) == ("not_replicating",)
    assert instance_from_row(replica(slave_lag_seconds=60)).problems(10) == ("replication_lag",)
    assert instance_from_row(replica(slave_lag_seconds=60, sql_delay=55)).problems(10) == ()
    assert instance_from_row(replica(is_recently_checked=0)).problems(10) == ("not_recently_checked",)


def test_analysis_groups_snapshots() -> None:
    rows = [
        master(),
        replica(),
        replica(hostname="db3", slave_io_running=0, last_io_error="error connecting to master"),
    ]
    facts = {f.key: f for f in build_facts([instance_from_row(r) for r in rows])}
    # the healthy leaf is left out (ReduceReplicationAnalysisCount), the one failing to connect kept
    assert sorted(facts) == [InstanceKey("db1", 3306), InstanceKey("db3", 3306)]
    master_facts = facts[InstanceKey("db1", 3306)]
    assert master_facts.replica_keys == (InstanceKey("db2", 3306), InstanceKey("db3", 3306))
    assert master_facts.count_replicas_failing_to_connect_to_master == 1
    assert facts[InstanceKey("db3", 3306)].is_failing_to_connect_to_master


def test_analysis_imports_nothing_of_backend_or_mysql() -> None:
    """analysis/ decides over typed values: the backend maps its rows (instance_rows.py, analysis_rows.py)."""
    for path in (ROOT / "analysis").glob("*.py"):
        assert not re.search(r"orchestrator_cli\.(backend|mysql)", path.read_text(encoding="utf-8")), path


def test_model_imports_nothing_of_backend() -> None:
    for path in (ROOT / "model").glob("*.py"):
        assert not re.search(
            r"orchestrator_cli\.(backend|mysql|analysis|topology)", path.read_text(encoding="utf-8")
        ), path


@pytest.mark.parametrize(
    "module", [*(f"analysis/{p.name}" for p in sorted((ROOT / "analysis").glob("*.py"))), "commands/topology_view.py"]
)
def test_no_row_field_read_by_name_in_analysis_and_views(module: str) -> None:
    """Column names live in backend/instance_rows.py and backend/analysis_rows.py; these read typed values."""
    text = (ROOT / module).read_text(encoding="utf-8")
    assert not re.findall(r'\["[a-z_]+"\]|\bget\("[a-z_]+"', text)
