"""Server flavors: the single owner of the SQL text sent to topology servers.

A :class:`Flavor` knows, for one server family and version, which statements to send (``SHOW SLAVE
STATUS`` or ``SHOW REPLICA STATUS``, ``CHANGE MASTER TO`` or ``CHANGE REPLICATION SOURCE TO``, ...) and
how to turn the rows the server returns into flavor-neutral facts (``mysql/facts.py``:
:class:`ReplicaStatus`, :class:`SemiSyncFacts`, :class:`GtidFacts`, ...).

This module performs no I/O.  Rows and the coercion of their values are in ``mysql/rows.py``; the
checks and quoting of the values put into statements in ``mysql/sql.py``.

Families and the version ranges they cover:

=================  ===========================================================================
``MariaDB``        every MariaDB release (5.5, 10.x, 11.x); legacy MASTER/SLAVE statements
``MySQL57``        Oracle MySQL / Percona Server before 8.0 (5.5, 5.6, 5.7)
``MySQL80Legacy``  8.0.0 - 8.0.21: legacy MASTER/SLAVE statements only
``MySQL80``        8.0.22 - 8.1.x: ``SHOW REPLICA STATUS``, ``START REPLICA``, ``SHOW REPLICAS``;
                   ``CHANGE REPLICATION SOURCE TO`` from 8.0.23; ``log_replica_updates``,
                   ``sql_replica_skip_counter`` and ``SOURCE_POS_WAIT`` from 8.0.26
``MySQL84``        8.2 and later (8.4 LTS, 9.x): no MASTER/SLAVE statement remains; ``SHOW BINARY LOG
                   STATUS``, ``RESET BINARY LOGS AND GTIDS``, ``rpl_semi_sync_source_*`` variables
=================  ===========================================================================

Before the flavor is known, call :func:`detect_flavor_from_handshake` with the version a connection's
handshake announced (no statement needed), or run :func:`version_sql` and pass its row to
:func:`detect_flavor_from_row`. The handshake has no ``@@version_comment`` (Percona shows only there),
so a probe detects again from the ``version`` and ``version_comment`` its core variables read.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from orchestrator_cli.model.coerce import to_int, to_opt_int, to_server_flag, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.facts import BinlogEvent, CoreVariables, GtidFacts, ReplicaStatus, SemiSyncFacts
from orchestrator_cli.mysql.rows import Columns, FlavorError, Row, gtid_text, rows_to_dict
from orchestrator_cli.mysql.sql import (
    check_int,
    check_mariadb_pos,
    check_oracle_gtid,
    check_oracle_gtid_set,
    check_str,
    quote_string,
)

__all__ = [
    "Flavor",
    "FlavorError",  # raised by every flavor method; defined in mysql/rows.py
    "MariaDB",
    "MySQL57",
    "MySQL80",
    "MySQL80Legacy",
    "MySQL84",
    "detect_flavor",
    "detect_flavor_from_handshake",
    "detect_flavor_from_row",
    "parse_version",
    "version_sql",
]

Version = tuple[int, int, int]


# ---------------------------------------------------------------------------------------------------
# Version parsing and detection
# ---------------------------------------------------------------------------------------------------

_VERSION_RE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_MARIADB_REPL_PREFIX = re.compile(r"^\s*5\.5\.5-(?=\d+\.\d+)")


def parse_version(version: str) -> Version:
    """The version numbers of ``@@version`` (MariaDB's replication prefix ``5.5.5-`` dropped).

    >>> parse_version("10.11.6-MariaDB-log"), parse_version("5.5.5-10.4.32-MariaDB"), parse_version("8.4.0")
    ((10, 11, 6), (10, 4, 32), (8, 4, 0))
    """
    text = to_str(version)
    if "mariadb" in text.lower():
        text = _MARIADB_REPL_PREFIX.sub("", text)
    m = _VERSION_RE.match(text)
    if not m:
        raise FlavorError(f"cannot parse server version {version!r}")
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def version_sql() -> str:
    """Flavor-neutral bootstrap query whose row feeds :func:`detect_flavor_from_row`."""
    return "SELECT @@global.version AS version, @@global.version_comment AS version_comment"


def binlog_server_check_sql() -> str:
    """Flavor-neutral: a MaxScale binlog router answers it with a `MAXSCALE_VERSION` row, a MySQL or
    MariaDB server with no row (neither has such variables)."""
    return "SHOW VARIABLES LIKE 'maxscale%'"


def parse_binlog_server_check(rows: Iterable[Row]) -> str:
    """The MaxScale version :func:`binlog_server_check_sql` found, "" when the server is not a binlog server.

    >>> parse_binlog_server_check([{"Variable_name": "MAXSCALE_VERSION", "Value": "2.4.17"}])
    '2.4.17'
    >>> parse_binlog_server_check([])
    ''
    """
    for name, value in rows_to_dict(rows).items():
        if name.upper() == "MAXSCALE_VERSION":
            return to_str(value)
    return ""


def detect_flavor(version: str, version_comment: str = "") -> Flavor:
    """Pick the flavor for ``@@version`` / ``@@version_comment``.

    MariaDB is recognised by ``MariaDB`` in either string; everything else is Oracle MySQL (Percona
    Server and other Oracle derivatives included), split by version.

    >>> detect_flavor("10.11.6-MariaDB-log"), detect_flavor("8.0.21"), detect_flavor("8.0.36"), detect_flavor("8.4.2")
    (MariaDB('10.11.6-MariaDB-log'), MySQL80Legacy('8.0.21'), MySQL80('8.0.36'), MySQL84('8.4.2'))
    >>> detect_flavor("5.7.44-48", "Percona Server (GPL), Release 48").is_percona
    True
    """
    text = to_str(version)
    comment = to_str(version_comment)
    numbers = parse_version(text)
    if "mariadb" in text.lower() or "mariadb" in comment.lower():
        return MariaDB(text, comment)
    if numbers < (8, 0, 0):
        return MySQL57(text, comment)
    if numbers < (8, 0, 22):
        return MySQL80Legacy(text, comment)
    if numbers < (8, 2, 0):
        return MySQL80(text, comment)
    return MySQL84(text, comment)


def detect_flavor_from_handshake(server_version: str) -> Flavor:
    """The flavor of the version a connection's handshake announced, as ``@@version`` says it: MariaDB's
    ``5.5.5-`` prefix (kept there for old replication clients) is dropped. There is no comment to read.

    >>> detect_flavor_from_handshake("5.5.5-10.11.6-MariaDB-log"), detect_flavor_from_handshake("8.4.2")
    (MariaDB('10.11.6-MariaDB-log'), MySQL84('8.4.2'))
    """
    text = to_str(server_version)
    if "mariadb" in text.lower():
        text = _MARIADB_REPL_PREFIX.sub("", text)
    return detect_flavor(text)


def detect_flavor_from_row(row: Row) -> Flavor:
    """Detect the flavor from the row of :func:`version_sql` (or any row with those two columns)."""
    c = Columns(row)
    return detect_flavor(
        to_str(c.get("version", "@@global.version", "@@version")),
        to_str(c.get("version_comment", "@@global.version_comment", "@@version_comment")),
    )


# ---------------------------------------------------------------------------------------------------
# Flavors
# ---------------------------------------------------------------------------------------------------

_GTID_MODES = (None, "auto", "off", "slave_pos", "current_pos")
_MAX_DELAY_SECONDS = 2**31 - 1  # MASTER_DELAY's upper bound on MySQL and MariaDB


class Flavor(ABC):
    """SQL text and row parsing for one server family.  Instantiate a subclass or use detect_flavor()."""

    name: ClassVar[str] = "Flavor"
    is_mariadb: ClassVar[bool] = False
    is_oracle: ClassVar[bool] = False
    default_version: ClassVar[str] = ""
    min_version: ClassVar[Version] = (0, 0, 0)
    max_version: ClassVar[Version | None] = None  # exclusive

    def __init__(self, version: str = "", version_comment: str = "") -> None:
        self.version: str = to_str(version) or self.default_version
        self.version_comment: str = to_str(version_comment)
        self.version_tuple: Version = parse_version(self.version)
        if self.version_tuple < self.min_version or (
            self.max_version is not None and self.version_tuple >= self.max_version
        ):
            raise FlavorError(f"version {self.version!r} does not belong to flavor {self.name}")
        self.is_percona: bool = "percona" in (self.version + " " + self.version_comment).lower()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.version!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Flavor):
            return NotImplemented
        return type(self) is type(other) and self.version_tuple == other.version_tuple

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.version_tuple))

    def at_least(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.version_tuple >= (major, minor, patch)

    # ----- vocabulary (overridden per flavor) ---------------------------------------------------

    @property
    def _replica_word(self) -> str:
        """``SLAVE`` or ``REPLICA`` in START/STOP/RESET/SHOW ... STATUS."""
        return "SLAVE"

    @property
    def _source_syntax(self) -> bool:
        """``CHANGE REPLICATION SOURCE TO SOURCE_*`` and ``START REPLICA UNTIL SOURCE_*``."""
        return False

    @property
    def _replica_variable_names(self) -> bool:
        """``log_replica_updates``, ``sql_replica_skip_counter``, ``SOURCE_POS_WAIT``."""
        return False

    @property
    def has_super_read_only(self) -> bool:
        return False

    @property
    def supports_gtid(self) -> bool:
        """The server has a GTID implementation (not whether it is enabled)."""
        return False

    @property
    def semi_sync_source_names_default(self) -> bool:
        """Variable names assumed by set_semi_sync_* when the caller does not say which plugin is loaded."""
        return False

    def binlog_dump_commands(self) -> tuple[str, ...]:
        """``COMMAND`` values of the processlist connections serving replicas."""
        return ("Binlog Dump", "Binlog Dump GTID")

    # ----- probe --------------------------------------------------------------------------------

    def core_variables_sql(self) -> str:
        log_replica_updates = "log_replica_updates" if self._replica_variable_names else "log_slave_updates"
        super_read_only = "@@global.super_read_only" if self.has_super_read_only else "0"
        return (
            "SELECT @@global.hostname AS hostname, IFNULL(@@global.report_host, '') AS report_host, "
            "@@global.server_id AS server_id, @@global.version AS version, "
            "@@global.version_comment AS version_comment, @@global.read_only AS read_only, "
            "@@global.binlog_format AS binlog_format, @@global.log_bin AS log_bin, "
            f"@@global.{log_replica_updates} AS log_slave_updates, "
            f"{super_read_only} AS super_read_only"
        )

    def parse_core_variables(self, row: Row | None) -> CoreVariables:
        if not row:
            raise FlavorError("core variables query returned no row")
        c = Columns(row)
        return CoreVariables(
            hostname=to_str(c.get("hostname")),
            report_host=to_str(c.get("report_host")),
            server_id=to_int(c.get("server_id")),
            version=to_str(c.get("version")),
            version_comment=to_str(c.get("version_comment")),
            read_only=to_server_flag(c.get("read_only")),
            binlog_format=to_str(c.get("binlog_format")),
            log_bin=to_server_flag(c.get("log_bin")),
            log_slave_updates=to_server_flag(c.get("log_slave_updates", "log_replica_updates")),
            super_read_only=to_server_flag(c.get("super_read_only")),
        )

    def probe_variables_sql(self) -> str:
        """:meth:`core_variables_sql` and :meth:`gtid_facts_sql` in one statement (one round trip
        instead of two per probe): both only read global variables, the GTID ones gated by the
        flavor's version as in :meth:`gtid_facts_sql`. Its row feeds both :meth:`parse_core_variables`
        and :meth:`parse_gtid_facts` (their column names are distinct)."""
        core = self.core_variables_sql()
        gtid = self.gtid_facts_sql()
        if not gtid:
            return core
        return core + ", " + gtid.removeprefix("SELECT ")

    def uptime_sql(self) -> str:
        return "SHOW GLOBAL STATUS LIKE 'Uptime'"

    def probe_status_sql(self) -> str:
        """:meth:`uptime_sql` and :meth:`semi_sync_status_sql` in one statement (one round trip
        instead of two per probe); its rows feed :meth:`parse_uptime` and, as a name -> value
        mapping, :meth:`parse_semi_sync` (each ignores the other's names)."""
        return "SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime' OR Variable_name LIKE 'rpl_semi_sync_%'"

    def parse_uptime(self, rows: Iterable[Row]) -> int:
        values = rows_to_dict(rows)
        for name, value in values.items():
            if name.lower() == "uptime":
                return to_int(value)
        return 0

    def master_status_sql(self) -> str:
        return "SHOW MASTER STATUS"

    def parse_master_status(self, row: Row | None) -> BinlogCoordinates:
        """The binary log's coordinates; empty (``BinlogCoordinates("", 0)``) without a binary log."""
        if not row:
            return BinlogCoordinates("", 0)
        c = Columns(row)
        file = to_str(c.get("File"))
        if not file:
            return BinlogCoordinates("", 0)
        return BinlogCoordinates(file, to_int(c.get("Position")))

    def replica_status_sql(self) -> str:
        return f"SHOW {self._replica_word} STATUS"

    def parse_replica_status(self, rows: Iterable[Row] | None) -> ReplicaStatus:
        """Parse the last row (multi-source / named channels are not supported); no row -> none()."""
        last: Row | None = None
        for row in rows or ():
            last = row
        return ReplicaStatus.from_row(last)

    def replica_connections_sql(self) -> str:
        """Every replication connection of the server; only MariaDB has named ones (multi-source)."""
        return self.replica_status_sql()

    def parse_replica_connections(self, rows: Iterable[Row] | None) -> list[tuple[str, ReplicaStatus]]:
        """(connection name, status) per connection, in the server's order; "" names the default one.

        >>> MariaDB("10.11.6-MariaDB").parse_replica_connections([
        ...     {"Connection_name": "", "Master_Host": "db1", "Master_Port": 3306, "Slave_IO_Running": "Yes"},
        ...     {"Connection_name": "b", "Master_Host": "db2", "Master_Port": 3306, "Slave_IO_Running": "No"}])[1][0]
        'b'
        """
        return [(to_str(Columns(row).get("Connection_name")), ReplicaStatus.from_row(row)) for row in rows or ()]

    def replica_hosts_sql(self) -> str:
        return "SHOW SLAVE HOSTS"

    def parse_replica_hosts(self, rows: Iterable[Row] | None) -> list[InstanceKey]:
        """Keys (``Host``, ``Port``) of registered replicas; rows without a host or with port 0 are
        skipped (a replica without ``report_host``), duplicates removed, order kept."""
        out: list[InstanceKey] = []
        for row in rows or ():
            c = Columns(row)
            host = to_str(c.get("Host")).strip()
            port = to_int(c.get("Port"))
            if host and port > 0 and (key := InstanceKey(host, port)) not in out:
                out.append(key)
        return out

    def processlist_replicas_sql(self) -> str:
        commands = ", ".join(quote_string(cmd) for cmd in self.binlog_dump_commands())
        # strip the trailing ":port" after the LAST colon, so IPv6 addresses survive
        return (
            "SELECT IF(LOCATE(':', host) > 0, "
            "LEFT(host, CHAR_LENGTH(host) - CHAR_LENGTH(SUBSTRING_INDEX(host, ':', -1)) - 1), host) "
            "AS host FROM information_schema.processlist "
            f"WHERE command IN ({commands})"
        )

    def parse_processlist_replicas(self, rows: Iterable[Row] | None) -> list[str]:
        """Hosts from :meth:`processlist_replicas_sql` (brackets of ``[v6]`` removed, deduplicated)."""
        out: list[str] = []
        for row in rows or ():
            host = to_str(Columns(row).get("host")).strip()
            if host.startswith("[") and host.endswith("]"):
                host = host[1:-1]
            if host and host not in out:
                out.append(host)
        return out

    def semi_sync_variables_sql(self) -> str:
        return "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%'"

    def semi_sync_status_sql(self) -> str:
        return "SHOW GLOBAL STATUS LIKE 'rpl_semi_sync_%'"

    def parse_semi_sync(self, variables: Mapping[str, Any], status: Mapping[str, Any]) -> SemiSyncFacts:
        """Understands both ``rpl_semi_sync_master_*/slave_*`` and ``rpl_semi_sync_source_*/replica_*``."""
        var = {k.lower(): v for k, v in variables.items()}
        st = {k.lower(): v for k, v in status.items()}

        def pick(src: dict[str, Any], legacy: str, modern: str) -> Any:
            if legacy in src:
                return src[legacy]
            return src.get(modern)

        master_key = "rpl_semi_sync_master_enabled"
        source_key = "rpl_semi_sync_source_enabled"
        slave_key = "rpl_semi_sync_slave_enabled"
        replica_key = "rpl_semi_sync_replica_enabled"
        has_master = master_key in var or source_key in var
        has_replica = slave_key in var or replica_key in var
        source_names = (source_key in var or replica_key in var) and not (master_key in var or slave_key in var)
        return SemiSyncFacts(
            available=has_master and has_replica,
            master_enabled=to_server_flag(pick(var, master_key, source_key)),
            master_timeout=to_int(pick(var, "rpl_semi_sync_master_timeout", "rpl_semi_sync_source_timeout")),
            master_wait_for_slave_count=to_int(
                pick(
                    var,
                    "rpl_semi_sync_master_wait_for_slave_count",
                    "rpl_semi_sync_source_wait_for_replica_count",
                )
            ),
            master_status=to_server_flag(pick(st, "rpl_semi_sync_master_status", "rpl_semi_sync_source_status")),
            master_clients=to_int(pick(st, "rpl_semi_sync_master_clients", "rpl_semi_sync_source_clients")),
            replica_enabled=to_server_flag(pick(var, slave_key, replica_key)),
            replica_status=to_server_flag(pick(st, "rpl_semi_sync_slave_status", "rpl_semi_sync_replica_status")),
            source_names=source_names,
            master_available=has_master,
            replica_available=has_replica,
            master_source_names=source_key in var,
            replica_source_names=replica_key in var,
        )

    def gtid_facts_sql(self) -> str | None:
        return None

    def stored_replication_credentials_sql(self) -> str | None:
        """Where the server keeps the credentials it replicates with, when SQL can read them (the
        fallback when no ReplicationCredentialsQuery is configured): user, password, by position.
        None: this server family keeps them where SQL cannot read them (MariaDB's master.info)."""
        return None

    def parse_gtid_facts(self, row: Row | None) -> GtidFacts:
        if not row:
            return GtidFacts()
        c = Columns(row)
        return GtidFacts(
            gtid_mode=to_str(c.get("gtid_mode")).strip(),
            server_uuid=to_str(c.get("server_uuid")).strip(),
            gtid_executed=gtid_text(c.get("gtid_executed")),
            gtid_purged=gtid_text(c.get("gtid_purged")),
            binlog_row_image=to_str(c.get("binlog_row_image")).strip(),
            gtid_binlog_pos=gtid_text(c.get("gtid_binlog_pos")),
            gtid_current_pos=gtid_text(c.get("gtid_current_pos")),
            gtid_slave_pos=gtid_text(c.get("gtid_slave_pos")),
            gtid_strict_mode=to_server_flag(c.get("gtid_strict_mode")),
            gtid_domain_id=to_int(c.get("gtid_domain_id")),
        )

    def binary_logs_sql(self) -> str:
        return "SHOW BINARY LOGS"

    def parse_binary_logs(self, rows: Iterable[Row] | None) -> list[tuple[str, int]]:
        """``(Log_name, File_size)`` in server order (oldest first)."""
        out: list[tuple[str, int]] = []
        for row in rows or ():
            c = Columns(row)
            name = to_str(c.get("Log_name"))
            if name:
                out.append((name, to_int(c.get("File_size"))))
        return out

    def binlog_events_sql(self, file: str, pos: int, limit: int, *, relay: bool = False, offset: int = 0) -> str:
        """``SHOW BINLOG|RELAYLOG EVENTS IN 'f' FROM pos LIMIT offset,n``: the same text on every flavor."""
        kind = "RELAYLOG" if relay else "BINLOG"
        where = quote_string(check_str("log file", file))
        return f"SHOW {kind} EVENTS IN {where} FROM {int(pos)} LIMIT {int(offset)},{int(limit)}"

    def grants_sql(self) -> str:
        return "SHOW GRANTS"

    def parse_grants(self, rows: Iterable[Row] | None) -> list[str]:
        """The GRANT lines of the connected user (first column of every row)."""
        return [to_str(next(iter(row.values()), "")) for row in rows or () if row]

    def pseudo_gtid_injection(self, entry: str) -> list[str]:
        """A no-op that lands in the binary log: dropping a view that does not exist in a schema that need not."""
        if not re.fullmatch(r"[A-Za-z0-9_:.-]+", check_str("Pseudo-GTID entry", entry)):
            raise FlavorError(f"invalid Pseudo-GTID entry name {entry!r}")
        return [f"drop view if exists `_pseudo_gtid_`.`{entry}`"]

    def parse_binlog_events(self, rows: Iterable[Row] | None) -> list[BinlogEvent]:
        out: list[BinlogEvent] = []
        for row in rows or ():
            c = Columns(row)
            out.append(
                BinlogEvent(
                    file=to_str(c.get("Log_name")),
                    pos=to_int(c.get("Pos")),
                    event_type=to_str(c.get("Event_type")),
                    server_id=to_int(c.get("Server_id")),
                    end_log_pos=to_int(c.get("End_log_pos")),
                    info=to_str(c.get("Info")),
                )
            )
        return out

    # ----- replication threads ------------------------------------------------------------------

    def stop_replica(self) -> list[str]:
        return [f"STOP {self._replica_word}"]

    def start_replica(self) -> list[str]:
        return [f"START {self._replica_word}"]

    def stop_io_thread(self) -> list[str]:
        return [f"STOP {self._replica_word} IO_THREAD"]

    def start_io_thread(self) -> list[str]:
        return [f"START {self._replica_word} IO_THREAD"]

    def stop_sql_thread(self) -> list[str]:
        return [f"STOP {self._replica_word} SQL_THREAD"]

    def start_sql_thread(self) -> list[str]:
        return [f"START {self._replica_word} SQL_THREAD"]

    def start_replica_until(self, file: str, pos: int) -> list[str]:
        """Start both threads, SQL thread stopping at the given master coordinates."""
        file = check_str("binlog file", file)
        pos = check_int("binlog position", pos, 0)
        prefix = "SOURCE" if self._source_syntax else "MASTER"
        return [f"START {self._replica_word} UNTIL {prefix}_LOG_FILE={quote_string(file)}, {prefix}_LOG_POS={pos}"]

    def reset_replica(self, all_: bool) -> list[str]:
        return [f"RESET {self._replica_word}" + (" ALL" if all_ else "")]

    # ----- CHANGE MASTER / CHANGE REPLICATION SOURCE ----------------------------------------------

    @abstractmethod
    def _gtid_clause(self, gtid: str) -> str:
        """The GTID-mode clause of CHANGE MASTER for ``gtid`` in auto/off/slave_pos/current_pos."""

    def change_master(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        log_file: str | None = None,
        log_pos: int | None = None,
        gtid: str | None = None,
        ssl: bool | None = None,
        ssl_files: tuple[str, str, str] | None = None,
        delay: int | None = None,
    ) -> list[str]:
        """Point replication elsewhere; only the given fields are emitted.

        ``delay``: ``MASTER_DELAY`` seconds (the SQL thread applies events that much later).

        ``ssl_files``: CA, certificate and key paths (``ReplicationCredentialsQuery`` columns 3-5);
        the empty ones are left out.

        ``gtid``: ``None`` keeps the current mode; ``'auto'`` (Oracle auto-position on), ``'off'``
        (Oracle auto-position off / MariaDB ``MASTER_USE_GTID=no``), ``'slave_pos'`` or
        ``'current_pos'`` (MariaDB).  File/position cannot be combined with a GTID mode other than
        ``'off'``.
        """
        if gtid not in _GTID_MODES:
            raise FlavorError(f"unknown gtid mode {gtid!r}: expected one of auto, off, slave_pos, current_pos")
        if gtid not in (None, "off") and (log_file is not None or log_pos is not None):
            raise FlavorError(f"binlog file/position cannot be given together with gtid={gtid!r}")
        prefix = "SOURCE" if self._source_syntax else "MASTER"
        parts: list[str] = []
        if host is not None:
            parts.append(f"{prefix}_HOST={quote_string(check_str('host', host))}")
        if port is not None:
            parts.append(f"{prefix}_PORT={check_int('port', port, 1, 65535)}")
        if user is not None:
            parts.append(f"{prefix}_USER={quote_string(check_str('user', user, allow_empty=True))}")
        if password is not None:
            parts.append(f"{prefix}_PASSWORD={quote_string(check_str('password', password, allow_empty=True))}")
        if log_file is not None:
            parts.append(f"{prefix}_LOG_FILE={quote_string(check_str('binlog file', log_file))}")
        if log_pos is not None:
            parts.append(f"{prefix}_LOG_POS={check_int('binlog position', log_pos, 0)}")
        if gtid is not None:
            parts.append(self._gtid_clause(gtid))
        if ssl is not None:
            if not isinstance(ssl, bool):
                raise FlavorError(f"ssl must be a boolean, got {ssl!r}")
            parts.append(f"{prefix}_SSL={1 if ssl else 0}")
        for name, path in zip(("CA", "CERT", "KEY"), ssl_files or ("", "", ""), strict=True):
            if path:
                parts.append(f"{prefix}_SSL_{name}={quote_string(check_str(f'ssl {name.lower()}', path))}")
        if delay is not None:
            parts.append(f"{prefix}_DELAY={check_int('delay', delay, 0, _MAX_DELAY_SECONDS)}")
        if not parts:
            raise FlavorError("change_master needs at least one field to change")
        head = "CHANGE REPLICATION SOURCE TO" if self._source_syntax else "CHANGE MASTER TO"
        return [f"{head} " + ", ".join(parts)]

    # ----- server state -------------------------------------------------------------------------

    def set_read_only(self, read_only: bool, super_read_only: bool) -> list[str]:
        """``super_read_only`` says whether super_read_only is managed too (ignored where it does not
        exist).  Enabling sets read_only first; disabling clears super_read_only first (clearing
        read_only would clear it anyway, the explicit statement documents intent)."""
        manage_super = super_read_only and self.has_super_read_only
        if read_only:
            stmts = ["SET GLOBAL read_only = 1"]
            if manage_super:
                stmts.append("SET GLOBAL super_read_only = 1")
            return stmts
        stmts = ["SET GLOBAL super_read_only = 0"] if manage_super else []
        stmts.append("SET GLOBAL read_only = 0")
        return stmts

    def master_pos_wait(self, file: str, pos: int, timeout_s: int) -> str:
        """Wait for the SQL thread to reach ``file:pos``; result column ``wait_result`` (see
        :meth:`parse_pos_wait`)."""
        file = check_str("binlog file", file)
        pos = check_int("binlog position", pos, 0)
        timeout_s = check_int("timeout", timeout_s, 0)
        func = "SOURCE_POS_WAIT" if self._replica_variable_names else "MASTER_POS_WAIT"
        return f"SELECT {func}({quote_string(file)}, {pos}, {timeout_s}) AS wait_result"

    def parse_pos_wait(self, row: Row | None) -> bool:
        """True when the position was reached, False on timeout; FlavorError when the server returned
        NULL (SQL thread not running, or not a replica)."""
        value = to_opt_int(Columns(row).get("wait_result")) if row else None
        if value is None:
            raise FlavorError("position wait returned NULL: replication SQL thread not running or not a replica")
        return value >= 0

    @abstractmethod
    def gtid_wait(self, gtid: str, timeout_s: int) -> str:
        """Wait until ``gtid`` is executed; result column ``wait_result`` (see parse_gtid_wait)."""

    def parse_gtid_wait(self, row: Row | None) -> bool:
        """True when the GTID set/position was reached, False on timeout; FlavorError on NULL."""
        value = to_opt_int(Columns(row).get("wait_result")) if row else None
        if value is None:
            raise FlavorError("GTID wait returned NULL")
        return value == 0

    def skip_query(self, *, oracle_gtid: bool = False) -> list[str]:
        """Skip one event on a broken SQL thread (run while the SQL thread is stopped).

        ``oracle_gtid``: the server runs with ``gtid_mode=ON`` - the skip counter is refused there and
        :meth:`inject_empty_transaction` must be used instead.
        """
        counter = "sql_replica_skip_counter" if self._replica_variable_names else "sql_slave_skip_counter"
        return [f"SET GLOBAL {counter} = 1"]

    def inject_empty_transaction(self, gtid: str) -> list[str]:
        raise FlavorError(f"{self.name} has no Oracle GTID: cannot inject an empty transaction")

    def flush_binary_logs(self) -> list[str]:
        return ["FLUSH BINARY LOGS"]

    def purge_binary_logs_to(self, file: str) -> list[str]:
        return [f"PURGE BINARY LOGS TO {quote_string(check_str('binlog file', file))}"]

    def reset_master(self) -> list[str]:
        return ["RESET MASTER"]

    def set_gtid_purged(self, gtid_set: str) -> list[str]:
        raise FlavorError(f"{self.name} has no gtid_purged")

    def _semi_sync_names(self, source_names: bool | None) -> tuple[str, str]:
        use_source = self.semi_sync_source_names_default if source_names is None else source_names
        if use_source:
            return ("rpl_semi_sync_source_enabled", "rpl_semi_sync_replica_enabled")
        return ("rpl_semi_sync_master_enabled", "rpl_semi_sync_slave_enabled")

    def set_semi_sync_master(self, enabled: bool, *, source_names: bool | None = None) -> list[str]:
        """``source_names``: pass ``SemiSyncFacts.source_names`` when known (8.0.26+ may have either
        plugin loaded); ``None`` uses the flavor's default naming."""
        return [f"SET GLOBAL {self._semi_sync_names(source_names)[0]} = {1 if enabled else 0}"]

    def set_semi_sync_replica(self, enabled: bool, *, source_names: bool | None = None) -> list[str]:
        """Takes effect on the next IO thread (re)start.  ``source_names`` as in set_semi_sync_master."""
        return [f"SET GLOBAL {self._semi_sync_names(source_names)[1]} = {1 if enabled else 0}"]

    def set_gtid_slave_pos(self, pos: str) -> list[str]:
        raise FlavorError(f"gtid_slave_pos is MariaDB only; {self.name} does not have it")


class MariaDB(Flavor):
    """MariaDB 10.x / 11.x (and 5.5): MASTER/SLAVE statements, domain-server-sequence GTIDs."""

    name = "MariaDB"
    is_mariadb = True
    is_oracle = False
    default_version = "10.11.0-MariaDB"

    @property
    def supports_gtid(self) -> bool:
        return self.at_least(10, 0, 2)

    def binlog_dump_commands(self) -> tuple[str, ...]:
        return ("Binlog Dump",)

    def replica_connections_sql(self) -> str:
        # Multi-source replication (named connections) exists since 10.0: SHOW SLAVE STATUS shows
        # only the default connection, so a server replicating through a named one looks like a master.
        return "SHOW ALL SLAVES STATUS" if self.at_least(10, 0) else self.replica_status_sql()

    def gtid_facts_sql(self) -> str | None:
        if not self.supports_gtid:
            return None
        row_image = "@@global.binlog_row_image" if self.at_least(10, 1, 6) else "'FULL'"
        return (
            "SELECT @@global.gtid_binlog_pos AS gtid_binlog_pos, "
            "@@global.gtid_current_pos AS gtid_current_pos, "
            "@@global.gtid_slave_pos AS gtid_slave_pos, "
            "@@global.gtid_strict_mode AS gtid_strict_mode, "
            "@@global.gtid_domain_id AS gtid_domain_id, "
            f"{row_image} AS binlog_row_image"
        )

    def parse_gtid_facts(self, row: Row | None) -> GtidFacts:
        facts = super().parse_gtid_facts(row)
        # @@server_uuid and gtid_mode do not exist on MariaDB
        return GtidFacts(
            binlog_row_image=facts.binlog_row_image,
            gtid_binlog_pos=facts.gtid_binlog_pos,
            gtid_current_pos=facts.gtid_current_pos,
            gtid_slave_pos=facts.gtid_slave_pos,
            gtid_strict_mode=facts.gtid_strict_mode,
            gtid_domain_id=facts.gtid_domain_id,
        )

    def _gtid_clause(self, gtid: str) -> str:
        if gtid == "auto":
            raise FlavorError("MariaDB has no auto-position: use gtid='slave_pos' or 'current_pos' (MASTER_USE_GTID)")
        if not self.supports_gtid:
            raise FlavorError(f"MariaDB {self.version} predates GTID (10.0.2): MASTER_USE_GTID unavailable")
        return "MASTER_USE_GTID=" + {"off": "no", "slave_pos": "slave_pos", "current_pos": "current_pos"}[gtid]

    def gtid_wait(self, gtid: str, timeout_s: int) -> str:
        if not self.supports_gtid:
            raise FlavorError(f"MariaDB {self.version} predates GTID (10.0.2): MASTER_GTID_WAIT unavailable")
        pos = check_mariadb_pos(gtid)
        timeout_s = check_int("timeout", timeout_s, 0)
        return f"SELECT MASTER_GTID_WAIT({quote_string(pos)}, {timeout_s}) AS wait_result"

    def set_gtid_slave_pos(self, pos: str) -> list[str]:
        if not self.supports_gtid:
            raise FlavorError(f"MariaDB {self.version} predates GTID (10.0.2): no gtid_slave_pos")
        return [f"SET GLOBAL gtid_slave_pos = {quote_string(check_mariadb_pos(pos))}"]


class _Oracle(Flavor):
    """Shared behaviour of Oracle MySQL and Percona Server."""

    is_oracle = True

    @property
    def has_super_read_only(self) -> bool:
        return self.at_least(5, 7, 8)

    @property
    def supports_gtid(self) -> bool:
        return self.at_least(5, 6, 5)

    def stored_replication_credentials_sql(self) -> str | None:
        # master_info_repository=TABLE (the default from 8.0); empty strings when the table is empty
        return "SELECT IFNULL(MAX(User_name), ''), IFNULL(MAX(User_password), '') FROM mysql.slave_master_info"

    def gtid_facts_sql(self) -> str | None:
        if not self.supports_gtid:
            return None
        return (
            "SELECT @@global.gtid_mode AS gtid_mode, @@global.server_uuid AS server_uuid, "
            "@@global.gtid_executed AS gtid_executed, @@global.gtid_purged AS gtid_purged, "
            "@@global.binlog_row_image AS binlog_row_image"
        )

    def parse_gtid_facts(self, row: Row | None) -> GtidFacts:
        facts = super().parse_gtid_facts(row)
        return GtidFacts(
            gtid_mode=facts.gtid_mode,
            server_uuid=facts.server_uuid,
            gtid_executed=facts.gtid_executed,
            gtid_purged=facts.gtid_purged,
            binlog_row_image=facts.binlog_row_image,
        )

    def _gtid_clause(self, gtid: str) -> str:
        if gtid in ("slave_pos", "current_pos"):
            raise FlavorError(f"gtid={gtid!r} is MariaDB only; Oracle MySQL uses 'auto' or 'off'")
        if not self.supports_gtid:
            raise FlavorError(f"MySQL {self.version} predates GTID (5.6.5): no auto-position")
        prefix = "SOURCE" if self._source_syntax else "MASTER"
        return f"{prefix}_AUTO_POSITION={1 if gtid == 'auto' else 0}"

    def gtid_wait(self, gtid: str, timeout_s: int) -> str:
        if not self.at_least(5, 7, 5):
            raise FlavorError(f"MySQL {self.version} has no WAIT_FOR_EXECUTED_GTID_SET (5.7.5+)")
        gtid_set = check_oracle_gtid_set(gtid)
        timeout_s = check_int("timeout", timeout_s, 0)
        return f"SELECT WAIT_FOR_EXECUTED_GTID_SET({quote_string(gtid_set)}, {timeout_s}) AS wait_result"

    def skip_query(self, *, oracle_gtid: bool = False) -> list[str]:
        if oracle_gtid:
            raise FlavorError(
                "cannot skip a query with the skip counter while gtid_mode=ON: "
                "inject an empty transaction for the failing GTID instead (inject_empty_transaction)"
            )
        return super().skip_query()

    def inject_empty_transaction(self, gtid: str) -> list[str]:
        """Statements to run, in order, on ONE session: commit an empty transaction as ``gtid``."""
        if not self.supports_gtid:
            raise FlavorError(f"MySQL {self.version} predates GTID (5.6.5)")
        text = check_oracle_gtid(gtid)
        return [f"SET GTID_NEXT = {quote_string(text)}", "BEGIN", "COMMIT", "SET GTID_NEXT = 'AUTOMATIC'"]

    def set_gtid_purged(self, gtid_set: str) -> list[str]:
        if not self.supports_gtid:
            raise FlavorError(f"MySQL {self.version} predates GTID (5.6.5): no gtid_purged")
        value = check_oracle_gtid_set(gtid_set, "gtid_purged value")
        return [f"SET GLOBAL gtid_purged = {quote_string(value)}"]


class MySQL57(_Oracle):
    """Oracle MySQL / Percona Server before 8.0 (5.7, also 5.6 and 5.5 with features gated)."""

    name = "MySQL57"
    default_version = "5.7.44"
    max_version = (8, 0, 0)


class MySQL80Legacy(_Oracle):
    """MySQL 8.0.0 - 8.0.21: only the legacy MASTER/SLAVE statements exist."""

    name = "MySQL80Legacy"
    default_version = "8.0.21"
    min_version = (8, 0, 0)
    max_version = (8, 0, 22)


class MySQL80(_Oracle):
    """MySQL 8.0.22 - 8.1.x: REPLICA/SOURCE statements (CHANGE REPLICATION SOURCE from 8.0.23)."""

    name = "MySQL80"
    default_version = "8.0.40"
    min_version = (8, 0, 22)
    max_version: ClassVar[Version | None] = (8, 2, 0)

    @property
    def _replica_word(self) -> str:
        return "REPLICA"

    @property
    def _source_syntax(self) -> bool:
        return self.at_least(8, 0, 23)

    @property
    def _replica_variable_names(self) -> bool:
        return self.at_least(8, 0, 26)

    def replica_hosts_sql(self) -> str:
        return "SHOW REPLICAS"


class MySQL84(MySQL80):
    """MySQL 8.2+ (8.4 LTS, 9.x): no MASTER/SLAVE statements or variables remain."""

    name = "MySQL84"
    default_version = "8.4.0"
    min_version = (8, 2, 0)
    max_version = None

    @property
    def semi_sync_source_names_default(self) -> bool:
        return True

    def master_status_sql(self) -> str:
        return "SHOW BINARY LOG STATUS"

    def reset_master(self) -> list[str]:
        return ["RESET BINARY LOGS AND GTIDS"]

    def _semi_sync_names(self, source_names: bool | None) -> tuple[str, str]:
        # only the semisync_source / semisync_replica plugins exist
        return ("rpl_semi_sync_source_enabled", "rpl_semi_sync_replica_enabled")
