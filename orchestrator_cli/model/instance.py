"""One instance as the backend last saw it: an immutable, typed snapshot plus the original's derived flags.

`Instance` is built in one place from a `database_instance` row (`backend/instance_rows.py` maps the
columns); decisions and views read its fields, never the row.

>>> i = Instance(key=InstanceKey("db2", 3306), master_host="db1", master_port=3306,
...              read_coordinates=BinlogCoordinates("mysql-bin.000003", 120),
...              io_state=ThreadState.RUNNING, sql_state=ThreadState.RUNNING,
...              last_check_valid=True, recently_checked=True, seconds_behind_master=0, lag=0,
...              version="10.11.6-MariaDB-log", read_only=True, log_bin=True, binlog_format="ROW")
>>> i.master_key, i.is_replica, i.replication_running
(InstanceKey(hostname='db1', port=3306), True, True)
>>> i.description_tokens(reasonable_lag=10)
['0s', 'ok', '10.11.6-MariaDB-log', 'ro', 'ROW']
>>> i.problems(reasonable_lag=10)
()
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from orchestrator_cli.model import description
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.frozen import Frozen
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState

if TYPE_CHECKING:  # parsed on demand: the GTID module stays off the CLI's start-up path
    from orchestrator_cli.model.gtid import MariadbGtidPosition, OracleGtidSet

__all__ = ["Instance", "is_failing_to_connect_error", "major_version_of"]

_setattr = object.__setattr__
_NO_COORDINATES = BinlogCoordinates("", 0)
_NO_RELAY_COORDINATES = BinlogCoordinates("", 0, LogType.RELAY)

# `last_io_error LIKE '%error %connecting to master%'` (matches both "connecting" and "reconnecting").
# MySQL >= 8.0.23 says "source" instead of "master"; accepting both keeps detection working on new
# servers (the original only knew "master").
_FAILING_TO_CONNECT_RE = re.compile(r"error .*connecting to (?:master|source)", re.IGNORECASE | re.DOTALL)


def is_failing_to_connect_error(last_io_error: str) -> bool:
    """Whether an IO-thread error text says the replica cannot (re)connect to its source.

    >>> is_failing_to_connect_error("error reconnecting to master 'db1:3306' - retry-time: 60")
    True
    """
    return bool(_FAILING_TO_CONNECT_RE.search(last_io_error))


def major_version_of(version: str) -> str:
    """First two dot-separated tokens of a version string.

    >>> major_version_of("10.4.12-MariaDB")
    '10.4'
    """
    return ".".join(version.strip().split(".")[:2])


class Instance(Frozen):
    """A `database_instance` row, typed: what the original's `Instance` struct holds (spec §1.12).

    Defaults describe an unknown, never-checked standalone server, so tests can build what they need.
    A written-out immutable class (model/frozen.py; `replace` for a changed copy): generating a
    ~70-field frozen dataclass cost every process that reads instances (`discover` among them) about
    5 % of its instructions at import, `dataclasses` included.
    """

    __slots__ = (
        "key",
        "server_id",
        "server_uuid",
        "version",
        "major_version",
        "version_comment",
        "instance_alias",
        "cluster_name",
        "cluster_alias",
        "cluster_domain",
        "suggested_cluster_alias",
        "data_center",
        "region",
        "physical_environment",
        "resolved_hostname",
        "promotion_rule",
        "read_only",
        "log_bin",
        "log_slave_updates",
        "binlog_format",
        "binlog_server",
        "self_coordinates",
        "master_host",
        "master_port",
        "read_coordinates",
        "exec_coordinates",
        "relay_log_coordinates",
        "io_running",
        "sql_running",
        "io_state",
        "sql_state",
        "last_io_error",
        "last_sql_error",
        "seconds_behind_master",
        "lag",
        "sql_delay",
        "replication_depth",
        "is_co_master",
        "has_replication_filters",
        "num_replica_hosts",
        "oracle_gtid",
        "mariadb_gtid",
        "supports_oracle_gtid",
        "pseudo_gtid",
        "gtid_mode",
        "executed_gtid_set",
        "gtid_purged",
        "gtid_errant",
        "ancestry_uuid",
        "semi_sync_priority",
        "semi_sync_master_enabled",
        "semi_sync_master_status",
        "semi_sync_master_wait_for_replica_count",
        "semi_sync_master_clients",
        "semi_sync_replica_enabled",
        "semi_sync_replica_status",
        "replication_group_name",
        "replication_group_member_state",
        "replication_group_member_role",
        "last_check_valid",
        "analysis_valid",
        "last_check_partial_success",
        "recently_checked",
        "is_downtimed",
        "downtime_reason",
        "downtime_owner",
        "downtime_end_timestamp",
        "downtime_remaining_seconds",
        "in_maintenance",
        "is_stale_binlog_coordinates",
    )
    key: InstanceKey
    # -- identity and placement
    server_id: int
    server_uuid: str
    version: str
    major_version: str
    version_comment: str
    instance_alias: str
    cluster_name: str
    cluster_alias: str  # from `cluster_alias` when the read joined it, else ""
    cluster_domain: str
    suggested_cluster_alias: str
    data_center: str
    region: str
    physical_environment: str
    resolved_hostname: str  # the analysis read's `hostname_resolve` name, "" when not read
    promotion_rule: str
    # -- own binary log
    read_only: bool
    log_bin: bool
    log_slave_updates: bool
    binlog_format: str
    binlog_server: bool
    self_coordinates: BinlogCoordinates
    # -- replication: the configured master and the thread states
    master_host: str  # as stored: "" or "_" for none, "//host" when detached
    master_port: int
    read_coordinates: BinlogCoordinates
    exec_coordinates: BinlogCoordinates
    relay_log_coordinates: BinlogCoordinates
    io_running: bool  # `slave_io_running`
    sql_running: bool  # `slave_sql_running`
    io_state: ThreadState
    sql_state: ThreadState
    last_io_error: str
    last_sql_error: str
    seconds_behind_master: int | None
    lag: int | None  # `slave_lag_seconds`
    sql_delay: int
    replication_depth: int
    is_co_master: bool
    has_replication_filters: bool
    num_replica_hosts: int  # `num_slave_hosts`: replicas seen at the last check
    # -- GTID (text as stored; parsed on demand by `executed_gtid_set` and friends)
    oracle_gtid: bool
    mariadb_gtid: bool
    supports_oracle_gtid: bool
    pseudo_gtid: bool
    gtid_mode: str | None
    executed_gtid_set: str
    gtid_purged: str
    gtid_errant: str
    ancestry_uuid: str  # comma-separated server UUIDs of the ancestors, top first
    # -- semi-sync
    semi_sync_priority: int  # the `semi_sync_enforced` column: the priority DetectSemiSyncEnforcedQuery returned
    semi_sync_master_enabled: bool
    semi_sync_master_status: bool
    semi_sync_master_wait_for_replica_count: int
    semi_sync_master_clients: int
    semi_sync_replica_enabled: bool
    semi_sync_replica_status: bool
    # -- group replication
    replication_group_name: str
    replication_group_member_state: str
    replication_group_member_role: str
    # -- health of the last check (computed by the backend read on its own clock)
    last_check_valid: bool
    analysis_valid: bool
    last_check_partial_success: bool
    recently_checked: bool
    # -- downtime and maintenance
    is_downtimed: bool
    downtime_reason: str
    downtime_owner: str
    downtime_end_timestamp: str
    downtime_remaining_seconds: int
    in_maintenance: bool
    is_stale_binlog_coordinates: bool

    def __init__(
        self,
        key: InstanceKey,
        server_id: int = 0,
        server_uuid: str = "",
        version: str = "",
        major_version: str = "",
        version_comment: str = "",
        instance_alias: str = "",
        cluster_name: str = "",
        cluster_alias: str = "",
        cluster_domain: str = "",
        suggested_cluster_alias: str = "",
        data_center: str = "",
        region: str = "",
        physical_environment: str = "",
        resolved_hostname: str = "",
        promotion_rule: str = "neutral",
        read_only: bool = False,
        log_bin: bool = False,
        log_slave_updates: bool = False,
        binlog_format: str = "",
        binlog_server: bool = False,
        self_coordinates: BinlogCoordinates = _NO_COORDINATES,
        master_host: str = "",
        master_port: int = 0,
        read_coordinates: BinlogCoordinates = _NO_COORDINATES,
        exec_coordinates: BinlogCoordinates = _NO_COORDINATES,
        relay_log_coordinates: BinlogCoordinates = _NO_RELAY_COORDINATES,
        io_running: bool = False,
        sql_running: bool = False,
        io_state: ThreadState = ThreadState.NONE,
        sql_state: ThreadState = ThreadState.NONE,
        last_io_error: str = "",
        last_sql_error: str = "",
        seconds_behind_master: int | None = None,
        lag: int | None = None,
        sql_delay: int = 0,
        replication_depth: int = 0,
        is_co_master: bool = False,
        has_replication_filters: bool = False,
        num_replica_hosts: int = 0,
        oracle_gtid: bool = False,
        mariadb_gtid: bool = False,
        supports_oracle_gtid: bool = False,
        pseudo_gtid: bool = False,
        gtid_mode: str | None = None,
        executed_gtid_set: str = "",
        gtid_purged: str = "",
        gtid_errant: str = "",
        ancestry_uuid: str = "",
        semi_sync_priority: int = 0,
        semi_sync_master_enabled: bool = False,
        semi_sync_master_status: bool = False,
        semi_sync_master_wait_for_replica_count: int = 0,
        semi_sync_master_clients: int = 0,
        semi_sync_replica_enabled: bool = False,
        semi_sync_replica_status: bool = False,
        replication_group_name: str = "",
        replication_group_member_state: str = "",
        replication_group_member_role: str = "",
        last_check_valid: bool = False,
        analysis_valid: bool = False,
        last_check_partial_success: bool = False,
        recently_checked: bool = False,
        is_downtimed: bool = False,
        downtime_reason: str = "",
        downtime_owner: str = "",
        downtime_end_timestamp: str = "",
        downtime_remaining_seconds: int = 0,
        in_maintenance: bool = False,
        is_stale_binlog_coordinates: bool = False,
    ) -> None:
        # written out rather than a loop over the fields: `instance_from_row` builds one per row, and
        # at 10,000 rows the loop (`set_fields`) costs a read ~60 % more than this
        set_ = _setattr
        set_(self, "key", key)
        set_(self, "server_id", server_id)
        set_(self, "server_uuid", server_uuid)
        set_(self, "version", version)
        set_(self, "major_version", major_version)
        set_(self, "version_comment", version_comment)
        set_(self, "instance_alias", instance_alias)
        set_(self, "cluster_name", cluster_name)
        set_(self, "cluster_alias", cluster_alias)
        set_(self, "cluster_domain", cluster_domain)
        set_(self, "suggested_cluster_alias", suggested_cluster_alias)
        set_(self, "data_center", data_center)
        set_(self, "region", region)
        set_(self, "physical_environment", physical_environment)
        set_(self, "resolved_hostname", resolved_hostname)
        set_(self, "promotion_rule", promotion_rule)
        set_(self, "read_only", read_only)
        set_(self, "log_bin", log_bin)
        set_(self, "log_slave_updates", log_slave_updates)
        set_(self, "binlog_format", binlog_format)
        set_(self, "binlog_server", binlog_server)
        set_(self, "self_coordinates", self_coordinates)
        set_(self, "master_host", master_host)
        set_(self, "master_port", master_port)
        set_(self, "read_coordinates", read_coordinates)
        set_(self, "exec_coordinates", exec_coordinates)
        set_(self, "relay_log_coordinates", relay_log_coordinates)
        set_(self, "io_running", io_running)
        set_(self, "sql_running", sql_running)
        set_(self, "io_state", io_state)
        set_(self, "sql_state", sql_state)
        set_(self, "last_io_error", last_io_error)
        set_(self, "last_sql_error", last_sql_error)
        set_(self, "seconds_behind_master", seconds_behind_master)
        set_(self, "lag", lag)
        set_(self, "sql_delay", sql_delay)
        set_(self, "replication_depth", replication_depth)
        set_(self, "is_co_master", is_co_master)
        set_(self, "has_replication_filters", has_replication_filters)
        set_(self, "num_replica_hosts", num_replica_hosts)
        set_(self, "oracle_gtid", oracle_gtid)
        set_(self, "mariadb_gtid", mariadb_gtid)
        set_(self, "supports_oracle_gtid", supports_oracle_gtid)
        set_(self, "pseudo_gtid", pseudo_gtid)
        set_(self, "gtid_mode", gtid_mode)
        set_(self, "executed_gtid_set", executed_gtid_set)
        set_(self, "gtid_purged", gtid_purged)
        set_(self, "gtid_errant", gtid_errant)
        set_(self, "ancestry_uuid", ancestry_uuid)
        set_(self, "semi_sync_priority", semi_sync_priority)
        set_(self, "semi_sync_master_enabled", semi_sync_master_enabled)
        set_(self, "semi_sync_master_status", semi_sync_master_status)
        set_(self, "semi_sync_master_wait_for_replica_count", semi_sync_master_wait_for_replica_count)
        set_(self, "semi_sync_master_clients", semi_sync_master_clients)
        set_(self, "semi_sync_replica_enabled", semi_sync_replica_enabled)
        set_(self, "semi_sync_replica_status", semi_sync_replica_status)
        set_(self, "replication_group_name", replication_group_name)
        set_(self, "replication_group_member_state", replication_group_member_state)
        set_(self, "replication_group_member_role", replication_group_member_role)
        set_(self, "last_check_valid", last_check_valid)
        set_(self, "analysis_valid", analysis_valid)
        set_(self, "last_check_partial_success", last_check_partial_success)
        set_(self, "recently_checked", recently_checked)
        set_(self, "is_downtimed", is_downtimed)
        set_(self, "downtime_reason", downtime_reason)
        set_(self, "downtime_owner", downtime_owner)
        set_(self, "downtime_end_timestamp", downtime_end_timestamp)
        set_(self, "downtime_remaining_seconds", downtime_remaining_seconds)
        set_(self, "in_maintenance", in_maintenance)
        set_(self, "is_stale_binlog_coordinates", is_stale_binlog_coordinates)

    def __repr__(self) -> str:
        return f"Instance({self.key}, master={self.master_host}:{self.master_port}, cluster={self.cluster_name!r})"

    # -- replication topology ---------------------------------------------------------------------

    @property
    def semi_sync_enforced(self) -> bool:
        """A positive semi-sync priority: the replica must be a semi-sync replica when it replicates."""
        return self.semi_sync_priority > 0

    @property
    def master_key(self) -> InstanceKey | None:
        """The configured master; None when there is none (empty or `_` host, port 0)."""
        host = self.master_host
        if not host or host == "_" or self.master_port == 0:
            return None
        return InstanceKey(host, self.master_port)

    @property
    def has_async_master(self) -> bool:
        """An async master is configured: not ''/'_'/detached ('//…') and a non-zero port."""
        host = self.master_host
        return not (host in ("", "_") or self.master_port == 0 or host.startswith("//"))

    @property
    def join_hostname(self) -> str:
        """The name replicas use for this instance as their master (the resolved name when known)."""
        return self.resolved_hostname or self.key.hostname

    @property
    def uses_gtid(self) -> bool:
        return self.oracle_gtid or self.mariadb_gtid

    @property
    def is_replica(self) -> bool:
        host = self.master_host  # as `master_key is not None`, without building the key
        has_master = bool(host) and host != "_" and self.master_port != 0
        return has_master and bool(self.read_coordinates.file or self.oracle_gtid or self.mariadb_gtid)

    @property
    def replication_running(self) -> bool:
        """Both threads running, from the tri-state columns as the original's instance reads use them
        (its fixtures change only those, e.g. `replication_sql_thread_state=0` for a stopped replica)."""
        return self.is_replica and self.sql_state == ThreadState.RUNNING and self.io_state == ThreadState.RUNNING

    @property
    def replication_stopped(self) -> bool:
        return self.sql_state == ThreadState.STOPPED and self.io_state == ThreadState.STOPPED

    @property
    def is_detached(self) -> bool:
        return self.exec_coordinates.file.startswith("//") or self.master_host.startswith("//")

    @property
    def io_error_connecting(self) -> bool:
        return is_failing_to_connect_error(self.last_io_error)

    # -- GTID sets, parsed on demand ----------------------------------------------------------------

    def executed_gtids(self) -> OracleGtidSet:
        """`executed_gtid_set` of an Oracle-GTID server (raises ValueError on text that does not parse)."""
        from orchestrator_cli.model.gtid import OracleGtidSet

        return OracleGtidSet.parse(self.executed_gtid_set)

    def mariadb_gtid_position(self) -> MariadbGtidPosition:
        """The executed position of a MariaDB server, as stored in `executed_gtid_set`."""
        from orchestrator_cli.model.gtid import MariadbGtidPosition

        return MariadbGtidPosition.parse(self.executed_gtid_set)

    def errant_gtids(self) -> OracleGtidSet:
        """`gtid_errant` as a set (empty when there is none)."""
        from orchestrator_cli.model.gtid import OracleGtidSet

        return OracleGtidSet.parse(self.gtid_errant)

    # -- the original's derived status ----------------------------------------------------------------

    def problems(self, reasonable_lag: int) -> tuple[str, ...]:
        """The instance problem tokens of spec §1.10, in the original's order (one of the first four)."""
        found = []
        if not self.last_check_valid:
            found.append("last_check_invalid")
        elif not self.recently_checked:
            found.append("not_recently_checked")
        elif self.io_state != ThreadState.NONE and not self.replication_running:
            found.append("not_replicating")
        elif self.lag is not None and abs(self.lag - self.sql_delay) > reasonable_lag:
            found.append("replication_lag")
        if self.gtid_errant:
            found.append("errant_gtid")
        if self.replication_group_name and self.replication_group_member_state not in ("", "ONLINE"):
            found.append("group_replication_member_not_online")
        return tuple(found)

    def lag_token(self) -> str:
        """`null` when Seconds_Behind_Master is unknown; otherwise the measured lag (as the original does)."""
        return description.lag_token(self)

    def status_token(self, reasonable_lag: int) -> str:
        return description.status_token(self, reasonable_lag)

    def description_tokens(self, reasonable_lag: int) -> list[str]:
        """`[lag,status,version,ro|rw,binlog,extras…]` as `instance-status` and `topology` print it."""
        return description.description_tokens(self, reasonable_lag)
