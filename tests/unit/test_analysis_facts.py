"""Per-row analysis facts built from backend rows (spec analysis-recovery-topology §2.1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.analysis.facts import build_facts, cluster_matches_filters
from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.coerce import to_bool, to_int, to_opt_int
from orchestrator_cli.model.instance import is_failing_to_connect_error, major_version_of
from orchestrator_cli.model.keys import InstanceKey

# ---------------------------------------------------------------------------------------
# Fixture rows modelled on the original integration fixtures (create-per-test.sql):
#
#   22293 (master)
#   + 22294
#     + 22295
#   + 22296   (no binary log)
#   + 22297   (data center "seattle")
# ---------------------------------------------------------------------------------------

MASTER = 22293
CLUSTER = "testhost:22293"
CONNECT_ERROR = (
    "error reconnecting to master 'repl@testhost:22293' - retry-time: 60  retries: 1  message: "
    "Can't connect to MySQL server on 'testhost' (111)"
)


def make_row(port: int, **overrides: Any) -> dict[str, Any]:
    """A healthy, replicating row in the backend's shape, with per-test overrides."""
    row: dict[str, Any] = {
        "hostname": "testhost",
        "port": port,
        "last_checked": "2017-02-02 08:29:57",
        "last_attempted_check": "2017-02-02 08:29:57",
        "last_seen": "2017-02-02 08:29:57",
        "last_check_partial_success": 0,
        "uptime": 670447,
        "server_id": port - 22200,
        "server_uuid": f"{port:08d}-1111-1111-1111-111111111111",
        "version": "5.6.28-log",
        "major_version": "5.6",
        "binlog_server": 0,
        "read_only": 0,
        "binlog_format": "STATEMENT",
        "log_bin": 1,
        "log_slave_updates": 1,
        "binary_log_file": "mysql-bin.000167",
        "binary_log_pos": 137086726,
        "master_host": "testhost",
        "master_port": MASTER,
        "slave_sql_running": 1,
        "slave_io_running": 1,
        "replication_sql_thread_state": 1,
        "replication_io_thread_state": 1,
        "oracle_gtid": 0,
        "supports_oracle_gtid": 0,
        "mariadb_gtid": 0,
        "pseudo_gtid": 1,
        "gtid_mode": "OFF",
        "gtid_errant": "",
        "last_sql_error": "",
        "last_io_error": "",
        "seconds_behind_master": 0,
        "slave_lag_seconds": 0,
        "sql_delay": 0,
        "cluster_name": CLUSTER,
        "suggested_cluster_alias": "",
        "data_center": "ny",
        "region": "",
        "physical_environment": "",
        "replication_depth": 1,
        "is_co_master": 0,
        "semi_sync_enforced": 0,
        "semi_sync_master_enabled": 0,
        "semi_sync_master_status": 0,
        "semi_sync_master_wait_for_slave_count": 0,
        "semi_sync_master_clients": 0,
        "semi_sync_replica_enabled": 0,
        "semi_sync_replica_status": 0,
        "replication_group_name": "",
        "replication_group_member_state": "",
        "replication_group_member_role": "",
        # Precomputed by the backend layer:
        "is_last_check_valid": 1,
        "is_analysis_valid": 1,
        "is_downtimed": 0,
        "in_maintenance": 0,
        "is_stale_binlog_coordinates": 0,
        "cluster_alias": CLUSTER,
        "cluster_domain": CLUSTER,
    }
    if port == MASTER:
        row.update(
            master_host="",
            master_port=0,
            slave_sql_running=0,
            slave_io_running=0,
            replication_sql_thread_state=-1,
            replication_io_thread_state=-1,
            slave_lag_seconds=None,
            seconds_behind_master=None,
            replication_depth=0,
            suggested_cluster_alias="testhost",
        )
    elif port == 22295:
        row.update(master_port=22294, replication_depth=2, binary_log_file="mysql-bin.000129")
    elif port == 22296:
        row.update(version="5.6.28", log_bin=0, binary_log_file="", binary_log_pos=0)
    elif port == 22297:
        row.update(data_center="seattle")
    row.update(overrides)
    return row


DEAD: dict[str, Any] = {"is_last_check_valid": 0, "is_analysis_valid": 0, "last_seen": "2017-02-02 08:28:57"}
STOPPED: dict[str, Any] = {"slave_io_running": 0, "slave_sql_running": 0}
IO_STOPPED: dict[str, Any] = {"slave_io_running": 0, "slave_sql_running": 1}
FAILING: dict[str, Any] = {"slave_io_running": 0, "slave_sql_running": 1, "last_io_error": CONNECT_ERROR}
LAGGING: dict[str, Any] = {"slave_lag_seconds": 60, "seconds_behind_master": 60}
DOWNTIMED: dict[str, Any] = {"is_downtimed": 1}
NO_REDUCE: dict[str, Any] = {"ReduceReplicationAnalysisCount": False}


def topology(
    overrides: dict[int, dict[str, Any]] | None = None,
    extra: tuple[dict[str, Any], ...] = (),
    drop: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """The five fixture rows with per-port overrides, extra rows, and dropped ports."""
    overrides = overrides or {}
    rows = [
        make_row(port, **overrides.get(port, {})) for port in (22293, 22294, 22295, 22296, 22297) if port not in drop
    ]
    return rows + list(extra)


def facts_of_rows(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> list[AnalysisFacts]:
    """`build_facts` over fixture rows, mapped to snapshots as the backend maps what it reads."""
    return build_facts(instances_from_rows(rows), config)


def facts_by_port(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> dict[int, AnalysisFacts]:
    return {f.port: f for f in facts_of_rows(rows, config)}


# ---------------------------------------------------------------------------------------
# Coercion helpers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (0, False),
        (1, True),
        (2, True),
        ("0", False),
        ("1", True),
        ("", False),
        ("true", True),
        ("FALSE", False),
        (b"1", True),
        (Decimal("0"), False),
        (Decimal("1"), True),
        (True, True),
        ("garbage", False),
    ],
)
def test_to_bool(value: Any, expected: bool) -> None:
    assert to_bool(value) is expected


def test_int_coercion() -> None:
    assert to_int("42") == 42
    assert to_int(Decimal("7")) == 7
    assert to_int(None) == 0
    assert to_int("x", 5) == 5
    assert to_int("3.0") == 3
    assert to_opt_int(None) is None
    assert to_opt_int("") is None
    assert to_opt_int(b"12") == 12


def test_major_version() -> None:
    assert major_version_of("5.7.30") == "5.7"
    assert major_version_of("10.4.12-MariaDB") == "10.4"
    assert major_version_of("8.0") == "8.0"


def test_failing_to_connect_error_text() -> None:
    assert is_failing_to_connect_error("error connecting to master 'repl@h:3306' - retry-time: 60")
    assert is_failing_to_connect_error(CONNECT_ERROR)
    assert is_failing_to_connect_error("Error connecting to source 'repl@h:3306'. This was attempt 1/86400")
    assert not is_failing_to_connect_error("")
    assert not is_failing_to_connect_error("Got fatal error 1236 from master when reading data")


# ---------------------------------------------------------------------------------------
# Grouping and counts
# ---------------------------------------------------------------------------------------


def test_healthy_topology_counts() -> None:
    facts = facts_by_port(topology())
    m = facts[MASTER]
    assert m.is_master and not m.is_co_master and m.is_cluster_master
    assert m.last_check_valid
    assert (m.count_replicas, m.count_valid_replicas, m.count_valid_replicating_replicas) == (3, 3, 3)
    assert m.replica_keys == (
        InstanceKey("testhost", 22294),
        InstanceKey("testhost", 22296),
        InstanceKey("testhost", 22297),
    )
    assert [str(k) for k in m.replica_keys] == ["testhost:22294", "testhost:22296", "testhost:22297"]
    # 22296 has no binary log, so only two logging replicas, both STATEMENT 5.6.
    assert m.count_logging_replicas == 2
    assert m.count_statement_based_logging_replicas == 2
    assert m.count_distinct_major_versions_logging_replicas == 1
    assert m.pseudo_gtid_immediate_topology
    assert not m.oracle_gtid_immediate_topology
    assert m.gtid_mode == m.min_replica_gtid_mode == m.max_replica_gtid_mode == "OFF"
    assert m.cluster_alias == CLUSTER
    im = facts[22294]
    assert not im.is_master
    assert im.replication_depth == 1
    assert im.master_key == InstanceKey("testhost", MASTER)
    assert im.replica_keys == (InstanceKey("testhost", 22295),)


def test_reduce_replication_analysis_count_drops_healthy_leaves() -> None:
    assert sorted(facts_by_port(topology())) == [22293, 22294]
    unreduced = facts_by_port(topology(), {"ReduceReplicationAnalysisCount": False})
    assert sorted(unreduced) == [22293, 22294, 22295, 22296, 22297]
    assert unreduced[22296].count_replicas == 0


def test_reduce_keeps_invalid_or_failing_leaves() -> None:
    facts = facts_by_port(topology({22296: DEAD, 22297: FAILING}))
    assert 22296 in facts and not facts[22296].last_check_valid
    assert 22297 in facts and facts[22297].is_failing_to_connect_to_master


def test_dead_replicas_still_counted() -> None:
    m = facts_by_port(topology({22294: DEAD, 22296: DEAD | STOPPED}))[MASTER]
    assert m.count_replicas == 3
    assert m.count_valid_replicas == 1
    assert m.count_valid_replicating_replicas == 1


def test_failing_to_connect_requires_valid_io_stopped_sql_running() -> None:
    rows = topology({22294: FAILING, 22296: FAILING | DEAD, 22297: FAILING | STOPPED})
    m = facts_by_port(rows)[MASTER]
    assert m.count_replicas_failing_to_connect_to_master == 1


def test_lagging_and_delayed_counts() -> None:
    rows = topology({22294: LAGGING, 22296: {"slave_lag_seconds": None}, 22297: {"sql_delay": 3600}})
    m = facts_by_port(rows)[MASTER]
    assert m.count_lagging_replicas == 1  # NULL lag is not lagging; 10s threshold by default
    assert m.count_delayed_replicas == 1
    m2 = facts_by_port(rows, {"ReasonableReplicationLagSeconds": 120})[MASTER]
    assert m2.count_lagging_replicas == 0


def test_logging_formats_and_major_versions() -> None:
    rows = topology(
        {
            22294: {"binlog_format": "ROW", "version": "5.7.30-log", "major_version": "5.7"},
            22296: {"binlog_format": "MIXED"},  # not logging (log_bin=0): ignored
            22297: {"binlog_format": "mixed", "version": "8.0.20", "major_version": ""},
        }
    )
    m = facts_by_port(rows)[MASTER]
    assert m.count_row_based_logging_replicas == 1
    assert m.count_mixed_based_logging_replicas == 1
    assert m.count_statement_based_logging_replicas == 0
    # major_version missing -> derived from version
    assert m.count_distinct_major_versions_logging_replicas == 2


def test_gtid_immediate_topologies_use_valid_replicas_only() -> None:
    gtid = {"oracle_gtid": 1}
    rows = topology({22294: gtid, 22296: gtid, 22297: DEAD})
    assert facts_by_port(rows)[MASTER].oracle_gtid_immediate_topology
    rows = topology({22294: gtid, 22296: gtid})
    assert not facts_by_port(rows)[MASTER].oracle_gtid_immediate_topology
    rows = topology({p: {"mariadb_gtid": 1} for p in (22294, 22296, 22297)})
    assert facts_by_port(rows)[MASTER].mariadb_gtid_immediate_topology
    rows = topology({p: {"binlog_server": 1} for p in (22294, 22296, 22297)})
    assert facts_by_port(rows)[MASTER].binlog_server_immediate_topology
    # No valid replica at all -> no immediate topology
    rows = topology({p: gtid | DEAD for p in (22294, 22296, 22297)})
    assert not facts_by_port(rows)[MASTER].oracle_gtid_immediate_topology


def test_gtid_modes_and_errant_ignoring_downtimed() -> None:
    rows = topology(
        {
            22294: {"gtid_mode": "ON", "gtid_errant": "00020192-1111-1111-1111-111111111111:1"},
            22296: {"gtid_errant": "00020193-1111-1111-1111-111111111111:1-3"} | DOWNTIMED,
        }
    )
    m = facts_by_port(rows)[MASTER]
    assert (m.min_replica_gtid_mode, m.max_replica_gtid_mode) == ("OFF", "ON")
    assert m.max_replica_gtid_errant == "00020192-1111-1111-1111-111111111111:1"
    assert m.count_downtimed_replicas == 1
    rows = topology({22294: {"gtid_errant": "x:1"} | DOWNTIMED})
    assert facts_by_port(rows)[MASTER].max_replica_gtid_errant == ""


def test_semi_sync_facts() -> None:
    master = {
        "semi_sync_master_enabled": 1,
        "semi_sync_master_status": 1,
        "semi_sync_master_wait_for_slave_count": 2,
        "semi_sync_master_clients": 1,
    }
    rows = topology(
        {MASTER: master, 22294: {"semi_sync_replica_enabled": 1}, 22296: {"semi_sync_replica_enabled": 1} | DEAD}
    )
    m = facts_by_port(rows)[MASTER]
    assert m.semi_sync_master_enabled and m.semi_sync_master_status
    assert (m.semi_sync_master_wait_for_replica_count, m.semi_sync_master_clients) == (2, 1)
    assert m.count_semi_sync_replicas_enabled == 2
    assert m.count_valid_semi_sync_replicas == 1


def test_master_predicates() -> None:
    assert facts_by_port([make_row(MASTER, master_host="_", master_port=3306)], NO_REDUCE)[MASTER].is_master
    assert facts_by_port([make_row(MASTER, master_host="other", master_port=0)], NO_REDUCE)[MASTER].is_master
    detached = make_row(MASTER, master_host="//otherhost", master_port=3306)
    assert facts_by_port([detached], NO_REDUCE)[MASTER].is_master
    gr_primary = {"replication_group_name": "g1", "replication_group_member_state": "ONLINE"}
    f = facts_by_port([make_row(MASTER, replication_group_member_role="PRIMARY", **gr_primary)], NO_REDUCE)[MASTER]
    assert f.is_master and f.is_replication_group_member
    f = facts_by_port([make_row(MASTER, replication_group_member_role="SECONDARY", **gr_primary)], NO_REDUCE)[MASTER]
    assert not f.is_master and f.is_replication_group_member
    offline = make_row(MASTER, replication_group_name="g1", replication_group_member_state="OFFLINE")
    assert not facts_by_port([offline], NO_REDUCE)[MASTER].is_replication_group_member
    error = make_row(MASTER, replication_group_name="g1", replication_group_member_state="ERROR")
    assert facts_by_port([error], NO_REDUCE)[MASTER].is_replication_group_member


def test_co_master_via_replica_flag() -> None:
    rows = topology({22294: {"is_co_master": 1}})
    f = facts_by_port(rows)[MASTER]
    assert f.is_co_master and f.count_co_master_replicas == 1


def test_maintenance_excludes_analyzed_instance_but_counts_as_replica() -> None:
    facts = facts_by_port(topology({MASTER: DEAD | {"in_maintenance": 1}}))
    assert MASTER not in facts
    assert facts[22294].master_key == InstanceKey("testhost", MASTER)
    facts = facts_by_port(topology({22294: {"in_maintenance": 1}}))
    assert 22294 not in facts
    assert facts[MASTER].count_replicas == 3


def test_hostname_resolve_join() -> None:
    rows = topology(
        {
            MASTER: {"resolved_hostname": "testhost.example.com"},
            22294: {"master_host": "testhost.example.com"},
            22296: {"master_host": "testhost.example.com"},
            22297: {"master_host": "testhost.example.com"},
        }
    )
    assert facts_by_port(rows)[MASTER].count_replicas == 3
    # Without the resolve mapping the replicas do not join (and the now replica-less,
    # healthy master is reduced away).
    rows[0].pop("resolved_hostname")
    assert MASTER not in facts_by_port(rows)
    assert facts_by_port(rows, NO_REDUCE)[MASTER].count_replicas == 0


def test_string_typed_backend_values() -> None:
    rows = [
        {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in row.items()}
        for row in topology({22294: FAILING})
    ]
    facts = facts_by_port(rows)
    assert facts[MASTER].port == MASTER
    assert facts[MASTER].count_replicas == 3
    assert facts[MASTER].count_replicas_failing_to_connect_to_master == 1
    assert facts[22294].replication_depth == 1


def test_validity_fallbacks() -> None:
    row = make_row(MASTER)
    del row["is_analysis_valid"]
    row["is_last_check_valid"] = 0
    assert not facts_by_port([row], NO_REDUCE)[MASTER].last_check_valid
    del row["is_last_check_valid"]
    assert facts_by_port([row], NO_REDUCE)[MASTER].last_check_valid
    row["last_seen"] = None
    assert not facts_by_port([row], NO_REDUCE)[MASTER].last_check_valid


def test_analysis_validity_is_used_for_analyzed_instance_only() -> None:
    # A replica whose analysis validity lapsed (hanging probe) is still a valid replica for
    # its master's counts, which use last_checked <= last_seen.
    rows = topology({22294: {"is_analysis_valid": 0}})
    facts = facts_by_port(rows)
    assert facts[MASTER].count_valid_replicas == 3
    assert not facts[22294].last_check_valid


def test_cluster_alias_and_domain_default_to_cluster_name() -> None:
    row = make_row(MASTER, cluster_alias=None, cluster_domain="")
    f = facts_by_port([row], NO_REDUCE)[MASTER]
    assert f.cluster_alias == CLUSTER
    assert f.cluster_domain == CLUSTER


def test_duplicate_rows_keep_first() -> None:
    rows = [make_row(MASTER), make_row(MASTER, **DEAD), make_row(22294)]
    facts = facts_of_rows(rows)
    assert len(facts) == 1 and facts[0].last_check_valid


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], False),
        (["testhost:22293"], True),
        (["mycluster"], True),
        (["alias=mycluster"], True),
        (["alias=other"], False),
        (["alias~=^my"], True),
        (["alias~=^other"], False),
        (["*"], True),
        (["testhost"], True),
        (["^other"], False),
        (["("], False),
        ([""], False),
    ],
)
def test_cluster_filters(filters: list[str], expected: bool) -> None:
    assert cluster_matches_filters("testhost:22293", "mycluster", filters) is expected


def test_automated_recovery_flags_from_config() -> None:
    config = {"RecoverMasterClusterFilters": ["*"], "RecoverIntermediateMasterClusterFilters": "alias=nope"}
    m = facts_by_port(topology(), config)[MASTER]
    assert m.has_automated_master_recovery
    assert not m.has_automated_intermediate_master_recovery


# ---------------------------------------------------------------------------------------
# Property: arbitrary, messy rows never break fact building
# ---------------------------------------------------------------------------------------

_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=100),
    st.sampled_from(["", "0", "1", "ON", "OFF", "ROW", "STATEMENT", "x", "5.7.1", CONNECT_ERROR]),
)

_row = st.fixed_dictionaries(
    {
        "hostname": st.just("testhost"),
        "port": st.sampled_from([22293, 22294, 22295, 22296, "22297"]),
        "master_host": st.sampled_from(["", "_", "testhost", "//testhost", None]),
        "master_port": st.sampled_from([0, 22293, 22294, "22294", None]),
    },
    optional={
        name: _cell
        for name in (
            "is_last_check_valid",
            "is_analysis_valid",
            "is_downtimed",
            "in_maintenance",
            "slave_io_running",
            "slave_sql_running",
            "last_io_error",
            "slave_lag_seconds",
            "sql_delay",
            "log_bin",
            "log_slave_updates",
            "binlog_format",
            "major_version",
            "version",
            "gtid_mode",
            "gtid_errant",
            "is_co_master",
            "replication_depth",
            "semi_sync_master_enabled",
            "semi_sync_master_status",
            "semi_sync_master_wait_for_slave_count",
            "semi_sync_master_clients",
            "replication_group_name",
            "replication_group_member_state",
            "replication_group_member_role",
            "last_check_partial_success",
            "cluster_name",
            "cluster_alias",
        )
    },
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(_row, max_size=6), reduce=st.booleans())
def test_build_facts_never_raises(rows: list[dict[str, Any]], reduce: bool) -> None:
    facts = facts_of_rows(rows, {"ReduceReplicationAnalysisCount": reduce})
    for f in facts:
        assert f.count_valid_replicas <= f.count_replicas
        assert f.count_valid_replicating_replicas <= f.count_valid_replicas
        assert f.count_replicas_failing_to_connect_to_master <= f.count_valid_replicas
        assert len(f.replica_keys) == f.count_replicas
