"""Parse recorded server output (tests/compat/recorded/*.json) through the flavor layer.

Each fixture holds the rows a ``mysql.connector`` dictionary cursor returns for the probe statements
of one server, plus the server's version strings.  The MariaDB fixtures were recorded on a local
MariaDB 10.11 pair; the MySQL ones are written by hand in the exact shape those versions return.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.facts import ReplicaStatus
from orchestrator_cli.mysql.flavor import Flavor, MariaDB, MySQL57, MySQL80, MySQL84, detect_flavor_from_row
from orchestrator_cli.mysql.rows import rows_to_dict

RECORDED = Path(__file__).parent / "recorded"


def load(name: str) -> tuple[dict[str, Any], Flavor]:
    data = json.loads((RECORDED / name).read_text())
    return data, detect_flavor_from_row(data["server"])


def all_fixtures() -> list[str]:
    return sorted(p.name for p in RECORDED.glob("*.json"))


@pytest.mark.parametrize("name", all_fixtures())
def test_fixture_statements_match_flavor(name: str) -> None:
    """The statement each fixture was recorded with is the one its flavor emits."""
    data, flavor = load(name)
    assert flavor.replica_status_sql() == data["replica_status_sql"]
    if "master_status_sql" in data:
        assert flavor.master_status_sql() == data["master_status_sql"]
    if "replica_hosts_sql" in data:
        assert flavor.replica_hosts_sql() == data["replica_hosts_sql"]
    if "master_replica_hosts_sql" in data:
        assert flavor.replica_hosts_sql() == data["master_replica_hosts_sql"]
    if "core_variables" in data:
        core = flavor.parse_core_variables(data["core_variables"])
        assert core.version == data["server"]["version"]
        assert core.log_bin


@pytest.mark.parametrize("name", all_fixtures())
def test_fixture_replica_status_round_trip(name: str) -> None:
    """Every column that exists under both namings parses to the same value."""
    data, flavor = load(name)
    status = flavor.parse_replica_status(data["replica_status"])
    if not data["replica_status"]:
        assert status == ReplicaStatus.none()
        return
    row = data["replica_status"][-1]
    host = row.get("Master_Host", row.get("Source_Host"))
    assert status.master_host == host
    assert status.is_replica


# --- MySQL 5.7 -------------------------------------------------------------------------------------


def test_mysql57_gtid_replica() -> None:
    data, flavor = load("mysql_5_7_gtid_replica.json")
    assert isinstance(flavor, MySQL57)
    s = flavor.parse_replica_status(data["replica_status"])
    assert (s.master_host, s.master_port, s.master_user) == ("db-57-1.example.net", 3306, "repl")
    assert (s.io_state, s.sql_state) == (1, 1)
    assert s.replication_running and s.io_running and s.sql_running
    assert not s.threads_stopped
    assert s.read_coordinates == BinlogCoordinates("mysql-bin.000042", 51234567)
    assert s.exec_coordinates == BinlogCoordinates("mysql-bin.000042", 51230011)
    assert s.relay_coordinates == BinlogCoordinates("db-57-2-relay-bin.000118", 48230, LogType.RELAY)
    assert s.seconds_behind_master == 3
    assert s.auto_position is True
    assert s.using_mariadb_gtid == "No"
    assert s.uses_gtid and not s.uses_mariadb_gtid
    assert s.master_uuid == "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    assert s.master_server_id == 5701
    assert s.master_ssl_allowed is True
    assert s.has_replication_filters is False
    assert s.retrieved_gtid_set == "3e11fa47-71ca-11e1-9e33-c80aa9429562:2001-58120"
    # the newline MySQL puts after each comma is dropped
    assert s.executed_gtid_set == (
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-58118,8f8d5a6e-1e2b-11ee-b9a4-0242ac120002:1-17"
    )
    assert s.gtid_io_pos == ""
    assert (s.last_io_errno, s.last_sql_errno, s.last_io_error, s.last_sql_error) == (0, 0, "", "")
    assert not s.is_detached

    core = flavor.parse_core_variables(data["core_variables"])
    assert core.server_id == 5702 and core.read_only and core.super_read_only
    assert core.log_slave_updates and core.binlog_format == "ROW"
    assert core.report_host == ""

    assert flavor.parse_master_status(data["master_status"]) == BinlogCoordinates("mysql-bin.000017", 8812334)

    g = flavor.parse_gtid_facts(data["gtid_facts"])
    assert g.gtid_mode == "ON" and g.supports_oracle_gtid
    assert g.server_uuid == "8f8d5a6e-1e2b-11ee-b9a4-0242ac120002"
    assert g.gtid_executed == s.executed_gtid_set
    assert g.gtid_purged == "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2000"
    assert g.binlog_row_image == "FULL"
    assert g.gtid_binlog_pos == "" and g.gtid_domain_id == 0

    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    assert semi.available is True
    assert semi.master_enabled is False and semi.master_status is False
    assert semi.master_timeout == 10000
    assert semi.master_wait_for_slave_count == 1
    assert semi.master_clients == 0
    assert semi.replica_enabled is True and semi.replica_status is True
    assert semi.source_names is False

    # the second registered replica has no report_host: unusable, skipped
    assert flavor.parse_replica_hosts(data["master_replica_hosts"]) == [InstanceKey("db-57-2.example.net", 3306)]
    assert flavor.parse_processlist_replicas(data["master_processlist_replicas"]) == [
        "10.20.0.12",
        "10.20.0.13",
    ]


def test_mysql57_broken_io_thread_all_strings() -> None:
    data, flavor = load("mysql_5_7_io_error.json")
    s = flavor.parse_replica_status(data["replica_status"])
    assert s.is_replica
    assert s.io_state == 2  # Connecting
    assert s.sql_state == 1
    assert not s.io_running and s.sql_running
    assert not s.replication_running and not s.threads_stopped
    assert s.last_io_errno == 2003
    assert s.last_io_error.startswith("error connecting to master 'repl@db-57-1.example.net:3306'")
    assert s.seconds_behind_master is None
    assert s.master_port == 3306 and s.read_master_log_pos == 51234567  # strings converted
    assert s.exec_coordinates == BinlogCoordinates("mysql-bin.000042", 51234567)
    assert s.auto_position is False
    assert not s.uses_gtid
    assert s.master_ssl_allowed is False


# --- MySQL 8.0 -------------------------------------------------------------------------------------


def test_mysql80_replica_status_source_names() -> None:
    data, flavor = load("mysql_8_0_30_gtid_replica.json")
    assert isinstance(flavor, MySQL80) and not isinstance(flavor, MySQL84)
    s = flavor.parse_replica_status(data["replica_status"])
    assert (s.master_host, s.master_port, s.master_user) == ("db-80-1.example.net", 3306, "repl")
    assert s.replication_running
    assert s.read_coordinates == BinlogCoordinates("binlog.000311", 734221)
    assert s.exec_coordinates == BinlogCoordinates("binlog.000311", 734221)
    assert s.relay_coordinates == BinlogCoordinates("db-80-2-relay-bin.000935", 734437, LogType.RELAY)
    assert s.seconds_behind_master == 0
    assert s.auto_position is True
    assert s.master_uuid == "5e6f0b3a-0c55-11ed-8d3b-0242ac110002"
    assert s.master_server_id == 8001
    assert s.has_replication_filters is True  # Replicate_Ignore_DB=scratch
    assert s.master_ssl_allowed is False
    assert s.executed_gtid_set == "5e6f0b3a-0c55-11ed-8d3b-0242ac110002:1-90512"
    assert s.retrieved_gtid_set == "5e6f0b3a-0c55-11ed-8d3b-0242ac110002:88210-90512"

    core = flavor.parse_core_variables(data["core_variables"])
    assert core.read_only and not core.super_read_only and core.log_slave_updates

    g = flavor.parse_gtid_facts(data["gtid_facts"])
    assert g.server_uuid == "71d1e2f0-0c55-11ed-9a9c-0242ac110003"
    assert g.gtid_purged == "5e6f0b3a-0c55-11ed-8d3b-0242ac110002:1-88209"

    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    # only the replica plugin is loaded
    assert semi.available is False
    assert semi.replica_enabled is True and semi.replica_status is True
    assert semi.master_enabled is False and semi.master_clients == 0
    assert semi.source_names is True
    assert flavor.set_semi_sync_replica(False, source_names=semi.source_names) == [
        "SET GLOBAL rpl_semi_sync_replica_enabled = 0"
    ]

    assert flavor.parse_replica_hosts(data["master_replica_hosts"]) == [
        InstanceKey("db-80-2.example.net", 3306),
        InstanceKey("db-80-3.example.net", 3307),
    ]


def test_mysql80_broken_sql_thread() -> None:
    data, flavor = load("mysql_8_0_36_sql_error.json")
    s = flavor.parse_replica_status(data["replica_status"])
    assert (s.io_state, s.sql_state) == (1, 0)
    assert s.io_running and not s.sql_running and not s.threads_stopped
    assert s.last_sql_errno == 1062
    assert "Worker 1 failed executing transaction" in s.last_sql_error
    assert s.seconds_behind_master is None
    assert s.exec_coordinates == BinlogCoordinates("binlog.000042", 51234730)
    g = flavor.parse_gtid_facts(data["gtid_facts"])
    # the failing transaction is the next GTID of the source's UUID: inject an empty one
    assert flavor.inject_empty_transaction("5e6f0b3a-0c55-11ed-8d3b-0242ac110002:90513") == [
        "SET GTID_NEXT = '5e6f0b3a-0c55-11ed-8d3b-0242ac110002:90513'",
        "BEGIN",
        "COMMIT",
        "SET GTID_NEXT = 'AUTOMATIC'",
    ]
    assert g.supports_oracle_gtid and g.gtid_purged == ""


# --- MySQL 8.4 -------------------------------------------------------------------------------------


def test_mysql84_delayed_replica() -> None:
    data, flavor = load("mysql_8_4_delayed_replica.json")
    assert isinstance(flavor, MySQL84)
    s = flavor.parse_replica_status(data["replica_status"])
    assert s.master_user == "orc_repl"
    assert s.replication_running
    assert s.sql_delay == 3600
    assert s.seconds_behind_master == 3542
    assert s.read_coordinates == BinlogCoordinates("binlog.000123", 99812)
    assert s.exec_coordinates == BinlogCoordinates("binlog.000119", 1825)
    assert s.master_ssl_allowed is True
    assert s.auto_position is True
    assert s.executed_gtid_set == "c0ffee00-4e84-11ef-9f11-0242ac120010:1-19870:maint:1-2"

    assert flavor.parse_master_status(data["master_status"]) == BinlogCoordinates("binlog.000058", 3388)

    g = flavor.parse_gtid_facts(data["gtid_facts"])
    assert g.binlog_row_image == "MINIMAL"
    assert g.server_uuid == "d1e2f3a4-4e84-11ef-8a01-0242ac120011"
    # a tagged GTID set is accepted by the statement builders
    assert flavor.gtid_wait(g.gtid_executed, 5) == (
        "SELECT WAIT_FOR_EXECUTED_GTID_SET('c0ffee00-4e84-11ef-9f11-0242ac120010:1-19870:maint:1-2', 5) AS wait_result"
    )

    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    assert semi.available is True
    assert semi.master_enabled and semi.master_status
    assert semi.master_timeout == 5000
    assert semi.master_wait_for_slave_count == 1
    assert semi.master_clients == 1
    assert semi.replica_enabled and semi.replica_status
    assert semi.source_names is True


def test_mysql84_master_is_not_a_replica() -> None:
    data, flavor = load("mysql_8_4_master.json")
    s = flavor.parse_replica_status(data["replica_status"])
    assert s == ReplicaStatus.none()
    assert not s.is_replica
    assert (s.io_state, s.sql_state) == (-1, -1)
    assert not s.io_running and not s.threads_stopped and not s.replication_running
    assert s.seconds_behind_master is None

    assert flavor.parse_master_status(data["master_status"]) == BinlogCoordinates("binlog.000123", 99812)
    core = flavor.parse_core_variables(data["core_variables"])
    assert not core.read_only and not core.super_read_only

    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    assert semi.available is False  # no replica plugin
    assert semi.master_enabled and semi.master_status
    assert semi.master_clients == 2 and semi.master_wait_for_slave_count == 2
    assert semi.source_names is True

    assert flavor.parse_replica_hosts(data["replica_hosts"]) == [
        InstanceKey("db-84-2.example.net", 3306),
        InstanceKey("db-84-3.example.net", 3306),
    ]
    assert flavor.parse_processlist_replicas(data["processlist_replicas"]) == [
        "10.84.0.2",
        "10.84.0.3",
        "fd00::84:4",
    ]


# --- MariaDB ---------------------------------------------------------------------------------------


def test_mariadb_gtid_replica() -> None:
    data, flavor = load("mariadb_10_11_gtid_replica.json")
    assert isinstance(flavor, MariaDB)
    assert flavor.version_tuple == (10, 11, 19)
    s = flavor.parse_replica_status(data["replica_status"])
    assert (s.master_host, s.master_port, s.master_user) == ("mdb-1.example.net", 3306, "repl")
    assert s.replication_running
    assert s.using_mariadb_gtid == "Slave_Pos"
    assert s.uses_mariadb_gtid and s.uses_gtid
    assert s.auto_position is False
    assert s.gtid_io_pos == "0-1-9"
    assert s.master_uuid == ""  # MariaDB has no Master_UUID column
    assert s.executed_gtid_set == "" and s.retrieved_gtid_set == ""
    assert s.master_server_id == 1
    assert s.read_coordinates == BinlogCoordinates("mysql-bin.000001", 1833)
    assert s.exec_coordinates == BinlogCoordinates("mysql-bin.000001", 1833)
    assert s.relay_coordinates == BinlogCoordinates("mdb-2-relay-bin.000003", 871, LogType.RELAY)
    assert s.seconds_behind_master == 0
    assert s.has_replication_filters is False
    assert s.master_ssl_allowed is False

    core = flavor.parse_core_variables(data["core_variables"])
    assert core.server_id == 2 and core.log_slave_updates and not core.super_read_only

    g = flavor.parse_gtid_facts(data["gtid_facts"])
    assert g.server_uuid == "" and g.gtid_mode == "" and not g.supports_oracle_gtid
    assert (g.gtid_binlog_pos, g.gtid_current_pos, g.gtid_slave_pos) == ("0-1-9", "0-1-9", "0-1-9")
    assert g.gtid_strict_mode is False and g.gtid_domain_id == 0
    assert g.binlog_row_image == "FULL"

    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    assert semi.available is True  # built into MariaDB 10.3+
    assert semi.replica_enabled and semi.replica_status
    assert not semi.master_enabled and not semi.master_status
    assert semi.master_timeout == 10000
    assert semi.master_wait_for_slave_count == 0  # no such variable on MariaDB
    assert semi.source_names is False


def test_mariadb_broken_io_thread() -> None:
    data, flavor = load("mariadb_10_11_io_error.json")
    s = flavor.parse_replica_status(data["replica_status"])
    assert s.is_replica
    assert (s.io_state, s.sql_state) == (2, 1)
    assert s.last_io_errno == 1045
    assert s.last_io_error.startswith("error connecting to master 'repl@mdb-1.example.net:3306'")
    assert s.seconds_behind_master is None
    assert s.master_log_file == "" and s.read_master_log_pos == 4
    assert s.master_server_id == 0
    assert s.using_mariadb_gtid == "Slave_Pos" and s.gtid_io_pos == ""


def test_mariadb_master() -> None:
    data, flavor = load("mariadb_10_11_master.json")
    s = flavor.parse_replica_status(data["replica_status"])
    assert s == ReplicaStatus.none() and not s.is_replica
    assert flavor.parse_master_status(data["master_status"]) == BinlogCoordinates("mysql-bin.000002", 385)
    g = flavor.parse_gtid_facts(data["gtid_facts"])
    assert g.gtid_binlog_pos == "0-1-9" and g.gtid_slave_pos == ""
    semi = flavor.parse_semi_sync(rows_to_dict(data["semi_sync_variables"]), rows_to_dict(data["semi_sync_status"]))
    assert semi.available and semi.master_enabled and semi.master_status
    assert semi.master_clients == 1
    assert not semi.replica_enabled and not semi.replica_status
    assert flavor.parse_replica_hosts(data["replica_hosts"]) == [InstanceKey("mdb-2.example.net", 3306)]
    assert flavor.parse_processlist_replicas(data["processlist_replicas"]) == ["mdb-2.example.net"]
    assert flavor.binlog_dump_commands() == ("Binlog Dump",)


def probe_fixtures() -> list[str]:
    """The fixtures that recorded every probe statement (the others hold the replica status only)."""
    parts = ("core_variables", "gtid_facts", "semi_sync_variables", "semi_sync_status")
    return [name for name in all_fixtures() if all(part in json.loads((RECORDED / name).read_text()) for part in parts)]


@pytest.mark.parametrize("name", probe_fixtures())
def test_the_probes_combined_statements_read_what_their_parts_read(name: str) -> None:
    """A probe reads the core and GTID variables in one SELECT, and uptime with the semi-sync status in
    one SHOW GLOBAL STATUS: the rows those return (their parts' rows, joined) give the same facts."""
    data, flavor = load(name)
    gtid_sql = flavor.gtid_facts_sql()
    assert gtid_sql is not None
    combined = flavor.probe_variables_sql()
    assert combined.startswith(flavor.core_variables_sql() + ", ") and combined.endswith(
        gtid_sql.removeprefix("SELECT ")
    )
    row = {**data["core_variables"], **data["gtid_facts"]}
    assert flavor.parse_core_variables(row) == flavor.parse_core_variables(data["core_variables"])
    assert flavor.parse_gtid_facts(row) == flavor.parse_gtid_facts(data["gtid_facts"])
    status = [{"Variable_name": "Uptime", "Value": "86400"}, *data["semi_sync_status"]]
    variables = rows_to_dict(data["semi_sync_variables"])
    assert flavor.parse_uptime(status) == 86400
    assert flavor.parse_semi_sync(variables, rows_to_dict(status)) == flavor.parse_semi_sync(
        variables, rows_to_dict(data["semi_sync_status"])
    )
