"""The `topology*` tree's narrow view of a row (`TreeMember`) says what the full `Instance` says.

`backend.tree_rows.tree_member_from_row` derives its facts on its own (it must not import the
snapshot model); here it is compared with `instance_from_row` and `Instance`'s properties on rows of
arbitrary, often odd, cell values, so the tree's lines cannot drift from `instance-status`'s.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.backend.tree_rows import TREE_COLUMNS, tree_member_from_row
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.tree_member import TreeMember

# What a driver, a fixture or a hand-edited backend can put in a cell.
CELLS = st.one_of(
    st.none(),
    st.integers(-2, 3),
    st.booleans(),
    st.sampled_from(["", "0", "1", "2", " 1 ", "yes", "No", "ON", "null", "x", "3.7", "-1"]),
    st.sampled_from([b"1", b"0", b""]),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from([Decimal("0"), Decimal("1"), Decimal("30")]),
)
TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["", "db1", " db1 ", "_", "//db1", "mysql-bin.000003", "//mysql-bin.000003:120", "10.11.6-log"]),
    st.sampled_from([b"db1", b""]),
    st.integers(0, 2),
)
TEXT_COLUMNS = (
    "hostname", "master_host", "master_log_file", "relay_master_log_file", "instance_alias", "version",
    "binlog_format", "gtid_errant",
)  # fmt: skip
STATES = st.sampled_from([1, 0, -1, 2, 7, True, False, "1", " 1 ", "0", "x", None, 1.0, Decimal("1"), b"1"])
STATE_COLUMNS = ("replication_sql_thread_state", "replication_io_thread_state")
FLAGS = ("is_last_check_valid", "is_recently_checked", "is_downtimed")
TIMES = st.one_of(st.none(), st.sampled_from(["2024-01-01 00:00:00", "2024-01-01 00:00:05", "2024-01-02 00:00:00"]))

# Every TreeMember field is an Instance attribute or property of the same name and meaning.
FIELDS = TreeMember.__slots__


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in (*TREE_COLUMNS, *FLAGS):
        if draw(st.integers(0, 9)) == 0:
            continue  # a partial row: the cell reads as its type's empty value
        row[column] = draw(TEXTS if column in TEXT_COLUMNS else STATES if column in STATE_COLUMNS else CELLS)
    if draw(st.booleans()):  # a replica more often than chance makes one: its thread states then matter
        row.update(master_host=draw(st.sampled_from(["db1", " db1 ", "//db1"])), master_port=3306)
        row["master_log_file"] = draw(st.sampled_from(["mysql-bin.000003", "//mysql-bin.000003:4", ""]))
    if "is_last_check_valid" not in row:  # the fallback: validity from the timestamps
        row["last_checked"], row["last_seen"] = draw(TIMES), draw(TIMES)
    return row


@given(rows(), st.sampled_from([0, 1, 10, 30]))
def test_a_tree_member_says_what_the_instance_says(row: dict[str, Any], reasonable_lag: int) -> None:
    member, instance = tree_member_from_row(row), instance_from_row(row)
    for name in FIELDS:
        assert getattr(member, name) == getattr(instance, name), name
    assert member.description_tokens(reasonable_lag) == instance.description_tokens(reasonable_lag)


def test_the_narrow_columns_are_enough() -> None:
    """A full row and the same row cut to `TREE_COLUMNS` and the derived flags give the same member."""
    full = {
        "hostname": "db2", "port": 3306, "master_host": "db1", "master_port": 3306,
        "master_log_file": "mysql-bin.000003", "relay_master_log_file": "mysql-bin.000003",
        "replication_sql_thread_state": 1, "replication_io_thread_state": 1, "seconds_behind_master": 40,
        "slave_lag_seconds": 40, "version": "8.0.36", "read_only": 1, "log_bin": 1, "log_slave_updates": 1,
        "binlog_format": "ROW", "oracle_gtid": 1, "gtid_errant": "u1:1-3", "semi_sync_replica_status": 1,
        "is_last_check_valid": 1, "is_recently_checked": 1, "is_downtimed": 1, "server_id": 7,
        "cluster_name": "db1:3306", "data_center": "dc1", "last_io_error": "", "executed_gtid_set": "u0:1-9",
    }  # fmt: skip
    narrow = {c: v for c, v in full.items() if c in TREE_COLUMNS or c in FLAGS}
    assert tree_member_from_row(narrow) == tree_member_from_row(full)
    assert tree_member_from_row(narrow).description_tokens(10) == [
        "40s", "lag", "8.0.36", "ro", "ROW", ">>", "GTID:errant", "semi:replica", "downtimed",
    ]  # fmt: skip


def test_tree_member_is_an_immutable_value() -> None:
    a = TreeMember(key=InstanceKey("db1", 3306), version="8.0.36")
    b = TreeMember(key=InstanceKey("db1", 3306), version="8.0.36")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != TreeMember(key=InstanceKey("db1", 3306), version="8.0.37")
    with pytest.raises(AttributeError, match="immutable"):
        a.version = "x"
    with pytest.raises(AttributeError, match="immutable"):
        del a.version
    assert repr(a) == "TreeMember(db1:3306, master=None, depth=0)"
