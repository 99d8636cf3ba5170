"""The original API's JSON shapes (spec http-api.md), built from the same rows and snapshots the CLI reads.

Field names are the original's, spellings included (`ReplicationSQLThreadRuning`); the duplicated
legacy names (`Slave_SQL_Running`, `SlaveHosts`, `SlaveLagSeconds`, `LogSlaveUpdatesEnabled`) carry the
same values as their newer twins, because old scripts read either one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator_cli.model.coerce import to_bool, to_int, to_opt_int, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey, parse_printed

OK = "OK"
ERROR = "ERROR"


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """`{Code, Message, Details}`: what changing routes and errors answer."""
    return {"Code": code, "Message": message, "Details": details}


def key_json(key: InstanceKey | None) -> dict[str, Any]:
    """An InstanceKey; None is the empty key `{"Hostname": "", "Port": 0}` (a master's MasterKey)."""
    if key is None:
        return {"Hostname": "", "Port": 0}
    return {"Hostname": key.hostname, "Port": key.port}


def key_text_json(text: str | None) -> dict[str, Any]:
    """A `host:port` string (as command results carry keys) as an InstanceKey object."""
    if not text:
        return key_json(None)
    return key_json(parse_printed(str(text)))


def coordinates_json(c: BinlogCoordinates) -> dict[str, Any]:
    return {"LogFile": c.file, "LogPos": c.pos, "Type": 1 if c.log_type == LogType.RELAY else 0}


def null_int(value: int | None) -> dict[str, Any]:
    """Go's sql.NullInt64 as the original serialises it."""
    return {"Int64": 0 if value is None else int(value), "Valid": value is not None}


def _hosts(text: Any) -> list[dict[str, Any]]:
    from orchestrator_cli.backend.instances import parse_hosts_list

    return [key_json(k) for k in parse_hosts_list(to_str(text) or None)]


def _timestamp(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo is None else value.isoformat()
    return to_str(value)


def _seconds_since(value: Any, now: dt.datetime) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(to_str(value).replace("Z", ""))
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return max(0, int((now - value).total_seconds()))


def _flavor(version: str, comment: str) -> str:
    text = f"{version} {comment}".lower()
    if "mariadb" in text:
        return "MariaDB"
    if "percona" in text:
        return "Percona"
    return "MySQL" if version else "Unknown"


def instance_json(row: Mapping[str, Any], reasonable_lag: int = 10, now: dt.datetime | None = None) -> dict[str, Any]:
    """One `database_instance` row (as `backend.instances` reads it) in the original's Instance shape."""
    from orchestrator_cli.backend.instance_rows import instance_from_row

    i: Instance = instance_from_row(row)
    get = row.get
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    replicas = _hosts(get("slave_hosts"))
    lag = i.lag
    group_primary = to_str(get("replication_group_primary_host"))
    end = get("downtime_end_timestamp")
    seconds_since_seen = _seconds_since(get("last_seen"), now)
    return {
        "Key": key_json(i.key),
        "InstanceAlias": i.instance_alias,
        "Uptime": to_int(get("uptime")),
        "ServerID": i.server_id,
        "ServerUUID": i.server_uuid,
        "Version": i.version,
        "VersionComment": i.version_comment,
        "FlavorName": _flavor(i.version, i.version_comment),
        "ReadOnly": i.read_only,
        "Binlog_format": i.binlog_format,
        "BinlogRowImage": to_str(get("binlog_row_image")),
        "LogBinEnabled": i.log_bin,
        "LogSlaveUpdatesEnabled": i.log_slave_updates,
        "LogReplicationUpdatesEnabled": i.log_slave_updates,
        "SelfBinlogCoordinates": coordinates_json(i.self_coordinates),
        "MasterKey": key_json(i.master_key),
        "MasterUUID": to_str(get("master_uuid")),
        "AncestryUUID": i.ancestry_uuid,
        "IsDetachedMaster": i.master_host.startswith("//"),
        "Slave_SQL_Running": i.sql_running,
        "ReplicationSQLThreadRuning": i.sql_running,
        "Slave_IO_Running": i.io_running,
        "ReplicationIOThreadRuning": i.io_running,
        "ReplicationSQLThreadState": int(i.sql_state),
        "ReplicationIOThreadState": int(i.io_state),
        "HasReplicationFilters": i.has_replication_filters,
        "GTIDMode": i.gtid_mode or "",
        "SupportsOracleGTID": i.supports_oracle_gtid,
        "UsingOracleGTID": i.oracle_gtid,
        "UsingMariaDBGTID": i.mariadb_gtid,
        "UsingPseudoGTID": i.pseudo_gtid,
        "ReadBinlogCoordinates": coordinates_json(i.read_coordinates),
        "ExecBinlogCoordinates": coordinates_json(i.exec_coordinates),
        "IsDetached": i.is_detached,
        "RelaylogCoordinates": coordinates_json(i.relay_log_coordinates),
        "LastSQLError": i.last_sql_error,
        "LastIOError": i.last_io_error,
        "SecondsBehindMaster": null_int(i.seconds_behind_master),
        "SQLDelay": i.sql_delay,
        "ExecutedGtidSet": i.executed_gtid_set,
        "GtidPurged": i.gtid_purged,
        "GtidErrant": i.gtid_errant,
        "SlaveLagSeconds": null_int(lag),
        "ReplicationLagSeconds": null_int(lag),
        "SlaveHosts": [dict(k) for k in replicas],
        "Replicas": replicas,
        "ClusterName": i.cluster_name,
        "SuggestedClusterAlias": i.suggested_cluster_alias,
        "DataCenter": i.data_center,
        "Region": i.region,
        "PhysicalEnvironment": i.physical_environment,
        "ReplicationDepth": i.replication_depth,
        "IsCoMaster": i.is_co_master,
        "HasReplicationCredentials": to_bool(get("has_replication_credentials")),
        "ReplicationCredentialsAvailable": to_bool(get("replication_credentials_available")),
        "SemiSyncAvailable": to_bool(get("semi_sync_available")),
        "SemiSyncPriority": i.semi_sync_priority,
        "SemiSyncMasterEnabled": i.semi_sync_master_enabled,
        "SemiSyncReplicaEnabled": i.semi_sync_replica_enabled,
        "SemiSyncMasterTimeout": to_int(get("semi_sync_master_timeout")),
        "SemiSyncMasterWaitForReplicaCount": i.semi_sync_master_wait_for_replica_count,
        "SemiSyncMasterStatus": i.semi_sync_master_status,
        "SemiSyncMasterClients": i.semi_sync_master_clients,
        "SemiSyncReplicaStatus": i.semi_sync_replica_status,
        "LastSeenTimestamp": _timestamp(get("last_seen")),
        "IsLastCheckValid": i.last_check_valid,
        "IsUpToDate": to_bool(get("is_up_to_date")),
        "IsRecentlyChecked": i.recently_checked,
        "SecondsSinceLastSeen": null_int(seconds_since_seen),
        "CountMySQLSnapshots": 0,
        "IsCandidate": to_bool(get("is_candidate")),
        "PromotionRule": i.promotion_rule,
        "IsDowntimed": i.is_downtimed,
        "DowntimeReason": i.downtime_reason,
        "DowntimeOwner": i.downtime_owner,
        "DowntimeEndTimestamp": _timestamp(end) if i.is_downtimed else "",
        "ElapsedDowntime": 0,
        "UnresolvedHostname": to_str(get("unresolved_hostname")),
        "AllowTLS": to_bool(get("allow_tls")),
        "Problems": list(i.problems(reasonable_lag)) + (["downtimed"] if i.is_downtimed else []),
        "LastDiscoveryLatency": to_int(get("last_discovery_latency")),
        "ReplicationGroupName": i.replication_group_name,
        "ReplicationGroupIsSinglePrimary": to_bool(get("replication_group_is_single_primary_mode")),
        "ReplicationGroupMemberState": i.replication_group_member_state,
        "ReplicationGroupMemberRole": i.replication_group_member_role,
        "ReplicationGroupMembers": _hosts(get("replication_group_members")),
        "ReplicationGroupPrimaryInstanceKey": key_json(
            InstanceKey(group_primary, to_opt_int(get("replication_group_primary_port")) or 0)
            if group_primary
            else None
        ),
    }


def instances_json(rows: Sequence[Mapping[str, Any]], reasonable_lag: int = 10) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return [instance_json(r, reasonable_lag, now) for r in rows]


def cluster_info_json(
    name: str,
    alias: str,
    domain: str,
    count: int,
    heuristic_lag: int,
    automated_master: bool,
    automated_intermediate: bool,
) -> dict[str, Any]:
    return {
        "ClusterName": name,
        "ClusterAlias": alias or name,
        "ClusterDomain": domain,
        "CountInstances": count,
        "HeuristicLag": heuristic_lag,
        "HasAutomatedMasterRecovery": automated_master,
        "HasAutomatedIntermediateMasterRecovery": automated_intermediate,
    }


# Field lists for documentation and for tests that check a shape field by field.
INSTANCE_FIELDS: tuple[str, ...] = tuple(instance_json({"hostname": "h", "port": 1}).keys())
CLUSTER_INFO_FIELDS: tuple[str, ...] = tuple(cluster_info_json("c", "", "", 0, 0, False, False).keys())


def key_json_of(hostname: Any, port: Any) -> dict[str, Any]:
    return {"Hostname": to_str(hostname), "Port": to_int(port)}


def plain(value: Any) -> Any:
    """A backend cell as JSON: timestamps as text, bytes decoded, numbers and text as they are."""
    if isinstance(value, dt.datetime | dt.date):
        return _timestamp(value) if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
