"""Replication operations on Oracle MySQL 5.7 / 8.0 / 8.4 (and MariaDB) without a server.

A `RecordedServer` answers the flavor's probe statements from the recorded outputs in
tests/compat/recorded/*.json (any other statement fails the test), so the real operation code runs:
live read, preconditions, maintenance-lock check, and the statements it sends. Under --noop those
statements are recorded instead of run, which is what the tests compare.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import OrchestratorError, TopologyError, UnsafeOperationError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.mysql.protocol import TopologyServer
from orchestrator_cli.mysql.server import ConnectedServer
from orchestrator_cli.topology import replication as ops
from orchestrator_cli.topology.env import TopologyEnv, make_env
from orchestrator_cli.topology.primitives import Live, read_live
from tests.support import sqlite_config

RECORDED = Path(__file__).resolve().parent.parent / "compat" / "recorded"
Fixture = dict[str, Any]


def recorded(name: str) -> Fixture:
    data: Fixture = json.loads((RECORDED / f"{name}.json").read_text())
    return data


def with_status(data: Fixture, **columns: Any) -> Fixture:
    """A copy of a fixture with SHOW SLAVE STATUS columns replaced, under whichever naming it uses."""
    changed = copy.deepcopy(data)
    row = changed["replica_status"][0]
    for column, value in columns.items():
        modern = column.replace("Slave", "Replica").replace("Master", "Source")
        row[modern if modern in row and column not in row else column] = value
    return changed


class RecordedServer(ConnectedServer):
    """A topology server replaying one recorded fixture; unknown statements fail loudly."""

    def __init__(self, key: InstanceKey, access: RecordedAccess, data: Fixture) -> None:
        super().__init__(key, access)
        self.recorded = access
        self.data = data
        self._flavor = fl.detect_flavor_from_row(data["server"])  # what a connection's handshake announces

    def _answers(self) -> dict[str, list[dict[str, Any]]]:
        data = self.data
        flavor = fl.detect_flavor_from_row(data["server"])
        core = data.get("core_variables") or {
            "hostname": self.key.hostname, "report_host": "", "server_id": 1, "read_only": 1, "binlog_format": "ROW",
            "log_bin": 1, "log_slave_updates": 1, "super_read_only": 0, **data["server"],
        }  # fmt: skip
        master_status = data.get("master_status")
        binary_logs = data.get("binary_logs") or (
            [{"Log_name": master_status["File"], "File_size": master_status["Position"]}] if master_status else []
        )
        answers = {
            fl.version_sql(): [data["server"]],
            flavor.core_variables_sql(): [core],
            flavor.uptime_sql(): [{"Variable_name": "Uptime", "Value": "86400"}],
            flavor.master_status_sql(): [master_status] if master_status else [],
            flavor.replica_status_sql(): data.get("replica_status") or [],
            flavor.replica_connections_sql(): data.get("replica_status") or [],
            flavor.semi_sync_variables_sql(): data.get("semi_sync_variables") or [],
            flavor.semi_sync_status_sql(): data.get("semi_sync_status") or [],
            flavor.replica_hosts_sql(): data.get("replica_hosts") or [],
            flavor.processlist_replicas_sql(): [],
            flavor.binary_logs_sql(): binary_logs,
        }
        gtid_sql = flavor.gtid_facts_sql()
        if gtid_sql:
            answers[gtid_sql] = [data["gtid_facts"]] if data.get("gtid_facts") else []
        # the probe's combined statements answer what their parts answer, in one row / one list
        gtid_row = (data.get("gtid_facts") or {}) if gtid_sql else {}
        answers[flavor.probe_variables_sql()] = [{**core, **gtid_row}]
        answers[flavor.probe_status_sql()] = answers[flavor.uptime_sql()] + answers[flavor.semi_sync_status_sql()]
        return answers

    def query(self, sql: str) -> list[dict[str, Any]]:
        answers = self._answers()
        if sql not in answers:
            raise AssertionError(f"{self.key}: unexpected statement {sql!r}")
        return copy.deepcopy(answers[sql])

    def single_value(self, sql: str) -> Any:
        return self.data.get("single_values", {}).get(sql)

    def change(self, statements: list[str], *, wait_result: bool = False) -> list[dict[str, Any]]:
        """Outside --noop a change is reported (audited) and kept in `access.executed`, not replayed."""
        if self.access.noop:
            return super().change(statements, wait_result=wait_result)
        for sql in statements:
            self.access.report_change(self.key, sql)
            self.recorded.executed.append((self.key, sql))
        return []


class RecordedAccess(TopologyAccess):
    def __init__(self, config: Any, servers: dict[InstanceKey, Fixture], noop: bool) -> None:
        super().__init__(config, noop=noop)
        self.fixtures = servers
        self.executed: list[tuple[InstanceKey, str]] = []

    def server(self, key: InstanceKey, *, discovery: bool = False) -> TopologyServer:
        if key not in self.fixtures:
            raise TopologyError(f"{key}: Can't connect to MySQL server")
        return RecordedServer(key, self, self.fixtures[key])


def executed(env: TopologyEnv) -> list[tuple[InstanceKey, str]]:
    """The statements the recorded servers were asked to run (outside --noop)."""
    assert isinstance(env.access, RecordedAccess)
    return env.access.executed


@pytest.fixture(scope="module")
def deployed_backend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the schema deployed once; each test works on a copy (deploying takes a second)."""
    directory = tmp_path_factory.mktemp("replication-ops-backend")
    backend = Backend(load_config(str(sqlite_config(directory))))
    backend.connection()
    backend.close()
    return directory / "orchestrator.sqlite3"


@pytest.fixture
def make(tmp_path: Path, deployed_backend: Path) -> Iterator[Callable[..., TopologyEnv]]:
    """`make({key: fixture}, noop=True, **config)` → an env over recorded servers and a SQLite backend."""
    shutil.copy(deployed_backend, tmp_path / "orchestrator.sqlite3")
    backends: list[Backend] = []

    def build(servers: dict[InstanceKey, Fixture], noop: bool = True, **config: Any) -> TopologyEnv:
        path = sqlite_config(tmp_path, MySQLHostnameResolveMethod="none", **config)
        loaded = load_config(str(path))
        backend = Backend(loaded)
        backends.append(backend)
        return make_env(backend, RecordedAccess(loaded, servers, noop), loaded, "tester")

    yield build
    for backend in backends:
        backend.close()


def statements(env: TopologyEnv) -> list[str]:
    return [sql for _, sql in env.access.noop_statements]


def key_of(data: Fixture) -> InstanceKey:
    return InstanceKey((data.get("core_variables") or {}).get("report_host") or "db.example.net", 3306)


# Oracle replicas by flavor: (fixture, STOP, START, RESET, CHANGE prefix, host/port prefix)
MYSQL_57_GTID = recorded("mysql_5_7_gtid_replica")
MYSQL_57_FILEPOS = recorded("mysql_5_7_io_error")
MYSQL_80_GTID = recorded("mysql_8_0_30_gtid_replica")
MYSQL_80_SQL_ERROR = recorded("mysql_8_0_36_sql_error")
MYSQL_84_DELAYED = recorded("mysql_8_4_delayed_replica")
MYSQL_84_MASTER = recorded("mysql_8_4_master")
MARIADB_GTID = recorded("mariadb_10_11_gtid_replica")


def as_version(data: Fixture, version: str) -> Fixture:
    changed = copy.deepcopy(data)
    changed["server"]["version"] = version
    if "core_variables" in changed:
        changed["core_variables"]["version"] = version
    return changed


MYSQL_80_LEGACY_GTID = as_version(MYSQL_57_GTID, "8.0.21")

THREAD_WORDS = {
    "5.7": (MYSQL_57_GTID, "SLAVE"),
    "8.0.21": (MYSQL_80_LEGACY_GTID, "SLAVE"),
    "8.0.30": (MYSQL_80_GTID, "REPLICA"),
    "8.4": (MYSQL_84_DELAYED, "REPLICA"),
}


@pytest.mark.parametrize("version", THREAD_WORDS)
def test_stop_start_restart_reset_statements(make: Callable[..., TopologyEnv], version: str) -> None:
    data, word = THREAD_WORDS[version]
    key = key_of(data)
    env = make({key: data})
    ops.stop_replica(env, key)
    assert statements(env) == [f"STOP {word}"]
    env.access.noop_statements.clear()
    ops.start_replica(env, key)
    assert statements(env) == [f"START {word}"]
    env.access.noop_statements.clear()
    ops.restart_replica(env, key)
    assert statements(env) == [f"STOP {word}", f"START {word}"]
    env.access.noop_statements.clear()
    ops.reset_replica(env, key)
    assert statements(env) == [f"STOP {word}", f"RESET {word} ALL"]


DETACH_CASES = {
    "5.7-gtid": (
        MYSQL_57_GTID,
        [
            "STOP SLAVE",
            "CHANGE MASTER TO MASTER_HOST='//db-57-1.example.net', MASTER_PORT=3306, MASTER_AUTO_POSITION=1",
        ],
    ),
    "5.7-filepos": (
        MYSQL_57_FILEPOS,
        [
            "STOP SLAVE",
            "CHANGE MASTER TO MASTER_HOST='//db-57-1.example.net', MASTER_PORT=3306, "
            "MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=51234567",
        ],
    ),
    "8.0.21-gtid": (
        MYSQL_80_LEGACY_GTID,
        [
            "STOP SLAVE",
            "CHANGE MASTER TO MASTER_HOST='//db-57-1.example.net', MASTER_PORT=3306, MASTER_AUTO_POSITION=1",
        ],
    ),
    "8.0.30-gtid": (
        MYSQL_80_GTID,
        [
            "STOP REPLICA",
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='//db-80-1.example.net', SOURCE_PORT=3306, "
            "SOURCE_AUTO_POSITION=1",
        ],
    ),
    "8.4-gtid": (
        MYSQL_84_DELAYED,
        [
            "STOP REPLICA",
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='//db-84-1.example.net', SOURCE_PORT=3306, "
            "SOURCE_AUTO_POSITION=1",
        ],
    ),
    "mariadb-gtid": (
        MARIADB_GTID,
        [
            "STOP SLAVE",
            "CHANGE MASTER TO MASTER_HOST='//mdb-1.example.net', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos",
        ],
    ),
    # a current_pos replica keeps current_pos: naming the mode must not switch it
    "mariadb-current-pos": (
        with_status(MARIADB_GTID, Using_Gtid="Current_Pos"),
        [
            "STOP SLAVE",
            "CHANGE MASTER TO MASTER_HOST='//mdb-1.example.net', MASTER_PORT=3306, MASTER_USE_GTID=current_pos",
        ],
    ),
}


@pytest.mark.parametrize("case", DETACH_CASES)
def test_detach_statements(make: Callable[..., TopologyEnv], case: str) -> None:
    data, expected = DETACH_CASES[case]
    key = key_of(data)
    env = make({key: data})
    ops.detach_replica_master_host(env, key)
    assert statements(env) == expected


def test_detach_then_reattach_restores_the_host_and_position(make: Callable[..., TopologyEnv]) -> None:
    status = MYSQL_57_FILEPOS["replica_status"][0]
    detached = with_status(
        MYSQL_57_FILEPOS,
        Master_Host="//db-57-1.example.net",
        Slave_IO_Running="No",
        Slave_SQL_Running="No",
    )
    key = key_of(detached)
    env = make({key: detached})
    with pytest.raises(TopologyError, match="already detached"):
        ops.detach_replica_master_host(env, key)
    with pytest.raises(TopologyError, match="reattach-replica-master-host first"):
        ops.start_replica(env, key)
    ops.reattach_replica_master_host(env, key)
    assert statements(env) == [
        "CHANGE MASTER TO MASTER_HOST='db-57-1.example.net', MASTER_PORT=3306, "
        f"MASTER_LOG_FILE='{status['Relay_Master_Log_File']}', MASTER_LOG_POS={status['Exec_Master_Log_Pos']}",
        "START SLAVE",
    ]
    attached = make({key: MYSQL_57_FILEPOS})
    with pytest.raises(TopologyError, match="does not seem to be detached"):
        ops.reattach_replica_master_host(attached, key)


def test_reattach_of_an_auto_position_replica_keeps_auto_position(make: Callable[..., TopologyEnv]) -> None:
    """The GTID replica goes back by GTID, and the statement says so (no coordinates to forget)."""
    detached = with_status(
        MYSQL_80_GTID, Source_Host="//db-80-1.example.net", Replica_IO_Running="No", Replica_SQL_Running="No"
    )
    key = key_of(detached)
    env = make({key: detached})
    ops.reattach_replica_master_host(env, key)
    assert statements(env) == [
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-80-1.example.net', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1",
        "START REPLICA",
    ]


def test_skip_query_injects_the_failing_gtid_on_8_0(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_80_SQL_ERROR)
    env = make({key: MYSQL_80_SQL_ERROR})
    ops.skip_query(env, key)
    assert statements(env) == [
        "SET GTID_NEXT = '5e6f0b3a-0c55-11ed-8d3b-0242ac110002:90513'",
        "BEGIN",
        "COMMIT",
        "SET GTID_NEXT = 'AUTOMATIC'",
        "START REPLICA",
    ]


def test_skip_query_without_gtid_in_the_error_uses_retrieved_minus_executed(make: Callable[..., TopologyEnv]) -> None:
    data = with_status(
        MYSQL_80_SQL_ERROR,
        Last_SQL_Error="Error 'Duplicate entry '7' for key 't.PRIMARY'' on query. Default database: 'app'.",
        Executed_Gtid_Set="5e6f0b3a-0c55-11ed-8d3b-0242ac110002:1-90512,\n9a3c17e8-0c55-11ed-b0a2-0242ac110005:1-40",
    )
    key = key_of(data)
    env = make({key: data})
    ops.skip_query(env, key)
    assert statements(env)[0] == "SET GTID_NEXT = '5e6f0b3a-0c55-11ed-8d3b-0242ac110002:90513'"


@pytest.mark.parametrize(
    ("data", "counter", "start"),
    [
        (MYSQL_57_FILEPOS, "sql_slave_skip_counter", "START SLAVE"),
        (as_version(MYSQL_57_FILEPOS, "8.0.21"), "sql_slave_skip_counter", "START SLAVE"),
        (as_version(MYSQL_57_FILEPOS, "8.0.30"), "sql_replica_skip_counter", "START REPLICA"),
        (as_version(MYSQL_57_FILEPOS, "8.4.2"), "sql_replica_skip_counter", "START REPLICA"),
        (MARIADB_GTID, "sql_slave_skip_counter", "START SLAVE"),
    ],
    ids=["5.7", "8.0.21", "8.0.30", "8.4", "mariadb-gtid"],
)
def test_skip_query_counter(make: Callable[..., TopologyEnv], data: Fixture, counter: str, start: str) -> None:
    broken = with_status(data, Slave_SQL_Running="No", Last_SQL_Errno=1062, Last_SQL_Error="Duplicate entry '7'")
    key = key_of(broken)
    env = make({key: broken})
    ops.skip_query(env, key)
    assert statements(env) == [f"SET GLOBAL {counter} = 1", start]


def test_skip_query_refusals(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_80_GTID)
    with pytest.raises(TopologyError, match="SQL thread is running"):
        ops.skip_query(make({key: MYSQL_80_GTID}, noop=False), key)
    stopped = with_status(MYSQL_80_GTID, Slave_SQL_Running="No")
    env = make({key: stopped}, noop=False)
    with pytest.raises(TopologyError, match="No SQL error"):
        ops.skip_query(env, key)
    master = key_of(MYSQL_84_MASTER)
    with pytest.raises(TopologyError, match="not a replica"):
        ops.skip_query(make({master: MYSQL_84_MASTER}, noop=False), master)


def test_enable_gtid(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_57_FILEPOS)
    with pytest.raises(TopologyError, match="gtid_mode is OFF"):
        ops.enable_gtid(make({key: MYSQL_57_FILEPOS}), key)
    gtid_on = copy.deepcopy(MYSQL_57_FILEPOS)
    gtid_on["gtid_facts"] = {"gtid_mode": "ON", "server_uuid": "8f8d5a6e-1e2b-11ee-b9a4-0242ac120002"}
    env = make({key: gtid_on})
    ops.enable_gtid(env, key)
    assert statements(env) == ["STOP SLAVE", "CHANGE MASTER TO MASTER_AUTO_POSITION=1", "START SLAVE"]

    no_auto_84 = with_status(MYSQL_84_DELAYED, Auto_Position=0)
    key = key_of(no_auto_84)
    env = make({key: no_auto_84})
    ops.enable_gtid(env, key)
    assert statements(env) == ["STOP REPLICA", "CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1", "START REPLICA"]
    with pytest.raises(TopologyError, match="already uses GTID"):
        ops.enable_gtid(make({key: MYSQL_84_DELAYED}), key)


def test_enable_gtid_on_mariadb_file_pos_replica(make: Callable[..., TopologyEnv]) -> None:
    file_pos = with_status(MARIADB_GTID, Using_Gtid="No")
    key = key_of(file_pos)
    env = make({key: file_pos})
    ops.enable_gtid(env, key)
    assert statements(env) == ["STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=slave_pos", "START SLAVE"]
    unknown_position = copy.deepcopy(file_pos)
    unknown_position["gtid_facts"]["gtid_slave_pos"] = ""
    with pytest.raises(UnsafeOperationError, match="gtid_slave_pos is empty"):
        ops.enable_gtid(make({key: unknown_position}), key)


def test_disable_gtid_pins_the_executed_coordinates(make: Callable[..., TopologyEnv]) -> None:
    row = MYSQL_80_GTID["replica_status"][0]
    key = key_of(MYSQL_80_GTID)
    env = make({key: MYSQL_80_GTID})
    ops.disable_gtid(env, key)
    assert statements(env) == [
        "STOP REPLICA",
        f"CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='{row['Relay_Source_Log_File']}', "
        f"SOURCE_LOG_POS={row['Exec_Source_Log_Pos']}, SOURCE_AUTO_POSITION=0",
        "START REPLICA",
    ]
    with pytest.raises(TopologyError, match="is not using GTID"):
        ops.disable_gtid(make({key: with_status(MYSQL_80_GTID, Auto_Position=0)}), key)


def test_gtid_switch_of_a_stopped_replica_leaves_it_stopped(make: Callable[..., TopologyEnv]) -> None:
    stopped = with_status(MYSQL_57_GTID, Slave_IO_Running="No", Slave_SQL_Running="No")
    key = key_of(stopped)
    env = make({key: stopped})
    ops.disable_gtid(env, key)
    assert [s.split(" TO ")[0] for s in statements(env)] == ["CHANGE MASTER"]


@pytest.mark.parametrize(
    ("data", "side", "enabled", "expected"),
    [
        (MYSQL_84_MASTER, "master", False, ["SET GLOBAL rpl_semi_sync_source_enabled = 0"]),
        (MYSQL_84_MASTER, "master", True, []),
        (
            MYSQL_80_GTID,
            "replica",
            False,
            [
                "SET GLOBAL rpl_semi_sync_replica_enabled = 0",
                "STOP REPLICA IO_THREAD",
                "START REPLICA IO_THREAD",
            ],
        ),
        (
            MYSQL_57_GTID,
            "replica",
            False,
            ["SET GLOBAL rpl_semi_sync_slave_enabled = 0", "STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD"],
        ),
        (MYSQL_57_GTID, "master", True, ["SET GLOBAL rpl_semi_sync_master_enabled = 1"]),
    ],
    ids=["8.4-master-off", "8.4-master-already-on", "8.0.30-replica-off", "5.7-replica-off", "5.7-master-on"],
)
def test_semi_sync_statements(
    make: Callable[..., TopologyEnv], data: Fixture, side: str, enabled: bool, expected: list[str]
) -> None:
    key = key_of(data)
    env = make({key: data})
    ops.set_semi_sync(env, key, side, enabled)
    assert statements(env) == expected


def test_semi_sync_side_not_loaded(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_80_GTID)
    with pytest.raises(TopologyError, match="semi-sync master is not available"):
        ops.set_semi_sync(make({key: MYSQL_80_GTID}), key, "master", True)
    master = key_of(MYSQL_84_MASTER)
    with pytest.raises(TopologyError, match="semi-sync replica is not available"):
        ops.set_semi_sync(make({master: MYSQL_84_MASTER}), master, "replica", True)


def test_read_only_with_super_read_only_and_semi_sync_priority(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_84_MASTER)
    env = make({key: MYSQL_84_MASTER}, UseSuperReadOnly=True)
    ops.set_read_only(env, key, True)
    assert statements(env) == ["SET GLOBAL read_only = 1", "SET GLOBAL super_read_only = 1"]
    env.access.noop_statements.clear()
    ops.set_read_only(env, key, False)
    assert statements(env) == ["SET GLOBAL super_read_only = 0", "SET GLOBAL read_only = 0"]

    prioritised = copy.deepcopy(MYSQL_84_MASTER)
    prioritised["single_values"] = {"SELECT 1 FROM meta.semi_sync": 1}
    env = make({key: prioritised}, DetectSemiSyncEnforcedQuery="SELECT 1 FROM meta.semi_sync")
    ops.set_read_only(env, key, False)
    assert statements(env) == ["SET GLOBAL rpl_semi_sync_source_enabled = 1", "SET GLOBAL read_only = 0"]
    env.access.noop_statements.clear()
    ops.set_read_only(env, key, True)
    assert statements(env) == ["SET GLOBAL read_only = 1", "SET GLOBAL rpl_semi_sync_source_enabled = 0"]


def test_flush_binary_logs_up_to_a_target(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_84_MASTER)  # current binary log: binlog.000123
    env = make({key: MYSQL_84_MASTER})
    ops.flush_binary_logs(env, key, "binlog.000125")
    assert statements(env) == ["FLUSH BINARY LOGS", "FLUSH BINARY LOGS"]
    env.access.noop_statements.clear()
    ops.flush_binary_logs(env, key, "binlog.000123")
    assert statements(env) == []
    with pytest.raises(TopologyError, match="already past"):
        ops.flush_binary_logs(env, key, "binlog.000100")


def test_purge_binary_logs_checks_each_replica_live(make: Callable[..., TopologyEnv]) -> None:
    master = key_of(MYSQL_84_MASTER)
    logs = copy.deepcopy(MYSQL_84_MASTER)
    logs["binary_logs"] = [{"Log_name": f"binlog.000{n}", "File_size": 100} for n in range(117, 124)]
    logs["replica_hosts"] = logs["replica_hosts"][:1]  # db-84-2: executed up to binlog.000119:1825
    replica_key = key_of(MYSQL_84_DELAYED)
    cfg = {"DiscoverByShowSlaveHosts": True}
    env = make({master: logs, replica_key: MYSQL_84_DELAYED}, **cfg)
    with pytest.raises(UnsafeOperationError, match=f"replica {replica_key} has only applied up to binlog.000119:1825"):
        ops.purge_binary_logs(env, master, "binlog.000120")
    ops.purge_binary_logs(env, master, "binlog.000119")
    assert statements(env) == ["PURGE BINARY LOGS TO 'binlog.000119'"]
    with pytest.raises(OrchestratorError, match="not found"):
        ops.purge_binary_logs(env, master, "binlog.000099")
    unreachable = make({master: logs}, **cfg)
    with pytest.raises(UnsafeOperationError, match=f"cannot read replica {replica_key}"):
        ops.purge_binary_logs(unreachable, master, "binlog.000118")


def test_purge_blocker_rules() -> None:
    master = InstanceKey("db1", 3306)
    status = ReplicaStatus.from_row(
        {"Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
         "Master_Log_File": "bin.000010", "Read_Master_Log_Pos": 500,
         "Relay_Master_Log_File": "bin.000009", "Exec_Master_Log_Pos": 120}
    )  # fmt: skip
    replica = Live(InstanceKey("db2", 3306), {}, status, fl.MySQL57(), GtidFacts())
    assert ops.purge_blocker(master, "bin.000009", replica) is None
    assert "has only applied up to bin.000009:120" in str(ops.purge_blocker(master, "bin.000010", replica))
    elsewhere = InstanceKey("db1", 3307)
    assert ops.purge_blocker(elsewhere, "bin.000010", replica) is None
    detached = Live(replica.key, {}, ReplicaStatus.from_row({"Master_Host": "//db1", "Master_Port": 3306,
                    "Slave_IO_Running": "No", "Slave_SQL_Running": "No"}), fl.MySQL57(), GtidFacts())  # fmt: skip
    assert ops.purge_blocker(master, "bin.000010", detached) is None
    idle = {"Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "No", "Slave_SQL_Running": "No"}
    no_coordinates = Live(replica.key, {}, ReplicaStatus.from_row(idle), fl.MySQL57(), GtidFacts())
    assert "does not report" in str(ops.purge_blocker(master, "bin.000010", no_coordinates))


def test_restart_replica_statements_preserve_the_thread_state(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_80_GTID)
    assert ops.restart_replica_statements(make({key: MYSQL_80_GTID}), key, "SET GLOBAL replica_net_timeout = 10;") == [
        "STOP REPLICA IO_THREAD;",
        "STOP REPLICA SQL_THREAD;",
        "SET GLOBAL replica_net_timeout = 10;",
        "START REPLICA SQL_THREAD;",
        "START REPLICA IO_THREAD;",
    ]
    key = key_of(MYSQL_80_SQL_ERROR)  # SQL thread stopped by an error: only the IO thread is cycled
    assert ops.restart_replica_statements(make({key: MYSQL_80_SQL_ERROR}), key, "") == [
        "STOP REPLICA IO_THREAD;",
        "START REPLICA IO_THREAD;",
    ]


def test_failing_gtid_with_tags_on_8_4() -> None:
    status = fl.MySQL84().parse_replica_status(
        with_status(MYSQL_84_DELAYED, Replica_SQL_Running="No", Last_SQL_Error="Error 'x' on query.")["replica_status"]
    )
    assert ops.failing_oracle_gtid(status) == "c0ffee00-4e84-11ef-9f11-0242ac120010:19871"


def errant_replica() -> Fixture:
    """The 8.4 delayed replica with three transactions of its own that its master never had."""
    data = copy.deepcopy(MYSQL_84_DELAYED)
    own = data["gtid_facts"]["server_uuid"]
    data["gtid_facts"]["gtid_executed"] += f",\n{own}:1-3"
    return data


def test_which_gtid_errant_against_the_live_master(make: Callable[..., TopologyEnv]) -> None:
    replica, master = errant_replica(), MYSQL_84_MASTER
    env = make({key_of(replica): replica, InstanceKey("db-84-1.example.net", 3306): master})
    own = replica["gtid_facts"]["server_uuid"]
    assert ops.which_gtid_errant(env, key_of(replica)) == f"{own}:1-3"
    clean = make({key_of(MYSQL_84_DELAYED): MYSQL_84_DELAYED, InstanceKey("db-84-1.example.net", 3306): master})
    assert ops.which_gtid_errant(clean, key_of(MYSQL_84_DELAYED)) == ""
    mariadb = key_of(MARIADB_GTID)
    assert ops.which_gtid_errant(make({mariadb: MARIADB_GTID}), mariadb) == ""


def test_gtid_errant_reset_master(make: Callable[..., TopologyEnv]) -> None:
    replica, master_key = errant_replica(), InstanceKey("db-84-1.example.net", 3306)
    key = key_of(replica)
    env = make({key: replica, master_key: MYSQL_84_MASTER})
    ops.gtid_errant_reset_master(env, key)
    assert statements(env) == [
        "STOP REPLICA",
        "RESET BINARY LOGS AND GTIDS",
        "SET GLOBAL gtid_purged = 'c0ffee00-4e84-11ef-9f11-0242ac120010:1-19870:maint:1-2'",
        "START REPLICA",
    ]
    with pytest.raises(TopologyError, match="no errant GTID is found"):
        ops.gtid_errant_reset_master(make({key: MYSQL_84_DELAYED, master_key: MYSQL_84_MASTER}), key)
    with_replicas = copy.deepcopy(replica)
    with_replicas["replica_hosts"] = [{"Server_Id": 9, "Host": "db-84-9.example.net", "Port": 3306}]
    cfg = {"DiscoverByShowSlaveHosts": True}
    with pytest.raises(UnsafeOperationError, match="has 1 replicas"):
        ops.gtid_errant_reset_master(make({key: with_replicas, master_key: MYSQL_84_MASTER}, **cfg), key)
    mariadb = key_of(MARIADB_GTID)
    with pytest.raises(TopologyError, match=f"^gtid-errant-reset-master will not operate on {mariadb} because "):
        ops.gtid_errant_reset_master(make({mariadb: MARIADB_GTID}), mariadb)


def test_read_live_of_every_recorded_server(make: Callable[..., TopologyEnv]) -> None:
    for name in sorted(p.stem for p in RECORDED.glob("*.json")):
        data = recorded(name)
        key = key_of(data)
        live = read_live(make({key: data}), key)
        assert live.flavor == fl.detect_flavor_from_row(data["server"]), name
        assert live.status.is_replica == bool(data.get("replica_status")), name


def test_maintenance_lock_refuses_even_a_dry_run(make: Callable[..., TopologyEnv]) -> None:
    from orchestrator_cli.backend import maintenance

    key = key_of(MYSQL_80_GTID)
    env = make({key: MYSQL_80_GTID})
    assert maintenance.begin(env.backend, key, "dba", "backup", 600, node=("h", "t")) is not None
    with pytest.raises(
        UnsafeOperationError,
        match=r"cannot begin maintenance on .* \(held by dba: backup, taken with begin-maintenance, until .*\); "
        r"`orchestrator -c end-maintenance -i .*` releases it",
    ):
        ops.stop_replica(env, key)
    assert statements(env) == []


def test_a_refused_lock_writes_nothing_and_keeps_the_holders_lock(make: Callable[..., TopologyEnv]) -> None:
    from orchestrator_cli.backend import audit, maintenance

    key = key_of(MYSQL_80_GTID)
    env = make({key: MYSQL_80_GTID}, noop=False)
    token = maintenance.begin(env.backend, key, "dba", "backup", 600, node=("h", "t"))
    with pytest.raises(UnsafeOperationError, match="held by dba"):
        ops.stop_replica(env, key)
    lock = maintenance.active(env.backend, key)
    assert lock is not None and lock.maintenance_id == token
    assert audit.read_audit(env.backend, key) == []
    assert executed(env) == []


def test_a_real_run_locks_audits_and_refreshes(make: Callable[..., TopologyEnv]) -> None:
    from orchestrator_cli.backend import audit, instances, maintenance

    key = key_of(MYSQL_80_GTID)
    env = make({key: MYSQL_80_GTID}, noop=False)
    held: list[bool] = []
    report = env.access.on_change

    def watch(changed: InstanceKey, sql: str) -> None:
        held.append(maintenance.active(env.backend, changed) is not None)
        assert report is not None
        report(changed, sql)

    env.access.on_change = watch
    ops.stop_replica(env, key)
    assert executed(env) == [(key, "STOP REPLICA")]
    assert held == [True], "the statement ran under the lock"
    assert maintenance.active(env.backend, key) is None, "released afterwards"
    rows = [(r["audit_type"], r["message"]) for r in reversed(audit.read_audit(env.backend, key))]
    assert rows == [
        ("topology-statement", "STOP REPLICA"),
        ("stop-replica", "stopped replication from db-80-1.example.net:3306"),
    ]
    assert instances.read_instance(env.backend, key) is not None, "the backend row was refreshed"


def test_a_failing_run_is_audited_as_failed_and_unlocked(make: Callable[..., TopologyEnv]) -> None:
    from orchestrator_cli.backend import audit, maintenance

    key = key_of(MYSQL_80_SQL_ERROR)
    env = make({key: MYSQL_80_SQL_ERROR}, noop=False)
    with pytest.raises(TopologyError, match="replication did not start: Coordinator stopped"):
        ops.start_replica(env, key)  # the replayed status keeps showing the SQL error
    assert executed(env) == [(key, "START REPLICA")]
    assert maintenance.active(env.backend, key) is None
    last = audit.read_audit(env.backend, key)[0]
    assert last["audit_type"] == "start-replica" and "failed: " in last["message"]


def test_exec_coordinates_must_be_known_for_file_pos() -> None:
    status = ReplicaStatus.from_row({"Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "No",
                                        "Slave_SQL_Running": "No"})  # fmt: skip
    live = Live(InstanceKey("db2", 3306), {}, status, fl.MySQL57(), GtidFacts())
    with pytest.raises(TopologyError, match="executed master coordinates are unknown"):
        ops.detach_statements(live)
    assert BinlogCoordinates("bin.000001", 4) < BinlogCoordinates("bin.000002", 4)


def test_gtid_switch_restarts_only_the_threads_that_ran(make: Callable[..., TopologyEnv]) -> None:
    key = key_of(MYSQL_80_SQL_ERROR)  # IO thread running, SQL thread stopped by an error
    env = make({key: MYSQL_80_SQL_ERROR})
    ops.disable_gtid(env, key)
    assert statements(env)[0] == "STOP REPLICA"
    assert statements(env)[-1] == "START REPLICA IO_THREAD"


def test_start_applies_the_semi_sync_priority_and_promotion_rule(make: Callable[..., TopologyEnv]) -> None:
    """Priority > 0 (DetectSemiSyncEnforcedQuery): a must_not replica stops acknowledging before START."""
    from orchestrator_cli.backend import candidates
    from orchestrator_cli.discovery.crawl import crawl

    data = copy.deepcopy(MYSQL_57_GTID)  # semi-sync replica enabled
    data["single_values"] = {"SELECT 1": 1}
    key = key_of(data)
    env = make({key: data}, DetectSemiSyncEnforcedQuery="SELECT 1")
    crawl([key], env.access, env.backend, env.config, follow=False)
    ops.start_replica(env, key)
    assert statements(env) == ["START SLAVE"], "acknowledging already, as priority 1 wants"
    env.access.noop_statements.clear()
    candidates.register(env.backend, key, "must_not")
    ops.start_replica(env, key)
    assert statements(env) == ["SET GLOBAL rpl_semi_sync_slave_enabled = 0", "START SLAVE"]
