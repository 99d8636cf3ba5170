"""Instance: derived predicates and description tokens (cli-catalog §3.4)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.model.keys import InstanceKey

REASONABLE = 10


def replica(**overrides: Any) -> dict[str, Any]:
    """A healthy, recently checked file:pos replica of db1:3306 with binlog and log_slave_updates."""
    row: dict[str, Any] = {
        "hostname": "db2",
        "port": 3306,
        "master_host": "db1",
        "master_port": 3306,
        "master_log_file": "mysql-bin.000003",
        "relay_master_log_file": "mysql-bin.000003",
        "replication_sql_thread_state": 1,
        "replication_io_thread_state": 1,
        "slave_sql_running": 1,
        "slave_io_running": 1,
        "seconds_behind_master": 0,
        "slave_lag_seconds": 0,
        "sql_delay": 0,
        "version": "10.11.6-MariaDB-log",
        "read_only": 1,
        "log_bin": 1,
        "log_slave_updates": 1,
        "binlog_format": "ROW",
        "oracle_gtid": 0,
        "mariadb_gtid": 0,
        "supports_oracle_gtid": 0,
        "gtid_errant": "",
        "pseudo_gtid": 0,
        "semi_sync_master_enabled": 0,
        "semi_sync_master_status": 0,
        "semi_sync_replica_enabled": 0,
        "semi_sync_replica_status": 0,
        "is_last_check_valid": 1,
        "is_recently_checked": 1,
        "is_downtimed": 0,
    }
    row.update(overrides)
    return row


def master(**overrides: Any) -> dict[str, Any]:
    return replica(
        **{
            "hostname": "db1",
            "master_host": "",
            "master_port": 0,
            "master_log_file": "",
            "relay_master_log_file": "",
            "replication_sql_thread_state": -1,
            "replication_io_thread_state": -1,
            "slave_sql_running": 0,
            "slave_io_running": 0,
            "seconds_behind_master": None,
            "slave_lag_seconds": None,
            "read_only": 0,
            **overrides,
        }
    )


def tokens(row: dict[str, Any], reasonable: int = REASONABLE) -> list[str]:
    return instance_from_row(row).description_tokens(reasonable)


# -- predicates -------------------------------------------------------------------------------------


def test_keys() -> None:
    view = instance_from_row(replica())
    assert view.key == InstanceKey("db2", 3306)
    assert view.master_key == InstanceKey("db1", 3306)
    assert instance_from_row(master()).master_key is None
    assert instance_from_row(replica(master_host="_")).master_key is None
    assert instance_from_row(replica(master_port=0)).master_key is None


def test_is_replica_needs_coordinates_or_gtid() -> None:
    assert instance_from_row(replica()).is_replica
    assert not instance_from_row(master()).is_replica
    assert not instance_from_row(replica(master_log_file="")).is_replica
    assert instance_from_row(replica(master_log_file="", mariadb_gtid=1)).is_replica
    assert instance_from_row(replica(master_log_file="", oracle_gtid=1)).is_replica


def test_replication_state_comes_from_the_thread_state_columns() -> None:
    # the original's fixtures change only replication_*_thread_state (is-replication-stopped-02)
    stopped = replica(replication_sql_thread_state=0, replication_io_thread_state=0)
    assert instance_from_row(stopped).replication_stopped
    assert not instance_from_row(stopped).replication_running
    half = replica(replication_sql_thread_state=0)
    assert not instance_from_row(half).replication_running
    assert not instance_from_row(half).replication_stopped
    connecting = replica(replication_io_thread_state=2)
    assert not instance_from_row(connecting).replication_running
    assert instance_from_row(replica(slave_sql_running=0)).replication_running  # the booleans do not decide
    assert not instance_from_row(master()).replication_running
    assert not instance_from_row(master()).replication_stopped


def test_missing_thread_states_default_by_role() -> None:
    row = replica()
    del row["replication_sql_thread_state"], row["replication_io_thread_state"]
    assert instance_from_row(row).sql_state == 0
    no_master = master()
    del no_master["replication_sql_thread_state"]
    assert instance_from_row(no_master).sql_state == -1


def test_detached() -> None:
    assert instance_from_row(replica(master_host="//db1")).is_detached
    assert instance_from_row(replica(relay_master_log_file="//mysql-bin.000003")).is_detached
    assert not instance_from_row(replica()).is_detached


def test_row_access_tolerates_strings_and_nulls() -> None:
    view = instance_from_row(replica(port="3307", slave_lag_seconds="12", master_port=None))
    assert view.key == InstanceKey("db2", 3307)
    assert view.lag == 12
    assert view.master_key is None
    assert instance_from_row(replica(slave_lag_seconds=None)).lag is None


# -- description tokens -------------------------------------------------------------------------------


def test_healthy_replica() -> None:
    assert tokens(replica(slave_lag_seconds=3, seconds_behind_master=3)) == [
        "3s",
        "ok",
        "10.11.6-MariaDB-log",
        "ro",
        "ROW",
        ">>",
    ]


def test_master_shows_zero_lag() -> None:
    assert tokens(master()) == ["0s", "ok", "10.11.6-MariaDB-log", "rw", "ROW", ">>"]


def test_fixture_row_not_recently_checked() -> None:
    # cli-catalog §3.4: [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]
    row = master(version="5.6.28-log", binlog_format="STATEMENT", pseudo_gtid=1, is_recently_checked=0)
    assert f"[{','.join(tokens(row))}]" == "[unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]"


def test_no_binlog() -> None:
    row = replica(log_bin=0, version="5.6.28", binlog_format="STATEMENT", read_only=0, pseudo_gtid=1)
    assert tokens(row) == ["0s", "ok", "5.6.28", "rw", "nobinlog", "P-GTID"]


@pytest.mark.parametrize(
    ("overrides", "lag", "status"),
    [
        ({"is_last_check_valid": 0}, "unknown", "invalid"),
        ({"is_last_check_valid": 0, "is_recently_checked": 0}, "unknown", "invalid"),
        ({"is_recently_checked": 0}, "unknown", "unchecked"),
        ({"replication_sql_thread_state": 0}, "null", "nonreplicating"),
        ({"replication_io_thread_state": 2}, "null", "nonreplicating"),
        ({"seconds_behind_master": None}, "null", "ok"),
        ({"seconds_behind_master": 30, "slave_lag_seconds": 30}, "30s", "lag"),
        ({"seconds_behind_master": 10, "slave_lag_seconds": 10}, "10s", "ok"),
        ({"seconds_behind_master": 11, "slave_lag_seconds": 11}, "11s", "lag"),
        ({"seconds_behind_master": 3605, "slave_lag_seconds": 3605, "sql_delay": 3600}, "3605s", "ok"),
        ({"seconds_behind_master": 3000, "slave_lag_seconds": 3000, "sql_delay": 3600}, "3000s", "lag"),
        ({"seconds_behind_master": 5, "slave_lag_seconds": None}, "0s", "ok"),
        ({"master_host": "//db1"}, "detached", "ok"),
        ({"master_host": "//db1", "is_last_check_valid": 0}, "detached", "invalid"),
    ],
)
def test_lag_and_status(overrides: dict[str, Any], lag: str, status: str) -> None:
    assert tokens(replica(**overrides))[:2] == [lag, status]


def test_lag_uses_the_configured_threshold() -> None:
    row = replica(seconds_behind_master=25, slave_lag_seconds=25)
    assert tokens(row, reasonable=20)[1] == "lag"
    assert tokens(row, reasonable=30)[1] == "ok"


@pytest.mark.parametrize(
    ("overrides", "extras"),
    [
        ({}, [">>"]),
        ({"log_slave_updates": 0}, []),
        ({"log_bin": 0}, []),
        ({"mariadb_gtid": 1}, [">>", "GTID"]),
        ({"oracle_gtid": 1, "gtid_errant": "00020192-1111-1111-1111-111111111111:1"}, [">>", "GTID:errant"]),
        ({"supports_oracle_gtid": 1}, [">>", "GTID"]),  # a GTID-capable master shows GTID too
        ({"pseudo_gtid": 1}, [">>", "P-GTID"]),
        ({"semi_sync_master_status": 1}, [">>", "semi:master"]),
        ({"semi_sync_master_enabled": 1}, [">>"]),  # enabled but not active: no token
        ({"semi_sync_replica_status": 1}, [">>", "semi:replica"]),
        ({"is_downtimed": 1}, [">>", "downtimed"]),
        (
            {"mariadb_gtid": 1, "pseudo_gtid": 1, "semi_sync_master_status": 1, "semi_sync_replica_status": 1,
             "is_downtimed": 1},
            [">>", "GTID", "P-GTID", "semi:master", "semi:replica", "downtimed"],
        ),
    ],
)  # fmt: skip
def test_extras_in_the_originals_order(overrides: dict[str, Any], extras: list[str]) -> None:
    assert tokens(replica(**overrides))[5:] == extras


def test_empty_tokens_are_dropped() -> None:
    assert tokens(replica(version="")) == ["0s", "ok", "ro", "ROW", ">>"]


EXTRAS_ORDER = [">>", "GTID", "GTID:errant", "P-GTID", "semi:master", "semi:replica", "downtimed"]
flags = st.integers(min_value=0, max_value=1)


@given(
    st.fixed_dictionaries(
        {
            "is_last_check_valid": flags,
            "is_recently_checked": flags,
            "replication_sql_thread_state": st.integers(min_value=-1, max_value=2),
            "replication_io_thread_state": st.integers(min_value=-1, max_value=2),
            "seconds_behind_master": st.none() | st.integers(min_value=0, max_value=100000),
            "slave_lag_seconds": st.none() | st.integers(min_value=0, max_value=100000),
            "sql_delay": st.integers(min_value=0, max_value=7200),
            "read_only": flags,
            "log_bin": flags,
            "log_slave_updates": flags,
            "mariadb_gtid": flags,
            "supports_oracle_gtid": flags,
            "gtid_errant": st.sampled_from(["", "uuid:1-3"]),
            "pseudo_gtid": flags,
            "semi_sync_master_status": flags,
            "semi_sync_replica_status": flags,
            "is_downtimed": flags,
            "master_host": st.sampled_from(["db1", "", "//db1"]),
        }
    )
)
def test_tokens_always_have_the_fixed_shape(overrides: dict[str, Any]) -> None:
    toks = tokens(replica(**overrides))
    lag, status, version, ro, binlog, *extras = toks
    assert lag in ("detached", "unknown", "null") or re.fullmatch(r"\d+s", lag)
    assert status in ("invalid", "unchecked", "nonreplicating", "lag", "ok")
    assert version == "10.11.6-MariaDB-log"
    assert ro == ("ro" if overrides["read_only"] else "rw")
    assert binlog == ("ROW" if overrides["log_bin"] else "nobinlog")
    assert extras == sorted(extras, key=EXTRAS_ORDER.index)
    assert len(set(extras)) == len(extras)
    assert ("downtimed" in extras) == bool(overrides["is_downtimed"])
    if not overrides["is_last_check_valid"]:
        assert status == "invalid"
