"""The one replication-credentials helper: ReplicationCredentialsQuery read by position, its errors,
and the fallback to what the server stores (MySQL's mysql.slave_master_info; nothing on MariaDB)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.topology.credentials import from_row, replication_credentials

KEY = InstanceKey("db1", 3306)
MARIADB = fl.detect_flavor("10.11.6-MariaDB-log")
MYSQL = fl.detect_flavor("8.0.36")


class FakeServer:
    """Answers user-configured queries with tuples, as TopologyServer.first_row does."""

    def __init__(self, flavor: fl.Flavor, rows: dict[str, Any]) -> None:
        self.flavor = flavor
        self.rows = rows
        self.asked: list[str] = []

    def first_row(self, sql: str) -> tuple[Any, ...] | None:
        self.asked.append(sql)
        answer = self.rows[sql]
        if isinstance(answer, Exception):
            raise answer
        return answer


def env_of(server: FakeServer, **config: Any) -> Any:
    return SimpleNamespace(config=config, server=lambda key: server)


def test_a_row_is_read_by_position() -> None:
    creds = from_row(KEY, ("ci", "ci"))
    assert (creds.user, creds.password, creds.source) == ("ci", "ci", "ReplicationCredentialsQuery")
    assert from_row(KEY, ("repl", None, "ca.pem")).password == ""  # extra columns (SSL files) are not used
    assert "ci" not in repr(from_row(KEY, ("u", "ci"))).replace("'u'", "")  # the password is never shown


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (None, "db1:3306: ReplicationCredentialsQuery returned no row"),
        (("ci",), "must return user and password (got 1 column)"),
        (("", "secret"), "returned an empty user"),
        ((None, "secret"), "returned an empty user"),
    ],
)
def test_a_configured_query_that_answers_nothing_usable_is_an_error(row: Any, message: str) -> None:
    with pytest.raises(TopologyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_row(KEY, row)


def test_the_query_runs_on_the_given_server_whatever_its_flavor() -> None:
    server = FakeServer(MARIADB, {"select 'ci', 'ci'": ("ci", "ci")})
    creds = replication_credentials(env_of(server, ReplicationCredentialsQuery="select 'ci', 'ci'"), KEY)
    assert creds is not None and (creds.user, creds.password) == ("ci", "ci")
    empty = FakeServer(MARIADB, {"select 1, 2 from dual where 0": None})
    with pytest.raises(TopologyError, match="returned no row"):
        replication_credentials(env_of(empty, ReplicationCredentialsQuery="select 1, 2 from dual where 0"), KEY)


def test_without_the_query_mariadb_has_no_source() -> None:
    server = FakeServer(MARIADB, {})
    assert MARIADB.stored_replication_credentials_sql() is None
    assert replication_credentials(env_of(server), KEY) is None
    assert server.asked == []


def test_without_the_query_mysql_reads_slave_master_info() -> None:
    sql = MYSQL.stored_replication_credentials_sql()
    assert sql is not None and "mysql.slave_master_info" in sql
    creds = replication_credentials(env_of(FakeServer(MYSQL, {sql: ("repl", "s3cret")})), KEY)
    assert creds is not None and (creds.user, creds.password, creds.source) == (
        "repl",
        "s3cret",
        "mysql.slave_master_info",
    )
    assert replication_credentials(env_of(FakeServer(MYSQL, {sql: ("", "")})), KEY) is None  # table empty
    missing = TopologyError("db1:3306: Table 'mysql.slave_master_info' doesn't exist")
    assert replication_credentials(env_of(FakeServer(MYSQL, {sql: missing})), KEY) is None


def test_ssl_files_from_columns_three_to_five_turn_ssl_on() -> None:
    plain = from_row(KEY, ("ci", "ci"))
    assert MARIADB.change_master(**plain.change_master_fields()) == [
        "CHANGE MASTER TO MASTER_USER='ci', MASTER_PASSWORD='ci'"
    ]
    assert MARIADB.change_master(**plain.change_master_fields(ssl_allowed=True)) == [
        "CHANGE MASTER TO MASTER_USER='ci', MASTER_PASSWORD='ci', MASTER_SSL=1"
    ]
    with_files = from_row(KEY, ("repl", "pw", "/etc/ssl/ca.pem", "", None))
    assert with_files.ssl_files == ("/etc/ssl/ca.pem", "", "")
    assert MARIADB.change_master(**with_files.change_master_fields()) == [
        "CHANGE MASTER TO MASTER_USER='repl', MASTER_PASSWORD='pw', MASTER_SSL=1, MASTER_SSL_CA='/etc/ssl/ca.pem'"
    ]
    mysql84 = fl.detect_flavor("8.4.2")
    full = from_row(KEY, ("repl", "pw", "ca.pem", "cert.pem", "key.pem"))
    assert mysql84.change_master(**full.change_master_fields()) == [
        "CHANGE REPLICATION SOURCE TO SOURCE_USER='repl', SOURCE_PASSWORD='pw', SOURCE_SSL=1,"
        " SOURCE_SSL_CA='ca.pem', SOURCE_SSL_CERT='cert.pem', SOURCE_SSL_KEY='key.pem'"
    ]
