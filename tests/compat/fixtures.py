"""Backend rows in the shape the original's integration fixtures write them.

The original's `tests/integration/test.sh` deploys the schema with `-c redeploy-internal-db`, then
feeds plain SQL to the `mysql` / `sqlite3` clients: five `database_instance` rows (testhost:22293 to
22297) listing exactly 64 columns, and per-test INSERT/UPDATE statements on the maintenance,
downtime, candidate and tag tables. `OriginalFixture` does the same through a raw DB-API connection
(sqlite3 or mysql.connector), never through our backend code, so our readers are checked against
rows they did not write themselves, including the quirks of each backend:

* on SQLite, backslashes are not escapes, so `slave_hosts` keeps `\\"` and is not valid JSON, and
  `last_sql_error` is the literal `\\"\\"`;
* `last_checked - interval 1 minute` becomes `datetime('last_checked', '-1 minute')` on SQLite,
  which is NULL: `last_seen` ends up NULL there;
* candidate rows omit `last_suggested` and tag rows omit `last_updated` (they take defaults).

Topology of the five rows (all in cluster testhost:22293, last checked in 2017)::

    22293
    + 22294
      + 22295
    + 22296   (no binary log)
    + 22297
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support import run_cli, sqlite_config, write_config

# The 64 columns the original's create-per-test.sql lists, in its order.
FIXTURE_COLUMNS = (
    "hostname", "port", "last_checked", "last_attempted_check", "last_seen", "uptime", "server_id", "server_uuid",
    "version", "binlog_server", "read_only", "binlog_format", "log_bin", "log_slave_updates", "binary_log_file",
    "binary_log_pos", "master_host", "master_port", "slave_sql_running", "slave_io_running",
    "has_replication_filters", "oracle_gtid", "master_uuid", "ancestry_uuid", "executed_gtid_set", "gtid_purged",
    "gtid_errant", "supports_oracle_gtid", "mariadb_gtid", "pseudo_gtid", "master_log_file", "read_master_log_pos",
    "relay_master_log_file", "exec_master_log_pos", "relay_log_file", "relay_log_pos", "last_sql_error",
    "last_io_error", "seconds_behind_master", "slave_lag_seconds", "sql_delay", "allow_tls", "num_slave_hosts",
    "slave_hosts", "cluster_name", "suggested_cluster_alias", "data_center", "region", "physical_environment",
    "instance_alias", "semi_sync_enforced", "replication_depth", "is_co_master", "replication_credentials_available",
    "has_replication_credentials", "version_comment", "major_version", "last_check_partial_success",
    "binlog_row_image", "last_discovery_latency", "semi_sync_master_enabled", "semi_sync_replica_enabled",
    "gtid_mode", "replication_group_members",
)  # fmt: skip
assert len(FIXTURE_COLUMNS) == 64

HOST = "testhost"
PORTS = (22293, 22294, 22295, 22296, 22297)
MASTER = f"{HOST}:22293"
CHECKED = "2017-02-02 08:29:57"

# Tables create-per-test.sql empties before every test.
PER_TEST_CLEARED = (
    "database_instance_maintenance",
    "database_instance_downtime",
    "database_instance",
    "database_instance_tags",
    "database_instance_stale_binlog_coordinates",
    "candidate_database_instance",
)


def _hosts_json(ports: Sequence[int], escaped: bool) -> str:
    """`slave_hosts` as the fixture literal leaves it: escaped quotes survive on SQLite."""
    text = json.dumps([{"Hostname": HOST, "Port": p} for p in ports], separators=(",", ":"))
    return text.replace('"', '\\"') if escaped else text


def instance_rows(sqlite: bool) -> list[tuple[Any, ...]]:
    """The five rows, values in FIXTURE_COLUMNS order."""
    quoted_empty = '\\"\\"' if sqlite else '""'

    def row(
        port: int,
        *,
        server_id: int,
        version: str = "5.6.28-log",
        log_bin: int = 1,
        master_port: int = 0,
        binlog: tuple[str, int],
        exec_coords: tuple[str, int] = ("", 0),
        relay: tuple[str, int] = ("", 0),
        replicas: Sequence[int] = (),
        alias: str = "",
        depth: int = 0,
        dc: str = "ny",
    ) -> tuple[Any, ...]:
        replica = master_port != 0
        values = {
            "hostname": HOST,
            "port": port,
            "last_checked": CHECKED,
            "last_attempted_check": CHECKED,
            "last_seen": CHECKED,
            "uptime": 670000 + port % 100,
            "server_id": server_id,
            "server_uuid": f"000{port}-{server_id:04d}-1111-1111-111111111111",
            "version": version,
            "binlog_server": 0,
            "read_only": 0,
            "binlog_format": "STATEMENT",
            "log_bin": log_bin,
            "log_slave_updates": 1,
            "binary_log_file": binlog[0],
            "binary_log_pos": binlog[1],
            "master_host": HOST if replica else "",
            "master_port": master_port,
            "slave_sql_running": int(replica),
            "slave_io_running": int(replica),
            "has_replication_filters": 0,
            "oracle_gtid": 0,
            "master_uuid": "",
            "ancestry_uuid": "",
            "executed_gtid_set": "",
            "gtid_purged": "",
            "gtid_errant": "",
            "supports_oracle_gtid": 0,
            "mariadb_gtid": 0,
            "pseudo_gtid": 1,
            "master_log_file": exec_coords[0],
            "read_master_log_pos": exec_coords[1],
            "relay_master_log_file": exec_coords[0],
            "exec_master_log_pos": exec_coords[1],
            "relay_log_file": relay[0],
            "relay_log_pos": relay[1],
            "last_sql_error": quoted_empty if replica else "",
            "last_io_error": quoted_empty if replica else "",
            "seconds_behind_master": None,
            "slave_lag_seconds": None,
            "sql_delay": 0,
            "allow_tls": 0,
            "num_slave_hosts": len(replicas),
            "slave_hosts": _hosts_json(replicas, sqlite),
            "cluster_name": MASTER,
            "suggested_cluster_alias": alias,
            "data_center": dc,
            "region": "",
            "physical_environment": "",
            "instance_alias": "",
            "semi_sync_enforced": 0,
            "replication_depth": depth,
            "is_co_master": 0,
            "replication_credentials_available": 0,
            "has_replication_credentials": int(replica),
            "version_comment": "MySQL Community Server (GPL)",
            "major_version": "5.6",
            "last_check_partial_success": 0,
            "binlog_row_image": "full",
            "last_discovery_latency": 0,
            "semi_sync_master_enabled": 0,
            "semi_sync_replica_enabled": 0,
            "gtid_mode": "OFF",
            "replication_group_members": "[]",
        }
        return tuple(values[c] for c in FIXTURE_COLUMNS)

    master_binlog = ("mysql-bin.000167", 137086726)
    return [
        row(22293, server_id=1, binlog=master_binlog, replicas=(22294, 22297, 22296), alias="testhost"),
        row(
            22294,
            server_id=101,
            master_port=22293,
            binlog=("mysql-bin.000132", 15931747),
            exec_coords=master_binlog,
            relay=("mysql-relay.000029", 15978254),
            replicas=(22295,),
            depth=1,
        ),
        row(
            22295,
            server_id=102,
            master_port=22294,
            binlog=("mysql-bin.000129", 136688950),
            exec_coords=("mysql-bin.000132", 15931747),
            relay=("mysql-relay.000002", 15868528),
            depth=2,
        ),
        row(
            22296,
            server_id=103,
            version="5.6.28",
            log_bin=0,
            master_port=22293,
            binlog=("", 0),
            exec_coords=master_binlog,
            relay=("mysql-relay.000052", 137086889),
            depth=1,
        ),
        row(
            22297,
            server_id=104,
            master_port=22293,
            binlog=("mysql-bin.001013", 106518535),
            exec_coords=master_binlog,
            relay=("mysql-relay.000041", 86111934),
            depth=1,
            dc="seattle",
        ),
    ]


class OriginalFixture:
    """A backend deployed by our CLI and filled the way the original's test harness fills it."""

    def __init__(self, kind: str, config: Path, db: dict[str, Any]) -> None:
        self.kind = kind
        self.config = config
        self._db = db
        self._conn: Any = None

    @property
    def sqlite(self) -> bool:
        return self.kind == "sqlite"

    # -- time expressions, spelled per backend the way test.sh rewrites them ------------------------
    def now_plus(self, minutes: int) -> str:
        if self.sqlite:
            return f"datetime('now', '{minutes:+d} minute')"
        sign = "+" if minutes >= 0 else "-"
        return f"current_timestamp {sign} interval {abs(minutes)} minute"

    @property
    def now(self) -> str:
        return "datetime('now')" if self.sqlite else "current_timestamp"

    def column_minus_minute(self, column: str) -> str:
        """`<column> - interval 1 minute`, with test.sh's SQLite rewrite that yields NULL there."""
        return f"datetime('{column}', '-1 minute')" if self.sqlite else f"{column} - interval 1 minute"

    # -- raw access -----------------------------------------------------------------------------
    def connection(self) -> Any:
        if self._conn is None:
            if self.sqlite:
                import sqlite3

                self._conn = sqlite3.connect(self._db["SQLite3DataFile"], isolation_level=None, timeout=30)
            else:
                import mysql.connector

                self._conn = mysql.connector.connect(
                    host=self._db["MySQLOrchestratorHost"],
                    port=self._db["MySQLOrchestratorPort"],
                    user=self._db["MySQLOrchestratorUser"],
                    password=self._db["MySQLOrchestratorPassword"],
                    database=self._db["MySQLOrchestratorDatabase"],
                    autocommit=True,
                )
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement as the `sqlite3` / `mysql` client would (placeholders: `?`)."""
        conn = self.connection()
        cur = conn.cursor()
        try:
            if self.sqlite:
                cur.execute(sql, tuple(params))
            else:
                cur.execute(sql.replace("?", "%s"), tuple(params) if params else None)
        finally:
            cur.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = self.connection()
        cur = conn.cursor()
        try:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the per-test set-up ----------------------------------------------------------------------
    def create_per_test(self) -> None:
        """Empty the per-test tables, insert the five rows, then set the thread states as the original does."""
        for table in PER_TEST_CLEARED:
            self.execute(f"DELETE FROM {table}")
        placeholders = ", ".join("?" for _ in FIXTURE_COLUMNS)
        insert = f"INSERT INTO database_instance ({', '.join(FIXTURE_COLUMNS)}) VALUES ({placeholders})"
        for values in instance_rows(self.sqlite):
            self.execute(insert, values)
        self.execute("UPDATE database_instance SET replication_sql_thread_state = 1 WHERE slave_sql_running = 1")
        self.execute("UPDATE database_instance SET replication_io_thread_state = 1 WHERE slave_io_running = 1")
        self.execute(
            "UPDATE database_instance SET replication_sql_thread_state = -1, replication_io_thread_state = -1"
            " WHERE port = 22293"
        )

    def cli(self, *args: str) -> Any:
        return run_cli(*args, config=self.config)

    def table_counts(self) -> dict[str, int]:
        """Row count of every table in the backend (for 'nothing was written' checks)."""
        if self.sqlite:
            names = [r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            names = [r[0] for r in self.query("SHOW TABLES")]
        return {name: int(self.query(f"SELECT COUNT(*) FROM {name}")[0][0]) for name in sorted(names)}


@contextmanager
def original_fixture(kind: str, tmp_path: Path, mysql_db: dict[str, Any] | None = None) -> Iterator[OriginalFixture]:
    """Deploy a backend with `-c redeploy-internal-db`, fill it like create-per-test.sql, yield it."""
    if kind == "sqlite":
        config = sqlite_config(tmp_path)
        db: dict[str, Any] = {"SQLite3DataFile": str(tmp_path / "orchestrator.sqlite3")}
    else:
        assert mysql_db is not None
        db = dict(mysql_db)
        config = write_config(tmp_path / "orchestrator.conf.json", **db)
    deployed = run_cli("-c", "redeploy-internal-db", config=config)
    assert deployed.code == 0, deployed.err
    assert deployed.lines == ["Redeployed internal db"]
    fixture = OriginalFixture(kind, config, db)
    try:
        fixture.create_per_test()
        yield fixture
    finally:
        fixture.close()


@contextmanager
def deployed_for(request: Any, tmp_path_factory: Any, name: str) -> Iterator[OriginalFixture]:
    """`original_fixture` for a module fixture parametrised by backend kind ("sqlite" or "mysql": a
    private database of the shared MySQL backend)."""
    kind = str(request.param)
    mysql_db = request.getfixturevalue("mysql_backend_db_module") if kind == "mysql" else None
    with original_fixture(kind, tmp_path_factory.mktemp(f"{name}-{kind}"), mysql_db) as fixture:
        yield fixture
