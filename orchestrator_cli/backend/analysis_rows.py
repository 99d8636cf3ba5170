"""The one mapping from a row of `analysis.analysis_aggregates` (one potential master, its direct
replicas counted by the backend) to the typed `AnalysisFacts` the pure `analysis` package decides over:
every column name of that aggregation lives here, as `instance_rows.py` holds those of an instance row.

The facts that depend on configuration rather than on the row (whether the cluster's recovery is
automated: `Recover*ClusterFilters`) are left false; `analysis.facts.analysable` sets them. Cells are
coerced tolerantly (`model/coerce.py`): the MySQL and SQLite drivers disagree on types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.coerce import to_bool, to_int, to_str
from orchestrator_cli.model.instance import is_failing_to_connect_error, major_version_of
from orchestrator_cli.model.keys import InstanceKey

__all__ = ["facts_from_aggregate"]


def facts_from_aggregate(row: Mapping[str, Any]) -> AnalysisFacts:
    """The facts of one aggregated row; never raises on odd cell values (they read as empty)."""
    get = row.get
    hostname, port = to_str(get("hostname")), to_int(get("port"))
    master_host, master_port = to_str(get("master_host")).strip(), to_int(get("master_port"))
    has_async_master = not (master_host in ("", "_") or master_port == 0 or master_host.startswith("//"))
    group_name = to_str(get("replication_group_name")).strip()
    member_state = to_str(get("replication_group_member_state")).strip().upper()
    member_role = to_str(get("replication_group_member_role")).strip().upper()
    sql_running, io_running = to_bool(get("slave_sql_running")), to_bool(get("slave_io_running"))
    count_valid = to_int(get("count_valid_replicas"))
    count_co_master_replicas = to_int(get("count_co_master_replicas"))
    majors = {v for v in to_str(get("logging_major_versions")).split(",") if v}
    majors.update(major_version_of(v) for v in to_str(get("logging_versions_without_major")).split(",") if v)
    majors.discard("")
    gtid_mode = get("gtid_mode")
    cluster_name = to_str(get("cluster_name"))
    binary_log_pos = to_int(get("binary_log_pos"))

    def all_valid(column: str) -> bool:
        return count_valid > 0 and to_int(get(column)) == count_valid

    return AnalysisFacts(
        hostname=hostname,
        port=port,
        master_hostname=master_host,
        master_port=master_port,
        cluster_name=cluster_name,
        cluster_alias=to_str(get("cluster_alias")) or cluster_name,
        cluster_domain=to_str(get("cluster_domain")) or cluster_name,
        data_center=to_str(get("data_center")),
        region=to_str(get("region")),
        physical_environment=to_str(get("physical_environment")),
        binary_log_file=to_str(get("binary_log_file")),
        binary_log_pos=binary_log_pos if binary_log_pos > 0 else 0,
        is_master=not has_async_master and (not group_name or member_role == "PRIMARY"),
        is_co_master=to_bool(get("is_co_master")) or count_co_master_replicas > 0,
        is_cluster_master=str(InstanceKey(hostname, port)) == cluster_name,
        is_replication_group_member=bool(group_name) and member_state != "OFFLINE",
        is_binlog_server=to_bool(get("binlog_server")),
        is_read_only=to_bool(get("read_only")),
        replication_depth=to_int(get("replication_depth")),
        last_check_valid=to_bool(get("is_analysis_valid")),
        last_check_partial_success=to_bool(get("last_check_partial_success")),
        is_failing_to_connect_to_master=(
            sql_running and not io_running and is_failing_to_connect_error(to_str(get("last_io_error")))
        ),
        is_stale_binlog_coordinates=to_bool(get("is_stale_binlog_coordinates")),
        is_downtimed=to_bool(get("is_downtimed")),
        downtime_end_timestamp=to_str(get("downtime_end_timestamp")),
        downtime_remaining_seconds=max(0, to_int(get("downtime_remaining_seconds"))),
        count_replicas=to_int(get("count_replicas")),
        count_valid_replicas=count_valid,
        count_valid_replicating_replicas=to_int(get("count_valid_replicating_replicas")),
        count_replicas_failing_to_connect_to_master=to_int(get("count_replicas_failing_to_connect_to_master")),
        count_downtimed_replicas=to_int(get("count_downtimed_replicas")),
        count_lagging_replicas=to_int(get("count_lagging_replicas")),
        count_delayed_replicas=to_int(get("count_delayed_replicas")),
        count_co_master_replicas=count_co_master_replicas,
        count_logging_replicas=to_int(get("count_logging_replicas")),
        count_statement_based_logging_replicas=to_int(get("count_statement_based_logging_replicas")),
        count_mixed_based_logging_replicas=to_int(get("count_mixed_based_logging_replicas")),
        count_row_based_logging_replicas=to_int(get("count_row_based_logging_replicas")),
        count_distinct_major_versions_logging_replicas=len(majors),
        oracle_gtid_immediate_topology=all_valid("count_valid_oracle_gtid_replicas"),
        mariadb_gtid_immediate_topology=all_valid("count_valid_mariadb_gtid_replicas"),
        binlog_server_immediate_topology=all_valid("count_valid_binlog_server_replicas"),
        pseudo_gtid_immediate_topology=to_bool(get("pseudo_gtid")),
        semi_sync_master_enabled=to_bool(get("semi_sync_master_enabled")),
        semi_sync_master_status=to_bool(get("semi_sync_master_status")),
        semi_sync_master_wait_for_replica_count=to_int(get("semi_sync_master_wait_for_slave_count")),
        semi_sync_master_clients=to_int(get("semi_sync_master_clients")),
        count_semi_sync_replicas_enabled=to_int(get("count_semi_sync_replicas_enabled")),
        count_valid_semi_sync_replicas=to_int(get("count_valid_semi_sync_replicas")),
        gtid_mode="" if gtid_mode is None else to_str(gtid_mode),
        min_replica_gtid_mode=to_str(get("min_replica_gtid_mode")),
        max_replica_gtid_mode=to_str(get("max_replica_gtid_mode")),
        max_replica_gtid_errant=to_str(get("max_replica_gtid_errant")),
        replica_keys=_replica_keys(to_str(get("replica_keys"))),
    )


def _replica_keys(joined: str) -> tuple[InstanceKey, ...]:
    """`host:port,host:port` (GROUP_CONCAT) as sorted keys; a host may itself hold colons (IPv6)."""
    pairs = []
    for item in joined.split(","):
        host, _, port = item.rpartition(":")
        if host:
            pairs.append((host, to_int(port)))
    pairs.sort()  # as (hostname, port) tuples, compared in C: InstanceKey orders the same, in Python
    return tuple([InstanceKey(host, port) for host, port in pairs])
