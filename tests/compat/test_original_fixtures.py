"""Our commands read backend rows written the way the original's integration tests write them.

Each backend (SQLite always, the MySQL backend as a second parametrisation) is deployed once per
module with `-c redeploy-internal-db`; every test then re-runs the create-per-test step, exactly as
the original's test.sh does, and adds its own plain-SQL rows. Expected outputs are the ones
cli-catalog.md §3.1 and §3.5 give for these rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator_cli.backend.instances import parse_hosts_list
from orchestrator_cli.model.keys import InstanceKey
from tests.compat.fixtures import HOST, MASTER, PORTS, OriginalFixture, original_fixture

TOPOLOGY = [
    "testhost:22293     [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
    "- testhost:22294   [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
    "  - testhost:22295 [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
    "- testhost:22296   [unknown,unchecked,5.6.28,rw,nobinlog,P-GTID]",
    "- testhost:22297   [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
]
ALL_KEYS = [f"{HOST}:{p}" for p in PORTS]
# how all-instances, find and search list them: depth, most replicas first, cluster, host, port
TOPOLOGY_ORDER = [f"{HOST}:{p}" for p in (22293, 22294, 22296, 22297, 22295)]


def key(port: int) -> str:
    return f"{HOST}:{port}"


@pytest.fixture(scope="module")
def _mysql_database(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Resolved lazily, so the SQLite parametrisation never needs a MySQL server."""
    keys: dict[str, Any] = request.getfixturevalue("mysql_backend_db_module")
    return keys


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql_backend)])
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalFixture]:
    mysql_db = request.getfixturevalue("_mysql_database") if request.param == "mysql" else None
    with original_fixture(request.param, tmp_path_factory.mktemp(f"compat-{request.param}"), mysql_db) as fixture:
        yield fixture


@pytest.fixture
def fx(deployed: OriginalFixture) -> OriginalFixture:
    """The deployed backend, reset to the five create-per-test rows."""
    deployed.create_per_test()
    return deployed


def ok(fx: OriginalFixture, *args: str) -> list[str]:
    result = fx.cli(*args)
    assert result.code == 0, result.err
    assert result.err == ""
    return result.lines


def fails(fx: OriginalFixture, *args: str) -> str:
    result = fx.cli(*args)
    assert result.code != 0
    assert result.out == ""
    err_lines = result.err.splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("orchestrator:"), result.err
    return err_lines[0]


# -- schema shape ---------------------------------------------------------------------------------


def test_columns_the_fixture_omits_take_the_original_defaults(fx: OriginalFixture) -> None:
    row = fx.query(
        "SELECT replication_sql_thread_state, replication_io_thread_state, semi_sync_available,"
        " semi_sync_master_timeout, semi_sync_master_wait_for_slave_count, semi_sync_master_status,"
        " semi_sync_master_clients, semi_sync_replica_status, replication_group_name,"
        " replication_group_member_state, replication_group_member_role, replication_group_primary_host,"
        " replication_group_is_single_primary_mode, replication_group_primary_port"
        " FROM database_instance WHERE port = 22296"
    )[0]
    # thread states were set to 1 by the follow-up UPDATEs; the rest are the omitted columns' defaults
    assert tuple(row) == (1, 1, 0, 0, 0, 0, 0, 0, "", "", "", "", 1, 0)
    master = fx.query(
        "SELECT replication_sql_thread_state, replication_io_thread_state FROM database_instance WHERE port = 22293"
    )[0]
    assert tuple(master) == (-1, -1)


def test_slave_hosts_quirk_is_stored_and_tolerated(fx: OriginalFixture) -> None:
    raw = fx.query("SELECT slave_hosts FROM database_instance WHERE port = 22293")[0][0]
    if fx.sqlite:
        assert raw.startswith('[{\\"Hostname\\"')  # backslashes survive: not valid JSON
    else:
        assert raw.startswith('[{"Hostname"')
    assert parse_hosts_list(raw) == [InstanceKey(HOST, 22294), InstanceKey(HOST, 22297), InstanceKey(HOST, 22296)]
    error = fx.query("SELECT last_sql_error FROM database_instance WHERE port = 22294")[0][0]
    assert error == ('\\"\\"' if fx.sqlite else '""')


# -- clusters -------------------------------------------------------------------------------------


def test_clusters(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "clusters") == [MASTER]


def test_clusters_alias_falls_back_to_the_cluster_name(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET suggested_cluster_alias = ''")
    assert ok(fx, "-c", "clusters-alias") == [f"{MASTER}\t{MASTER}"]


def test_clusters_alias_is_the_cluster_name_until_an_alias_is_registered(fx: OriginalFixture) -> None:
    # The fixture's master suggests "testhost"; the original's expected output is still the cluster name
    # twice: only a registered alias (cluster_alias, or an override) is an alias.
    assert ok(fx, "-c", "clusters-alias") == [f"{MASTER}\t{MASTER}"]
    assert ok(fx, "-c", "which-cluster-alias", "-i", key(22295)) == [MASTER]
    assert ok(fx, "-c", "which-cluster", "--alias", "testhost") == [MASTER]  # still accepted as a hint
    fx.execute(
        "INSERT INTO cluster_alias (cluster_name, alias, last_registered) VALUES (?, ?, ?)",
        (MASTER, "shop", "2025-01-01 00:00:00"),
    )
    try:
        assert ok(fx, "-c", "clusters-alias") == [f"{MASTER}\tshop"]
        assert ok(fx, "-c", "which-cluster-alias", "-i", key(22295)) == ["shop"]
    finally:
        fx.execute("DELETE FROM cluster_alias")


def test_clusters_alias_reads_an_override_row(fx: OriginalFixture) -> None:
    fx.execute("DELETE FROM cluster_alias_override")
    fx.execute("INSERT INTO cluster_alias_override (cluster_name, alias) VALUES (?, ?)", (MASTER, "payments"))
    try:
        assert ok(fx, "-c", "clusters-alias") == [f"{MASTER}\tpayments"]
        assert ok(fx, "-c", "which-cluster-alias", "-i", key(22295)) == ["payments"]
        assert ok(fx, "-c", "which-cluster-master", "--alias", "payments") == [MASTER]
    finally:
        fx.execute("DELETE FROM cluster_alias_override")


# -- topology -------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["testhost:22294", "testhost:22293", "test:22295"])
def test_topology_exact_lines_from_any_member(fx: OriginalFixture, member: str) -> None:
    assert ok(fx, "-c", "topology", "-i", member) == TOPOLOGY


def test_debug_and_stack_flags_leave_stdout_alone(fx: OriginalFixture) -> None:
    # test.sh runs every command as `orchestrator --config … --debug --stack <extra_args>`
    result = fx.cli("--debug", "--stack", "-c", "topology", "-i", key(22294))
    assert result.code == 0, result.err
    assert result.lines == TOPOLOGY


def test_topology_by_alias(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "topology", "--alias", MASTER) == TOPOLOGY
    assert ok(fx, "-c", "topology", "--alias", "testhost") == TOPOLOGY
    # cluster resolution order: --alias, then -i
    assert ok(fx, "-c", "topology", "--alias", "nosuchcluster", "-i", key(22295)) == TOPOLOGY
    assert "unknown cluster: nosuchcluster" in fails(fx, "-c", "topology", "--alias", "nosuchcluster")


def test_topology_tabulated(fx: OriginalFixture) -> None:
    fx.execute(
        f"UPDATE database_instance SET last_checked = {fx.now}, last_attempted_check = {fx.now},"
        f" last_seen = {fx.now}, seconds_behind_master = 7, slave_lag_seconds = 7 WHERE port IN (22294, 22297)"
    )
    out = ok(fx, "-c", "topology-tabulated", "-i", key(22294))
    assert [ln.rstrip() for ln in out] == [
        "testhost:22293    |unknown|unchecked|5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "+ testhost:22294  |     7s|ok       |5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "  - testhost:22295|unknown|unchecked|5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "- testhost:22296  |unknown|unchecked|5.6.28    |rw|nobinlog |P-GTID",
        "+ testhost:22297  |     7s|ok       |5.6.28-log|rw|STATEMENT|>>,P-GTID",
    ]
    # every column, the last included, is padded to a common width
    assert len({len(ln) for ln in out}) == 1
    assert out[3].endswith("|P-GTID   ")


def test_topology_tags_with_rows_lacking_last_updated(fx: OriginalFixture) -> None:
    fx.execute(
        "INSERT INTO database_instance_tags (hostname, port, tag_name, tag_value) VALUES"
        " ('testhost', 22293, 'role', 'backup'), ('testhost', 22293, 'in_service', ''),"
        " ('testhost', 22294, 'role', 'delayed'), ('testhost', 22295, 'in_service', '')"
    )
    assert ok(fx, "-c", "topology-tags", "-i", key(22293)) == [
        TOPOLOGY[0] + " [in_service,role=backup]",
        TOPOLOGY[1] + " [role=delayed]",
        TOPOLOGY[2] + " [in_service]",
        TOPOLOGY[3] + " []",
        TOPOLOGY[4] + " []",
    ]


def test_topology_shows_instance_alias(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET instance_alias = 'backup' WHERE port = 22296")
    out = ok(fx, "-c", "topology", "-i", key(22293))
    assert out[3] == "- testhost:22296 (backup) [unknown,unchecked,5.6.28,rw,nobinlog,P-GTID]"
    assert {ln.index("[") for ln in out} == {len("- testhost:22296 (backup) ")}


# -- instance status and which-* --------------------------------------------------------------------


def test_instance_status(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "instance-status", "-i", key(22293)) == [
        "[unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]"
    ]


def test_instance_status_invalid_when_last_seen_is_older_or_null(fx: OriginalFixture) -> None:
    # The analysis fixtures' "dead" instance; on SQLite test.sh's rewrite makes last_seen NULL.
    fx.execute(
        f"UPDATE database_instance SET last_checked = {fx.now}, last_attempted_check = {fx.now} WHERE port = 22293"
    )
    fx.execute(f"UPDATE database_instance SET last_seen = {fx.column_minus_minute('last_checked')} WHERE port = 22293")
    last_seen = fx.query("SELECT last_seen FROM database_instance WHERE port = 22293")[0][0]
    assert (last_seen is None) == fx.sqlite
    assert ok(fx, "-c", "instance-status", "-i", key(22293)) == ["[unknown,invalid,5.6.28-log,rw,STATEMENT,>>,P-GTID]"]


def test_instance_status_of_a_healthy_lagging_replica(fx: OriginalFixture) -> None:
    fx.execute(
        f"UPDATE database_instance SET last_checked = {fx.now}, last_attempted_check = {fx.now}, last_seen = {fx.now},"
        " seconds_behind_master = 60, slave_lag_seconds = 60 WHERE port = 22294"
    )
    assert ok(fx, "-c", "instance-status", "-i", key(22294)) == ["[60s,lag,5.6.28-log,rw,STATEMENT,>>,P-GTID]"]


def test_which_master(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "which-master", "-i", key(22295)) == [key(22294)]
    assert ok(fx, "-c", "which-master", "-i", key(22293)) == []


def test_which_replicas(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "which-replicas", "-i", key(22293)) == [key(22294), key(22296), key(22297)]
    assert ok(fx, "-c", "which-replicas", "-i", key(22295)) == []
    assert ok(fx, "-c", "which-slaves", "-i", key(22294)) == [key(22295)]


def test_which_cluster_master_and_instances(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "which-cluster-master", "-i", key(22295)) == [MASTER]
    assert ok(fx, "-c", "which-cluster-instances", "-i", key(22295)) == ALL_KEYS
    assert ok(fx, "-c", "which-cluster", "-i", key(22297)) == [MASTER]


def test_which_cluster_master_of_a_read_only_master(fx: OriginalFixture) -> None:
    # a single master is the cluster's master even while read-only (e.g. during a planned takeover)
    fx.execute("UPDATE database_instance SET read_only = 1 WHERE port = 22293")
    assert ok(fx, "-c", "which-cluster-master", "-i", key(22295)) == [MASTER]
    assert ok(fx, "-c", "all-clusters-masters") == []  # that list is of writeable masters only


def test_which_cluster_master_prefers_the_writeable_co_master(fx: OriginalFixture) -> None:
    fx.execute(
        "UPDATE database_instance SET master_host = 'testhost', master_port = 22294, master_log_file = 'mysql-bin.1',"
        " is_co_master = 1, read_only = 1 WHERE port = 22293"
    )
    fx.execute("UPDATE database_instance SET is_co_master = 1 WHERE port = 22294")
    assert ok(fx, "-c", "which-cluster-master", "-i", key(22295)) == [key(22294)]


def test_which_cluster_master_fails_without_a_master(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET replication_depth = 1 WHERE port = 22293")
    assert "no master found for cluster testhost:22293" in fails(fx, "-c", "which-cluster-master", "-i", key(22295))


def test_ip_literals_are_never_fuzzy_matched(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET hostname = '10.0.0.15' WHERE port = 22296")
    fx.execute("UPDATE database_instance SET hostname = 'fe80::15' WHERE port = 22297")
    assert ok(fx, "-c", "which-instance", "-i", "10.0.0.15:22296") == ["10.0.0.15:22296"]
    assert "not found" in fails(fx, "-c", "which-instance", "-i", "0.0.0.1:22296")  # a substring, but an IP
    assert ok(fx, "-c", "which-instance", "-i", "[fe80::15]:22297") == ["fe80::15:22297"]
    assert "not found" in fails(fx, "-c", "which-instance", "-i", "[::15]:22297")


def test_fuzzy_match_treats_underscore_literally(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET hostname = 'test_host' WHERE port = 22297")
    assert ok(fx, "-c", "which-instance", "-i", "t_host:22297") == ["test_host:22297"]
    fx.execute("UPDATE database_instance SET hostname = 'testxhost' WHERE port = 22297")
    assert "not found" in fails(fx, "-c", "which-instance", "-i", "t_host:22297")


def test_all_and_bulk_instances(fx: OriginalFixture) -> None:
    # depth, then replica count descending, then cluster, host, port
    assert ok(fx, "-c", "all-instances") == TOPOLOGY_ORDER
    assert ok(fx, "-c", "bulk-instances") == ALL_KEYS
    assert ok(fx, "-c", "all-clusters-masters") == [MASTER]


def test_which_instance_unknown_fails(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "which-instance", "-i", "test:22296") == [key(22296)]
    assert "not found" in fails(fx, "-c", "which-instance", "-i", "otherhost:22296")


# -- replication information ------------------------------------------------------------------------


def test_is_replicating(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "is-replicating", "-i", key(22294)) == [key(22294)]
    assert ok(fx, "-c", "is-replicating", "-i", key(22293)) == []
    fx.execute("UPDATE database_instance SET replication_sql_thread_state = 0 WHERE port = 22294")
    assert ok(fx, "-c", "is-replicating", "-i", key(22294)) == []
    # the original's is-replicating-02 fixture sets only the thread-state columns
    fx.execute(
        "UPDATE database_instance SET replication_sql_thread_state = 1, replication_io_thread_state = 1"
        " WHERE port = 22294"
    )
    assert ok(fx, "-c", "is-replicating", "-i", key(22294)) == [key(22294)]


def test_is_replication_stopped(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "is-replication-stopped", "-i", key(22294)) == []
    assert ok(fx, "-c", "is-replication-stopped", "-i", key(22293)) == []
    fx.execute("UPDATE database_instance SET replication_sql_thread_state = 0 WHERE port = 22294")
    assert ok(fx, "-c", "is-replication-stopped", "-i", key(22294)) == []  # only one thread stopped
    # as is-replication-stopped-02: only the thread states change, slave_*_running keep saying 1
    fx.execute(
        "UPDATE database_instance SET replication_sql_thread_state = 0, replication_io_thread_state = 0"
        " WHERE port = 22294"
    )
    assert ok(fx, "-c", "is-replication-stopped", "-i", key(22294)) == [key(22294)]
    assert ok(fx, "-c", "is-replicating", "-i", key(22294)) == []
    assert ok(fx, "-c", "topology", "-i", key(22293))[1] == TOPOLOGY[1]


def test_can_replicate_from(fx: OriginalFixture) -> None:
    # 22296 has no binary log: nobody can replicate from it
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22295), "-d", key(22296)) == []
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22296), "-d", key(22294)) == [key(22294)]
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22295), "-d", key(22297)) == [key(22297)]


def test_can_replicate_from_higher_version(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET version = '5.7.8', major_version = '5.7' WHERE port = 22297")
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22295), "-d", key(22297)) == []
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22297), "-d", key(22295)) == [key(22295)]


def test_can_replicate_from_sql_delay(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET sql_delay = 3600 WHERE port = 22297")
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22294), "-d", key(22297)) == []
    assert ok(fx, "-c", "can-replicate-from", "-i", key(22297), "-d", key(22294)) == [key(22294)]


def test_can_replicate_from_unknown_instance_fails(fx: OriginalFixture) -> None:
    assert "not found" in fails(fx, "-c", "can-replicate-from", "-i", key(22295), "-d", "otherhost:22296")


# -- search and find --------------------------------------------------------------------------------


def test_search(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "search", "--pattern", "22295") == [key(22295)]
    assert ok(fx, "-c", "search", "--pattern", "testhost") == TOPOLOGY_ORDER
    assert ok(fx, "-c", "search", "--pattern", " 5.6.28-log ") == [k for k in TOPOLOGY_ORDER if k != key(22296)]
    assert ok(fx, "-c", "search", "--pattern", "103") == [key(22296)]  # exact server_id
    assert ok(fx, "-c", "search", "--pattern", "Community") == TOPOLOGY_ORDER  # version comment
    assert ok(fx, "-c", "search", "--pattern", "nosuchthing") == []


def test_search_text_is_literal(fx: OriginalFixture) -> None:
    fx.execute("UPDATE database_instance SET hostname = 'test_host' WHERE port = 22297")
    assert ok(fx, "-c", "search", "--pattern", "t_h") == [key(22297).replace("testhost", "test_host")]
    assert ok(fx, "-c", "search", "--pattern", "%") == []


def test_find(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "find", "--pattern", "2229[45]$") == [key(22294), key(22295)]
    assert ok(fx, "-c", "find", "--pattern", "^testhost:") == TOPOLOGY_ORDER
    assert ok(fx, "-c", "find", "--pattern", "^other") == []


# -- tags -----------------------------------------------------------------------------------------


def test_tag_commands_on_rows_written_directly(fx: OriginalFixture) -> None:
    fx.execute(
        "INSERT INTO database_instance_tags (hostname, port, tag_name, tag_value) VALUES"
        " ('testhost', 22293, 'role', 'backup'), ('testhost', 22293, 'in_service', ''),"
        " ('testhost', 22294, 'role', 'delayed'), ('testhost', 22295, 'in_service', '')"
    )
    assert ok(fx, "-c", "tags", "-i", key(22293)) == ["in_service=", "role=backup"]
    assert ok(fx, "-c", "tag-value", "-i", key(22294), "--tag", "role") == ["delayed"]
    assert ok(fx, "-c", "tag-value", "-i", key(22295), "--tag", "in_service") == [""]
    assert ok(fx, "-c", "tag-value", "-i", key(22296), "--tag", "role") == []
    assert ok(fx, "-c", "tagged", "--tag", "role") == [key(22293), key(22294)]
    assert ok(fx, "-c", "tagged", "--tag", "role=backup") == [key(22293)]
    assert ok(fx, "-c", "tagged", "--tag", "in_service,role=backup") == [key(22293)]
    assert ok(fx, "-c", "tagged", "--tag", "~role") == [key(22295), key(22296), key(22297)]
    assert ok(fx, "-c", "tagged", "--tag", "!role,in_service") == [key(22295)]
    assert ok(fx, "-c", "tagged", "--tag", "role=nothing") == []


def test_tag_untag_roundtrip(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "tag", "-i", key(22296), "--tag", "role=backup") == [key(22296)]
    assert ok(fx, "-c", "tag", "-i", key(22296), "--tag", "role=analytics") == [key(22296)]
    assert ok(fx, "-c", "tag", "-i", key(22297), "--tag", "role=analytics") == [key(22297)]
    assert ok(fx, "-c", "tag", "-i", key(22297), "--tag", "candidate") == [key(22297)]
    assert ok(fx, "-c", "tags", "-i", key(22296)) == ["role=analytics"]
    assert ok(fx, "-c", "tags", "-i", key(22297)) == ["candidate=", "role=analytics"]
    assert ok(fx, "-c", "untag", "-i", key(22297), "--tag", "candidate") == [key(22297)]
    assert ok(fx, "-c", "untag", "-i", key(22297), "--tag", "candidate") == []
    assert ok(fx, "-c", "untag-all", "--tag", "role=analytics") == [key(22296), key(22297)]
    assert fx.query("SELECT COUNT(*) FROM database_instance_tags")[0][0] == 0


def test_untag_all_refuses_a_tag_without_value(fx: OriginalFixture) -> None:
    fx.execute(
        "INSERT INTO database_instance_tags (hostname, port, tag_name, tag_value) VALUES ('testhost', 22293, 'a', '')"
    )
    assert "value" in fails(fx, "-c", "untag-all", "--tag", "a")
    assert fx.query("SELECT COUNT(*) FROM database_instance_tags")[0][0] == 1


# -- maintenance and downtime -------------------------------------------------------------------------


def test_begin_and_in_maintenance(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "in-maintenance", "-i", key(22294)) == []
    assert ok(fx, "-c", "begin-maintenance", "-i", key(22294), "--reason", "upgrade", "--owner", "ops") == [key(22294)]
    assert ok(fx, "-c", "in-maintenance", "-i", key(22294)) == [key(22294)]
    assert "already in maintenance" in fails(fx, "-c", "begin-maintenance", "-i", key(22294), "--reason", "again")
    row = fx.query(
        "SELECT maintenance_active, owner, reason, explicitly_bounded FROM database_instance_maintenance"
        " WHERE port = 22294"
    )
    assert [tuple(r) for r in row] == [(1, "ops", "upgrade", 1)]
    assert ok(fx, "-c", "end-maintenance", "-i", key(22294)) == [key(22294)]
    assert ok(fx, "-c", "in-maintenance", "-i", key(22294)) == []


def test_maintenance_rows_written_directly(fx: OriginalFixture) -> None:
    columns = (
        "hostname, port, maintenance_active, begin_timestamp, end_timestamp, owner, reason,"
        " processing_node_hostname, processing_node_token, explicitly_bounded"
    )
    # the original's in-maintenance fixture: begin = end = now, then end moved a minute ahead
    fx.execute(
        f"INSERT INTO database_instance_maintenance ({columns}) VALUES"
        f" ('testhost', 22294, 1, {fx.now}, {fx.now}, 'test', 'integration test', 'node', 'token', 1)"
    )
    fx.execute(f"UPDATE database_instance_maintenance SET end_timestamp = {fx.now_plus(1)}")
    fx.execute(
        f"INSERT INTO database_instance_maintenance ({columns}) VALUES"
        f" ('testhost', 22295, 1, {fx.now_plus(-10)}, {fx.now_plus(-1)}, 'ci', 'expired', 'node', 'token', 1)"
    )
    assert ok(fx, "-c", "in-maintenance", "-i", key(22294)) == [key(22294)]
    assert ok(fx, "-c", "in-maintenance", "-i", key(22295)) == []
    assert "already in maintenance" in fails(fx, "-c", "begin-maintenance", "-i", key(22294), "--reason", "r")
    # an expired lock does not block a new one
    assert ok(fx, "-c", "begin-maintenance", "-i", key(22295), "--reason", "r") == [key(22295)]


def test_downtime_rows_written_directly(fx: OriginalFixture) -> None:
    columns = "hostname, port, downtime_active, begin_timestamp, end_timestamp, owner, reason"
    fx.execute(
        f"INSERT INTO database_instance_downtime ({columns}) VALUES"
        f" ('testhost', 22295, 1, {fx.now}, {fx.now}, 'ci', 'unit test')"
    )
    fx.execute(f"UPDATE database_instance_downtime SET end_timestamp = {fx.now_plus(1)} WHERE port = 22295")
    fx.execute(
        f"INSERT INTO database_instance_downtime ({columns}) VALUES"
        f" ('testhost', 22296, 1, {fx.now_plus(-10)}, {fx.now_plus(-1)}, 'ci', 'over')"
    )
    assert ok(fx, "-c", "instance-status", "-i", key(22295)) == [
        "[unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID,downtimed]"
    ]
    assert ok(fx, "-c", "instance-status", "-i", key(22296)) == ["[unknown,unchecked,5.6.28,rw,nobinlog,P-GTID]"]
    assert ok(fx, "-c", "which-downtimed-instances") == [key(22295)]
    assert ok(fx, "-c", "which-downtimed-instances", "-i", key(22293)) == [key(22295)]
    assert TOPOLOGY[2].replace("P-GTID]", "P-GTID,downtimed]") in ok(fx, "-c", "topology", "-i", key(22293))


def test_begin_and_end_downtime(fx: OriginalFixture) -> None:
    assert ok(fx, "-c", "begin-downtime", "-i", key(22297), "--reason", "r", "--duration", "1h") == [key(22297)]
    assert ok(fx, "-c", "which-downtimed-instances") == [key(22297)]
    assert ok(fx, "-c", "end-downtime", "-i", key(22297)) == [key(22297)]
    assert ok(fx, "-c", "which-downtimed-instances") == []


def test_lost_in_recovery_downtime(fx: OriginalFixture) -> None:
    fx.execute(
        "INSERT INTO database_instance_downtime (hostname, port, downtime_active, begin_timestamp, end_timestamp,"
        f" owner, reason) VALUES ('testhost', 22297, 1, {fx.now}, {fx.now_plus(60)}, 'orchestrator',"
        " 'lost-in-recovery')"
    )
    assert ok(fx, "-c", "which-lost-in-recovery") == [key(22297)]


# -- candidates -------------------------------------------------------------------------------------


def test_candidate_rows_without_last_suggested(fx: OriginalFixture) -> None:
    fx.execute(
        "INSERT INTO candidate_database_instance (hostname, port, promotion_rule) VALUES"
        " ('testhost', 22294, 'prefer'), ('testhost', 22296, 'must_not'), ('testhost', 22297, 'must')"
    )
    assert ok(fx, "-c", "bulk-promotion-rules") == [
        f"{key(22294)} prefer",
        f"{key(22296)} must_not",
        f"{key(22297)} must",
    ]
    assert ok(fx, "-c", "register-candidate", "-i", key(22296), "--promotion-rule", "neutral") == [key(22296)]
    assert ok(fx, "-c", "register-candidate", "-i", key(22295)) == [key(22295)]
    assert ok(fx, "-c", "bulk-promotion-rules") == [
        f"{key(22294)} prefer",
        f"{key(22295)} prefer",
        f"{key(22296)} neutral",
        f"{key(22297)} must",
    ]


# -- pools ----------------------------------------------------------------------------------------


def test_pools(fx: OriginalFixture) -> None:
    fx.execute("DELETE FROM database_instance_pool")
    members = f"{key(22294)},{key(22296)},{key(22297)},otherhost:3306"
    assert ok(fx, "-c", "submit-pool-instances", "--pool", "web", "-i", members) == []
    assert ok(fx, "-c", "submit-pool-instances", "--pool", "batch", "-i", key(22295)) == []
    # the cluster's alias, here none registered: the name (not the members' suggestion "testhost");
    # unknown instances are not listed
    assert ok(fx, "-c", "cluster-pool-instances") == [
        f"{MASTER}\t{MASTER}\tbatch\t{key(22295)}",
        f"{MASTER}\t{MASTER}\tweb\t{key(22294)}",
        f"{MASTER}\t{MASTER}\tweb\t{key(22296)}",
        f"{MASTER}\t{MASTER}\tweb\t{key(22297)}",
    ]
    # downtimed and invalid members are not offered
    fx.execute(
        "INSERT INTO database_instance_downtime (hostname, port, downtime_active, begin_timestamp, end_timestamp,"
        f" owner, reason) VALUES ('testhost', 22296, 1, {fx.now}, {fx.now_plus(5)}, 'ci', 'r')"
    )
    fx.execute(f"UPDATE database_instance SET last_checked = {fx.now} WHERE port = 22297")
    assert ok(fx, "-c", "which-heuristic-cluster-pool-instances", "-i", key(22293), "--pool", "web") == [key(22294)]
    assert ok(fx, "-c", "which-heuristic-cluster-pool-instances", "-i", key(22293)) == [key(22294), key(22295)]
    # submitting again replaces the membership
    assert ok(fx, "-c", "submit-pool-instances", "--pool", "web", "-i", key(22293)) == []
    assert ok(fx, "-c", "which-heuristic-cluster-pool-instances", "--alias", "testhost", "--pool", "web") == [MASTER]
