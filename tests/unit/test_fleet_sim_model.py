"""The fleet simulator's model and statement answers (bench/fleet_sim), without sockets: what a
replica reports after its master dies, how recovery statements change the model, and the select
lists of the probe and of user queries."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.answers import SLAVE_STATUS_COLUMNS, SimError, answer  # noqa: E402
from bench.fleet_sim.model import Fleet  # noqa: E402
from orchestrator_cli.mysql.flavor import MariaDB  # noqa: E402

BASE = 40000


def _fleet() -> Fleet:
    return Fleet.of_clusters(1, BASE, slave_net_timeout=4.0)


def _status(fleet: Fleet, port: int) -> dict[str, object]:
    rows, columns = answer(fleet, fleet.servers[port], "SHOW SLAVE STATUS")
    assert columns == list(SLAVE_STATUS_COLUMNS)
    return dict(zip(columns, rows[0], strict=True)) if rows else {}


def test_a_cluster_is_master_two_replicas_and_an_intermediate_master_with_a_leaf():
    fleet = _fleet()
    assert [fleet.servers[p].master_port for p in fleet.ports()] == [None, BASE, BASE, BASE, BASE + 3]
    rows, columns = answer(fleet, fleet.servers[BASE], "SHOW SLAVE HOSTS")
    assert columns == ["Server_id", "Host", "Port", "Master_id"]
    assert sorted(row[2] for row in rows) == [BASE + 1, BASE + 2, BASE + 3]
    assert answer(fleet, fleet.servers[BASE], "SHOW SLAVE STATUS")[0] == []


def test_our_probe_statements_are_answered_and_parsed_by_our_flavor():
    fleet = _fleet()
    replica = fleet.servers[BASE + 1]
    flavor = MariaDB("10.11.6-MariaDB-log")
    rows, columns = answer(fleet, replica, flavor.core_variables_sql())
    core = flavor.parse_core_variables(dict(zip(columns, rows[0], strict=True)))
    assert (core.hostname, core.server_id, core.read_only, core.log_bin) == (f"sim-{BASE + 1}", BASE + 1, True, True)
    gtid_sql = flavor.gtid_facts_sql()
    assert gtid_sql is not None
    rows, columns = answer(fleet, replica, gtid_sql)
    assert dict(zip(columns, rows[0], strict=True))["gtid_domain_id"] == 0
    rows, _ = answer(fleet, replica, flavor.uptime_sql())
    assert rows[0][0] == "Uptime" and int(rows[0][1]) >= 1
    rows, _ = answer(fleet, replica, "show variables like 'maxscale%'")  # the original's step 0
    assert rows == []


def test_user_queries_read_the_meta_tables_by_position():
    fleet = _fleet()
    replica = fleet.servers[BASE + 1]
    fleet.servers[BASE + 1].lag_seconds = 7
    fleet.tick()
    rows, names = answer(
        fleet, replica, "select ifnull(max(cluster_alias), '') as alias from meta.cluster where anchor=1"
    )
    assert (rows, names) == ([("c00000",)], ["alias"])
    assert answer(fleet, replica, "select ifnull(max(lag_seconds), 0) from meta.heartbeat")[0] == [(7,)]
    assert answer(fleet, replica, "select 'repl', 'repl_pw'")[0] == [("repl", "repl_pw")]
    with pytest.raises(SimError) as unknown:
        answer(fleet, replica, "select x from meta.nothing")
    assert unknown.value.code == 1146


def test_replicas_notice_a_dead_master_only_after_slave_net_timeout():
    fleet = _fleet()
    fleet.mark_dead(BASE)
    assert _status(fleet, BASE + 1)["Slave_IO_Running"] == "Yes"
    later = time.monotonic() + fleet.slave_net_timeout + 0.1
    view = fleet.io_view(fleet.servers[BASE + 1], later)
    assert (view.running, view.errno) == ("Connecting", 2003)
    assert "Connection refused" in view.error
    fleet.servers[BASE].down_since = time.monotonic() - fleet.slave_net_timeout - 1
    status = _status(fleet, BASE + 1)
    assert (status["Slave_IO_Running"], status["Last_IO_Errno"], status["Seconds_Behind_Master"]) == (
        "Connecting",
        2003,
        None,
    )
    assert _status(fleet, BASE + 4)["Slave_IO_Running"] == "Yes"  # its own master is alive


def test_a_hung_master_is_seen_as_a_lost_connection():
    fleet = _fleet()
    fleet.mark_hung(BASE, True)
    fleet.servers[BASE].down_since = time.monotonic() - fleet.slave_net_timeout - 1
    assert fleet.io_view(fleet.servers[BASE + 2]).errno == 2013


def test_recovery_statements_promote_a_replica_and_repoint_a_sibling():
    fleet = _fleet()
    fleet.tick(time.monotonic() + 2)
    promoted, sibling = fleet.servers[BASE + 1], fleet.servers[BASE + 2]
    with pytest.raises(SimError) as running:
        answer(fleet, sibling, f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={BASE + 1}")
    assert running.value.code == 1198
    for sql in ("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0"):
        answer(fleet, promoted, sql)
    for sql in (
        "STOP SLAVE",
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={BASE + 1}, MASTER_USER='repl', "
        "MASTER_PASSWORD='x', MASTER_USE_GTID=slave_pos",
        "START SLAVE",
    ):
        answer(fleet, sibling, sql)
    assert (promoted.master_port, promoted.read_only) == (None, False)
    assert answer(fleet, promoted, "SHOW SLAVE STATUS")[0] == []
    assert sorted(row[2] for row in answer(fleet, promoted, "SHOW SLAVE HOSTS")[0]) == [BASE + 2]
    before = promoted.executed
    fleet.tick(time.monotonic() + 2)
    assert promoted.executed > before  # a writable root writes
    assert sibling.executed == promoted.executed  # and its new replica follows
    assert answer(fleet, sibling, "SELECT MASTER_GTID_WAIT('0-1-5', 10) AS wait_result")[0] == [(0,)]


def test_stopped_threads_are_reported_and_an_unknown_statement_is_an_error():
    fleet = _fleet()
    answer(fleet, fleet.servers[BASE + 2], "STOP SLAVE SQL_THREAD")
    status = _status(fleet, BASE + 2)
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "No")
    with pytest.raises(SimError) as unknown:
        answer(fleet, fleet.servers[BASE], "SHOW ENGINE INNODB STATUS")
    assert unknown.value.code == 1064
