"""Per-cluster figures of every cluster at once, in a fixed number of statements.

The API's `clusters-info` answers name, alias, domain, instance count and `HeuristicLag` for every
cluster. Read per cluster, that is one round trip (or more) per cluster: thousands on a large fleet.
Here it is two statements whatever the number of clusters: one grouped read of the cluster-level
facts, one narrow read of the member columns `HeuristicLag` is computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.backend.connection import Backend, Row


@dataclass(frozen=True)
class ClusterSummary:
    """A cluster's alias (the operator's override, else the registered alias, else its name, as
    `clusters.clusters_info` decides it), its domain ("" when none) and how many instances it has."""

    name: str
    alias: str
    domain: str
    count: int


def summaries(backend: Backend, cluster_name: str | None = None) -> list[ClusterSummary]:
    """Every cluster's summary in name order (or only `cluster_name`'s), from one statement."""
    where, params = ("WHERE di.cluster_name = ?", (cluster_name,)) if cluster_name is not None else ("", ())
    rows = backend.query(
        f"""
        SELECT di.cluster_name, COUNT(*) AS count_instances,
          MAX(cao.alias) AS override_alias, MAX(ca.alias) AS registered_alias, MAX(cdn.domain_name) AS domain_name
        FROM database_instance di
          LEFT JOIN cluster_alias_override cao ON (cao.cluster_name = di.cluster_name)
          LEFT JOIN cluster_alias ca ON (ca.cluster_name = di.cluster_name)
          LEFT JOIN cluster_domain_name cdn ON (cdn.cluster_name = di.cluster_name)
        {where}
        GROUP BY di.cluster_name
        """,
        params,
    )
    result = [
        ClusterSummary(
            name=str(r["cluster_name"]),
            alias=str(r["override_alias"] or r["registered_alias"] or r["cluster_name"]),
            domain=str(r["domain_name"] or ""),
            count=int(r["count_instances"]),
        )
        for r in rows
    ]
    return sorted(result, key=lambda s: s.name)  # Python's order, as `clusters_info` sorts (not a collation's)


# What `topology.osc.osc_replicas` reads of an instance (see `instance_rows.osc_member_from_row`).
OSC_COLUMNS = (
    "hostname", "port", "cluster_name", "master_host", "master_port", "master_log_file", "read_master_log_pos",
    "oracle_gtid", "mariadb_gtid", "replication_sql_thread_state", "replication_io_thread_state",
    "replication_depth", "slave_lag_seconds",
)  # fmt: skip


def osc_member_rows(backend: Backend, cluster_name: str | None = None) -> dict[str, list[Row]]:
    """Cluster name -> its members' `OSC_COLUMNS`, with `is_last_check_valid` and `is_downtimed` derived
    as `instances.read_where` derives them, from one statement over every cluster (or one cluster)."""
    now = backend.dialect.now()
    where, params = ("WHERE di.cluster_name = ?", (cluster_name,)) if cluster_name is not None else ("", ())
    columns = ", ".join(f"di.{c}" for c in OSC_COLUMNS)
    rows = backend.query(
        f"""
        SELECT {columns},
          CASE WHEN di.last_seen IS NOT NULL AND di.last_checked <= di.last_seen THEN 1 ELSE 0 END
            AS is_last_check_valid,
          CASE WHEN dt.downtime_active IS NOT NULL AND (dt.end_timestamp IS NULL OR dt.end_timestamp > {now})
               THEN 1 ELSE 0 END AS is_downtimed
        FROM database_instance di
          LEFT JOIN database_instance_downtime dt ON (dt.hostname = di.hostname AND dt.port = di.port)
        {where}
        """,
        params,
    )
    members: dict[str, list[Row]] = {}
    for row in rows:
        members.setdefault(str(row["cluster_name"]), []).append(row)
    return members
