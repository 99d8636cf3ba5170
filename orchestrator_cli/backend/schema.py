"""The backend schema: the original's 47 tables, columns, keys and defaults, as SQLAlchemy Core tables.

Imported only when the schema has to be created or checked in depth (deploy, tests), never on the
cron path. MySQL gets the original's exact types; SQLite gets the closest equivalents, with
auto-increment keys as rowid aliases and timestamp defaults that really hold the current time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    BigInteger,
    Column,
    Enum,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

metadata = MetaData()

_NOW = text("CURRENT_TIMESTAMP")


def _mysql(generic: TypeEngine[Any], specific: TypeEngine[Any]) -> TypeEngine[Any]:
    return generic.with_variant(specific, "mysql", "mariadb")


_TINYINT_U = _mysql(SmallInteger(), mysql.TINYINT(unsigned=True))
_TINYINT = _mysql(SmallInteger(), mysql.TINYINT())
_SMALLINT_U = _mysql(Integer(), mysql.SMALLINT(unsigned=True))
_INT_U = _mysql(BigInteger(), mysql.INTEGER(unsigned=True))
_INT = _mysql(Integer(), mysql.INTEGER())
_BIGINT_U = _mysql(BigInteger(), mysql.BIGINT(unsigned=True))
_BIGINT = _mysql(BigInteger(), mysql.BIGINT())
_AUTO_BIGINT = _mysql(Integer(), mysql.BIGINT(unsigned=True))
_AUTO_INT = _mysql(Integer(), mysql.INTEGER(unsigned=True))
_TIMESTAMP = _mysql(TIMESTAMP(), mysql.TIMESTAMP())
_TINYTEXT = _mysql(Text(), mysql.TINYTEXT())
_BLOB = _mysql(LargeBinary(), mysql.BLOB())


def _varchar(length: int, utf8: bool = False) -> TypeEngine[Any]:
    return _mysql(String(length), mysql.VARCHAR(length, charset="utf8mb3" if utf8 else None))


def _varbinary(length: int) -> TypeEngine[Any]:
    return _mysql(LargeBinary(length), mysql.VARBINARY(length))


def _text(utf8: bool = False) -> TypeEngine[Any]:
    return _mysql(Text(), mysql.TEXT(charset="utf8mb3" if utf8 else None))


def _enum(*values: str) -> TypeEngine[Any]:
    return Enum(*values, native_enum=True, create_constraint=True, name="promotion_rule_enum")


database_instance = Table(
    "database_instance",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("last_checked", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("last_attempted_check", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Column("last_check_partial_success", _TINYINT_U, nullable=False),
    Column("last_seen", _TIMESTAMP),
    Column("uptime", _INT_U, nullable=False),
    Column("server_id", _INT_U, nullable=False),
    Column("server_uuid", _varchar(64), nullable=False),
    Column("version", _varchar(128), nullable=False),
    Column("binlog_server", _TINYINT_U, nullable=False),
    Column("read_only", _TINYINT_U, nullable=False),
    Column("binlog_format", _varchar(16), nullable=False),
    Column("log_bin", _TINYINT_U, nullable=False),
    Column("log_slave_updates", _TINYINT_U, nullable=False),
    Column("binary_log_file", _varchar(128), nullable=False),
    Column("binary_log_pos", _BIGINT_U, nullable=False),
    Column("master_host", _varchar(128), nullable=False),
    Column("master_port", _SMALLINT_U, nullable=False),
    Column("slave_sql_running", _TINYINT_U, nullable=False),
    Column("slave_io_running", _TINYINT_U, nullable=False),
    Column("replication_sql_thread_state", _TINYINT, nullable=False, server_default=text("0")),
    Column("replication_io_thread_state", _TINYINT, nullable=False, server_default=text("0")),
    Column("has_replication_filters", _TINYINT_U, nullable=False),
    Column("oracle_gtid", _TINYINT_U, nullable=False),
    Column("master_uuid", _varchar(64), nullable=False),
    Column("ancestry_uuid", _text(), nullable=False),
    Column("executed_gtid_set", _text(), nullable=False),
    Column("gtid_purged", _text(), nullable=False),
    Column("gtid_errant", _text(), nullable=False),
    Column("supports_oracle_gtid", _TINYINT_U, nullable=False),
    Column("mariadb_gtid", _TINYINT_U, nullable=False),
    Column("pseudo_gtid", _TINYINT_U, nullable=False),
    Column("master_log_file", _varchar(128), nullable=False),
    Column("read_master_log_pos", _BIGINT_U, nullable=False),
    Column("relay_master_log_file", _varchar(128), nullable=False),
    Column("exec_master_log_pos", _BIGINT_U, nullable=False),
    Column("relay_log_file", _varchar(128), nullable=False),
    Column("relay_log_pos", _BIGINT_U, nullable=False),
    Column("last_sql_error", _text(), nullable=False),
    Column("last_io_error", _text(), nullable=False),
    Column("seconds_behind_master", _BIGINT_U),
    Column("slave_lag_seconds", _BIGINT_U),
    Column("sql_delay", _INT_U, nullable=False),
    Column("allow_tls", _TINYINT_U, nullable=False),
    Column("num_slave_hosts", _INT_U, nullable=False),
    Column("slave_hosts", _text(), nullable=False),
    Column("cluster_name", _varchar(128), nullable=False),
    Column("suggested_cluster_alias", _varchar(128), nullable=False),
    Column("data_center", _varchar(32), nullable=False),
    Column("region", _varchar(32), nullable=False),
    Column("physical_environment", _varchar(32), nullable=False),
    Column("instance_alias", _varchar(128), nullable=False),
    Column("semi_sync_enforced", _TINYINT_U, nullable=False),
    Column("semi_sync_available", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("replication_depth", _TINYINT_U, nullable=False),
    Column("is_co_master", _TINYINT_U, nullable=False),
    Column("replication_credentials_available", _TINYINT_U, nullable=False),
    Column("has_replication_credentials", _TINYINT_U, nullable=False),
    Column("version_comment", _varchar(128), nullable=False, server_default=""),
    Column("major_version", _varchar(16), nullable=False),
    Column("binlog_row_image", _varchar(16), nullable=False),
    Column("last_discovery_latency", _BIGINT, nullable=False),
    Column("semi_sync_master_enabled", _TINYINT_U, nullable=False),
    Column("semi_sync_master_timeout", _BIGINT_U, nullable=False, server_default=text("0")),
    Column("semi_sync_master_wait_for_slave_count", _INT_U, nullable=False, server_default=text("0")),
    Column("semi_sync_master_status", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("semi_sync_master_clients", _INT_U, nullable=False, server_default=text("0")),
    Column("semi_sync_replica_status", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("semi_sync_replica_enabled", _TINYINT_U, nullable=False),
    Column("gtid_mode", _varchar(32), nullable=False),
    Column("replication_group_name", _varchar(64), nullable=False, server_default=""),
    Column("replication_group_is_single_primary_mode", _TINYINT_U, nullable=False, server_default=text("1")),
    Column("replication_group_member_state", _varchar(16), nullable=False, server_default=""),
    Column("replication_group_member_role", _varchar(16), nullable=False, server_default=""),
    Column("replication_group_members", _text(), nullable=False),
    Column("replication_group_primary_host", _varchar(128), nullable=False, server_default=""),
    Column("replication_group_primary_port", _SMALLINT_U, nullable=False, server_default=text("0")),
    Index("cluster_name_idx_database_instance", "cluster_name"),
    Index("last_checked_idx_database_instance", "last_checked"),
    Index("last_seen_idx_database_instance", "last_seen"),
    Index(
        "master_host_port_idx_database_instance",
        "master_host",
        "master_port",
        info={"sqlite_name": "master_host_port_idx_database_instance_database_instance"},
    ),
    Index("suggested_cluster_alias_idx_database_instance", "suggested_cluster_alias"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_maintenance = Table(
    "database_instance_maintenance",
    metadata,
    Column("database_instance_maintenance_id", _AUTO_INT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("maintenance_active", _TINYINT),
    Column("begin_timestamp", _TIMESTAMP),
    Column("end_timestamp", _TIMESTAMP),
    Column("owner", _varchar(128, utf8=True), nullable=False),
    Column("reason", _text(utf8=True), nullable=False),
    Column("processing_node_hostname", _varchar(128), nullable=False),
    Column("processing_node_token", _varchar(128), nullable=False),
    Column("explicitly_bounded", _TINYINT_U, nullable=False),
    Index(
        "active_end_timestamp_idx",
        "maintenance_active",
        "end_timestamp",
        info={"sqlite_name": "active_end_timestamp_idx_database_instance_maintenance"},
    ),
    Index(
        "active_timestamp_idx",
        "maintenance_active",
        "begin_timestamp",
        info={"sqlite_name": "active_timestamp_idx_database_instance_maintenance"},
    ),
    Index("maintenance_uidx_database_instance_maintenance", "maintenance_active", "hostname", "port", unique=True),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_downtime = Table(
    "database_instance_downtime",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("downtime_active", _TINYINT),
    Column("begin_timestamp", _TIMESTAMP, server_default=_NOW),
    Column("end_timestamp", _TIMESTAMP),
    Column("owner", _varchar(128, utf8=True), nullable=False),
    Column("reason", _text(utf8=True), nullable=False),
    Index("end_timestamp_idx_database_instance_downtime", "end_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

candidate_database_instance = Table(
    "candidate_database_instance",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("last_suggested", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("priority", _TINYINT, nullable=False, server_default=text("1")),
    Column(
        "promotion_rule",
        _enum("must", "prefer", "neutral", "prefer_not", "must_not"),
        nullable=False,
        server_default="neutral",
    ),
    Index("last_suggested_idx_candidate_database_instance", "last_suggested"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_tags = Table(
    "database_instance_tags",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("tag_name", _varchar(128, utf8=True), primary_key=True),
    Column("tag_value", _varchar(128, utf8=True), nullable=False),
    Column("last_updated", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("tag_name_idx_database_instance_tags", "tag_name"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

cluster_alias = Table(
    "cluster_alias",
    metadata,
    Column("cluster_name", _varchar(128), primary_key=True, autoincrement=False),
    Column("alias", _varchar(128), nullable=False),
    Column("last_registered", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("alias_uidx", "alias", unique=True, info={"sqlite_name": "alias_uidx_cluster_alias"}),
    Index("last_registered_idx", "last_registered", info={"sqlite_name": "last_registered_idx_cluster_alias"}),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

cluster_alias_override = Table(
    "cluster_alias_override",
    metadata,
    Column("cluster_name", _varchar(128), primary_key=True, autoincrement=False),
    Column("alias", _varchar(128), nullable=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

cluster_domain_name = Table(
    "cluster_domain_name",
    metadata,
    Column("cluster_name", _varchar(128), primary_key=True, autoincrement=False),
    Column("domain_name", _varchar(128), nullable=False),
    Column("last_registered", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("domain_name_idx_cluster_domain_name", "domain_name", mysql_length={"domain_name": 32}),
    Index("last_registered_idx", "last_registered", info={"sqlite_name": "last_registered_idx_cluster_domain_name"}),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

hostname_resolve = Table(
    "hostname_resolve",
    metadata,
    Column("hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("resolved_hostname", _varchar(128), nullable=False),
    Column("resolved_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("resolved_timestamp_idx_hostname_resolve", "resolved_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

hostname_unresolve = Table(
    "hostname_unresolve",
    metadata,
    Column("hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("unresolved_hostname", _varchar(128), nullable=False),
    Column("last_registered", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("last_registered_idx", "last_registered", info={"sqlite_name": "last_registered_idx_hostname_unresolve"}),
    Index("unresolved_hostname_idx_hostname_unresolve", "unresolved_hostname"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

topology_recovery = Table(
    "topology_recovery",
    metadata,
    Column("recovery_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("in_active_period", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("start_active_period", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("end_active_period_unixtime", _INT_U),
    Column("end_recovery", _TIMESTAMP),
    Column("processing_node_hostname", _varchar(128), nullable=False),
    Column("processcing_node_token", _varchar(128), nullable=False),
    Column("is_successful", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("successor_hostname", _varchar(128)),
    Column("successor_port", _SMALLINT_U),
    Column("analysis", _varchar(128), nullable=False),
    Column("cluster_name", _varchar(128), nullable=False),
    Column("cluster_alias", _varchar(128), nullable=False),
    Column("count_affected_slaves", _INT_U, nullable=False),
    Column("slave_hosts", _text(), nullable=False),
    Column("participating_instances", _text(), nullable=False),
    Column("lost_slaves", _text(), nullable=False),
    Column("all_errors", _text(), nullable=False),
    Column("acknowledged", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("acknowledged_at", _TIMESTAMP),
    Column("acknowledged_by", _varchar(128, utf8=True), nullable=False),
    Column("acknowledge_comment", _text(utf8=True), nullable=False),
    Column("last_detection_id", _BIGINT_U, nullable=False),
    Column("successor_alias", _varchar(128)),
    Column("uid", _varchar(128), nullable=False),
    Index(
        "acknowledged_idx",
        "acknowledged",
        "acknowledged_at",
        info={"sqlite_name": "acknowledged_idx_topology_recovery"},
    ),
    Index(
        "cluster_name_in_active_idx",
        "cluster_name",
        "in_active_period",
        info={"sqlite_name": "cluster_name_in_active_idx_topology_recovery"},
    ),
    Index("end_recovery_idx", "end_recovery", info={"sqlite_name": "end_recovery_idx_topology_recovery"}),
    Index(
        "hostname_port_active_period_uidx_topology_recovery",
        "hostname",
        "port",
        "in_active_period",
        "end_active_period_unixtime",
        unique=True,
    ),
    Index("in_active_start_period_idx_topology_recovery", "in_active_period", "start_active_period"),
    Index("last_detection_idx", "last_detection_id", info={"sqlite_name": "last_detection_idx_topology_recovery"}),
    Index("start_active_period_idx_topology_recovery", "start_active_period"),
    Index("uid_idx_topology_recovery", "uid"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

topology_failure_detection = Table(
    "topology_failure_detection",
    metadata,
    Column("detection_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("in_active_period", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("start_active_period", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("end_active_period_unixtime", _INT_U, nullable=False),
    Column("processing_node_hostname", _varchar(128), nullable=False),
    Column("processcing_node_token", _varchar(128), nullable=False),
    Column("analysis", _varchar(128), nullable=False),
    Column("cluster_name", _varchar(128), nullable=False),
    Column("cluster_alias", _varchar(128), nullable=False),
    Column("count_affected_slaves", _INT_U, nullable=False),
    Column("slave_hosts", _text(), nullable=False),
    Column("is_actionable", _TINYINT, nullable=False, server_default=text("0")),
    Index(
        "host_port_active_recoverable_uidx_topology_failure_detection",
        "hostname",
        "port",
        "in_active_period",
        "end_active_period_unixtime",
        "is_actionable",
        unique=True,
    ),
    Index("in_active_start_period_idx_topology_failure_detection", "in_active_period", "start_active_period"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

blocked_topology_recovery = Table(
    "blocked_topology_recovery",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("cluster_name", _varchar(128), nullable=False),
    Column("analysis", _varchar(128), nullable=False),
    Column("last_blocked_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("blocking_recovery_id", _BIGINT_U),
    Index("cluster_blocked_idx_blocked_topology_recovery", "cluster_name", "last_blocked_timestamp"),
    Index(
        "last_blocked_idx", "last_blocked_timestamp", info={"sqlite_name": "last_blocked_idx_blocked_topology_recovery"}
    ),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

topology_recovery_steps = Table(
    "topology_recovery_steps",
    metadata,
    Column("recovery_step_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("recovery_uid", _varchar(128), nullable=False),
    Column("audit_at", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("message", _text(utf8=True), nullable=False),
    Index("recovery_uid_idx_topology_recovery_steps", "recovery_uid"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

global_recovery_disable = Table(
    "global_recovery_disable",
    metadata,
    Column("disable_recovery", _TINYINT_U, primary_key=True, autoincrement=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

audit = Table(
    "audit",
    metadata,
    Column("audit_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("audit_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("audit_type", _varchar(128), nullable=False),
    Column("hostname", _varchar(128), nullable=False, server_default=""),
    Column("port", _SMALLINT_U, nullable=False),
    Column("cluster_name", _varchar(128), nullable=False, server_default=""),
    Column("message", _text(utf8=True), nullable=False),
    Index("audit_timestamp_idx_audit", "audit_timestamp"),
    Index("host_port_idx_audit", "hostname", "port", "audit_timestamp"),
    mysql_charset="latin1",
    mysql_engine="InnoDB",
)

node_health = Table(
    "node_health",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("token", _varchar(128), primary_key=True),
    Column("last_seen_active", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("extra_info", _varchar(128, utf8=True), nullable=False),
    Column("command", _varchar(128, utf8=True), nullable=False),
    Column("app_version", _varchar(64), nullable=False, server_default=""),
    Column("first_seen_active", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Column("db_backend", _varchar(255), nullable=False, server_default=""),
    Column("incrementing_indicator", _BIGINT, nullable=False, server_default=text("0")),
    Index("last_seen_active_idx", "last_seen_active", info={"sqlite_name": "last_seen_active_idx_node_health"}),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

active_node = Table(
    "active_node",
    metadata,
    Column("anchor", _TINYINT_U, primary_key=True, autoincrement=False),
    Column("hostname", _varchar(128), nullable=False),
    Column("token", _varchar(128), nullable=False),
    Column("last_seen_active", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("first_seen_active", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

kv_store = Table(
    "kv_store",
    metadata,
    Column("store_key", _varchar(255), primary_key=True, autoincrement=False),
    Column("store_value", _text(utf8=True), nullable=False),
    Column("last_updated", _TIMESTAMP, nullable=False, server_default=_NOW),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_pool = Table(
    "database_instance_pool",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("pool", _varchar(128), primary_key=True),
    Column("registered_at", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Index("pool_idx_database_instance_pool", "pool"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

master_position_equivalence = Table(
    "master_position_equivalence",
    metadata,
    Column("equivalence_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("master1_hostname", _varchar(128), nullable=False),
    Column("master1_port", _SMALLINT_U, nullable=False),
    Column("master1_binary_log_file", _varchar(128), nullable=False),
    Column("master1_binary_log_pos", _BIGINT_U, nullable=False),
    Column("master2_hostname", _varchar(128), nullable=False),
    Column("master2_port", _SMALLINT_U, nullable=False),
    Column("master2_binary_log_file", _varchar(128), nullable=False),
    Column("master2_binary_log_pos", _BIGINT_U, nullable=False),
    Column("last_suggested", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index(
        "equivalence_uidx_master_position_equivalence",
        "master1_hostname",
        "master1_port",
        "master1_binary_log_file",
        "master1_binary_log_pos",
        "master2_hostname",
        "master2_port",
        unique=True,
    ),
    Index("last_suggested_idx_master_position_equivalence", "last_suggested"),
    Index(
        "master2_idx_master_position_equivalence",
        "master2_hostname",
        "master2_port",
        "master2_binary_log_file",
        "master2_binary_log_pos",
    ),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_binlog_files_history = Table(
    "database_instance_binlog_files_history",
    metadata,
    Column("history_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("binary_log_file", _varchar(128), nullable=False),
    Column("binary_log_pos", _BIGINT_U, nullable=False),
    Column("first_seen", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("last_seen", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Index(
        "hostname_port_file_idx_database_instance_binlog_files_history",
        "hostname",
        "port",
        "binary_log_file",
        unique=True,
    ),
    Index("last_seen_idx_database_instance_binlog_files_history", "last_seen"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_stale_binlog_coordinates = Table(
    "database_instance_stale_binlog_coordinates",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("binary_log_file", _varchar(128), nullable=False),
    Column("binary_log_pos", _BIGINT_U, nullable=False),
    Column("first_seen", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("first_seen_idx_database_instance_stale_binlog_coordinates", "first_seen"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_recent_relaylog_history = Table(
    "database_instance_recent_relaylog_history",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("current_relay_log_file", _varchar(128), nullable=False),
    Column("current_relay_log_pos", _BIGINT_U, nullable=False),
    Column("current_seen", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Column("prev_relay_log_file", _varchar(128), nullable=False),
    Column("prev_relay_log_pos", _BIGINT_U, nullable=False),
    Column("prev_seen", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Index("current_seen_idx_database_instance_recent_relaylog_history", "current_seen"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

access_token = Table(
    "access_token",
    metadata,
    Column("access_token_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("public_token", _varchar(128), nullable=False),
    Column("secret_token", _varchar(128), nullable=False),
    Column("generated_at", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("generated_by", _varchar(128, utf8=True), nullable=False),
    Column("is_acquired", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("is_reentrant", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("acquired_at", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Index("generated_at_idx_access_token", "generated_at"),
    Index("public_token_uidx_access_token", "public_token", unique=True),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

agent_seed = Table(
    "agent_seed",
    metadata,
    Column("agent_seed_id", _AUTO_INT, primary_key=True, autoincrement=True),
    Column("target_hostname", _varchar(128), nullable=False),
    Column("source_hostname", _varchar(128), nullable=False),
    Column("start_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("end_timestamp", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Column("is_complete", _TINYINT_U, nullable=False, server_default=text("0")),
    Column("is_successful", _TINYINT_U, nullable=False, server_default=text("0")),
    Index("is_complete_idx_agent_seed", "is_complete", "start_timestamp"),
    Index("is_successful_idx_agent_seed", "is_successful", "start_timestamp"),
    Index("source_hostname_idx_agent_seed", "source_hostname", "is_complete"),
    Index("start_timestamp_idx_agent_seed", "start_timestamp"),
    Index("target_hostname_idx_agent_seed", "target_hostname", "is_complete"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

agent_seed_state = Table(
    "agent_seed_state",
    metadata,
    Column("agent_seed_state_id", _AUTO_INT, primary_key=True, autoincrement=True),
    Column("agent_seed_id", _INT_U, nullable=False),
    Column("state_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("state_action", _varchar(127), nullable=False),
    Column("error_message", _varchar(255), nullable=False),
    Index("agent_seed_idx_agent_seed_state", "agent_seed_id", "state_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

async_request = Table(
    "async_request",
    metadata,
    Column("request_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("command", _varchar(128), nullable=False),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("destination_hostname", _varchar(128), nullable=False),
    Column("destination_port", _SMALLINT_U, nullable=False),
    Column("pattern", _text(utf8=True), nullable=False),
    Column("gtid_hint", _varchar(32), nullable=False),
    Column("begin_timestamp", _TIMESTAMP),
    Column("end_timestamp", _TIMESTAMP),
    Column("story", _text(utf8=True), nullable=False),
    Index("begin_timestamp_idx_async_request", "begin_timestamp"),
    Index("end_timestamp_idx_async_request", "end_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

cluster_injected_pseudo_gtid = Table(
    "cluster_injected_pseudo_gtid",
    metadata,
    Column("cluster_name", _varchar(128), primary_key=True, autoincrement=False),
    Column("time_injected", _TIMESTAMP, nullable=False, server_default=_NOW),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_analysis_changelog = Table(
    "database_instance_analysis_changelog",
    metadata,
    Column("changelog_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("analysis_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("analysis", _varchar(128), nullable=False),
    Index("analysis_timestamp_idx_database_instance_analysis_changelog", "analysis_timestamp"),
    Index(
        "instance_timestamp_idx",
        "hostname",
        "port",
        "analysis_timestamp",
        info={"sqlite_name": "instance_timestamp_idx_database_instance_analysis_changelog"},
    ),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_coordinates_history = Table(
    "database_instance_coordinates_history",
    metadata,
    Column("history_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("recorded_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("last_seen", _TIMESTAMP, nullable=False, server_default="1971-01-01 00:00:00"),
    Column("binary_log_file", _varchar(128), nullable=False),
    Column("binary_log_pos", _BIGINT_U, nullable=False),
    Column("relay_log_file", _varchar(128), nullable=False),
    Column("relay_log_pos", _BIGINT_U, nullable=False),
    Index("hostname_port_recorded_idx_database_instance_coordinates_history", "hostname", "port", "recorded_timestamp"),
    Index("recorded_timestmp_idx_database_instance_coordinates_history", "recorded_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_last_analysis = Table(
    "database_instance_last_analysis",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("analysis_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("analysis", _varchar(128), nullable=False),
    Index("analysis_timestamp_idx_database_instance_last_analysis", "analysis_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_long_running_queries = Table(
    "database_instance_long_running_queries",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("process_id", _BIGINT, primary_key=True),
    Column("process_started_at", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("process_user", _varchar(16, utf8=True), nullable=False),
    Column("process_host", _varchar(128, utf8=True), nullable=False),
    Column("process_db", _varchar(128, utf8=True), nullable=False),
    Column("process_command", _varchar(16, utf8=True), nullable=False),
    Column("process_time_seconds", _INT, nullable=False),
    Column("process_state", _varchar(128, utf8=True), nullable=False),
    Column("process_info", _varchar(1024, utf8=True), nullable=False),
    Index("process_started_at_idx_database_instance_long_running_queries", "process_started_at"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_peer_analysis = Table(
    "database_instance_peer_analysis",
    metadata,
    Column("peer", _varchar(128), primary_key=True),
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("analysis_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("analysis", _varchar(128), nullable=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_tls = Table(
    "database_instance_tls",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("required", _TINYINT_U, nullable=False, server_default=text("0")),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

database_instance_topology_history = Table(
    "database_instance_topology_history",
    metadata,
    Column("snapshot_unix_timestamp", _INT_U, primary_key=True),
    Column("hostname", _varchar(128), primary_key=True),
    Column("port", _SMALLINT_U, primary_key=True),
    Column("master_host", _varchar(128), nullable=False),
    Column("master_port", _SMALLINT_U, nullable=False),
    Column("cluster_name", _TINYTEXT, nullable=False),
    Column("version", _varchar(128), nullable=False),
    Index(
        "cluster_name_idx_database_instance_topology_history",
        "snapshot_unix_timestamp",
        "cluster_name",
        mysql_length={"cluster_name": 128},
    ),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

host_agent = Table(
    "host_agent",
    metadata,
    Column("hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("port", _SMALLINT_U, nullable=False),
    Column("token", _varchar(128), nullable=False),
    Column("last_submitted", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("last_checked", _TIMESTAMP),
    Column("last_seen", _TIMESTAMP),
    Column("mysql_port", _SMALLINT_U),
    Column("count_mysql_snapshots", _SMALLINT_U, nullable=False),
    Index("last_checked_idx_host_agent", "last_checked"),
    Index("last_seen_idx_host_agent", "last_seen"),
    Index("last_submitted_idx_host_agent", "last_submitted"),
    Index("token_idx_host_agent", "token"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

host_attributes = Table(
    "host_attributes",
    metadata,
    Column("hostname", _varchar(128), primary_key=True),
    Column("attribute_name", _varchar(128), primary_key=True),
    Column("attribute_value", _varchar(128), nullable=False),
    Column("submit_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Column("expire_timestamp", _TIMESTAMP),
    Index("attribute_name_idx_host_attributes", "attribute_name"),
    Index("attribute_value_idx_host_attributes", "attribute_value"),
    Index("expire_timestamp_idx_host_attributes", "expire_timestamp"),
    Index("submit_timestamp_idx_host_attributes", "submit_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

hostname_ips = Table(
    "hostname_ips",
    metadata,
    Column("hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("ipv4", _varchar(128), nullable=False),
    Column("ipv6", _varchar(128), nullable=False),
    Column("last_updated", _TIMESTAMP, nullable=False, server_default=_NOW),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

hostname_resolve_history = Table(
    "hostname_resolve_history",
    metadata,
    Column("resolved_hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("hostname", _varchar(128), nullable=False),
    Column("resolved_timestamp", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("hostname_idx_hostname_resolve_history", "hostname"),
    Index("resolved_timestamp_idx_hostname_resolve_history", "resolved_timestamp"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

hostname_unresolve_history = Table(
    "hostname_unresolve_history",
    metadata,
    Column("unresolved_hostname", _varchar(128), primary_key=True, autoincrement=False),
    Column("hostname", _varchar(128), nullable=False),
    Column("last_registered", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("hostname_idx_hostname_unresolve_history", "hostname"),
    Index("last_registered_idx_hostname_unresolve_history", "last_registered"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

node_health_history = Table(
    "node_health_history",
    metadata,
    Column("history_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("hostname", _varchar(128), nullable=False),
    Column("token", _varchar(128), nullable=False),
    Column("first_seen_active", _TIMESTAMP, nullable=False),
    Column("extra_info", _varchar(128, utf8=True), nullable=False),
    Column("command", _varchar(128, utf8=True), nullable=False),
    Column("app_version", _varchar(64), nullable=False, server_default=""),
    Index("first_seen_active_idx_node_health_history", "first_seen_active"),
    Index("hostname_token_idx_node_health_history", "hostname", "token", unique=True),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

orchestrator_db_deployments = Table(
    "orchestrator_db_deployments",
    metadata,
    Column("deployed_version", _varchar(128), primary_key=True, autoincrement=False),
    Column("deployed_timestamp", _TIMESTAMP, nullable=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

orchestrator_metadata = Table(
    "orchestrator_metadata",
    metadata,
    Column("anchor", _TINYINT_U, primary_key=True, autoincrement=False),
    Column("last_deployed_version", _varchar(128), nullable=False),
    Column("last_deployed_timestamp", _TIMESTAMP, nullable=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

raft_log = Table(
    "raft_log",
    metadata,
    Column("log_index", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("term", _BIGINT, nullable=False),
    Column("log_type", _INT, nullable=False),
    Column("data", _BLOB, nullable=False),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

raft_snapshot = Table(
    "raft_snapshot",
    metadata,
    Column("snapshot_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("snapshot_name", _varchar(128, utf8=True), nullable=False),
    Column("snapshot_meta", _varchar(4096, utf8=True), nullable=False),
    Column("created_at", _TIMESTAMP, nullable=False, server_default=_NOW),
    Index("snapshot_name_uidx_raft_snapshot", "snapshot_name", unique=True),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)

raft_store = Table(
    "raft_store",
    metadata,
    Column("store_id", _AUTO_BIGINT, primary_key=True, autoincrement=True),
    Column("store_key", _varbinary(512), nullable=False),
    Column("store_value", _BLOB, nullable=False),
    Index("store_key_idx_raft_store", "store_key"),
    mysql_charset="ascii",
    mysql_engine="InnoDB",
)


def sqlite_index_names() -> None:
    """SQLite index names are global, so the original suffixes some with their table; do the same."""
    for table in metadata.tables.values():
        for index in table.indexes:
            name = index.info.get("sqlite_name")
            if name:
                index.name = name
