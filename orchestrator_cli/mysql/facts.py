"""Facts: the typed, flavor-neutral values that reading a topology server produces.

A flavor turns the rows a server returns into these (:class:`ReplicaStatus` from ``SHOW SLAVE
STATUS`` / ``SHOW REPLICA STATUS``, :class:`CoreVariables`, :class:`GtidFacts`, :class:`SemiSyncFacts`,
:class:`BinlogEvent`); discovery, topology and recovery decide over them and never read a server row.
"""

from __future__ import annotations

from orchestrator_cli.model.coerce import to_int, to_opt_int, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.frozen import Frozen, set_fields
from orchestrator_cli.model.threads import ThreadState
from orchestrator_cli.mysql.rows import Columns, Row, gtid_text

_FILTER_COLUMNS = (
    "Replicate_Do_DB",
    "Replicate_Ignore_DB",
    "Replicate_Do_Table",
    "Replicate_Ignore_Table",
    "Replicate_Wild_Do_Table",
    "Replicate_Wild_Ignore_Table",
)


class ReplicaStatus(Frozen):
    """Canonical, flavor-neutral view of one ``SHOW SLAVE STATUS`` / ``SHOW REPLICA STATUS`` row."""

    __slots__ = (
        "master_host",
        "master_port",
        "master_user",
        "io_state",
        "sql_state",
        "master_log_file",
        "read_master_log_pos",
        "relay_master_log_file",
        "exec_master_log_pos",
        "relay_log_file",
        "relay_log_pos",
        "last_sql_error",
        "last_io_error",
        "last_sql_errno",
        "last_io_errno",
        "seconds_behind_master",
        "sql_delay",
        "auto_position",
        "using_mariadb_gtid",
        "master_uuid",
        "executed_gtid_set",
        "retrieved_gtid_set",
        "gtid_io_pos",
        "has_replication_filters",
        "master_ssl_allowed",
        "master_server_id",
    )
    master_host: str
    master_port: int
    master_user: str
    io_state: ThreadState
    sql_state: ThreadState
    master_log_file: str
    read_master_log_pos: int
    relay_master_log_file: str
    exec_master_log_pos: int
    relay_log_file: str
    relay_log_pos: int
    last_sql_error: str
    last_io_error: str
    last_sql_errno: int
    last_io_errno: int
    seconds_behind_master: int | None
    sql_delay: int
    auto_position: bool
    using_mariadb_gtid: str
    master_uuid: str
    executed_gtid_set: str
    retrieved_gtid_set: str
    gtid_io_pos: str
    has_replication_filters: bool
    master_ssl_allowed: bool
    master_server_id: int

    def __init__(
        self,
        master_host: str,
        master_port: int,
        master_user: str,
        io_state: ThreadState,
        sql_state: ThreadState,
        master_log_file: str,
        read_master_log_pos: int,
        relay_master_log_file: str,
        exec_master_log_pos: int,
        relay_log_file: str,
        relay_log_pos: int,
        last_sql_error: str,
        last_io_error: str,
        last_sql_errno: int,
        last_io_errno: int,
        seconds_behind_master: int | None,
        sql_delay: int,
        auto_position: bool,
        using_mariadb_gtid: str,
        master_uuid: str,
        executed_gtid_set: str,
        retrieved_gtid_set: str,
        gtid_io_pos: str,
        has_replication_filters: bool,
        master_ssl_allowed: bool,
        master_server_id: int,
    ) -> None:
        set_fields(self, locals())

    @staticmethod
    def none() -> ReplicaStatus:
        """The status of a server that is not a replica (no row returned)."""
        return ReplicaStatus(
            master_host="",
            master_port=0,
            master_user="",
            io_state=ThreadState.NONE,
            sql_state=ThreadState.NONE,
            master_log_file="",
            read_master_log_pos=0,
            relay_master_log_file="",
            exec_master_log_pos=0,
            relay_log_file="",
            relay_log_pos=0,
            last_sql_error="",
            last_io_error="",
            last_sql_errno=0,
            last_io_errno=0,
            seconds_behind_master=None,
            sql_delay=0,
            auto_position=False,
            using_mariadb_gtid="No",
            master_uuid="",
            executed_gtid_set="",
            retrieved_gtid_set="",
            gtid_io_pos="",
            has_replication_filters=False,
            master_ssl_allowed=False,
            master_server_id=0,
        )

    @staticmethod
    def from_row(row: Row | None) -> ReplicaStatus:
        """Parse one row in either the legacy (Master/Slave) or the 8.0.22+ (Source/Replica) naming.

        >>> s = ReplicaStatus.from_row({"Source_Host": "db1", "Source_Port": 3306, "Replica_IO_Running": "Yes",
        ...                             "Replica_SQL_Running": "No", "Seconds_Behind_Source": None})
        >>> (s.master_host, s.master_port, s.io_running, s.sql_state == ThreadState.STOPPED, s.seconds_behind_master)
        ('db1', 3306, True, True, None)
        >>> ReplicaStatus.from_row(None) == ReplicaStatus.none(), ReplicaStatus.none().is_replica
        (True, False)
        """
        if not row:
            return ReplicaStatus.none()
        c = Columns(row)
        sbm = to_opt_int(c.get("Seconds_Behind_Master", "Seconds_Behind_Source"))
        if sbm is not None and sbm < 0:
            sbm = 0
        using_gtid = to_str(c.get("Using_Gtid")).strip() or "No"
        return ReplicaStatus(
            master_host=to_str(c.get("Master_Host", "Source_Host")),
            master_port=to_int(c.get("Master_Port", "Source_Port")),
            master_user=to_str(c.get("Master_User", "Source_User")),
            io_state=ThreadState.from_running_text(c.get("Slave_IO_Running", "Replica_IO_Running")),
            sql_state=ThreadState.from_running_text(c.get("Slave_SQL_Running", "Replica_SQL_Running")),
            master_log_file=to_str(c.get("Master_Log_File", "Source_Log_File")),
            read_master_log_pos=to_int(c.get("Read_Master_Log_Pos", "Read_Source_Log_Pos")),
            relay_master_log_file=to_str(c.get("Relay_Master_Log_File", "Relay_Source_Log_File")),
            exec_master_log_pos=to_int(c.get("Exec_Master_Log_Pos", "Exec_Source_Log_Pos")),
            relay_log_file=to_str(c.get("Relay_Log_File")),
            relay_log_pos=to_int(c.get("Relay_Log_Pos")),
            last_sql_error=to_str(c.get("Last_SQL_Error")),
            last_io_error=to_str(c.get("Last_IO_Error")),
            last_sql_errno=to_int(c.get("Last_SQL_Errno")),
            last_io_errno=to_int(c.get("Last_IO_Errno")),
            seconds_behind_master=sbm,
            sql_delay=to_int(c.get("SQL_Delay")),
            auto_position=to_int(c.get("Auto_Position")) == 1,
            using_mariadb_gtid=using_gtid,
            master_uuid=to_str(c.get("Master_UUID", "Source_UUID")).strip(),
            executed_gtid_set=gtid_text(c.get("Executed_Gtid_Set")),
            retrieved_gtid_set=gtid_text(c.get("Retrieved_Gtid_Set")),
            gtid_io_pos=gtid_text(c.get("Gtid_IO_Pos")),
            has_replication_filters=any(to_str(c.get(col)).strip() != "" for col in _FILTER_COLUMNS),
            master_ssl_allowed=to_str(c.get("Master_SSL_Allowed", "Source_SSL_Allowed")).strip() == "Yes",
            master_server_id=to_int(c.get("Master_Server_Id", "Source_Server_Id")),
        )

    @property
    def is_replica(self) -> bool:
        """A replication row exists and names a master (``_`` is the placeholder left by a reset)."""
        return self.io_state != ThreadState.NONE and self.master_host not in ("", "_")

    @property
    def io_running(self) -> bool:
        return self.io_state == ThreadState.RUNNING

    @property
    def sql_running(self) -> bool:
        return self.sql_state == ThreadState.RUNNING

    @property
    def replication_running(self) -> bool:
        return self.io_running and self.sql_running

    @property
    def confirmed_master_server_id(self) -> int:
        """``Master_Server_Id`` only while the IO thread is connected, else 0.

        The server id is learnt when the IO thread connects: MariaDB keeps the previous master's id
        after ``CHANGE MASTER`` until it reconnects, so a stopped or connecting replica's id may name
        another server than ``Master_Host:Master_Port``.
        """
        return self.master_server_id if self.io_running else 0

    @property
    def threads_stopped(self) -> bool:
        """Both threads are explicitly stopped (``No``); false for non-replicas and ``Connecting``."""
        return self.io_state == ThreadState.STOPPED and self.sql_state == ThreadState.STOPPED

    @property
    def is_detached(self) -> bool:
        """``detach-replica-master-host`` prefixes the master host with ``//``."""
        return self.master_host.startswith("//")

    @property
    def uses_mariadb_gtid(self) -> bool:
        return self.using_mariadb_gtid not in ("", "No")

    @property
    def uses_gtid(self) -> bool:
        """Oracle auto-position or MariaDB ``MASTER_USE_GTID`` other than ``no``."""
        return self.auto_position or self.uses_mariadb_gtid

    @property
    def read_coordinates(self) -> BinlogCoordinates:
        """The master's binary log position the IO thread has read up to."""
        return BinlogCoordinates(self.master_log_file, self.read_master_log_pos)

    @property
    def exec_coordinates(self) -> BinlogCoordinates:
        """The master's binary log position the SQL thread has executed up to."""
        return BinlogCoordinates(self.relay_master_log_file, self.exec_master_log_pos)

    @property
    def relay_coordinates(self) -> BinlogCoordinates:
        """The replica's own relay log position the SQL thread has executed up to."""
        return BinlogCoordinates(self.relay_log_file, self.relay_log_pos, LogType.RELAY)


class BinlogEvent(Frozen):
    """One row of ``SHOW BINLOG EVENTS`` / ``SHOW RELAYLOG EVENTS``.

    In a relay log `end_log_pos` is the position in the master's binary log, not in the relay log.
    """

    __slots__ = (
        "file",
        "pos",
        "event_type",
        "server_id",
        "end_log_pos",
        "info",
    )
    file: str
    pos: int
    event_type: str
    server_id: int
    end_log_pos: int
    info: str

    def __init__(
        self,
        file: str,
        pos: int,
        event_type: str,
        server_id: int,
        end_log_pos: int,
        info: str,
    ) -> None:
        set_fields(self, locals())


class SemiSyncFacts(Frozen):
    """Semi-synchronous replication facts from ``rpl_semi_sync_%`` variables and status.

    ``source_names`` tells which plugin generation is loaded: ``rpl_semi_sync_source_*`` /
    ``rpl_semi_sync_replica_*`` (MySQL 8.0.26+ ``semisync_source``/``semisync_replica`` plugins, the
    only ones in 8.4) rather than ``rpl_semi_sync_master_*`` / ``rpl_semi_sync_slave_*``.
    """

    __slots__ = (
        "available",
        "master_enabled",
        "master_timeout",
        "master_wait_for_slave_count",
        "master_status",
        "master_clients",
        "replica_enabled",
        "replica_status",
        "source_names",
        "master_available",
        "replica_available",
        "master_source_names",
        "replica_source_names",
    )
    available: bool
    master_enabled: bool
    master_timeout: int
    master_wait_for_slave_count: int
    master_status: bool
    master_clients: int
    replica_enabled: bool
    replica_status: bool
    source_names: bool
    master_available: bool  # each side's plugin separately: an 8.4 master may load only one
    replica_available: bool
    master_source_names: bool  # rpl_semi_sync_source_* rather than rpl_semi_sync_master_*
    replica_source_names: bool  # rpl_semi_sync_replica_* rather than rpl_semi_sync_slave_*

    def __init__(
        self,
        available: bool,
        master_enabled: bool,
        master_timeout: int,
        master_wait_for_slave_count: int,
        master_status: bool,
        master_clients: int,
        replica_enabled: bool,
        replica_status: bool,
        source_names: bool = False,
        master_available: bool = False,
        replica_available: bool = False,
        master_source_names: bool = False,
        replica_source_names: bool = False,
    ) -> None:
        set_fields(self, locals())


class GtidFacts(Frozen):
    """GTID-related server variables.  Oracle fields are empty on MariaDB and vice versa."""

    __slots__ = (
        "gtid_mode",
        "server_uuid",
        "gtid_executed",
        "gtid_purged",
        "binlog_row_image",
        "gtid_binlog_pos",
        "gtid_current_pos",
        "gtid_slave_pos",
        "gtid_strict_mode",
        "gtid_domain_id",
    )
    gtid_mode: str
    server_uuid: str
    gtid_executed: str
    gtid_purged: str
    binlog_row_image: str
    gtid_binlog_pos: str
    gtid_current_pos: str
    gtid_slave_pos: str
    gtid_strict_mode: bool
    gtid_domain_id: int

    def __init__(
        self,
        gtid_mode: str = "",
        server_uuid: str = "",
        gtid_executed: str = "",
        gtid_purged: str = "",
        binlog_row_image: str = "",
        gtid_binlog_pos: str = "",
        gtid_current_pos: str = "",
        gtid_slave_pos: str = "",
        gtid_strict_mode: bool = False,
        gtid_domain_id: int = 0,
    ) -> None:
        set_fields(self, locals())

    @property
    def supports_oracle_gtid(self) -> bool:
        """``gtid_mode`` is neither empty nor ``OFF`` (``ON``, ``ON_PERMISSIVE``, ``OFF_PERMISSIVE``)."""
        return self.gtid_mode.upper() not in ("", "OFF")


class CoreVariables(Frozen):
    """The row of :meth:`Flavor.core_variables_sql` (step 2 of the probe)."""

    __slots__ = (
        "hostname",
        "report_host",
        "server_id",
        "version",
        "version_comment",
        "read_only",
        "binlog_format",
        "log_bin",
        "log_slave_updates",
        "super_read_only",
    )
    hostname: str
    report_host: str
    server_id: int
    version: str
    version_comment: str
    read_only: bool
    binlog_format: str
    log_bin: bool
    log_slave_updates: bool
    super_read_only: bool

    def __init__(
        self,
        hostname: str,
        report_host: str,
        server_id: int,
        version: str,
        version_comment: str,
        read_only: bool,
        binlog_format: str,
        log_bin: bool,
        log_slave_updates: bool,
        super_read_only: bool,
    ) -> None:
        set_fields(self, locals())
