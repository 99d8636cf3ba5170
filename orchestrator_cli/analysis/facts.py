"""Per-instance analysis facts (`model.analysis_facts.AnalysisFacts`), completed from configuration.

The original computes these facts in one SQL aggregation (master LEFT JOIN its direct replicas); so
does the backend (`backend.analysis.analysis_aggregates`, its columns mapped where they are read, in
`backend/analysis_rows.py`), and `analysable` adds what the configuration decides. `build_facts` derives
the same facts by grouping `Instance` snapshots in Python, so the decision rules can be tested without
a database. Nothing here reads a row by column name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.coerce import to_bool, to_int, to_str
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey

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
    automated_master, automated_intermediate = settings.automated_recovery(cluster_name, cluster_alias)
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
        has_automated_master_recovery=automated_master,
        has_automated_intermediate_master_recovery=automated_intermediate,
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

    def automated_recovery(self, cluster_name: str, cluster_alias: str) -> tuple[bool, bool]:
        """Whether the cluster's master, and its intermediate masters, are recovered automatically."""
        return (
            cluster_matches_filters(cluster_name, cluster_alias, self.master_filters),
            cluster_matches_filters(cluster_name, cluster_alias, self.intermediate_master_filters),
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


def build_facts(instances: Iterable[Instance], config: Config = None) -> list[AnalysisFacts]:
    """Group instance snapshots into one :class:`AnalysisFacts` per analysable instance.

    A replica belongs to M when ``replica.master_host == coalesce(M.resolved_hostname,
    M.hostname)`` and the ports are equal.  Instances under active maintenance are not
    analysed (they are being refactored) but still count as replicas of their master.
    Snapshots with a duplicate ``hostname:port`` are ignored after the first.  Output order
    follows input order.
    """
    snapshots: list[Instance] = []
    seen: set[InstanceKey] = set()
    for r in instances:
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


def analysable(facts: Iterable[AnalysisFacts], config: Config = None) -> Iterator[AnalysisFacts]:
    """The facts the backend read (`backend.analysis.analysis_aggregates`: one value per potential
    master, its replicas already counted by the backend) completed with what the configuration decides
    (`Recover*ClusterFilters`) and reduced as `build_facts` reduces (`ReduceReplicationAnalysisCount`):
    the same facts `build_facts` derives from every instance. Lazily, in the input's order.
    """
    reduce_count = config_bool(config, "ReduceReplicationAnalysisCount", True)
    settings = _Settings.of(config)
    automated: dict[tuple[str, str], tuple[bool, bool]] = {}
    for f in facts:
        if reduce_count and not _worth_analysing(f):
            continue
        cluster = (f.cluster_name, f.cluster_alias)
        flags = automated.get(cluster)
        if flags is None:
            flags = automated[cluster] = settings.automated_recovery(*cluster)
        if flags != (f.has_automated_master_recovery, f.has_automated_intermediate_master_recovery):
            f = replace(f, has_automated_master_recovery=flags[0], has_automated_intermediate_master_recovery=flags[1])
        yield f


def _failing_to_connect(m: Instance) -> bool:
    return m.sql_running and not m.io_running and m.io_error_connecting
