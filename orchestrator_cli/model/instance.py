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
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, dataclass_transform

from orchestrator_cli.model import description
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.records import fast_frozen_init
from orchestrator_cli.model.threads import ThreadState

if TYPE_CHECKING:  # parsed on demand: the GTID module stays off the CLI's start-up path
    from orchestrator_cli.model.gtid import MariadbGtidPosition, OracleGtidSet

_T = TypeVar("_T")

__all__ = ["Instance", "is_failing_to_connect_error", "major_version_of"]

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


@dataclass_transform(frozen_default=True)
def _snapshot_type(cls: type[_T]) -> type[_T]:
    """``dataclass(frozen=True, slots=True)`` with a faster ``__init__`` and a short ``__repr__``.

    The generated ``__init__`` looks ``object.__setattr__`` up for every field; with ~75 fields that
    doubled the cost of building a snapshot (`topology`/`replication-analysis` build one per instance),
    and generating it plus a 75-field repr cost milliseconds at import.
    """
    made = dataclass(frozen=True, slots=True, init=False, repr=False)(cls)
    made.__init__ = fast_frozen_init(made)  # type: ignore[method-assign]
    return made


@_snapshot_type
class Instance:
    """A `database_instance` row, typed: what the original's `Instance` struct holds (spec §1.12).

    Defaults describe an unknown, never-checked standalone server, so tests can build what they need.
    """

    key: InstanceKey
    # -- identity and placement
    server_id: int = 0
    server_uuid: str = ""
    version: str = ""
    major_version: str = ""
    version_comment: str = ""
    instance_alias: str = ""
    cluster_name: str = ""
    cluster_alias: str = ""  # from `cluster_alias` when the read joined it, else ""
    cluster_domain: str = ""
    suggested_cluster_alias: str = ""
    data_center: str = ""
    region: str = ""
    physical_environment: str = ""
    resolved_hostname: str = ""  # the analysis read's `hostname_resolve` name, "" when not read
    promotion_rule: str = "neutral"
    # -- own binary log
    read_only: bool = False
    log_bin: bool = False
    log_slave_updates: bool = False
    binlog_format: str = ""
    binlog_server: bool = False
    self_coordinates: BinlogCoordinates = _NO_COORDINATES
    # -- replication: the configured master and the thread states
    master_host: str = ""  # as stored: "" or "_" for none, "//host" when detached
    master_port: int = 0
    read_coordinates: BinlogCoordinates = _NO_COORDINATES
    exec_coordinates: BinlogCoordinates = _NO_COORDINATES
    relay_log_coordinates: BinlogCoordinates = _NO_RELAY_COORDINATES
    io_running: bool = False  # `slave_io_running`
    sql_running: bool = False  # `slave_sql_running`
    io_state: ThreadState = ThreadState.NONE
    sql_state: ThreadState = ThreadState.NONE
    last_io_error: str = ""
    last_sql_error: str = ""
    seconds_behind_master: int | None = None
    lag: int | None = None  # `slave_lag_seconds`
    sql_delay: int = 0
    replication_depth: int = 0
    is_co_master: bool = False
    has_replication_filters: bool = False
    num_replica_hosts: int = 0  # `num_slave_hosts`: replicas seen at the last check
    # -- GTID (text as stored; parsed on demand by `executed_gtid_set` and friends)
    oracle_gtid: bool = False
    mariadb_gtid: bool = False
    supports_oracle_gtid: bool = False
    pseudo_gtid: bool = False
    gtid_mode: str | None = None
    executed_gtid_set: str = ""
    gtid_purged: str = ""
    gtid_errant: str = ""
    ancestry_uuid: str = ""  # comma-separated server UUIDs of the ancestors, top first
    # -- semi-sync
    semi_sync_priority: int = 0  # the `semi_sync_enforced` column: the priority DetectSemiSyncEnforcedQuery returned
    semi_sync_master_enabled: bool = False
    semi_sync_master_status: bool = False
    semi_sync_master_wait_for_replica_count: int = 0
    semi_sync_master_clients: int = 0
    semi_sync_replica_enabled: bool = False
    semi_sync_replica_status: bool = False
    # -- group replication
    replication_group_name: str = ""
    replication_group_member_state: str = ""
    replication_group_member_role: str = ""
    # -- health of the last check (computed by the backend read on its own clock)
    last_check_valid: bool = False
    analysis_valid: bool = False
    last_check_partial_success: bool = False
    recently_checked: bool = False
    # -- downtime and maintenance
    is_downtimed: bool = False
    downtime_reason: str = ""
    downtime_owner: str = ""
    downtime_end_timestamp: str = ""
    downtime_remaining_seconds: int = 0
    in_maintenance: bool = False
    is_stale_binlog_coordinates: bool = False

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
