"""Oracle MySQL (and MariaDB) move decisions and statements, driven by recorded server output.

No MySQL server runs here, so each server is a stand-in that answers the probe statements with the
rows recorded in tests/compat/recorded/*.json (adjusted per scenario: host, server_id, UUID,
executed/purged sets, coordinates). The access layer runs in --noop mode, so the real operation
code runs end to end and the statements it would send are compared per flavor.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import TopologyError, UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.mysql.protocol import TopologyServer
from orchestrator_cli.mysql.server import ConnectedServer
from orchestrator_cli.topology import gtid_moves, moves, relocate
from orchestrator_cli.topology.env import TopologyEnv, make_env
from orchestrator_cli.topology.primitives import read_live
from tests.support import sqlite_config

RECORDED = Path(__file__).resolve().parent.parent / "compat" / "recorded"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return data


def _set(row: dict[str, Any], value: Any, *names: str) -> None:
    """Set whichever of the legacy / 8.0.22+ column names the recorded row uses."""
    for name in names:
        if name in row:
            row[name] = value


def server(
    name: str,
    host: str,
    *,
    server_id: int | None = None,
    uuid: str | None = None,
    master: str | None = None,
    executed: str | None = None,
    purged: str | None = None,
    auto_position: bool | None = None,
    exec_coords: tuple[str, int] | None = None,
    self_coords: tuple[str, int] | None = None,
    sql_delay: int | None = None,
    read_only: int | None = None,
) -> dict[str, Any]:
    """A recorded server under another identity (and optionally another replication state)."""
    data = copy.deepcopy(recorded(name))
    core = data["core_variables"]
    core["hostname"], core["report_host"] = host.split(".")[0], host
    if server_id is not None:
        core["server_id"] = server_id
    if read_only is not None:
        core["read_only"] = read_only
    gtid = data.get("gtid_facts") or {}
    if uuid is not None:
        gtid["server_uuid"] = uuid
    if executed is not None:
        gtid["gtid_executed"] = executed
    if purged is not None:
        gtid["gtid_purged"] = purged
    if self_coords is not None:
        data["master_status"].update(File=self_coords[0], Position=self_coords[1])
    for row in data["replica_status"]:
        if master is not None:
            _set(row, master, "Master_Host", "Source_Host")
        if executed is not None:
            _set(row, executed, "Executed_Gtid_Set")
        if auto_position is not None:
            _set(row, int(auto_position), "Auto_Position")
        if exec_coords is not None:
            _set(row, exec_coords[0], "Relay_Master_Log_File", "Relay_Source_Log_File")
            _set(row, exec_coords[1], "Exec_Master_Log_Pos", "Exec_Source_Log_Pos")
        if sql_delay is not None:
            _set(row, sql_delay, "SQL_Delay")
    return data


class RecordedServer(ConnectedServer):
    """Answers the probe's statements with recorded rows; anything else is a test failure."""

    def __init__(self, key: InstanceKey, access: TopologyAccess, data: dict[str, Any]) -> None:
        super().__init__(key, access)
        flavor = fl.detect_flavor_from_row(data["server"])
        self._flavor = flavor
        self.answers: dict[str, list[dict[str, Any]]] = {
            flavor.core_variables_sql(): [data["core_variables"]],
            flavor.uptime_sql(): [{"Variable_name": "Uptime", "Value": "86400"}],
            flavor.master_status_sql(): [data["master_status"]],
            flavor.semi_sync_variables_sql(): data.get("semi_sync_variables", []),
            flavor.semi_sync_status_sql(): data.get("semi_sync_status", []),
            flavor.replica_status_sql(): data["replica_status"],
            flavor.replica_connections_sql(): data["replica_status"],
            flavor.replica_hosts_sql(): [],
            flavor.processlist_replicas_sql(): [],
        }
        # user-configured queries are read by position: their rows are tuples
        self.user_rows: dict[str, tuple[Any, ...]] = {"SELECT 'repl', 'repl_password'": ("repl", "s3cret")}
        gtid_sql = flavor.gtid_facts_sql()
        if gtid_sql:
            self.answers[gtid_sql] = [data["gtid_facts"]]
        # the probe's combined statements answer what their parts answer, in one row / one list
        gtid_row = data["gtid_facts"] if gtid_sql else {}
        self.answers[flavor.probe_variables_sql()] = [{**data["core_variables"], **gtid_row}]
        self.answers[flavor.probe_status_sql()] = (
            self.answers[flavor.uptime_sql()] + self.answers[flavor.semi_sync_status_sql()]
        )

    def query(self, sql: str) -> list[dict[str, Any]]:
        assert sql in self.answers, f"{self.key}: unexpected statement {sql!r}"
        return copy.deepcopy(self.answers[sql])

    def first_row(self, sql: str) -> tuple[Any, ...] | None:
        assert sql in self.user_rows, f"{self.key}: unexpected user query {sql!r}"
        return self.user_rows[sql]


class RecordedAccess(TopologyAccess):
    def __init__(self, config: Any, servers: dict[str, dict[str, Any]]) -> None:
        super().__init__(config, noop=True)
        self.fakes = {InstanceKey.parse(k): RecordedServer(InstanceKey.parse(k), self, d) for k, d in servers.items()}

    def server(self, key: InstanceKey, *, discovery: bool = False) -> TopologyServer:
        if key not in self.fakes:
            raise TopologyError(f"{key}: unreachable")
        return self.fakes[key]


Topology = Callable[..., TopologyEnv]


@pytest.fixture
def topology(tmp_path: Path) -> Topology:
    config = load_config(
        str(
            sqlite_config(
                tmp_path,
                MySQLHostnameResolveMethod="none",
                ReplicationCredentialsQuery="SELECT 'repl', 'repl_password'",
            )
        )
    )
    backend = Backend(config)

    def build(**servers: dict[str, Any]) -> TopologyEnv:
        access = RecordedAccess(config, {k.replace("_", "-") + ".example.net:3306": d for k, d in servers.items()})
        return make_env(backend, access, config, "tester")

    return build


def statements(env: TopologyEnv) -> list[str]:
    return [f"{key.hostname.split('.')[0]}: {sql}" for key, sql in env.access.noop_statements]


def key(name: str) -> InstanceKey:
    return InstanceKey(f"{name}.example.net", 3306)


# -- MySQL 8.4 / 8.0: auto-position moves -----------------------------------------------------------

SOURCE_84 = "c0ffee00-4e84-11ef-9f11-0242ac120010"


def test_mysql84_relocate_below_sibling_by_auto_position(topology: Topology) -> None:
    env = topology(
        db_84_1=server("mysql_8_4_master", "db-84-1.example.net"),
        db_84_2=server("mysql_8_4_delayed_replica", "db-84-2.example.net"),
        db_84_3=server(
            "mysql_8_4_delayed_replica",
            "db-84-3.example.net",
            server_id=8403,
            uuid="d1e2f3a4-4e84-11ef-8a01-0242ac120013",
            sql_delay=0,
            executed=f"{SOURCE_84}:1-20411:maint:1-2",
        ),
    )
    moved = relocate.relocate(env, key("db-84-2"), key("db-84-3"))
    assert (str(moved), moved.method) == ("db-84-2.example.net:3306<db-84-3.example.net:3306", "gtid")
    assert statements(env) == [
        "db-84-2: STOP REPLICA",
        "db-84-2: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-84-3.example.net', SOURCE_PORT=3306, "
        "SOURCE_AUTO_POSITION=1",
        "db-84-2: START REPLICA",
    ]


def test_mysql84_move_up_to_the_master_by_auto_position(topology: Topology) -> None:
    env = topology(
        db_84_1=server("mysql_8_4_master", "db-84-1.example.net"),
        db_84_2=server("mysql_8_4_delayed_replica", "db-84-2.example.net", sql_delay=0),
        db_84_3=server(
            "mysql_8_4_delayed_replica",
            "db-84-3.example.net",
            server_id=8403,
            uuid="d1e2f3a4-4e84-11ef-8a01-0242ac120013",
            master="db-84-2.example.net",
            sql_delay=0,
        ),
    )
    moved = moves.move_up(env, key("db-84-3"))
    assert str(moved.master) == "db-84-1.example.net:3306"
    assert (
        statements(env)[1]
        == "db-84-3: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-84-1.example.net', SOURCE_PORT=3306, "
        "SOURCE_AUTO_POSITION=1"
    )


def test_mysql80_purged_transactions_refuse_the_move(topology: Topology) -> None:
    uuid = "5e6f0b3a-0c55-11ed-8d3b-0242ac110002"
    env = topology(
        db_80_1=server("mysql_8_0_30_gtid_replica", "db-80-1.example.net", server_id=8001, uuid=uuid, master=""),
        db_80_2=server("mysql_8_0_30_gtid_replica", "db-80-2.example.net"),
        db_80_3=server(
            "mysql_8_0_30_gtid_replica",
            "db-80-3.example.net",
            server_id=8003,
            uuid="71d1e2f0-0c55-11ed-9a9c-0242ac110009",
            executed=f"{uuid}:1-96000",
            purged=f"{uuid}:1-95000",
        ),
    )
    with pytest.raises(UnsafeOperationError, match=rf"has purged GTID entries not found on .*{uuid}:90513-95000"):
        relocate.relocate(env, key("db-80-2"), key("db-80-3"))
    assert env.access.noop_statements == []


def test_mysql57_errant_transactions_refuse_the_move(topology: Topology) -> None:
    source = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    env = topology(
        db_57_1=server("mysql_5_7_gtid_replica", "db-57-1.example.net", server_id=5701, uuid=source, master=""),
        db_57_2=server("mysql_5_7_gtid_replica", "db-57-2.example.net"),
        db_57_3=server(
            "mysql_5_7_gtid_replica",
            "db-57-3.example.net",
            server_id=5703,
            uuid="8f8d5a6e-1e2b-11ee-b9a4-0242ac120003",
            executed=f"{source}:1-58118",
        ),
    )
    with pytest.raises(UnsafeOperationError, match=r"errant GTIDs .*8f8d5a6e-1e2b-11ee-b9a4-0242ac120002:1-17"):
        gtid_moves.plan(
            read_live(env, key("db-57-2")),
            read_live(env, key("db-57-3")),
            [],
        )
    with pytest.raises(UnsafeOperationError, match="errant GTIDs"):
        relocate.move_gtid(env, key("db-57-2"), key("db-57-3"))
    assert env.access.noop_statements == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "mysql_5_7_gtid_replica",
            [
                "db-2: STOP SLAVE",
                "db-2: CHANGE MASTER TO MASTER_HOST='db-3.example.net', MASTER_PORT=3306, MASTER_AUTO_POSITION=1",
                "db-2: START SLAVE",
            ],
        ),
        (
            "mysql_8_0_30_gtid_replica",
            [
                "db-2: STOP REPLICA",
                "db-2: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-3.example.net', SOURCE_PORT=3306, "
                "SOURCE_AUTO_POSITION=1",
                "db-2: START REPLICA",
            ],
        ),
    ],
)
def test_oracle_gtid_relocate_names_auto_position(topology: Topology, fixture: str, expected: list[str]) -> None:
    """The recorded (--noop) statements of an auto-position move say so, as the real run sends them."""
    source = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    env = topology(
        db_1=server(fixture, "db-1.example.net", server_id=1, uuid=source, master="", executed=f"{source}:1-500"),
        db_2=server(
            fixture, "db-2.example.net", server_id=2, uuid="00000000-0000-0000-0000-000000000002",
            master="db-1.example.net", executed=f"{source}:1-500",
        ),
        db_3=server(
            fixture, "db-3.example.net", server_id=3, uuid="00000000-0000-0000-0000-000000000003",
            master="db-1.example.net", executed=f"{source}:1-500", purged="",
        ),
    )  # fmt: skip
    moved = relocate.relocate(env, key("db-2"), key("db-3"))
    assert moved.method == "gtid"
    assert statements(env) == expected


# -- Oracle file:pos -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "stop", "start", "until", "change"),
    [
        (
            "mysql_5_7_gtid_replica",
            "STOP SLAVE",
            "START SLAVE",
            "START SLAVE UNTIL MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=51234567",
            "CHANGE MASTER TO MASTER_HOST='{sibling}', MASTER_PORT=3306, MASTER_LOG_FILE='{file}', "
            "MASTER_LOG_POS={pos}",
        ),
        (
            "mysql_8_0_30_gtid_replica",
            "STOP REPLICA",
            "START REPLICA",
            "START REPLICA UNTIL SOURCE_LOG_FILE='mysql-bin.000042', SOURCE_LOG_POS=51234567",
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='{sibling}', SOURCE_PORT=3306, SOURCE_LOG_FILE='{file}', "
            "SOURCE_LOG_POS={pos}",
        ),
    ],
)
def test_oracle_file_pos_move_below_rolls_the_laggard_forward(
    topology: Topology, fixture: str, stop: str, start: str, until: str, change: str
) -> None:
    env = topology(
        db_1=server(fixture, "db-1.example.net", server_id=1, master=""),
        db_2=server(
            fixture, "db-2.example.net", server_id=2, master="db-1.example.net", auto_position=False,
            exec_coords=("mysql-bin.000042", 51230011),
        ),
        db_3=server(
            fixture, "db-3.example.net", server_id=3, uuid="00000000-0000-0000-0000-000000000003",
            master="db-1.example.net", auto_position=False, exec_coords=("mysql-bin.000042", 51234567),
            self_coords=("binlog.000077", 4242),
        ),
    )  # fmt: skip
    moved = relocate.relocate(env, key("db-2"), key("db-3"))
    assert moved.method == "file:pos (move-below db-3.example.net:3306)"
    io = stop + " IO_THREAD"
    assert statements(env) == [
        f"db-2: {io}",
        f"db-2: {stop}",
        f"db-3: {io}",
        f"db-3: {stop}",
        f"db-2: {until}",
        f"db-2: {stop}",
        "db-2: " + change.format(sibling="db-3.example.net", file="binlog.000077", pos=4242),
        f"db-2: {start}",
        f"db-3: {start}",
    ]


def test_oracle_replica_without_auto_position_is_not_gtid_compatible(topology: Topology) -> None:
    env = topology(
        db_1=server("mysql_8_0_30_gtid_replica", "db-1.example.net", server_id=1, master=""),
        db_2=server("mysql_8_0_30_gtid_replica", "db-2.example.net", master="db-1.example.net", auto_position=False),
        db_3=server(
            "mysql_8_0_30_gtid_replica",
            "db-3.example.net",
            server_id=3,
            uuid="00000000-0000-0000-0000-000000000003",
            master="db-1.example.net",
        ),
    )
    with pytest.raises(UnsafeOperationError, match="does not use GTID auto-position"):
        relocate.move_gtid(env, key("db-2"), key("db-3"))


def test_mysql84_make_co_master_forces_auto_position_and_copies_credentials_and_tls(topology: Topology) -> None:
    env = topology(
        db_84_1=server("mysql_8_4_master", "db-84-1.example.net"),
        db_84_2=server("mysql_8_4_delayed_replica", "db-84-2.example.net", sql_delay=0),
    )
    moved = moves.make_co_master(env, key("db-84-2"))
    assert moved.method == "gtid"
    assert statements(env) == [
        "db-84-1: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-84-2.example.net', SOURCE_PORT=3306, "
        "SOURCE_AUTO_POSITION=1",
        "db-84-1: CHANGE REPLICATION SOURCE TO SOURCE_USER='repl', SOURCE_PASSWORD='s3cret', SOURCE_SSL=1",
        "db-84-1: START REPLICA",
    ]


# -- MariaDB recorded facts --------------------------------------------------------------------------


def test_mariadb_recorded_replica_keeps_slave_pos_and_former_master_needs_current_pos() -> None:
    replica = recorded("mariadb_10_11_gtid_replica")
    flavor = fl.detect_flavor_from_row(replica["server"])
    replica_status = flavor.parse_replica_status(replica["replica_status"])
    plan = gtid_moves.mariadb_plan(replica_status, flavor.parse_gtid_facts(replica["gtid_facts"]), True)
    assert (plan.mode, plan.position) == (None, "0-1-9")
    master = recorded("mariadb_10_11_master")
    # the old master attached with MASTER_USE_GTID=slave_pos but never started: its writes are only in its binlog
    plan = gtid_moves.mariadb_plan(replica_status, flavor.parse_gtid_facts(master["gtid_facts"]), True)
    assert (plan.mode, plan.position) == ("current_pos", "0-1-9")


# -- every GTID repoint names auto-position (the mode it already has) --------------------------------

ORACLE_SOURCE = "3e11fa47-71ca-11e1-9e33-c80aa9429562"


def _oracle_chain(topology: Topology, fixture: str, *, db_3_master: str = "db-2.example.net") -> TopologyEnv:
    """db-1 (master) <- db-2 <- db-3 (or db-3 below `db_3_master`), all on auto-position, all in step."""
    executed = f"{ORACLE_SOURCE}:1-500"
    return topology(
        db_1=server(fixture, "db-1.example.net", server_id=1, uuid=ORACLE_SOURCE, master="", executed=executed),
        db_2=server(
            fixture, "db-2.example.net", server_id=2, uuid="00000000-0000-0000-0000-000000000002",
            master="db-1.example.net", executed=executed, purged="",
        ),
        db_3=server(
            fixture, "db-3.example.net", server_id=3, uuid="00000000-0000-0000-0000-000000000003",
            master=db_3_master, executed=executed, purged="",
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "head", "prefix"),
    [
        ("mysql_5_7_gtid_replica", "CHANGE MASTER TO", "MASTER"),
        ("mysql_8_0_30_gtid_replica", "CHANGE REPLICATION SOURCE TO", "SOURCE"),
    ],
)
def test_oracle_take_master_by_gtid_names_auto_position_on_both(
    topology: Topology, fixture: str, head: str, prefix: str
) -> None:
    env = _oracle_chain(topology, fixture)
    moved = moves.take_master(env, key("db-3"))
    assert moved.method == "gtid"
    changes = [s for s in statements(env) if "CHANGE" in s]
    assert changes == [
        f"db-3: {head} {prefix}_HOST='db-1.example.net', {prefix}_PORT=3306, {prefix}_AUTO_POSITION=1",
        f"db-2: {head} {prefix}_HOST='db-3.example.net', {prefix}_PORT=3306, {prefix}_AUTO_POSITION=1",
    ]


@pytest.mark.parametrize(
    ("fixture", "head", "prefix"),
    [
        ("mysql_5_7_gtid_replica", "CHANGE MASTER TO", "MASTER"),
        ("mysql_8_0_30_gtid_replica", "CHANGE REPLICATION SOURCE TO", "SOURCE"),
    ],
)
def test_oracle_repoint_names_auto_position_and_file_pos_names_coordinates(
    topology: Topology, fixture: str, head: str, prefix: str
) -> None:
    env = _oracle_chain(topology, fixture, db_3_master="db-1.example.net")
    moves.repoint(env, key("db-3"), key("db-2"))
    changes = [s for s in statements(env) if "CHANGE" in s]
    assert changes == [f"db-3: {head} {prefix}_HOST='db-2.example.net', {prefix}_PORT=3306, {prefix}_AUTO_POSITION=1"]
    # a file:pos replica is repointed (to its own master) at its executed coordinates, no GTID clause
    env = topology(
        db_1=server(fixture, "db-1.example.net", server_id=1, master=""),
        db_2=server(
            fixture, "db-2.example.net", server_id=2, master="db-1.example.net", auto_position=False,
            exec_coords=("mysql-bin.000042", 51230011),
        ),
    )  # fmt: skip
    moves.repoint(env, key("db-2"), None)
    changes = [s for s in statements(env) if "CHANGE" in s]
    assert changes == [
        f"db-2: {head} {prefix}_HOST='db-1.example.net', {prefix}_PORT=3306, "
        f"{prefix}_LOG_FILE='mysql-bin.000042', {prefix}_LOG_POS=51230011"
    ]


def test_oracle_relocate_replicas_below_names_auto_position(topology: Topology) -> None:
    """The recovery path (intermediate master, graceful takeover's siblings) moves GTID replicas by name."""
    from orchestrator_cli.topology.regroup import relocate_replicas_below

    env = _oracle_chain(topology, "mysql_8_0_30_gtid_replica", db_3_master="db-1.example.net")
    result = relocate_replicas_below(env, [key("db-3")], key("db-2"))
    assert (result.moved, result.lost) == ([key("db-3")], [])
    changes = [s for s in statements(env) if "CHANGE" in s]
    assert changes == [
        "db-3: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2.example.net', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1"
    ]


def test_oracle_regroup_names_auto_position(topology: Topology) -> None:
    """A regroup (dead-master recovery's engine) moves each auto-position sibling below the candidate by name."""
    from orchestrator_cli.topology.regroup import regroup_replicas

    env = _oracle_chain(topology, "mysql_8_0_30_gtid_replica", db_3_master="db-1.example.net")
    rows = [read_live(env, key(name)).row for name in ("db-2", "db-3")]
    result = regroup_replicas(env, key("db-1"), candidate=key("db-2"), backend_rows=rows, for_failover=True)
    assert (result.candidate, result.moved) == (key("db-2"), [key("db-3")])
    changes = [s for s in statements(env) if "CHANGE" in s]
    assert changes == [
        "db-3: CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2.example.net', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1"
    ]
