"""Which statement reads every replication connection, per flavor (MariaDB multi-source)."""

from __future__ import annotations

from orchestrator_cli.mysql.facts import ThreadState
from orchestrator_cli.mysql.flavor import MariaDB, detect_flavor


def test_mariadb_reads_all_connections_in_one_statement() -> None:
    assert MariaDB("10.11.6-MariaDB").replica_connections_sql() == "SHOW ALL SLAVES STATUS"
    assert MariaDB("5.5.68-MariaDB").replica_connections_sql() == "SHOW SLAVE STATUS"  # before multi-source


def test_oracle_mysql_reads_its_replica_status() -> None:
    assert detect_flavor("5.7.40-log").replica_connections_sql() == "SHOW SLAVE STATUS"
    assert detect_flavor("8.0.35").replica_connections_sql() == "SHOW REPLICA STATUS"


def test_connections_are_named_and_parsed_in_order() -> None:
    rows = [
        {"Connection_name": "", "Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "Yes",
         "Slave_SQL_Running": "Yes"},
        {"Connection_name": "b", "Master_Host": "db2", "Master_Port": 3307, "Slave_IO_Running": "No",
         "Slave_SQL_Running": "Yes"},
    ]  # fmt: skip
    parsed = MariaDB("10.11.6-MariaDB").parse_replica_connections(rows)
    assert [(n, s.master_host, s.master_port, s.io_state) for n, s in parsed] == [
        ("", "db1", 3306, ThreadState.RUNNING),
        ("b", "db2", 3307, ThreadState.STOPPED),
    ]
    assert MariaDB("10.11.6-MariaDB").parse_replica_connections(None) == []
    # Oracle rows have no Connection_name: the one connection is the default one.
    assert [n for n, _ in detect_flavor("8.0.35").parse_replica_connections([{"Source_Host": "db1"}])] == [""]
