"""Backend facts for failure analysis: instance rows plus maintenance, stale coordinates, aliases, domains.

The original computes analysis in one large SQL aggregation; so does `analysis_aggregates`, and hands
the pure `analysis` package typed `AnalysisFacts` (its columns mapped in `analysis_rows.py`, where the
rows are read). `analysis_instances` reads the same facts as `Instance` snapshots, one per instance
(what `analysis.build_facts` groups in Python; the property tests compare the two).

Also owns the analysis history tables (`database_instance_last_analysis`,
`database_instance_analysis_changelog`) and the stale-binlog-coordinates record that turns a
`LockedSemiSyncMasterHypothesis` into a `LockedSemiSyncMaster`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from orchestrator_cli.backend import clusters, instances
from orchestrator_cli.backend.analysis_rows import facts_from_aggregate
from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.coerce import to_int, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey, parse_printed

_STALE_COORDINATES_MIN_EXPIRY_SECONDS = 60


def _key(row: Row) -> InstanceKey:
    return InstanceKey(to_str(row["hostname"]), to_int(row["port"]))


def _self_coordinates(row: Row) -> BinlogCoordinates:
    return BinlogCoordinates(to_str(row.get("binary_log_file")), max(0, to_int(row.get("binary_log_pos"))))


def _in_maintenance(backend: Backend) -> set[InstanceKey]:
    """Instances with an active maintenance row are invisible to analysis, whatever its end time.

    The recovery paths release expired locks first (`maintenance.release_expired`), so a lock left
    by a crashed process hides its instance only until the next recovery attempt.
    """
    rows = backend.query("SELECT hostname, port FROM database_instance_maintenance WHERE maintenance_active = 1")
    return {_key(r) for r in rows}


def _stale_coordinates(backend: Backend) -> dict[InstanceKey, BinlogCoordinates]:
    """The recorded coordinates of each instance, for those first seen there long enough ago."""
    d = backend.dialect
    seconds = _locked_semi_sync_seconds(backend.config)
    rows = backend.query(
        f"""SELECT hostname, port, binary_log_file, binary_log_pos,
                   CASE WHEN first_seen <= {d.seconds_ago("?")} THEN 1 ELSE 0 END AS is_old
            FROM database_instance_stale_binlog_coordinates""",
        (seconds,),
    )
    return {
        _key(r): BinlogCoordinates(to_str(r["binary_log_file"]), max(0, to_int(r["binary_log_pos"])))
        for r in rows
        if to_int(r["is_old"]) == 1
    }


def _locked_semi_sync_seconds(config: Mapping[str, Any]) -> int:
    seconds = int(config.get("ReasonableLockedSemiSyncMasterSeconds") or 0)
    return seconds or int(config.get("ReasonableReplicationLagSeconds", 10))


def _downtime_remaining(backend: Backend) -> dict[InstanceKey, int]:
    d = backend.dialect
    rows = backend.query(
        f"""SELECT hostname, port, {d.unix_timestamp("end_timestamp")} - {d.unix_timestamp()} AS remaining
            FROM database_instance_downtime
            WHERE downtime_active IS NOT NULL AND end_timestamp > {d.now()}"""
    )
    return {_key(r): max(0, to_int(r["remaining"])) for r in rows}


def _resolved_names(backend: Backend) -> dict[str, str]:
    rows = backend.query("SELECT hostname, resolved_hostname FROM hostname_resolve")
    return {str(r["hostname"]): str(r["resolved_hostname"]) for r in rows if r["resolved_hostname"]}


def _domains(backend: Backend) -> dict[str, str]:
    rows = backend.query("SELECT cluster_name, domain_name FROM cluster_domain_name")
    return {str(r["cluster_name"]): str(r["domain_name"]) for r in rows}


def analysis_instances(backend: Backend, unreachable: Collection[str] = ()) -> list[Instance]:
    """Every instance, with what `analysis.build_facts` reads beyond `database_instance`.

    Added to each row before it is mapped: `in_maintenance`, `is_stale_binlog_coordinates`,
    `cluster_alias`, `cluster_domain`, `resolved_hostname`, `downtime_remaining_seconds`. All clusters
    are read: a replica whose row already names a new cluster still counts as a replica of its (dead) old master.

    `unreachable`: "host:port" keys whose last check (and analysis) count as invalid whatever the
    timestamps say.
    """
    rows = instances.read_where(backend, "1 = 1", order="ORDER BY di.hostname, di.port")
    if not rows:
        return []
    maintenance = _in_maintenance(backend)
    stale = _stale_coordinates(backend)
    remaining = _downtime_remaining(backend)
    resolved = _resolved_names(backend)
    aliases = {str(c["cluster_name"]): str(c["alias"]) for c in clusters.clusters_info(backend)}
    domains = _domains(backend)
    for row in rows:
        key = _key(row)
        cluster = to_str(row.get("cluster_name"))
        recorded = stale.get(key)
        row["in_maintenance"] = int(key in maintenance)
        row["is_stale_binlog_coordinates"] = int(recorded is not None and recorded == _self_coordinates(row))
        row["cluster_alias"] = aliases.get(cluster, cluster)
        row["cluster_domain"] = domains.get(cluster, "")
        row["resolved_hostname"] = resolved.get(key.hostname, "")
        row["downtime_remaining_seconds"] = remaining.get(key, 0)
        if unreachable and str(key) in unreachable:
            row["is_last_check_valid"] = 0
            row["is_analysis_valid"] = 0
    return instances_from_rows(rows)


def _unreachable_test(backend: Backend, alias: str, unreachable: Collection[str]) -> tuple[str, list[Any]]:
    """`(alias.hostname, alias.port) IN <the "host:port" keys>` and its parameters: a data-centre
    outage passes thousands of keys, and the test stays one fixed-depth expression (`Dialect.in_values`)."""
    keys = [parse_printed(k) for k in sorted(unreachable)] if unreachable else []
    return backend.dialect.in_values((f"{alias}.hostname", f"{alias}.port"), [(k.hostname, k.port) for k in keys])


def _downtimed(alias: str, now: str) -> str:
    return f"({alias}.downtime_active IS NOT NULL AND ({alias}.end_timestamp IS NULL OR {alias}.end_timestamp > {now}))"


def _flag(column: str) -> str:
    return f"COALESCE({column}, 0) <> 0"


def _failing_to_connect(alias: str) -> str:
    """The IO thread stopped on a connection error while the SQL thread runs (the original's LIKE,
    spelled for `source` too, case-insensitively on both backends)."""
    error = f"LOWER(COALESCE({alias}.last_io_error, ''))"
    return (
        f"({_flag(f'{alias}.slave_sql_running')} AND NOT {_flag(f'{alias}.slave_io_running')}"
        f" AND ({error} LIKE '%error %connecting to master%' OR {error} LIKE '%error %connecting to source%'))"
    )


def analysis_aggregates(
    backend: Backend, unreachable: Collection[str] = (), *, reduce: bool = True
) -> Iterator[AnalysisFacts]:
    """The facts of each potential master with its replicas aggregated by the backend (the original's
    shape), streamed: the caller holds one at a time. `analysis.analysable` completes them with what
    the configuration decides (`Recover*ClusterFilters`).

    Each row holds the master's own columns and counts over its direct replicas (mapped by
    `analysis_rows.facts_from_aggregate`): rows whose `master_host`/`master_port` name the master (under
    its resolved name when `hostname_resolve` has one). Instances in maintenance are not analysed but
    still count as replicas. With `reduce` (ReduceReplicationAnalysisCount) leaves that cannot have a
    problem (no replicas, a valid check, not failing to connect) are left out by the backend.

    `unreachable`: "host:port" keys whose last check counts as invalid whatever the timestamps say.
    """
    d = backend.dialect
    config = backend.config
    poll = int(config.get("InstancePollSeconds", 5))
    reasonable = int(config.get("ReasonableInstanceCheckSeconds", 1))
    lag = int(config.get("ReasonableReplicationLagSeconds", 10))
    stale_seconds = _locked_semi_sync_seconds(config)
    now = d.now()
    m_unreachable, m_params = _unreachable_test(backend, "m", unreachable)
    r_unreachable, r_params = _unreachable_test(backend, "r", unreachable)
    r_valid = "r.is_valid = 1"
    r_downtimed = "r.is_downtimed = 1"
    logging = f"({_flag('r.log_bin')} AND {_flag('r.log_slave_updates')})"
    r_format = "UPPER(TRIM(COALESCE(r.binlog_format, '')))"
    r_major = "TRIM(COALESCE(r.major_version, ''))"
    r_version = "TRIM(COALESCE(r.version, ''))"
    replica_rows = f"""
        SELECT r.hostname, r.port, TRIM(r.master_host) AS master_host, r.master_port, r.slave_io_running,
          r.slave_sql_running, r.last_io_error, r.slave_lag_seconds, r.sql_delay, r.is_co_master, r.log_bin,
          r.log_slave_updates, r.binlog_format, r.major_version, r.version, r.oracle_gtid, r.mariadb_gtid,
          r.binlog_server, r.semi_sync_replica_enabled, r.gtid_mode, r.gtid_errant,
          CASE WHEN NOT {r_unreachable} AND r.last_seen IS NOT NULL AND r.last_checked <= r.last_seen
            THEN 1 ELSE 0 END AS is_valid,
          CASE WHEN {_downtimed("rdt", now)} THEN 1 ELSE 0 END AS is_downtimed
        FROM database_instance r
          LEFT JOIN database_instance_downtime rdt ON (rdt.hostname = r.hostname AND rdt.port = r.port)
        WHERE r.master_port <> 0 AND TRIM(r.master_host) NOT IN ('', '_') AND r.master_host NOT LIKE '//%'"""

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    def all_valid(column: str) -> str:
        return count(f"{r_valid} AND {_flag(column)}")

    replicas = f"""
        SELECT r.master_host, r.master_port,
          COUNT(*) AS count_replicas,
          {count(r_valid)} AS count_valid_replicas,
          {count(f"{r_valid} AND {_flag('r.slave_io_running')} AND {_flag('r.slave_sql_running')}")}
            AS count_valid_replicating_replicas,
          {count(f"{r_valid} AND {_failing_to_connect('r')}")} AS count_replicas_failing_to_connect_to_master,
          {count(r_downtimed)} AS count_downtimed_replicas,
          {count(f"r.slave_lag_seconds > {lag}")} AS count_lagging_replicas,
          {count("r.sql_delay > 0")} AS count_delayed_replicas,
          {count(_flag("r.is_co_master"))} AS count_co_master_replicas,
          {count(logging)} AS count_logging_replicas,
          {count(f"{logging} AND {r_format} = 'STATEMENT'")} AS count_statement_based_logging_replicas,
          {count(f"{logging} AND {r_format} = 'MIXED'")} AS count_mixed_based_logging_replicas,
          {count(f"{logging} AND {r_format} = 'ROW'")} AS count_row_based_logging_replicas,
          GROUP_CONCAT(DISTINCT CASE WHEN {logging} AND {r_major} <> '' THEN {r_major} END)
            AS logging_major_versions,
          GROUP_CONCAT(DISTINCT CASE WHEN {logging} AND {r_major} = '' AND {r_version} <> '' THEN {r_version} END)
            AS logging_versions_without_major,
          {all_valid("r.oracle_gtid")} AS count_valid_oracle_gtid_replicas,
          {all_valid("r.mariadb_gtid")} AS count_valid_mariadb_gtid_replicas,
          {all_valid("r.binlog_server")} AS count_valid_binlog_server_replicas,
          {count(_flag("r.semi_sync_replica_enabled"))} AS count_semi_sync_replicas_enabled,
          {all_valid("r.semi_sync_replica_enabled")} AS count_valid_semi_sync_replicas,
          MIN(r.gtid_mode) AS min_replica_gtid_mode,
          MAX(r.gtid_mode) AS max_replica_gtid_mode,
          MAX(CASE WHEN {r_downtimed} THEN '' ELSE COALESCE(r.gtid_errant, '') END) AS max_replica_gtid_errant,
          GROUP_CONCAT({d.concat("r.hostname", "':'", "r.port")}) AS replica_keys
        FROM ({replica_rows}) r
        GROUP BY r.master_host, r.master_port"""
    m_valid = (
        f"CASE WHEN NOT {m_unreachable} AND m.last_seen IS NOT NULL AND m.last_checked <= m.last_seen"
        f" AND m.last_attempted_check <= {d.add_seconds('m.last_seen', str(poll + reasonable))} THEN 1 ELSE 0 END"
    )
    m_stale = (
        f"CASE WHEN s.hostname IS NOT NULL AND s.first_seen <= {d.seconds_ago(str(stale_seconds))}"
        " AND COALESCE(s.binary_log_file, '') = COALESCE(m.binary_log_file, '')"
        " AND (CASE WHEN s.binary_log_pos > 0 THEN s.binary_log_pos ELSE 0 END)"
        " = (CASE WHEN m.binary_log_pos > 0 THEN m.binary_log_pos ELSE 0 END) THEN 1 ELSE 0 END"
    )
    reduced = f"WHERE a.count_replicas > 0 OR a.is_analysis_valid = 0 OR {_failing_to_connect('a')}" if reduce else ""
    sql = f"""
        SELECT a.* FROM (
          SELECT m.hostname, m.port, m.master_host, m.master_port, m.cluster_name,
            COALESCE(NULLIF(cao.alias, ''), NULLIF(ca.alias, ''), m.cluster_name) AS cluster_alias,
            COALESCE(cdn.domain_name, '') AS cluster_domain,
            m.data_center, m.region, m.physical_environment, m.binary_log_file, m.binary_log_pos,
            m.replication_group_name, m.replication_group_member_state, m.replication_group_member_role,
            m.is_co_master, m.binlog_server, m.read_only, m.replication_depth,
            {m_valid} AS is_analysis_valid,
            m.last_check_partial_success, m.slave_sql_running, m.slave_io_running, m.last_io_error,
            {m_stale} AS is_stale_binlog_coordinates,
            CASE WHEN {_downtimed("mdt", now)} THEN 1 ELSE 0 END AS is_downtimed,
            mdt.end_timestamp AS downtime_end_timestamp,
            CASE WHEN mdt.downtime_active IS NOT NULL AND mdt.end_timestamp > {now}
              THEN {d.unix_timestamp("mdt.end_timestamp")} - {d.unix_timestamp()} ELSE 0 END
              AS downtime_remaining_seconds,
            m.pseudo_gtid, m.semi_sync_master_enabled, m.semi_sync_master_status,
            m.semi_sync_master_wait_for_slave_count, m.semi_sync_master_clients, m.gtid_mode,
            COALESCE(agg.count_replicas, 0) AS count_replicas,
            agg.count_valid_replicas, agg.count_valid_replicating_replicas,
            agg.count_replicas_failing_to_connect_to_master, agg.count_downtimed_replicas,
            agg.count_lagging_replicas, agg.count_delayed_replicas, agg.count_co_master_replicas,
            agg.count_logging_replicas, agg.count_statement_based_logging_replicas,
            agg.count_mixed_based_logging_replicas, agg.count_row_based_logging_replicas,
            agg.logging_major_versions, agg.logging_versions_without_major,
            agg.count_valid_oracle_gtid_replicas, agg.count_valid_mariadb_gtid_replicas,
            agg.count_valid_binlog_server_replicas, agg.count_semi_sync_replicas_enabled,
            agg.count_valid_semi_sync_replicas, agg.min_replica_gtid_mode, agg.max_replica_gtid_mode,
            agg.max_replica_gtid_errant, agg.replica_keys
          FROM database_instance m
            LEFT JOIN hostname_resolve hr ON (hr.hostname = m.hostname)
            LEFT JOIN ({replicas}) agg
              ON (agg.master_host = COALESCE(NULLIF(hr.resolved_hostname, ''), m.hostname) AND agg.master_port = m.port)
            LEFT JOIN database_instance_downtime mdt ON (mdt.hostname = m.hostname AND mdt.port = m.port)
            LEFT JOIN database_instance_stale_binlog_coordinates s ON (s.hostname = m.hostname AND s.port = m.port)
            LEFT JOIN cluster_alias_override cao ON (cao.cluster_name = m.cluster_name)
            LEFT JOIN cluster_alias ca ON (ca.cluster_name = m.cluster_name)
            LEFT JOIN cluster_domain_name cdn ON (cdn.cluster_name = m.cluster_name)
          WHERE NOT EXISTS (SELECT 1 FROM database_instance_maintenance mm
                            WHERE mm.hostname = m.hostname AND mm.port = m.port AND mm.maintenance_active = 1)
        ) a
        {reduced}
        ORDER BY a.hostname, a.port"""
    if not backend.is_sqlite:
        # replica_keys lists every replica of a master: MySQL cuts GROUP_CONCAT at 1024 bytes by default
        backend.execute("SET SESSION group_concat_max_len = 16777216")
    return map(facts_from_aggregate, backend.query_iter(sql, [*m_params, *r_params]))


# -- analysis history ---------------------------------------------------------------------------------


def record_changes(backend: Backend, entries: Iterable[tuple[InstanceKey, str]]) -> int:
    """Append to the changelog every instance whose analysis code differs from the last one recorded.

    `entries` are (instance, code) pairs, typically every analysed instance with replicas. Returns
    the number of changes written.
    """
    pairs = list(entries)
    if not pairs:
        return 0
    last = {
        _key(r): str(r["analysis"])
        for r in backend.query("SELECT hostname, port, analysis FROM database_instance_last_analysis")
    }
    d = backend.dialect
    changed = [(k, code) for k, code in pairs if last.get(k) != code]
    if not changed:
        return 0
    upsert = d.upsert(
        "database_instance_last_analysis",
        {"hostname": "?", "port": "?", "analysis_timestamp": d.now(), "analysis": "?"},
        ["hostname", "port"],
    )
    insert = (
        "INSERT INTO database_instance_analysis_changelog (hostname, port, analysis_timestamp, analysis)"
        f" VALUES (?, ?, {d.now()}, ?)"
    )
    with backend.transaction():
        for key, code in changed:
            backend.execute(upsert, (key.hostname, key.port, code))
            backend.execute(insert, (key.hostname, key.port, code))
    return len(changed)


def expire_changelog(backend: Backend) -> int:
    """Drop changelog rows older than UnseenInstanceForgetHours."""
    d = backend.dialect
    hours = int(backend.config.get("UnseenInstanceForgetHours", 240))
    return backend.execute(
        f"DELETE FROM database_instance_analysis_changelog WHERE analysis_timestamp < {d.seconds_ago('?')}",
        (hours * 3600,),
    )


def changelog(backend: Backend, key: InstanceKey | None = None, limit: int = 100) -> list[Row]:
    where, params = ("", ()) if key is None else ("WHERE hostname = ? AND port = ?", (key.hostname, key.port))
    return backend.query(
        f"""SELECT changelog_id, hostname, port, analysis_timestamp, analysis
            FROM database_instance_analysis_changelog {where}
            ORDER BY changelog_id DESC LIMIT {int(limit)}""",
        params,
    )


# -- stale binlog coordinates (LockedSemiSyncMaster confirmation) ----------------------------------------


def record_stale_coordinates(backend: Backend, key: InstanceKey, log_file: str, log_pos: int) -> None:
    """Remember when a master's binlog coordinates were first seen at this position.

    A row with the same coordinates is kept (its `first_seen` is what ages); a different position
    replaces it, restarting the clock.
    """
    d = backend.dialect
    with backend.transaction():
        backend.execute(
            "DELETE FROM database_instance_stale_binlog_coordinates"
            " WHERE hostname = ? AND port = ? AND (binary_log_file <> ? OR binary_log_pos <> ?)",
            (key.hostname, key.port, log_file, log_pos),
        )
        backend.execute(
            d.insert_ignore(
                "database_instance_stale_binlog_coordinates",
                {"hostname": "?", "port": "?", "binary_log_file": "?", "binary_log_pos": "?", "first_seen": d.now()},
            ),
            (key.hostname, key.port, log_file, log_pos),
        )


def expire_stale_coordinates(backend: Backend) -> int:
    d = backend.dialect
    lag = int(backend.config.get("ReasonableReplicationLagSeconds", 10))
    seconds = max(2 * lag, _STALE_COORDINATES_MIN_EXPIRY_SECONDS)
    return backend.execute(
        f"DELETE FROM database_instance_stale_binlog_coordinates WHERE first_seen < {d.seconds_ago('?')}",
        (seconds,),
    )
