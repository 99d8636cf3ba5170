"""The `topology*` read: one cluster's members, only the columns its tree shows, as `TreeMember`s.

`instances.cluster_instances` reads every column (and three joins) and the caller builds a full
`Instance` per row; for a tree that prints a key, a master and a handful of status tokens per line
that is the heaviest part of a `topology -i` run, mostly in imports (`dataclasses`, `typing`, the
snapshot model). This module reads `TREE_COLUMNS` plus the derived flags the tokens need, and maps
each row the way `instance_rows.instance_from_row` and `Instance`'s properties do (the unit tests
check both mappings agree on any row). Imports stay light: this is on the `topology` start-up path.
"""

from __future__ import annotations

from orchestrator_cli.model.coerce import to_bool, to_int, to_opt_int, to_str
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.tree_member import TreeMember

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from orchestrator_cli.backend.connection import Backend

__all__ = ["TREE_COLUMNS", "check_valid_by_timestamps", "cluster_members", "tree_member_from_row"]

# What a tree line is made of (see `TreeMember`); the check and downtime flags are derived in the read.
TREE_COLUMNS = (
    "hostname", "port", "master_host", "master_port", "master_log_file", "relay_master_log_file",
    "oracle_gtid", "mariadb_gtid", "replication_sql_thread_state", "replication_io_thread_state",
    "instance_alias", "replication_depth", "is_co_master", "seconds_behind_master", "slave_lag_seconds",
    "sql_delay", "version", "read_only", "log_bin", "log_slave_updates", "binlog_format",
    "supports_oracle_gtid", "gtid_errant", "pseudo_gtid", "semi_sync_master_status", "semi_sync_replica_status",
)  # fmt: skip


def cluster_members(backend: Backend, cluster_name: str) -> list[TreeMember]:
    """The members of `cluster_name` in (hostname, port) order, as `instances.cluster_instances` lists
    them, with `is_last_check_valid`, `is_recently_checked` and `is_downtimed` derived as
    `instances.read_where` derives them (on the backend's clock)."""
    d = backend.dialect
    poll = int(backend.config.get("InstancePollSeconds", 5))
    columns = ", ".join(f"di.{c}" for c in TREE_COLUMNS)
    rows = backend.query(
        f"""SELECT {columns},
              CASE WHEN di.last_seen IS NOT NULL AND di.last_checked <= di.last_seen THEN 1 ELSE 0 END
                AS is_last_check_valid,
              CASE WHEN di.last_checked >= {d.seconds_ago(str(5 * poll))} THEN 1 ELSE 0 END AS is_recently_checked,
              CASE WHEN dt.downtime_active IS NOT NULL AND (dt.end_timestamp IS NULL OR dt.end_timestamp > {d.now()})
                   THEN 1 ELSE 0 END AS is_downtimed
            FROM database_instance di
              LEFT JOIN database_instance_downtime dt ON (dt.hostname = di.hostname AND dt.port = di.port)
            WHERE di.cluster_name = ?
            ORDER BY di.hostname, di.port""",
        (cluster_name,),
    )
    return [tree_member_from_row(r) for r in rows]


def check_valid_by_timestamps(row: Mapping[str, Any]) -> bool:
    """Fallback validity (``last_checked <= last_seen``) for a row whose read computed no flag."""
    checked, seen = row.get("last_checked"), row.get("last_seen")
    if checked is None or seen is None:
        return False
    try:
        return bool(checked <= seen)
    except TypeError:
        return to_str(checked) <= to_str(seen)


def _running(cell: Any) -> bool:
    """A `replication_*_thread_state` cell says "running" (`ThreadState.from_cell(...) == RUNNING`)."""
    return cell == 1 if type(cell) is int else to_opt_int(cell) == 1


def tree_member_from_row(row: Mapping[str, Any]) -> TreeMember:
    """The tree's view of any instance row (`cluster_members`' narrow one or a full one); never raises
    on odd cell values (they read as empty, as in `instance_from_row`)."""
    get = row.get
    master_host = to_str(get("master_host")).strip()
    master_port = to_int(get("master_port"))
    has_master = bool(master_host) and master_host != "_" and master_port != 0
    uses_gtid = to_bool(get("oracle_gtid")) or to_bool(get("mariadb_gtid"))
    is_replica = has_master and bool(to_str(get("master_log_file")) or uses_gtid)
    check_valid_cell = get("is_last_check_valid")
    return TreeMember(
        key=InstanceKey(to_str(get("hostname")), to_int(get("port"))),
        master_key=InstanceKey(master_host, master_port) if has_master else None,
        instance_alias=to_str(get("instance_alias")),
        replication_depth=to_int(get("replication_depth")),
        is_co_master=to_bool(get("is_co_master")),
        is_replica=is_replica,
        replication_running=is_replica
        and _running(get("replication_sql_thread_state"))
        and _running(get("replication_io_thread_state")),
        is_detached=to_str(get("relay_master_log_file")).startswith("//") or master_host.startswith("//"),
        last_check_valid=check_valid_by_timestamps(row) if check_valid_cell is None else to_bool(check_valid_cell),
        recently_checked=to_bool(get("is_recently_checked")),
        seconds_behind_master=to_opt_int(get("seconds_behind_master")),
        lag=to_opt_int(get("slave_lag_seconds")),
        sql_delay=to_int(get("sql_delay")),
        version=to_str(get("version")),
        read_only=to_bool(get("read_only")),
        log_bin=to_bool(get("log_bin")),
        log_slave_updates=to_bool(get("log_slave_updates")),
        binlog_format=to_str(get("binlog_format")),
        uses_gtid=uses_gtid,
        supports_oracle_gtid=to_bool(get("supports_oracle_gtid")),
        gtid_errant=to_str(get("gtid_errant")),
        pseudo_gtid=to_bool(get("pseudo_gtid")),
        semi_sync_master_status=to_bool(get("semi_sync_master_status")),
        semi_sync_replica_status=to_bool(get("semi_sync_replica_status")),
        is_downtimed=to_bool(get("is_downtimed")),
    )
