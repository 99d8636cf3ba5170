"""The one mapping from a `database_instance` row (as `instances._select` and `analysis.analysis_instances`
return it) to the typed `Instance` snapshot: every column name an instance is read by lives here.

Cells are coerced tolerantly (`model/coerce.py`): SQLite and MySQL drivers disagree on types, and test
fixtures hand over partial rows, so a missing column reads as its type's empty value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from orchestrator_cli.backend.tree_rows import check_valid_by_timestamps
from orchestrator_cli.model.coerce import to_bool, to_int, to_opt_int, to_opt_str, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.instance import Instance, major_version_of
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState

if TYPE_CHECKING:  # imported where it is built: only the service's cluster views read it, never discovery
    from orchestrator_cli.model.osc_member import OscMember

__all__ = [
    "instance_from_row", "instances_from_rows", "key_of", "keys_of", "osc_member_from_row", "probe_over_backend",
    "set_cluster_facts",
    "set_gtid_errant", "set_neighbours", "set_pseudo_gtid", "set_suggested_alias", "with_self_coordinates",
]  # fmt: skip

_EMPTY_BINARY = BinlogCoordinates("", 0)
_EMPTY_RELAY = BinlogCoordinates("", 0, LogType.RELAY)


def key_of(row: Mapping[str, Any]) -> InstanceKey:
    """The instance key of any row with `hostname` and `port` columns."""
    return InstanceKey(to_str(row.get("hostname")), to_int(row.get("port")))


def keys_of(rows: Iterable[Mapping[str, Any]]) -> list[InstanceKey]:
    return [key_of(r) for r in rows]


def _coordinates(file: Any, pos: Any, log_type: LogType = LogType.BINARY) -> BinlogCoordinates:
    if type(file) is str and type(pos) is int and file and pos >= 0:  # the common case
        return BinlogCoordinates(file, pos, log_type)
    name, position = to_str(file), max(0, to_int(pos))
    if not name and not position:
        return _EMPTY_RELAY if log_type is LogType.RELAY else _EMPTY_BINARY
    return BinlogCoordinates(name, position, log_type)


def _upstream(
    row: Mapping[str, Any],
) -> tuple[str, int, BinlogCoordinates, bool, bool, ThreadState]:
    """Master host and port, read coordinates, GTID flags, and the thread state a missing cell means
    (stopped for a replica, none otherwise)."""
    get = row.get
    master_host = to_str(get("master_host")).strip()
    master_port = to_int(get("master_port"))
    read_coordinates = _coordinates(get("master_log_file"), get("read_master_log_pos"))
    oracle_gtid, mariadb_gtid = to_bool(get("oracle_gtid")), to_bool(get("mariadb_gtid"))
    is_replica = (
        bool(master_host)
        and master_host != "_"
        and master_port != 0
        and bool(read_coordinates.file or oracle_gtid or mariadb_gtid)
    )
    default_state = ThreadState.STOPPED if is_replica else ThreadState.NONE
    return master_host, master_port, read_coordinates, oracle_gtid, mariadb_gtid, default_state


def instance_from_row(row: Mapping[str, Any]) -> Instance:
    """Build the snapshot of one row; never raises on odd cell values (they read as empty)."""
    get = row.get
    master_host, master_port, read_coordinates, oracle_gtid, mariadb_gtid, default_state = _upstream(row)
    check_valid_cell = get("is_last_check_valid")
    check_valid = check_valid_by_timestamps(row) if check_valid_cell is None else to_bool(check_valid_cell)
    analysis_valid_cell = get("is_analysis_valid")
    version = to_str(get("version"))
    major = to_str(get("major_version")).strip()
    if not major and version.strip():
        major = major_version_of(version)
    return Instance(
        key=InstanceKey(to_str(get("hostname")), to_int(get("port"))),
        server_id=to_int(get("server_id")),
        server_uuid=to_str(get("server_uuid")),
        version=version,
        major_version=major,
        version_comment=to_str(get("version_comment")),
        instance_alias=to_str(get("instance_alias")),
        cluster_name=to_str(get("cluster_name")),
        cluster_alias=to_str(get("cluster_alias")),
        cluster_domain=to_str(get("cluster_domain")),
        suggested_cluster_alias=to_str(get("suggested_cluster_alias")),
        data_center=to_str(get("data_center")),
        region=to_str(get("region")),
        physical_environment=to_str(get("physical_environment")),
        resolved_hostname=to_str(get("resolved_hostname")),
        promotion_rule=to_str(get("promotion_rule")) or "neutral",
        read_only=to_bool(get("read_only")),
        log_bin=to_bool(get("log_bin")),
        log_slave_updates=to_bool(get("log_slave_updates")),
        binlog_format=to_str(get("binlog_format")),
        binlog_server=to_bool(get("binlog_server")),
        self_coordinates=_coordinates(get("binary_log_file"), get("binary_log_pos")),
        master_host=master_host,
        master_port=master_port,
        read_coordinates=read_coordinates,
        exec_coordinates=_coordinates(get("relay_master_log_file"), get("exec_master_log_pos")),
        relay_log_coordinates=_coordinates(get("relay_log_file"), get("relay_log_pos"), LogType.RELAY),
        io_running=to_bool(get("slave_io_running")),
        sql_running=to_bool(get("slave_sql_running")),
        io_state=ThreadState.from_cell(get("replication_io_thread_state"), default_state),
        sql_state=ThreadState.from_cell(get("replication_sql_thread_state"), default_state),
        last_io_error=to_str(get("last_io_error")),
        last_sql_error=to_str(get("last_sql_error")),
        seconds_behind_master=to_opt_int(get("seconds_behind_master")),
        lag=to_opt_int(get("slave_lag_seconds")),
        sql_delay=to_int(get("sql_delay")),
        replication_depth=to_int(get("replication_depth")),
        is_co_master=to_bool(get("is_co_master")),
        has_replication_filters=to_bool(get("has_replication_filters")),
        num_replica_hosts=to_int(get("num_slave_hosts")),
        oracle_gtid=oracle_gtid,
        mariadb_gtid=mariadb_gtid,
        supports_oracle_gtid=to_bool(get("supports_oracle_gtid")),
        pseudo_gtid=to_bool(get("pseudo_gtid")),
        gtid_mode=to_opt_str(get("gtid_mode")),
        executed_gtid_set=to_str(get("executed_gtid_set")),
        gtid_purged=to_str(get("gtid_purged")),
        gtid_errant=to_str(get("gtid_errant")),
        ancestry_uuid=to_str(get("ancestry_uuid")),
        semi_sync_priority=to_int(get("semi_sync_enforced")),
        semi_sync_master_enabled=to_bool(get("semi_sync_master_enabled")),
        semi_sync_master_status=to_bool(get("semi_sync_master_status")),
        semi_sync_master_wait_for_replica_count=to_int(get("semi_sync_master_wait_for_slave_count")),
        semi_sync_master_clients=to_int(get("semi_sync_master_clients")),
        semi_sync_replica_enabled=to_bool(get("semi_sync_replica_enabled")),
        semi_sync_replica_status=to_bool(get("semi_sync_replica_status")),
        replication_group_name=to_str(get("replication_group_name")).strip(),
        replication_group_member_state=to_str(get("replication_group_member_state")).strip().upper(),
        replication_group_member_role=to_str(get("replication_group_member_role")).strip().upper(),
        last_check_valid=check_valid,
        analysis_valid=check_valid if analysis_valid_cell is None else to_bool(analysis_valid_cell),
        last_check_partial_success=to_bool(get("last_check_partial_success")),
        recently_checked=to_bool(get("is_recently_checked")),
        is_downtimed=to_bool(get("is_downtimed")),
        downtime_reason=to_str(get("downtime_reason")),
        downtime_owner=to_str(get("downtime_owner")),
        downtime_end_timestamp=to_str(get("downtime_end_timestamp")),
        downtime_remaining_seconds=to_int(get("downtime_remaining_seconds")),
        in_maintenance=to_bool(get("in_maintenance")),
        is_stale_binlog_coordinates=to_bool(get("is_stale_binlog_coordinates")),
    )


def osc_member_from_row(row: Mapping[str, Any]) -> OscMember:
    """The `OscMember` of a row of `cluster_summary.osc_member_rows`: each fact derived from the same
    columns, the same way, as `instance_from_row` and `Instance`'s properties derive it."""
    from orchestrator_cli.model.osc_member import OscMember

    get = row.get
    master_host, master_port, read_coordinates, oracle_gtid, mariadb_gtid, default_state = _upstream(row)
    has_master = bool(master_host) and master_host != "_" and master_port != 0
    is_replica = has_master and bool(read_coordinates.file or oracle_gtid or mariadb_gtid)
    running = (
        is_replica
        and ThreadState.from_cell(get("replication_sql_thread_state"), default_state) == ThreadState.RUNNING
        and ThreadState.from_cell(get("replication_io_thread_state"), default_state) == ThreadState.RUNNING
    )
    return OscMember(
        key=InstanceKey(to_str(get("hostname")), to_int(get("port"))),
        master_key=InstanceKey(master_host, master_port) if has_master else None,
        is_replica=is_replica,
        replication_running=running,
        last_check_valid=to_bool(get("is_last_check_valid")),
        is_downtimed=to_bool(get("is_downtimed")),
        replication_depth=to_int(get("replication_depth")),
        lag=to_opt_int(get("slave_lag_seconds")),
    )


def probe_over_backend(
    backend_row: Mapping[str, Any] | None, probe_row: Mapping[str, Any], key: InstanceKey
) -> Instance:
    """A probe row's columns over the backend row of the same instance (what the probe does not read,
    e.g. errant GTIDs, check flags, downtime, comes from the backend), under `key`."""
    return instance_from_row({**(backend_row or {}), **probe_row, "hostname": key.hostname, "port": key.port})


def instances_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Instance]:
    return [instance_from_row(r) for r in rows]


# -- the columns discovery derives over the whole probed graph, written into a probe row ----------


def set_neighbours(row: dict[str, Any], master: InstanceKey | None, replicas: Iterable[InstanceKey]) -> None:
    """The master (when any) and the replicas under the names their own probes resolved to."""
    if master is not None:
        row["master_host"], row["master_port"] = master.hostname, master.port
    row["slave_hosts"] = [{"Hostname": k.hostname, "Port": k.port} for k in replicas]


def set_cluster_facts(row: dict[str, Any], *, cluster_name: str, depth: int, co_master: bool, ancestry: str) -> None:
    row["cluster_name"] = cluster_name
    row["replication_depth"] = depth
    row["is_co_master"] = int(co_master)
    row["ancestry_uuid"] = ancestry


def set_pseudo_gtid(row: dict[str, Any], pseudo_gtid: bool) -> None:
    row["pseudo_gtid"] = int(pseudo_gtid)


def set_gtid_errant(row: dict[str, Any], errant: str) -> None:
    row["gtid_errant"] = errant


def with_self_coordinates(row: Mapping[str, Any], own: BinlogCoordinates) -> dict[str, Any]:
    """A copy of a probe row with the server's own binary log position re-read (`own`)."""
    return {**row, "binary_log_file": own.file, "binary_log_pos": own.pos}


def set_suggested_alias(row: dict[str, Any], alias: str) -> None:
    row["suggested_cluster_alias"] = alias
