"""Statement text and row parsing of orchestrator_cli.mysql.flavor, per server flavor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.mysql.flavor import (
    Flavor,
    MariaDB,
    MySQL57,
    MySQL80,
    MySQL80Legacy,
    MySQL84,
    detect_flavor,
    detect_flavor_from_handshake,
    detect_flavor_from_row,
    parse_version,
    version_sql,
)
from orchestrator_cli.mysql.rows import FlavorError, rows_to_dict
from orchestrator_cli.mysql.sql import quote_string

UUID_A = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
UUID_B = "8f8d5a6e-1e2b-11ee-b9a4-0242ac120002"

MARIADB = detect_flavor("10.11.19-MariaDB-0+deb12u1-log")
MARIADB11 = detect_flavor("11.4.2-MariaDB-ubu2404")
MYSQL56 = detect_flavor("5.6.51-log")
MYSQL57 = detect_flavor("5.7.44-log")
MYSQL80_LEGACY = detect_flavor("8.0.21")
MYSQL8022 = detect_flavor("8.0.22")
MYSQL8023 = detect_flavor("8.0.23")
MYSQL8025 = detect_flavor("8.0.25")
MYSQL80_ = detect_flavor("8.0.36")
MYSQL84 = detect_flavor("8.4.2")
MYSQL91 = detect_flavor("9.1.0")
ALL = [MARIADB, MARIADB11, MYSQL56, MYSQL57, MYSQL80_LEGACY, MYSQL8022, MYSQL8023, MYSQL80_, MYSQL84, MYSQL91]


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "comment", "cls"),
    [
        ("10.11.19-MariaDB-0+deb12u1-log", "Debian 12", MariaDB),
        ("10.6.18-MariaDB-log", "MariaDB Server", MariaDB),
        ("10.3.39-MariaDB-0ubuntu0.20.04.2", "Ubuntu 20.04", MariaDB),
        ("11.4.2-MariaDB-ubu2404", "mariadb.org binary distribution", MariaDB),
        ("11.8.1-MariaDB", "", MariaDB),
        ("5.5.5-10.4.32-MariaDB", "", MariaDB),
        ("5.5.68-MariaDB", "MariaDB Server", MariaDB),
        ("10.5.8", "mariadb.org binary distribution", MariaDB),
        ("5.5.62-log", "MySQL Community Server (GPL)", MySQL57),
        ("5.6.51", "MySQL Community Server (GPL)", MySQL57),
        ("5.7.44-log", "MySQL Community Server (GPL)", MySQL57),
        ("5.7.44-48-log", "Percona Server (GPL), Release 48, Revision 497f936a373", MySQL57),
        ("8.0.0-dmr", "", MySQL80Legacy),
        ("8.0.11", "", MySQL80Legacy),
        ("8.0.21", "", MySQL80Legacy),
        ("8.0.22", "", MySQL80),
        ("8.0.36", "MySQL Community Server - GPL", MySQL80),
        ("8.0.36-28", "Percona Server (GPL), Release 28, Revision 47601f19", MySQL80),
        ("8.0.35-27.1", "Percona XtraDB Cluster (GPL), Release rel27, Revision 2e7f7e9", MySQL80),
        ("8.0.40-0ubuntu0.22.04.1", "(Ubuntu)", MySQL80),
        ("8.1.0", "", MySQL80),
        ("8.2.0", "", MySQL84),
        ("8.3.0", "", MySQL84),
        ("8.4.2", "MySQL Community Server - GPL", MySQL84),
        ("8.4.3-3", "Percona Server (GPL), Release 3, Revision abc", MySQL84),
        ("9.1.0", "MySQL Community Server - GPL", MySQL84),
        ("9.3.0-commercial", "MySQL Enterprise Server - Commercial", MySQL84),
    ],
)
def test_detect_flavor(version: str, comment: str, cls: type[Flavor]) -> None:
    flavor = detect_flavor(version, comment)
    assert type(flavor) is cls
    assert flavor.name == cls.__name__
    assert flavor.version == version
    assert flavor.is_mariadb == (cls is MariaDB)
    assert flavor.is_oracle == (cls is not MariaDB)


def test_detect_flavor_percona_flag() -> None:
    assert detect_flavor("8.0.36-28", "Percona Server (GPL), Release 28").is_percona
    assert not detect_flavor("8.0.36", "MySQL Community Server - GPL").is_percona


@pytest.mark.parametrize(
    ("handshake", "expected"),
    [
        ("5.5.5-10.11.19-MariaDB-0+deb12u1-log", MariaDB("10.11.19-MariaDB-0+deb12u1-log")),
        ("11.4.2-MariaDB-ubu2404", MariaDB("11.4.2-MariaDB-ubu2404")),
        ("5.7.44-log", MySQL57("5.7.44-log")),
        ("8.0.21", MySQL80Legacy("8.0.21")),
        ("8.0.36-28", MySQL80("8.0.36-28")),
        ("8.4.2", MySQL84("8.4.2")),
    ],
)
def test_detect_flavor_from_handshake(handshake: str, expected: Flavor) -> None:
    """The version a connection's handshake announces, MariaDB's replication prefix dropped: the text
    is what @@version says, so the flavor equals the one the version query would have detected."""
    flavor = detect_flavor_from_handshake(handshake)
    assert flavor == expected and flavor.version == expected.version


def test_probe_statements_of_a_server_without_gtid() -> None:
    """Before GTIDs (MySQL 5.6.5, MariaDB 10.0.2) the probe's first statement reads the core variables only."""
    for flavor in (detect_flavor("5.6.4"), detect_flavor("10.0.1-MariaDB")):
        assert flavor.gtid_facts_sql() is None
        assert flavor.probe_variables_sql() == flavor.core_variables_sql()


@pytest.mark.parametrize("version", ["", "garbage", "MariaDB", "v8.0.36"])
def test_detect_flavor_rejects_unparsable(version: str) -> None:
    with pytest.raises(FlavorError):
        detect_flavor(version)


def test_parse_version() -> None:
    assert parse_version("10.11.19-MariaDB-0+deb12u1-log") == (10, 11, 19)
    assert parse_version("5.5.5-10.4.32-MariaDB") == (10, 4, 32)
    assert parse_version("5.5.68-MariaDB") == (5, 5, 68)
    assert parse_version("8.0") == (8, 0, 0)
    assert parse_version("8.4.2") == (8, 4, 2)


def test_detect_flavor_from_row() -> None:
    assert version_sql() == "SELECT @@global.version AS version, @@global.version_comment AS version_comment"
    flavor = detect_flavor_from_row({"version": "8.4.2", "version_comment": "MySQL Community Server - GPL"})
    assert isinstance(flavor, MySQL84)
    assert isinstance(detect_flavor_from_row({"@@version": b"10.6.18-MariaDB"}), MariaDB)


def test_flavor_classes() -> None:
    with pytest.raises(TypeError):
        Flavor()  # type: ignore[abstract]
    with pytest.raises(FlavorError):
        MySQL80("8.0.21")
    with pytest.raises(FlavorError):
        MySQL80Legacy("8.0.22")
    with pytest.raises(FlavorError):
        MySQL57("8.0.36")
    with pytest.raises(FlavorError):
        MySQL84("8.0.36")
    assert MySQL84().version_tuple >= (8, 4, 0)
    assert MariaDB().is_mariadb
    assert MySQL80() == MySQL80("8.0.40")
    assert MySQL80("8.0.36") != MySQL80("8.0.37")
    assert MySQL80("8.0.36") == detect_flavor("8.0.36")
    assert len({MySQL80("8.0.36"), detect_flavor("8.0.36"), MySQL84()}) == 2
    assert repr(MYSQL84) == "MySQL84('8.4.2')"


# --- quoting ---------------------------------------------------------------------------------------


def test_quote_string() -> None:
    assert quote_string("abc") == "'abc'"
    assert quote_string("it's") == "'it\\'s'"
    assert quote_string("a\\b") == "'a\\\\b'"
    assert quote_string("x\x00y\nz\r\x1a") == "'x\\0y\\nz\\r\\Z'"
    assert quote_string("") == "''"
    assert quote_string("it's a\\b", no_backslash_escapes=True) == "'it''s a\\b'"
    with pytest.raises(FlavorError):
        quote_string(3)  # type: ignore[arg-type]


_UNESCAPE = {"0": "\x00", "n": "\n", "r": "\r", "Z": "\x1a", "\\": "\\", "'": "'"}


def _mysql_unquote(literal: str) -> str:
    """Parse a single-quoted literal the way the server does (default sql_mode)."""
    assert literal[0] == "'" and literal[-1] == "'"
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            out.append(_UNESCAPE[body[i + 1]])
            i += 2
            continue
        assert ch != "'", "unescaped quote inside literal"
        out.append(ch)
        i += 1
    return "".join(out)


@given(st.text())
def test_quote_string_round_trip(s: str) -> None:
    assert _mysql_unquote(quote_string(s)) == s


@given(st.text())
def test_quote_string_no_backslash_escapes_round_trip(s: str) -> None:
    literal = quote_string(s, no_backslash_escapes=True)
    assert "'" not in literal[1:-1].replace("''", "")
    assert literal[1:-1].replace("''", "'") == s


# --- probe statements ------------------------------------------------------------------------------


def test_replica_status_and_hosts_sql() -> None:
    assert MARIADB.replica_status_sql() == "SHOW SLAVE STATUS"
    assert MARIADB11.replica_status_sql() == "SHOW SLAVE STATUS"
    assert MYSQL57.replica_status_sql() == "SHOW SLAVE STATUS"
    assert MYSQL80_LEGACY.replica_status_sql() == "SHOW SLAVE STATUS"
    assert MYSQL8022.replica_status_sql() == "SHOW REPLICA STATUS"
    assert MYSQL80_.replica_status_sql() == "SHOW REPLICA STATUS"
    assert MYSQL84.replica_status_sql() == "SHOW REPLICA STATUS"
    assert MARIADB.replica_hosts_sql() == "SHOW SLAVE HOSTS"
    assert MYSQL57.replica_hosts_sql() == "SHOW SLAVE HOSTS"
    assert MYSQL80_LEGACY.replica_hosts_sql() == "SHOW SLAVE HOSTS"
    assert MYSQL8022.replica_hosts_sql() == "SHOW REPLICAS"
    assert MYSQL84.replica_hosts_sql() == "SHOW REPLICAS"


def test_master_status_sql() -> None:
    for flavor in (MARIADB, MYSQL57, MYSQL80_LEGACY, MYSQL80_):
        assert flavor.master_status_sql() == "SHOW MASTER STATUS"
    assert MYSQL84.master_status_sql() == "SHOW BINARY LOG STATUS"
    assert MYSQL91.master_status_sql() == "SHOW BINARY LOG STATUS"


def test_core_variables_sql() -> None:
    common = (
        "SELECT @@global.hostname AS hostname, IFNULL(@@global.report_host, '') AS report_host, "
        "@@global.server_id AS server_id, @@global.version AS version, "
        "@@global.version_comment AS version_comment, @@global.read_only AS read_only, "
        "@@global.binlog_format AS binlog_format, @@global.log_bin AS log_bin, "
    )
    assert MARIADB.core_variables_sql() == common + (
        "@@global.log_slave_updates AS log_slave_updates, 0 AS super_read_only"
    )
    assert MYSQL56.core_variables_sql() == common + (
        "@@global.log_slave_updates AS log_slave_updates, 0 AS super_read_only"
    )
    for flavor in (MYSQL57, MYSQL80_LEGACY, MYSQL8022, MYSQL8025):
        assert flavor.core_variables_sql() == common + (
            "@@global.log_slave_updates AS log_slave_updates, @@global.super_read_only AS super_read_only"
        )
    for flavor in (detect_flavor("8.0.26"), MYSQL80_, MYSQL84, MYSQL91):
        assert flavor.core_variables_sql() == common + (
            "@@global.log_replica_updates AS log_slave_updates, @@global.super_read_only AS super_read_only"
        )


def test_parse_core_variables() -> None:
    core = MARIADB11.parse_core_variables(
        {
            "HOSTNAME": "mdb-3",
            "report_host": None,
            "server_id": "3",
            "version": "11.4.2-MariaDB",
            "version_comment": "",
            "read_only": "NO_LOCK",  # MariaDB 11 read_only levels
            "binlog_format": "MIXED",
            "log_bin": 0,
            "log_slave_updates": "OFF",
            "super_read_only": 0,
        }
    )
    assert core.hostname == "mdb-3" and core.report_host == "" and core.server_id == 3
    assert core.read_only is True
    assert core.log_bin is False and core.log_slave_updates is False
    with pytest.raises(FlavorError):
        MARIADB.parse_core_variables(None)


def test_gtid_facts_sql() -> None:
    assert MYSQL57.gtid_facts_sql() == (
        "SELECT @@global.gtid_mode AS gtid_mode, @@global.server_uuid AS server_uuid, "
        "@@global.gtid_executed AS gtid_executed, @@global.gtid_purged AS gtid_purged, "
        "@@global.binlog_row_image AS binlog_row_image"
    )
    assert MYSQL84.gtid_facts_sql() == MYSQL57.gtid_facts_sql()
    assert MARIADB.gtid_facts_sql() == (
        "SELECT @@global.gtid_binlog_pos AS gtid_binlog_pos, "
        "@@global.gtid_current_pos AS gtid_current_pos, "
        "@@global.gtid_slave_pos AS gtid_slave_pos, "
        "@@global.gtid_strict_mode AS gtid_strict_mode, "
        "@@global.gtid_domain_id AS gtid_domain_id, "
        "@@global.binlog_row_image AS binlog_row_image"
    )
    assert "server_uuid" not in (MARIADB.gtid_facts_sql() or "")
    assert detect_flavor("5.5.62").gtid_facts_sql() is None
    assert detect_flavor("5.5.68-MariaDB").gtid_facts_sql() is None
    assert "'FULL' AS binlog_row_image" in (detect_flavor("10.0.38-MariaDB").gtid_facts_sql() or "")


def test_parse_gtid_facts() -> None:
    g = MYSQL80_.parse_gtid_facts(
        {
            "gtid_mode": "ON_PERMISSIVE",
            "server_uuid": UUID_B,
            "gtid_executed": f"{UUID_A}:1-10,\n{UUID_B}:1-3",
            "gtid_purged": "",
            "binlog_row_image": "FULL",
        }
    )
    assert g.supports_oracle_gtid
    assert g.gtid_executed == f"{UUID_A}:1-10,{UUID_B}:1-3"
    assert MYSQL80_.parse_gtid_facts(None) == GtidFacts()
    assert not GtidFacts(gtid_mode="OFF").supports_oracle_gtid
    m = MARIADB.parse_gtid_facts(
        {
            "gtid_binlog_pos": "0-1-100,1-2-7",
            "gtid_current_pos": "0-1-100,1-2-7",
            "gtid_slave_pos": "0-1-100",
            "gtid_strict_mode": "1",
            "gtid_domain_id": 1,
            "binlog_row_image": "FULL",
            "server_uuid": "ignored",
        }
    )
    assert m.server_uuid == "" and m.gtid_mode == ""
    assert m.gtid_strict_mode is True and m.gtid_domain_id == 1
    assert m.gtid_binlog_pos == "0-1-100,1-2-7"


def test_processlist_replicas_sql() -> None:
    oracle = MYSQL80_.processlist_replicas_sql()
    assert "information_schema.processlist" in oracle
    assert oracle.endswith("WHERE command IN ('Binlog Dump', 'Binlog Dump GTID')")
    assert MARIADB.processlist_replicas_sql().endswith("WHERE command IN ('Binlog Dump')")
    assert MYSQL57.binlog_dump_commands() == ("Binlog Dump", "Binlog Dump GTID")
    assert MARIADB.binlog_dump_commands() == ("Binlog Dump",)
    assert MYSQL84.parse_processlist_replicas(
        [{"HOST": "10.0.0.5"}, {"host": "10.0.0.5"}, {"host": "[::1]"}, {"host": ""}, {"host": None}]
    ) == ["10.0.0.5", "::1"]


def test_semi_sync_sql() -> None:
    for flavor in ALL:
        assert flavor.semi_sync_variables_sql() == "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%'"
        assert flavor.semi_sync_status_sql() == "SHOW GLOBAL STATUS LIKE 'rpl_semi_sync_%'"


def test_parse_semi_sync_mixed_and_missing() -> None:
    facts = MYSQL80_.parse_semi_sync({}, {})
    assert not facts.available and not facts.master_enabled and facts.master_clients == 0
    # legacy plugin on 8.0: legacy names win, source_names False
    facts = MYSQL80_.parse_semi_sync(
        {"RPL_SEMI_SYNC_MASTER_ENABLED": "1", "rpl_semi_sync_slave_enabled": "OFF"},
        {"Rpl_semi_sync_master_clients": 3, "Rpl_semi_sync_master_status": "ON"},
    )
    assert facts.available and facts.master_enabled and facts.master_status
    assert facts.master_clients == 3 and not facts.replica_enabled and not facts.source_names


def test_rows_to_dict() -> None:
    rows: list[dict[str, Any]] = [{"Variable_name": "Uptime", "Value": "12"}, {"Variable_name": b"x", "Value": None}]
    assert rows_to_dict(rows) == {"Uptime": "12", "x": ""}
    assert MYSQL84.uptime_sql() == "SHOW GLOBAL STATUS LIKE 'Uptime'"
    assert MYSQL84.parse_uptime(rows) == 12
    assert MYSQL84.parse_uptime([]) == 0


def test_parse_master_status() -> None:
    assert MYSQL57.parse_master_status(None) == BinlogCoordinates("", 0)
    assert MYSQL57.parse_master_status({}) == BinlogCoordinates("", 0)
    assert MYSQL57.parse_master_status({"File": "", "Position": 0}) == BinlogCoordinates("", 0)
    assert MYSQL84.parse_master_status({"File": b"binlog.000003", "Position": "157"}) == BinlogCoordinates(
        "binlog.000003", 157
    )


def test_parse_replica_hosts() -> None:
    rows = [
        {"Server_id": 2, "Host": "r1", "Port": 3306},
        {"Server_id": 3, "Host": "", "Port": 3306},
        {"Server_id": 4, "Host": "r2", "Port": 0},
        {"Server_id": 5, "Host": "r1", "Port": "3306"},
        {"Server_Id": 6, "host": "r3", "port": "3307"},
    ]
    assert MYSQL57.parse_replica_hosts(rows) == [InstanceKey("r1", 3306), InstanceKey("r3", 3307)]
    assert MYSQL57.parse_replica_hosts(None) == []


def test_binary_logs() -> None:
    for flavor in ALL:
        assert flavor.binary_logs_sql() == "SHOW BINARY LOGS"
        assert flavor.flush_binary_logs() == ["FLUSH BINARY LOGS"]
    rows: list[dict[str, Any]] = [
        {"Log_name": "binlog.000001", "File_size": 180, "Encrypted": "No"},
        {"Log_name": "binlog.000002", "File_size": "4096", "Encrypted": "No"},
    ]
    assert MYSQL84.parse_binary_logs(rows) == [("binlog.000001", 180), ("binlog.000002", 4096)]
    assert MYSQL84.purge_binary_logs_to("binlog.000002") == ["PURGE BINARY LOGS TO 'binlog.000002'"]
    assert MARIADB.purge_binary_logs_to("x'y") == ["PURGE BINARY LOGS TO 'x\\'y'"]
    with pytest.raises(FlavorError):
        MARIADB.purge_binary_logs_to("")


# --- replica status parsing ------------------------------------------------------------------------


def test_replica_status_none() -> None:
    none = ReplicaStatus.none()
    assert none.io_state == -1 and none.sql_state == -1
    assert none.master_host == "" and none.master_port == 0
    assert none.seconds_behind_master is None
    assert not none.is_replica and not none.replication_running and not none.threads_stopped
    assert not none.is_detached and not none.uses_gtid
    assert MYSQL57.parse_replica_status([]) == none
    assert MYSQL57.parse_replica_status(None) == none


def test_thread_state() -> None:
    assert ThreadState.from_running_text("Yes") == 1
    assert ThreadState.from_running_text(b"No") == 0
    assert ThreadState.from_running_text("Connecting") == 2
    assert ThreadState.from_running_text("Preparing") == 2
    assert ThreadState.from_running_text(None) == 2


def test_replica_status_details() -> None:
    rows: list[dict[str, Any]] = [
        {"Master_Host": "ignored-first-row", "Slave_IO_Running": "Yes"},
        {
            "master_host": b"//db-1",
            "Master_Port": "3306",
            "Slave_IO_Running": "No",
            "Slave_SQL_Running": "No",
            "Seconds_Behind_Master": "-5",
            "Replicate_Wild_Ignore_Table": "mysql.%",
            "Master_SSL_Allowed": "Yes",
            "Auto_Position": "1",
        },
    ]
    s = MYSQL57.parse_replica_status(rows)
    assert s.master_host == "//db-1" and s.is_detached
    assert s.master_port == 3306
    assert s.threads_stopped and not s.replication_running
    assert s.seconds_behind_master == 0  # negative clamped
    assert s.has_replication_filters and s.master_ssl_allowed and s.auto_position
    assert s.using_mariadb_gtid == "No"
    placeholder = MYSQL57.parse_replica_status([{"Master_Host": "_", "Slave_IO_Running": "No"}])
    assert not placeholder.is_replica


def test_replica_status_sbm_null_text() -> None:
    s = ReplicaStatus.from_row({"Source_Host": "h", "Seconds_Behind_Source": "NULL"})
    assert s.seconds_behind_master is None
    s = ReplicaStatus.from_row({"Source_Host": "h", "Seconds_Behind_Source": 7})
    assert s.seconds_behind_master == 7


# --- replication thread statements -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "word"),
    [
        (MARIADB, "SLAVE"),
        (MARIADB11, "SLAVE"),
        (MYSQL57, "SLAVE"),
        (MYSQL80_LEGACY, "SLAVE"),
        (MYSQL8022, "REPLICA"),
        (MYSQL80_, "REPLICA"),
        (MYSQL84, "REPLICA"),
    ],
)
def test_thread_statements(flavor: Flavor, word: str) -> None:
    assert flavor.stop_replica() == [f"STOP {word}"]
    assert flavor.start_replica() == [f"START {word}"]
    assert flavor.stop_io_thread() == [f"STOP {word} IO_THREAD"]
    assert flavor.start_io_thread() == [f"START {word} IO_THREAD"]
    assert flavor.stop_sql_thread() == [f"STOP {word} SQL_THREAD"]
    assert flavor.start_sql_thread() == [f"START {word} SQL_THREAD"]
    assert flavor.reset_replica(False) == [f"RESET {word}"]
    assert flavor.reset_replica(True) == [f"RESET {word} ALL"]


def test_start_replica_until() -> None:
    assert MYSQL57.start_replica_until("mysql-bin.000007", 1234) == [
        "START SLAVE UNTIL MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=1234"
    ]
    assert MYSQL8022.start_replica_until("b.1", 4) == ["START REPLICA UNTIL MASTER_LOG_FILE='b.1', MASTER_LOG_POS=4"]
    assert MYSQL84.start_replica_until("b.1", 4) == ["START REPLICA UNTIL SOURCE_LOG_FILE='b.1', SOURCE_LOG_POS=4"]
    with pytest.raises(FlavorError):
        MYSQL84.start_replica_until("b.1", "4")  # type: ignore[arg-type]


# --- CHANGE MASTER / CHANGE REPLICATION SOURCE -----------------------------------------------------


def test_change_master_legacy_full() -> None:
    assert MYSQL57.change_master(
        host="db-1", port=3306, user="repl", password="secret", log_file="mysql-bin.000003", log_pos=154, ssl=True
    ) == [
        "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='secret', "
        "MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=154, MASTER_SSL=1"
    ]


def test_change_master_only_given_fields() -> None:
    assert MYSQL57.change_master(host="db-2", port=3307) == ["CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3307"]
    assert MYSQL57.change_master(gtid="auto") == ["CHANGE MASTER TO MASTER_AUTO_POSITION=1"]
    assert MYSQL57.change_master(host="db-2", log_file="f.1", log_pos=4, gtid="off") == [
        "CHANGE MASTER TO MASTER_HOST='db-2', MASTER_LOG_FILE='f.1', MASTER_LOG_POS=4, MASTER_AUTO_POSITION=0"
    ]
    assert MYSQL57.change_master(ssl=False) == ["CHANGE MASTER TO MASTER_SSL=0"]
    assert MYSQL57.change_master(host="//db-2") == ["CHANGE MASTER TO MASTER_HOST='//db-2'"]


def test_change_master_delay() -> None:
    assert MYSQL57.change_master(delay=30) == ["CHANGE MASTER TO MASTER_DELAY=30"]
    assert MYSQL84.change_master(delay=0) == ["CHANGE REPLICATION SOURCE TO SOURCE_DELAY=0"]
    with pytest.raises(FlavorError):
        MYSQL57.change_master(delay=-1)


def test_change_master_version_gates() -> None:
    assert MYSQL80_LEGACY.change_master(host="h", gtid="auto") == [
        "CHANGE MASTER TO MASTER_HOST='h', MASTER_AUTO_POSITION=1"
    ]
    # 8.0.22 has START REPLICA but not yet CHANGE REPLICATION SOURCE
    assert MYSQL8022.change_master(host="h", gtid="auto") == [
        "CHANGE MASTER TO MASTER_HOST='h', MASTER_AUTO_POSITION=1"
    ]
    assert MYSQL8023.change_master(host="h", gtid="auto") == [
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='h', SOURCE_AUTO_POSITION=1"
    ]
    assert MYSQL84.change_master(
        host="db-1", port=3306, user="repl", password="pw", log_file="binlog.000002", log_pos=157, gtid="off", ssl=True
    ) == [
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_PORT=3306, SOURCE_USER='repl', "
        "SOURCE_PASSWORD='pw', SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157, SOURCE_AUTO_POSITION=0, "
        "SOURCE_SSL=1"
    ]


def test_change_master_mariadb_gtid() -> None:
    assert MARIADB.change_master(host="mdb-1", port=3306, gtid="slave_pos") == [
        "CHANGE MASTER TO MASTER_HOST='mdb-1', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos"
    ]
    assert MARIADB.change_master(gtid="current_pos") == ["CHANGE MASTER TO MASTER_USE_GTID=current_pos"]
    assert MARIADB.change_master(host="mdb-1", port=3306, log_file="mysql-bin.000002", log_pos=385, gtid="off") == [
        "CHANGE MASTER TO MASTER_HOST='mdb-1', MASTER_PORT=3306, MASTER_LOG_FILE='mysql-bin.000002', "
        "MASTER_LOG_POS=385, MASTER_USE_GTID=no"
    ]
    assert MARIADB11.change_master(host="x", gtid="slave_pos") == [
        "CHANGE MASTER TO MASTER_HOST='x', MASTER_USE_GTID=slave_pos"
    ]
    with pytest.raises(FlavorError, match="auto-position"):
        MARIADB.change_master(host="x", gtid="auto")
    with pytest.raises(FlavorError, match="predates GTID"):
        detect_flavor("5.5.68-MariaDB").change_master(gtid="slave_pos")


def test_change_master_password_quoting() -> None:
    stmt = MYSQL57.change_master(user="repl", password="p'a\\ss")[0]
    assert stmt == "CHANGE MASTER TO MASTER_USER='repl', MASTER_PASSWORD='p\\'a\\\\ss'"
    stmt = MYSQL84.change_master(password="x'; DROP TABLE t; --")[0]
    assert stmt == "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD='x\\'; DROP TABLE t; --'"
    assert MARIADB.change_master(user="", password="")[0] == "CHANGE MASTER TO MASTER_USER='', MASTER_PASSWORD=''"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"gtid": "on"},
        {"gtid": "slave_pos"},
        {"gtid": "current_pos", "host": "h"},
        {"gtid": "auto", "log_file": "f.1", "log_pos": 4},
        {"gtid": "auto", "log_pos": 4},
        {"port": "3306"},
        {"port": True},
        {"port": 0},
        {"port": 70000},
        {"log_pos": -1},
        {"log_pos": 4.0},
        {"host": ""},
        {"host": 5},
        {"log_file": ""},
        {"ssl": "yes"},
    ],
)
def test_change_master_invalid_oracle(kwargs: dict[str, object]) -> None:
    with pytest.raises(FlavorError):
        MYSQL80_.change_master(**kwargs)  # type: ignore[arg-type]


def test_change_master_invalid_mariadb() -> None:
    with pytest.raises(FlavorError):
        MARIADB.change_master(gtid="slave_pos", log_file="f.1", log_pos=4)
    with pytest.raises(FlavorError):
        MARIADB.change_master()
    with pytest.raises(FlavorError, match="predates GTID"):
        detect_flavor("5.5.62").change_master(gtid="auto")


# --- MySQL 8.4 vocabulary --------------------------------------------------------------------------

_LEGACY_WORDS = re.compile(r"slave|master", re.IGNORECASE)


def _all_change_statements(flavor: Flavor) -> list[str]:
    stmts: list[str] = []
    stmts += flavor.stop_replica() + flavor.start_replica()
    stmts += flavor.stop_io_thread() + flavor.start_io_thread()
    stmts += flavor.stop_sql_thread() + flavor.start_sql_thread()
    stmts += flavor.reset_replica(False) + flavor.reset_replica(True)
    stmts += flavor.start_replica_until("binlog.000001", 4)
    stmts += flavor.change_master(
        host="h", port=3306, user="u", password="p", log_file="binlog.000001", log_pos=4, gtid="off", ssl=True
    )
    stmts += flavor.change_master(host="h", gtid="auto")
    stmts += flavor.set_read_only(True, True) + flavor.set_read_only(False, True)
    stmts += flavor.skip_query()
    stmts += flavor.inject_empty_transaction(f"{UUID_A}:5")
    stmts += flavor.flush_binary_logs() + flavor.purge_binary_logs_to("binlog.000001")
    stmts += flavor.reset_master() + flavor.set_gtid_purged(f"{UUID_A}:1-5")
    for enabled in (True, False):
        stmts += flavor.set_semi_sync_master(enabled) + flavor.set_semi_sync_replica(enabled)
    stmts.append(flavor.master_pos_wait("binlog.000001", 4, 1))
    stmts.append(flavor.gtid_wait(f"{UUID_A}:1-5", 1))
    stmts += [
        flavor.replica_status_sql(),
        flavor.replica_connections_sql(),
        flavor.replica_hosts_sql(),
        flavor.master_status_sql(),
        flavor.core_variables_sql(),
        flavor.binary_logs_sql(),
    ]
    return stmts


@pytest.mark.parametrize("flavor", [MYSQL84, MYSQL91, detect_flavor("8.2.0")])
def test_mysql84_never_uses_legacy_words(flavor: Flavor) -> None:
    stmts = _all_change_statements(flavor)
    offending = [s for s in stmts if _LEGACY_WORDS.search(s.replace("AS log_slave_updates", ""))]
    assert offending == []
    assert flavor.reset_master() == ["RESET BINARY LOGS AND GTIDS"]
    # even when told the legacy plugin is loaded: 8.4 only has the source/replica plugins
    assert flavor.set_semi_sync_master(True, source_names=False) == ["SET GLOBAL rpl_semi_sync_source_enabled = 1"]


def test_mysql80_modern_uses_no_legacy_statement_words() -> None:
    stmts = _all_change_statements(MYSQL80_)
    offending = [s for s in stmts if _LEGACY_WORDS.search(s.replace("AS log_slave_updates", ""))]
    # 8.0 keeps RESET MASTER / SHOW MASTER STATUS and the legacy semi-sync plugin by default
    assert offending == [
        "RESET MASTER",
        "SET GLOBAL rpl_semi_sync_master_enabled = 1",
        "SET GLOBAL rpl_semi_sync_slave_enabled = 1",
        "SET GLOBAL rpl_semi_sync_master_enabled = 0",
        "SET GLOBAL rpl_semi_sync_slave_enabled = 0",
        "SHOW MASTER STATUS",
    ]


# --- server state ----------------------------------------------------------------------------------


def test_set_read_only() -> None:
    for flavor in (MYSQL57, MYSQL80_, MYSQL84):
        assert flavor.set_read_only(True, True) == ["SET GLOBAL read_only = 1", "SET GLOBAL super_read_only = 1"]
        assert flavor.set_read_only(True, False) == ["SET GLOBAL read_only = 1"]
        assert flavor.set_read_only(False, True) == ["SET GLOBAL super_read_only = 0", "SET GLOBAL read_only = 0"]
        assert flavor.set_read_only(False, False) == ["SET GLOBAL read_only = 0"]
    for flavor in (MARIADB, MARIADB11, MYSQL56):
        assert flavor.set_read_only(True, True) == ["SET GLOBAL read_only = 1"]
        assert flavor.set_read_only(False, True) == ["SET GLOBAL read_only = 0"]


def test_master_pos_wait() -> None:
    assert MARIADB.master_pos_wait("mysql-bin.000001", 1833, 2) == (
        "SELECT MASTER_POS_WAIT('mysql-bin.000001', 1833, 2) AS wait_result"
    )
    assert MYSQL57.master_pos_wait("f.1", 4, 0) == "SELECT MASTER_POS_WAIT('f.1', 4, 0) AS wait_result"
    assert MYSQL8025.master_pos_wait("f.1", 4, 9) == "SELECT MASTER_POS_WAIT('f.1', 4, 9) AS wait_result"
    assert detect_flavor("8.0.26").master_pos_wait("f.1", 4, 9) == "SELECT SOURCE_POS_WAIT('f.1', 4, 9) AS wait_result"
    assert MYSQL84.master_pos_wait("f.1", 4, 9) == "SELECT SOURCE_POS_WAIT('f.1', 4, 9) AS wait_result"
    with pytest.raises(FlavorError):
        MYSQL84.master_pos_wait("f.1", 4, -1)
    assert MYSQL84.parse_pos_wait({"wait_result": 0}) is True
    assert MYSQL84.parse_pos_wait({"wait_result": "12"}) is True
    assert MYSQL84.parse_pos_wait({"wait_result": -1}) is False
    with pytest.raises(FlavorError):
        MYSQL84.parse_pos_wait({"wait_result": None})
    with pytest.raises(FlavorError):
        MYSQL84.parse_pos_wait(None)


def test_gtid_wait() -> None:
    assert MARIADB.gtid_wait("0-1-9", 2) == "SELECT MASTER_GTID_WAIT('0-1-9', 2) AS wait_result"
    assert MARIADB.gtid_wait("0-1-9,1-2-30", 2) == "SELECT MASTER_GTID_WAIT('0-1-9,1-2-30', 2) AS wait_result"
    assert MYSQL57.gtid_wait(f"{UUID_A}:1-5", 3) == (
        f"SELECT WAIT_FOR_EXECUTED_GTID_SET('{UUID_A}:1-5', 3) AS wait_result"
    )
    assert MYSQL84.gtid_wait(f"{UUID_A}:1-5,\n{UUID_B}:1-3:7", 3) == (
        f"SELECT WAIT_FOR_EXECUTED_GTID_SET('{UUID_A}:1-5,{UUID_B}:1-3:7', 3) AS wait_result"
    )
    with pytest.raises(FlavorError):
        MARIADB.gtid_wait(f"{UUID_A}:1-5", 3)
    with pytest.raises(FlavorError):
        MYSQL80_.gtid_wait("0-1-9", 3)
    with pytest.raises(FlavorError):
        MYSQL80_.gtid_wait(f"{UUID_A}:1-5') OR 1=1 -- ", 3)
    with pytest.raises(FlavorError):
        MYSQL56.gtid_wait(f"{UUID_A}:1-5", 3)
    assert MARIADB.parse_gtid_wait({"wait_result": 0}) is True
    assert MARIADB.parse_gtid_wait({"wait_result": -1}) is False
    assert MYSQL80_.parse_gtid_wait({"wait_result": 1}) is False
    with pytest.raises(FlavorError):
        MYSQL80_.parse_gtid_wait({"wait_result": None})


def test_skip_query() -> None:
    assert MARIADB.skip_query() == ["SET GLOBAL sql_slave_skip_counter = 1"]
    assert MARIADB.skip_query(oracle_gtid=True) == ["SET GLOBAL sql_slave_skip_counter = 1"]
    assert MYSQL57.skip_query() == ["SET GLOBAL sql_slave_skip_counter = 1"]
    assert MYSQL8025.skip_query() == ["SET GLOBAL sql_slave_skip_counter = 1"]
    assert MYSQL80_.skip_query() == ["SET GLOBAL sql_replica_skip_counter = 1"]
    assert MYSQL84.skip_query() == ["SET GLOBAL sql_replica_skip_counter = 1"]
    for flavor in (MYSQL57, MYSQL80_, MYSQL84):
        with pytest.raises(FlavorError, match="inject_empty_transaction"):
            flavor.skip_query(oracle_gtid=True)


def test_inject_empty_transaction() -> None:
    assert MYSQL57.inject_empty_transaction(f"{UUID_A}:58121") == [
        f"SET GTID_NEXT = '{UUID_A}:58121'",
        "BEGIN",
        "COMMIT",
        "SET GTID_NEXT = 'AUTOMATIC'",
    ]
    assert MYSQL84.inject_empty_transaction(f"{UUID_A}:maint:3")[0] == f"SET GTID_NEXT = '{UUID_A}:maint:3'"
    with pytest.raises(FlavorError):
        MARIADB.inject_empty_transaction("0-1-5")
    for bad in (f"{UUID_A}:1-5", f"{UUID_A}", "nope:1", f"{UUID_A}:1,{UUID_B}:2"):
        with pytest.raises(FlavorError):
            MYSQL80_.inject_empty_transaction(bad)


def test_reset_master_and_gtid_purged() -> None:
    assert MARIADB.reset_master() == ["RESET MASTER"]
    assert MYSQL57.reset_master() == ["RESET MASTER"]
    assert MYSQL80_.reset_master() == ["RESET MASTER"]
    assert MYSQL84.reset_master() == ["RESET BINARY LOGS AND GTIDS"]
    assert MYSQL57.set_gtid_purged(f"{UUID_A}:1-100,{UUID_B}:1-3") == [
        f"SET GLOBAL gtid_purged = '{UUID_A}:1-100,{UUID_B}:1-3'"
    ]
    assert MYSQL80_.set_gtid_purged(f"+{UUID_A}:101-110") == [f"SET GLOBAL gtid_purged = '+{UUID_A}:101-110'"]
    assert MYSQL80_.set_gtid_purged("") == ["SET GLOBAL gtid_purged = ''"]
    with pytest.raises(FlavorError):
        MARIADB.set_gtid_purged("0-1-5")
    with pytest.raises(FlavorError):
        MYSQL80_.set_gtid_purged("x'; SET GLOBAL read_only=0; --")


def test_set_gtid_slave_pos() -> None:
    assert MARIADB.set_gtid_slave_pos("0-1-9") == ["SET GLOBAL gtid_slave_pos = '0-1-9'"]
    assert MARIADB.set_gtid_slave_pos("0-1-9, 1-2-3") == ["SET GLOBAL gtid_slave_pos = '0-1-9, 1-2-3'"]
    assert MARIADB.set_gtid_slave_pos("") == ["SET GLOBAL gtid_slave_pos = ''"]
    with pytest.raises(FlavorError):
        MARIADB.set_gtid_slave_pos("0-1")
    with pytest.raises(FlavorError):
        MYSQL80_.set_gtid_slave_pos("0-1-9")


def test_semi_sync_setters() -> None:
    for flavor in (MARIADB, MYSQL57, MYSQL80_LEGACY, MYSQL80_):
        assert flavor.set_semi_sync_master(True) == ["SET GLOBAL rpl_semi_sync_master_enabled = 1"]
        assert flavor.set_semi_sync_master(False) == ["SET GLOBAL rpl_semi_sync_master_enabled = 0"]
        assert flavor.set_semi_sync_replica(True) == ["SET GLOBAL rpl_semi_sync_slave_enabled = 1"]
        assert flavor.set_semi_sync_replica(False) == ["SET GLOBAL rpl_semi_sync_slave_enabled = 0"]
    assert MYSQL80_.set_semi_sync_master(True, source_names=True) == ["SET GLOBAL rpl_semi_sync_source_enabled = 1"]
    assert MYSQL80_.set_semi_sync_replica(True, source_names=True) == ["SET GLOBAL rpl_semi_sync_replica_enabled = 1"]
    assert MYSQL84.set_semi_sync_master(False) == ["SET GLOBAL rpl_semi_sync_source_enabled = 0"]
    assert MYSQL84.set_semi_sync_replica(True) == ["SET GLOBAL rpl_semi_sync_replica_enabled = 1"]
