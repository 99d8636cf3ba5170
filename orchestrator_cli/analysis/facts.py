"""Per-instance analysis facts, aggregated from backend ``database_instance`` rows.

The original computes these facts in one SQL aggregation (master LEFT JOIN its
direct replicas).  Here the backend layer hands over plain row dicts and this module
does the grouping in Python, so the decision rules can be tested without a database.
Row values are coerced tolerantly (model/coerce.py) because MySQL and SQLite drivers disagree
on types (``1`` vs ``'1'`` vs ``Decimal``; ``None`` for unknown).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.model.coerce import to_bool, to_int, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance, is_failing_to_connect_error, major_version_of
from orchestrator_cli.model.keys import InstanceKey

Row = Mapping[str, Any]
Config = Mapping[str, Any] | None

DEFAULT_REASONABLE_REPLICATION_LAG_SECONDS = 10


# ---------------------------------------------------------------------------------------
# Configuration access (a plain mapping with the original's key names)
# ---------------------------------------------------------------------------------------


def config_value(config: Any, key: str, default: Any) -> Any:
    """Read a config key from a mapping (or attribute object); ``None`` means default."""
    if config is None:
        return default
    getter = getattr(config, "get", None)
    value = getter(key, default) if callable(getter) else getattr(config, key, default)
    return default if value is None else value


def config_bool(config: Any, key: str, default: bool) -> bool:
    """Boolean config key, tolerant of ``'true'``/``'1'`` strings."""
    return to_bool(config_value(config, key, default))


def config_int(config: Any, key: str, default: int) -> int:
    """Integer config key, tolerant of numeric strings."""
    return to_int(config_value(config, key, default), default)


def config_list(config: Any, key: str) -> list[str]:
    """List-of-strings config key; a bare string counts as a one-element list."""
    value = config_value(config, key, [])
    if isinstance(value, str | bytes):
        value = [to_str(value)]
    try:
        return [to_str(item) for item in value if item is not None]
    except TypeError:
        return []


def cluster_matches_filters(cluster_name: str, cluster_alias: str, filters: Iterable[str]) -> bool:
    """Whether a cluster is selected by Recover*ClusterFilters.

    A filter matches when it equals the cluster name or alias, is ``alias=<exact>``,
    ``alias~=<regex>`` (searched in the alias), ``*``, or a regex found in the cluster
    name.  Empty filters and invalid regexes never match (the original ignores regex
    errors too).
    """
    for raw in filters:
        flt = to_str(raw)
        if not flt:
            continue
        if flt in (cluster_name, cluster_alias):
            return True
        if flt.startswith("alias="):
            if flt[len("alias=") :] == cluster_alias:
                return True
        elif flt.startswith("alias~="):
            if _regex_search(flt[len("alias~=") :], cluster_alias):
                return True
        elif flt == "*" or _regex_search(flt, cluster_name):
            return True
    return False


def _regex_search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


# ---------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnalysisFacts:
    """Everything the decision chain and structure warnings need about one analysed instance.

    The instance ("M") is a potential master; counts are over its direct replicas
    ("R", rows whose master is M, dead ones included as long as their rows exist).
    Defaults describe a healthy, replica-less master so that tests and property checks
    can build facts directly.
    """

    hostname: str
    port: int
    master_hostname: str = ""
    master_port: int = 0
    cluster_name: str = ""
    cluster_alias: str = ""
    cluster_domain: str = ""
    data_center: str = ""
    region: str = ""
    physical_environment: str = ""
    binary_log_file: str = ""
    binary_log_pos: int = 0
    # Role of M
    is_master: bool = True
    is_co_master: bool = False
    is_cluster_master: bool = False
    is_replication_group_member: bool = False
    is_binlog_server: bool = False
    is_read_only: bool = False
    replication_depth: int = 0
    # Health of M
    last_check_valid: bool = True
    last_check_partial_success: bool = False
    is_failing_to_connect_to_master: bool = False
    is_stale_binlog_coordinates: bool = False
    is_downtimed: bool = False
    downtime_end_timestamp: str = ""
    downtime_remaining_seconds: int = 0
    # Replica counts
    count_replicas: int = 0
    count_valid_replicas: int = 0
    count_valid_replicating_replicas: int = 0
    count_replicas_failing_to_connect_to_master: int = 0
    count_downtimed_replicas: int = 0
    count_lagging_replicas: int = 0
    count_delayed_replicas: int = 0
    count_co_master_replicas: int = 0
    # Logging replicas (log_bin and log_slave_updates)
    count_logging_replicas: int = 0
    count_statement_based_logging_replicas: int = 0
    count_mixed_based_logging_replicas: int = 0
    count_row_based_logging_replicas: int = 0
    count_distinct_major_versions_logging_replicas: int = 0
    # Failover support of the immediate topology
    oracle_gtid_immediate_topology: bool = False
    mariadb_gtid_immediate_topology: bool = False
    binlog_server_immediate_topology: bool = False
    pseudo_gtid_immediate_topology: bool = False
    # Semi-sync
    semi_sync_master_enabled: bool = False
    semi_sync_master_status: bool = False
    semi_sync_master_wait_for_replica_count: int = 0
    semi_sync_master_clients: int = 0
    count_semi_sync_replicas_enabled: int = 0
    count_valid_semi_sync_replicas: int = 0
    # GTID
    gtid_mode: str = ""
    min_replica_gtid_mode: str = ""
    max_replica_gtid_mode: str = ""
    max_replica_gtid_errant: str = ""
    # Recovery configuration applied to this cluster
    has_automated_master_recovery: bool = False
    has_automated_intermediate_master_recovery: bool = False
    replica_keys: tuple[InstanceKey, ...] = ()

    @property
    def key(self) -> InstanceKey:
        """The analysed instance's key."""
        return InstanceKey(self.hostname, self.port)

    @property
    def master_key(self) -> InstanceKey:
        """M's own async master key (empty host / port 0 for a master)."""
        return InstanceKey(self.master_hostname, self.master_port)

    @property
    def coordinates(self) -> BinlogCoordinates:
        """M's own binary log position (what a stale-coordinates record is compared with)."""
        return BinlogCoordinates(self.binary_log_file, self.binary_log_pos)


def _facts_for(m: Instance, replicas: Sequence[Instance], settings: _Settings) -> AnalysisFacts:
    group_name = m.replication_group_name
    is_group_member = bool(group_name) and m.replication_group_member_state != "OFFLINE"
    is_master = not m.has_async_master and (not group_name or m.replication_group_member_role == "PRIMARY")

    valid = [r for r in replicas if r.last_check_valid]
    logging = [r for r in replicas if r.log_bin and r.log_slave_updates]
    logging_formats = [r.binlog_format.strip().upper() for r in logging]
    count_valid = len(valid)
    gtid_modes = [r.gtid_mode for r in replicas if r.gtid_mode is not None]
    errants = ["" if r.is_downtimed else r.gtid_errant for r in replicas]
    lag_threshold = settings.lag_threshold

    def all_valid(pred: Callable[[Instance], bool]) -> bool:
        return count_valid > 0 and sum(1 for r in valid if pred(r)) == count_valid

    cluster_name = m.cluster_name
    cluster_alias = m.cluster_alias or cluster_name
    cluster_domain = m.cluster_domain or cluster_name
    return AnalysisFacts(
        hostname=m.key.hostname,
        port=m.key.port,
        master_hostname=m.master_host,
        master_port=m.master_port,
        cluster_name=cluster_name,
        cluster_alias=cluster_alias,
        cluster_domain=cluster_domain,
        data_center=m.data_center,
        region=m.region,
        physical_environment=m.physical_environment,
        binary_log_file=m.self_coordinates.file,
        binary_log_pos=m.self_coordinates.pos,
        is_master=is_master,
        is_co_master=m.is_co_master or any(r.is_co_master for r in replicas),
        is_cluster_master=str(m.key) == cluster_name,
        is_replication_group_member=is_group_member,
        is_binlog_server=m.binlog_server,
        is_read_only=m.read_only,
        replication_depth=m.replication_depth,
        last_check_valid=m.analysis_valid,
        last_check_partial_success=m.last_check_partial_success,
        is_failing_to_connect_to_master=m.sql_running and not m.io_running and m.io_error_connecting,
        is_stale_binlog_coordinates=m.is_stale_binlog_coordinates,
        is_downtimed=m.is_downtimed,
        downtime_end_timestamp=m.downtime_end_timestamp,
        downtime_remaining_seconds=m.downtime_remaining_seconds,
        count_replicas=len(replicas),
        count_valid_replicas=count_valid,
        count_valid_replicating_replicas=sum(1 for r in valid if r.io_running and r.sql_running),
        count_replicas_failing_to_connect_to_master=sum(
            1 for r in valid if not r.io_running and r.sql_running and r.io_error_connecting
        ),
        count_downtimed_replicas=sum(1 for r in replicas if r.is_downtimed),
        count_lagging_replicas=sum(1 for r in replicas if r.lag is not None and r.lag > lag_threshold),
        count_delayed_replicas=sum(1 for r in replicas if r.sql_delay > 0),
        count_co_master_replicas=sum(1 for r in replicas if r.is_co_master),
        count_logging_replicas=len(logging),
        count_statement_based_logging_replicas=logging_formats.count("STATEMENT"),
        count_mixed_based_logging_replicas=logging_formats.count("MIXED"),
        count_row_based_logging_replicas=logging_formats.count("ROW"),
        count_distinct_major_versions_logging_replicas=len({r.major_version for r in logging if r.major_version}),
        oracle_gtid_immediate_topology=all_valid(lambda r: r.oracle_gtid),
        mariadb_gtid_immediate_topology=all_valid(lambda r: r.mariadb_gtid),
        binlog_server_immediate_topology=all_valid(lambda r: r.binlog_server),
        pseudo_gtid_immediate_topology=m.pseudo_gtid,
        semi_sync_master_enabled=m.semi_sync_master_enabled,
        semi_sync_master_status=m.semi_sync_master_status,
        semi_sync_master_wait_for_replica_count=m.semi_sync_master_wait_for_replica_count,
        semi_sync_master_clients=m.semi_sync_master_clients,
        count_semi_sync_replicas_enabled=sum(1 for r in replicas if r.semi_sync_replica_enabled),
        count_valid_semi_sync_replicas=sum(1 for r in valid if r.semi_sync_replica_enabled),
        gtid_mode=m.gtid_mode or "",
        min_replica_gtid_mode=min(gtid_modes) if gtid_modes else "",
        max_replica_gtid_mode=max(gtid_modes) if gtid_modes else "",
        max_replica_gtid_errant=max(errants) if errants else "",
        has_automated_master_recovery=cluster_matches_filters(cluster_name, cluster_alias, settings.master_filters),
        has_automated_intermediate_master_recovery=cluster_matches_filters(
            cluster_name, cluster_alias, settings.intermediate_master_filters
        ),
        replica_keys=tuple(sorted(r.key for r in replicas)),
    )


@dataclass(frozen=True)
class _Settings:
    """The configuration build_facts reads, looked up once per call instead of once per instance."""

    lag_threshold: int
    master_filters: tuple[str, ...]
    intermediate_master_filters: tuple[str, ...]

    @classmethod
    def of(cls, config: Config) -> _Settings:
        return cls(
            lag_threshold=config_int(
                config, "ReasonableReplicationLagSeconds", DEFAULT_REASONABLE_REPLICATION_LAG_SECONDS
            ),
            master_filters=tuple(config_list(config, "RecoverMasterClusterFilters")),
            intermediate_master_filters=tuple(config_list(config, "RecoverIntermediateMasterClusterFilters")),
        )


def _worth_analysing(f: AnalysisFacts) -> bool:
    """ReduceReplicationAnalysisCount: keep only rows where a problem is possible.

    Mirrors the original HAVING clause; in effect healthy leaves are dropped while any
    instance with replicas, an invalid check, or a failing IO thread is kept.
    """
    return (
        not f.last_check_valid
        or f.count_replicas_failing_to_connect_to_master > 0
        or f.count_valid_replicas < f.count_replicas
        or f.count_valid_replicating_replicas < f.count_replicas
        or f.is_failing_to_connect_to_master
        or f.count_replicas > 0
    )


def build_facts(rows: Iterable[Row | Instance], config: Config = None) -> list[AnalysisFacts]:
    """Group instances into one :class:`AnalysisFacts` per analysable instance.

    ``rows`` are :class:`Instance` snapshots or backend rows (mapped by ``backend.instance_rows``).
    A replica belongs to M when ``replica.master_host == coalesce(M.resolved_hostname,
    M.hostname)`` and the ports are equal.  Instances under active maintenance are not
    analysed (they are being refactored) but still count as replicas of their master.
    Rows with a duplicate ``hostname:port`` are ignored after the first.  Output order
    follows input order.
    """
    snapshots: list[Instance] = []
    seen: set[InstanceKey] = set()
    for raw in rows:
        r = raw if isinstance(raw, Instance) else instance_from_row(raw)
        if r.key in seen:
            continue
        seen.add(r.key)
        snapshots.append(r)

    by_master: dict[InstanceKey, list[Instance]] = {}
    for r in snapshots:
        if r.has_async_master:
            by_master.setdefault(InstanceKey(r.master_host, r.master_port), []).append(r)

    reduce_count = config_bool(config, "ReduceReplicationAnalysisCount", True)
    settings = _Settings.of(config)
    result: list[AnalysisFacts] = []
    no_replicas: list[Instance] = []
    for m in snapshots:
        if m.in_maintenance:
            continue
        replicas = by_master.get(InstanceKey(m.join_hostname, m.key.port), no_replicas)
        # ReduceReplicationAnalysisCount: a healthy leaf cannot have a problem (see _worth_analysing)
        if reduce_count and not replicas and m.analysis_valid and not _failing_to_connect(m):
            continue
        facts = _facts_for(m, replicas, settings)
        if reduce_count and not _worth_analysing(facts):
            continue
        result.append(facts)
    return result


def facts_from_aggregates(rows: Iterable[Row], config: Config = None) -> Iterator[AnalysisFacts]:
    """The facts of backend-aggregated rows (`backend.analysis.analysis_aggregates`: one row per
    potential master, its replicas already counted by the backend); the same facts `build_facts`
    derives from every instance row, without a snapshot per instance. Lazily, in the rows' order.
    """
    reduce_count = config_bool(config, "ReduceReplicationAnalysisCount", True)
    settings = _Settings.of(config)
    for row in rows:
        facts = _facts_of_aggregate(row, settings)
        if reduce_count and not _worth_analysing(facts):
            continue
        yield facts


def _facts_of_aggregate(row: Row, settings: _Settings) -> AnalysisFacts:
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
    cluster_alias = to_str(get("cluster_alias")) or cluster_name
    cluster_domain = to_str(get("cluster_domain")) or cluster_name
    binary_log_pos = to_int(get("binary_log_pos"))

    def all_valid(column: str) -> bool:
        return count_valid > 0 and to_int(get(column)) == count_valid

    return AnalysisFacts(
        hostname=hostname,
        port=port,
        master_hostname=master_host,
        master_port=master_port,
        cluster_name=cluster_name,
        cluster_alias=cluster_alias,
        cluster_domain=cluster_domain,
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
        has_automated_master_recovery=cluster_matches_filters(cluster_name, cluster_alias, settings.master_filters),
        has_automated_intermediate_master_recovery=cluster_matches_filters(
            cluster_name, cluster_alias, settings.intermediate_master_filters
        ),
        replica_keys=_replica_keys(to_str(get("replica_keys"))),
    )


def _replica_keys(joined: str) -> tuple[InstanceKey, ...]:
    """`host:port,host:port` (GROUP_CONCAT) as sorted keys; a host may itself hold colons (IPv6)."""
    keys = []
    for item in joined.split(","):
        host, _, port = item.rpartition(":")
        if host:
            keys.append(InstanceKey(host, to_int(port)))
    return tuple(sorted(keys))


def _failing_to_connect(m: Instance) -> bool:
    return m.sql_running and not m.io_running and m.io_error_connecting
