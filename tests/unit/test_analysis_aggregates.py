"""The backend-side analysis aggregation gives exactly the facts the pure-Python grouping gives
(and the narrow `clusters`/`all-instances` reads the lists the full reads give).

`backend.analysis.analysis_aggregates` (one SQL aggregation mapped to facts in the backend, completed
by `analysis.analysable`: what `replication-analysis` and the recovery loop read) is compared with
`analysis.build_facts` over every instance (`backend.analysis.analysis_instances`) on random fleets:
replicas valid or not, failing to connect, lagging, delayed, downtimed (active, expired), in
maintenance, behind a resolved master name, with stale binlog coordinates, co-masters, group members,
mixed binlog formats and versions, GTID modes and errant sets, aliases and domains, "unreachable"
keys. On SQLite always; on the MySQL backend too (the shared 127.0.0.1:3306 server, or a standalone
one).
"""

from __future__ import annotations

import dataclasses
import math
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_cli.analysis import (
    AnalysisFacts,
    analysable,
    build_facts,
    listed_analysis,
    replication_analysis,
)
from orchestrator_cli.backend import analysis as backend_analysis
from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from tests.support import sqlite_config, write_config

SIDE_TABLES = (
    "database_instance",
    "database_instance_downtime",
    "database_instance_maintenance",
    "hostname_resolve",
    "database_instance_stale_binlog_coordinates",
    "cluster_alias",
    "cluster_alias_override",
    "cluster_domain_name",
    "database_instance_tags",
)
ERRORS = (
    "",
    "error reconnecting to master 'repl@h0:3306' - retry-time: 60",
    "Error connecting to source 'repl@h0:3306'",
    "Fatal error: The slave I/O thread stops",
)


def _row(rng: random.Random, index: int, master: InstanceKey | None, cluster: str) -> dict[str, Any]:
    replica = master is not None
    return {
        "hostname": f"h{index}",
        "port": 3306,
        "server_id": index + 1,
        "version": rng.choice(("10.11.6-MariaDB-log", "8.0.36", "5.7.44-log", "")),
        "major_version": rng.choice(("10.11", "8.0", "5.7", "", " 8.0 ")),
        "read_only": rng.randint(0, 1),
        "log_bin": rng.choice((0, 1, 1, 1)),
        "log_slave_updates": rng.choice((0, 1, 1)),
        "binlog_format": rng.choice(("ROW", "STATEMENT", "MIXED", " row ", "")),
        "binlog_server": rng.choice((0, 0, 0, 1)),
        "binary_log_file": rng.choice(("mysql-bin.000001", "mysql-bin.000002")),
        "binary_log_pos": rng.choice((4, 120, 0)),
        "master_host": master.hostname if master else rng.choice(("", "_", "//detached")),
        "master_port": master.port if master else rng.choice((0, 3306)),
        "slave_sql_running": int(replica and rng.random() < 0.8),
        "slave_io_running": int(replica and rng.random() < 0.7),
        "replication_sql_thread_state": 1 if replica else -1,
        "replication_io_thread_state": 1 if replica else -1,
        "last_io_error": rng.choice(ERRORS) if replica else "",
        "master_log_file": "mysql-bin.000001" if replica else "",
        "read_master_log_pos": 4 if replica else 0,
        "seconds_behind_master": rng.choice((None, 0, 30)) if replica else None,
        "slave_lag_seconds": rng.choice((None, 0, 5, 30)) if replica else None,
        "sql_delay": rng.choice((0, 0, 3600)),
        "oracle_gtid": rng.randint(0, 1),
        "mariadb_gtid": rng.randint(0, 1),
        "pseudo_gtid": rng.randint(0, 1),
        "gtid_mode": rng.choice(("OFF", "ON", "ON_PERMISSIVE", "")),
        "gtid_errant": rng.choice(("", "", "u1:1-3", "u2:5")),
        "is_co_master": int(rng.random() < 0.1),
        "semi_sync_master_enabled": rng.randint(0, 1),
        "semi_sync_master_status": rng.randint(0, 1),
        "semi_sync_master_wait_for_slave_count": rng.choice((0, 1, 2)),
        "semi_sync_master_clients": rng.choice((0, 1, 2)),
        "semi_sync_replica_enabled": rng.randint(0, 1),
        "replication_group_name": rng.choice(("", "", "", "grp")),
        "replication_group_member_state": rng.choice(("ONLINE", "OFFLINE", "")),
        "replication_group_member_role": rng.choice(("PRIMARY", "SECONDARY", "")),
        "cluster_name": cluster,
        "data_center": rng.choice(("dc1", "dc2")),
        "region": "eu",
        "physical_environment": "prod",
        "replication_depth": 1 if replica else 0,
        "last_check_partial_success": rng.randint(0, 1),
        "slave_hosts": "[]",
        "replication_group_members": "[]",
    }


def write_random_fleet(backend: Backend, seed: int) -> list[str]:
    """A random fleet of up to ~40 instances with every side table in play; returns a few keys to
    pass as "unreachable"."""
    rng = random.Random(seed)
    d = backend.dialect
    for table in SIDE_TABLES:
        backend.execute(f"DELETE FROM {table}")
    rows: list[dict[str, Any]] = []
    keys: list[InstanceKey] = []
    cluster_of: list[str] = []
    for index in range(rng.randint(1, 40)):
        master = rng.choice(keys) if keys and rng.random() < 0.8 else None
        if master is not None and rng.random() < 0.1:
            master = InstanceKey(f"h{index}-resolved-away", 3306)  # a master with no row
        cluster = cluster_of[keys.index(master)] if master in keys else f"h{index}:3306"
        if master is not None and rng.random() < 0.1:
            master = InstanceKey(f"alias-of-{master.hostname}", master.port)  # named by its resolved name
        rows.append(_row(rng, index, master, cluster))
        keys.append(InstanceKey(f"h{index}", 3306))
        cluster_of.append(cluster)
    instances.write_instances(backend, rows)
    for key in keys:
        roll = rng.random()
        if roll < 0.15:  # checked but not seen since: invalid
            backend.execute(
                f"UPDATE database_instance SET last_seen = {d.seconds_ago('600')} WHERE hostname = ?", (key.hostname,)
            )
        elif roll < 0.25:  # seen, but the last attempt is long after: valid check, invalid analysis
            backend.execute(
                f"UPDATE database_instance SET last_seen = {d.seconds_ago('600')},"
                f" last_checked = {d.seconds_ago('600')} WHERE hostname = ?",
                (key.hostname,),
            )
        elif roll < 0.3:
            backend.execute("UPDATE database_instance SET last_seen = NULL WHERE hostname = ?", (key.hostname,))
        if rng.random() < 0.2:
            ends = rng.choice((d.seconds_from_now("600"), d.seconds_ago("600")))
            backend.execute(
                "INSERT INTO database_instance_downtime (hostname, port, downtime_active, begin_timestamp,"
                f" end_timestamp, owner, reason) VALUES (?, 3306, 1, {d.now()}, {ends}, 'test', 'test')",
                (key.hostname,),
            )
        if rng.random() < 0.1:
            backend.execute(
                "INSERT INTO database_instance_maintenance (hostname, port, maintenance_active, begin_timestamp,"
                f" end_timestamp, owner, reason, processing_node_hostname, processing_node_token, explicitly_bounded)"
                f" VALUES (?, 3306, ?, {d.now()}, {d.seconds_from_now('600')}, 't', 't', 'n', 'x', 0)",
                (key.hostname, rng.choice((1, None))),
            )
        if rng.random() < 0.1:
            backend.execute(
                "INSERT INTO hostname_resolve (hostname, resolved_hostname, resolved_timestamp)"
                f" VALUES (?, ?, {d.now()})",
                (key.hostname, f"alias-of-{key.hostname}"),
            )
        if rng.random() < 0.15:
            row = rows[keys.index(key)]
            first_seen = rng.choice((d.now(), d.seconds_ago("3600")))
            backend.execute(
                "INSERT INTO database_instance_stale_binlog_coordinates (hostname, port, binary_log_file,"
                f" binary_log_pos, first_seen) VALUES (?, 3306, ?, ?, {first_seen})",
                (key.hostname, row["binary_log_file"], rng.choice((row["binary_log_pos"], 999))),
            )
    for cluster in sorted(set(cluster_of)):
        if rng.random() < 0.3:
            backend.execute(
                f"INSERT INTO cluster_alias (cluster_name, alias, last_registered) VALUES (?, ?, {d.now()})",
                (cluster, f"alias-{cluster}"),
            )
        if rng.random() < 0.2:
            backend.execute(
                "INSERT INTO cluster_alias_override (cluster_name, alias) VALUES (?, ?)", (cluster, f"o-{cluster}")
            )
        if rng.random() < 0.3:
            backend.execute(
                "INSERT INTO cluster_domain_name (cluster_name, domain_name, last_registered)"
                f" VALUES (?, ?, {d.now()})",
                (cluster, f"{cluster}.example"),
            )
    unreachable = [str(k) for k in rng.sample(keys, k=min(len(keys), rng.randint(0, 3)))]
    for key in keys:  # tags, read by `topology-tags`
        for name in rng.sample(("role", "dc", "in_service"), k=rng.choice((0, 0, 1, 2))):
            backend.execute(
                "INSERT INTO database_instance_tags (hostname, port, tag_name, tag_value, last_updated)"
                f" VALUES (?, 3306, ?, ?, {d.now()})",
                (key.hostname, name, rng.choice(("", "backup", "x"))),
            )
    return unreachable


def assert_same_listings(backend: Backend) -> None:
    """`clusters` and `all-instances` read names and keys only; the full reads give the same lists."""
    from orchestrator_cli.backend import clusters

    assert clusters.cluster_names(backend) == [str(c["cluster_name"]) for c in clusters.clusters_info(backend)]
    assert instances.all_keys(backend) == [str(k) for k in instances.keys_of(instances.all_instances(backend))]
    assert_scan_is_the_full_read_narrowed(backend)
    assert_tree_is_the_full_read_narrowed(backend)


def assert_tree_is_the_full_read_narrowed(backend: Backend) -> None:
    """`topology*` reads `tree_rows.cluster_members` (and a cluster's tags): each member is what the full
    cluster read says, and so is each line's description. `is_recently_checked` and `is_downtimed`
    depend on the clock: a pair of reads that straddles a second is read again."""
    from orchestrator_cli.backend import clusters, tags, tree_rows
    from orchestrator_cli.backend.instance_rows import instance_from_row

    all_tags = tags.read_all(backend)
    for name in clusters.cluster_names(backend):
        for attempt in range(3):
            full = instances.cluster_instances(backend, name)
            narrow = tree_rows.cluster_members(backend, name)
            if narrow == [tree_rows.tree_member_from_row(r) for r in full] or attempt == 2:
                break
        assert narrow == [tree_rows.tree_member_from_row(r) for r in full]
        assert [m.description_tokens(10) for m in narrow] == [instance_from_row(r).description_tokens(10) for r in full]
        members = {m.key for m in narrow}
        assert tags.read_cluster(backend, name) == {k: v for k, v in all_tags.items() if k in members}


def assert_scan_is_the_full_read_narrowed(backend: Backend) -> None:
    """Continuous discovery's scan reads `SCAN_COLUMNS` only; they are the full read's values. Three of
    them depend on the backend's clock, so a pair of reads that straddles a second is read again."""
    for attempt in range(3):
        full = [{c: r[c] for c in instances.SCAN_COLUMNS} for r in instances.all_instances(backend)]
        scanned = instances.scan_rows(backend)
        narrow = [{c: r[c] for c in instances.SCAN_COLUMNS} for r in scanned]
        for row in scanned:  # the one column the scan adds: the age of the last check
            assert (row["seconds_since_check"] is None) == (row["last_checked"] is None)
            assert row["seconds_since_check"] is None or int(row["seconds_since_check"]) >= 0
        ages = {(h, p): age for h, p, age in instances.check_ages(backend)}  # the unshared scan
        assert set(ages) == {(r["hostname"], int(r["port"])) for r in scanned}
        for row in scanned:
            age, scanned_age = ages[(row["hostname"], int(row["port"]))], row["seconds_since_check"]
            assert (age is None) == (scanned_age is None)
            assert age is None or abs(age - int(scanned_age)) <= 1  # read a moment apart
        if narrow == full or attempt == 2:
            assert narrow == full
            return


def _without_clock(facts: AnalysisFacts) -> AnalysisFacts:
    return dataclasses.replace(facts, downtime_remaining_seconds=0)


def assert_same_facts(backend: Backend, config: dict[str, Any], unreachable: list[str]) -> None:
    started = time.monotonic()
    python = build_facts(backend_analysis.analysis_instances(backend, unreachable), config)
    reduce = bool(config.get("ReduceReplicationAnalysisCount", True))
    aggregates = backend_analysis.analysis_aggregates(backend, unreachable, reduce=reduce)
    aggregated = list(analysable(aggregates, config))
    # The two reads ask the backend's clock separately: as many seconds may tick between them as the
    # reads took (several, on a loaded machine with thousands of keys), plus one for the rounding.
    ticks = math.ceil(time.monotonic() - started) + 1
    remaining = [(f.key, f.downtime_remaining_seconds) for f in sorted(python, key=lambda f: f.key)]
    assert [k for k, _ in remaining] == sorted(f.key for f in aggregated)
    for (_, expected), got in zip(remaining, sorted(aggregated, key=lambda f: f.key), strict=True):
        assert expected - ticks <= got.downtime_remaining_seconds <= expected
    assert sorted(map(_without_clock, aggregated), key=lambda f: f.key) == sorted(
        map(_without_clock, python), key=lambda f: f.key
    )
    listed = listed_analysis(aggregated, config, include_noproblem=True, include_downtimed=True)
    from_snapshots = replication_analysis(
        backend_analysis.analysis_instances(backend, unreachable),
        config,
        include_noproblem=True,
        include_downtimed=True,
    )
    assert [(a.key, a.code, a.structure_warnings) for a in listed] == [
        (a.key, a.code, a.structure_warnings) for a in from_snapshots
    ]


CONFIGS = st.fixed_dictionaries(
    {
        "ReduceReplicationAnalysisCount": st.booleans(),
        "ReasonableReplicationLagSeconds": st.sampled_from([10, 3]),
        "RecoverMasterClusterFilters": st.sampled_from([[], ["*"], ["h1"], ["alias~=^alias"]]),
        "RecoverIntermediateMasterClusterFilters": st.sampled_from([[], ["h0"]]),
    }
)


def _backend(config_path: Path, overrides: dict[str, Any]) -> Backend:
    return Backend({**load_config(str(config_path)), **overrides})


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = sqlite_config(tmp_path_factory.mktemp("aggregates"))
    Backend(load_config(str(path))).close()  # deploy once
    return path


@pytest.fixture(scope="module")
def mysql_path(tmp_path_factory: pytest.TempPathFactory, mysql_backend_db_module: dict[str, Any]) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("aggregates-mysql")
    path = write_config(directory / "orchestrator.conf.json", **mysql_backend_db_module)
    Backend(load_config(str(path))).close()
    yield path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), config=CONFIGS)
def test_aggregates_match_python_grouping_on_sqlite(sqlite_path: Path, seed: int, config: dict[str, Any]) -> None:
    backend = _backend(sqlite_path, config)
    try:
        unreachable = write_random_fleet(backend, seed)
        assert_same_facts(backend, backend.config, unreachable)  # type: ignore[arg-type]
        assert_same_listings(backend)
    finally:
        backend.close()


@pytest.mark.mysql_backend
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), config=CONFIGS)
def test_aggregates_match_python_grouping_on_mysql(mysql_path: Path, seed: int, config: dict[str, Any]) -> None:
    backend = _backend(mysql_path, config)
    try:
        unreachable = write_random_fleet(backend, seed)
        assert_same_facts(backend, backend.config, unreachable)  # type: ignore[arg-type]
        assert_same_listings(backend)
    finally:
        backend.close()


def test_aggregates_match_on_the_bench_fleet(sqlite_path: Path) -> None:
    """The benchmark's fleet shape (clusters of five, a dead master every 50th) at 600 instances."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fleet_backend", Path(__file__).resolve().parents[2] / "bench" / "fleet_backend.py"
    )
    assert spec is not None and spec.loader is not None
    fleet_backend = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fleet_backend", fleet_backend)  # its dataclass looks its module up
    spec.loader.exec_module(fleet_backend)
    backend = _backend(sqlite_path, {})
    try:
        for table in SIDE_TABLES:
            backend.execute(f"DELETE FROM {table}")
        fleet = fleet_backend.write_fleet(backend, 600)
        assert len(fleet.dead_masters) == 2
        assert_same_facts(backend, backend.config, [])  # type: ignore[arg-type]
        assert_same_listings(backend)
        dead = [a.key for a in listed_analysis(analysable(backend_analysis.analysis_aggregates(backend)))]
        assert {str(k) for k in fleet.dead_masters} <= set(dead)
    finally:
        backend.close()
