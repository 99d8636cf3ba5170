"""One topology server over a mysql.connector connection: `ConnectedServer`, which implements the
`TopologyServer` protocol (mysql/protocol.py) by running the flavor's statements."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.access import TimeoutLimit, topology_error
from orchestrator_cli.mysql.facts import BinlogEvent, CoreVariables, GtidFacts, ReplicaStatus, SemiSyncFacts
from orchestrator_cli.mysql.protocol import Row
from orchestrator_cli.mysql.rows import rows_to_dict

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator_cli.mysql.access import TopologyAccess

log = logging.getLogger("orchestrator.mysql")


class ConnectedServer:
    """A `TopologyServer`: one connection, opened on first use, reopened after it was lost, and
    replaced before a statement once older than MySQLConnectionLifetimeSeconds (`_connection`)."""

    def __init__(self, key: InstanceKey, access: TopologyAccess, *, discovery: bool = False) -> None:
        self.key = key
        self.access = access
        self._discovery = discovery
        self._conn: Any = None
        # The flavor of the server as the current (or, between connections, the last) connection
        # found it: detected again on every new connection (`_connection`), so that a server upgraded,
        # or replaced by another behind the same address, is read and changed as what it is now.
        self._flavor: fl.Flavor | None = None
        self._reconnect_for_flavor = False  # a connection was closed: the next `flavor` reconnects
        self._cursors: dict[bool, Any] = {}  # reused: creating a cursor costs a ping
        self._lock = threading.RLock()
        self._opened_at = 0.0  # monotonic: when `_conn` was opened (MySQLConnectionLifetimeSeconds)
        self._one_session = 0  # > 0 while `change` runs statements that must share one session

    # -- connection -----------------------------------------------------------------------------
    @property
    def lifetime_seconds(self) -> int:
        """MySQLConnectionLifetimeSeconds (0: unlimited), which the original applies to its topology
        pools as to the backend's (`backend.connection.Backend.lifetime_seconds`): continuous mode's
        long-lived connections then reach again a server behind a name or a proxy that moved."""
        return max(0, int(self.access.config.get("MySQLConnectionLifetimeSeconds") or 0))

    def _retire_if_old(self) -> None:
        """Close a connection older than the lifetime (the caller holds `_lock`): the next statement
        opens a new one. Between statements only: never inside `change`'s list of statements, which
        may share session state (`SET GTID_NEXT`, `BEGIN`, `COMMIT`)."""
        if self._conn is None or self._one_session:
            return
        lifetime = self.lifetime_seconds
        if lifetime and time.monotonic() - self._opened_at >= lifetime:
            log.debug("%s: connection older than MySQLConnectionLifetimeSeconds, replaced", self.key)
            self.close()

    def _connection(self) -> Any:
        """The open connection (the caller holds `_lock`), opened or replaced as needed."""
        self._retire_if_old()
        if self._conn is None:
            from orchestrator_cli.driver import connector

            mysql_connector = connector()
            hung = self.access.unresponsive.since(self.key) if self.access.unresponsive is not None else None
            if hung is not None:
                raise TopologyError(f"{self.key}: not answering (a probe has been waiting for it)")
            try:
                self._conn = mysql_connector.connect(**self.access.connect_params(self.key, discovery=self._discovery))
                self._opened_at = time.monotonic()
            except mysql_connector.Error as e:
                raise topology_error(self.key, e, self._limit(connecting=True)) from e
            except OSError as e:
                raise TopologyError(f"{self.key}: {e}") from e
            self._flavor = _handshake_flavor(self._conn)
            self._reconnect_for_flavor = False
        return self._conn

    def _limit(self, *, connecting: bool) -> TimeoutLimit:
        """The timeout setting that applies to this connection now (named when it expires)."""
        return self.access.timeout_limit(discovery=self._discovery, connecting=connecting)

    def _drop_if_lost(self, conn: Any, error: Any) -> None:
        """After a lost connection or a read timeout, the next statement must reconnect instead of
        failing on the dead handle.

        The server's own errors (an SQL error, errno below 2000) leave the connection usable. Anything
        else is the client's (timeout, lost or refused connection) and the handle is dropped without
        a word to the server: asking it (`is_connected()` pings) would wait out a second read timeout
        on a server that stopped answering, doubling what one hung server costs its probe.
        """
        errno = getattr(error, "errno", None)
        if errno is not None and 0 < errno < 2000:
            return
        log.debug("%s: connection dropped after: %s", self.key, error)
        self.close(lost=True)

    def close(self, *, lost: bool = False) -> None:
        """Close the connection; `lost`: the server does not answer, so no QUIT is sent."""
        with self._lock:
            self._cursors.clear()
            if self._conn is not None:
                try:
                    if lost:
                        self._conn.shutdown()
                    else:
                        self._conn.close()
                except Exception as e:  # closing a dead connection must not mask the real error
                    log.debug("%s: close failed: %s", self.key, e)
                self._conn = None
                self._reconnect_for_flavor = True

    def abort(self) -> None:
        """Shut the socket down without taking the lock a blocked statement holds (see
        TopologyAccess.abort); the statement then fails and drops the handle itself."""
        conn = self._conn
        if conn is not None:
            try:
                conn.shutdown()
            except Exception as e:  # already gone: nothing to unblock
                log.debug("%s: abort failed: %s", self.key, e)

    @property
    def flavor(self) -> fl.Flavor:
        """The flavor of the connection the next statement runs on.

        Known from the handshake of each new connection (no statement). A connection that is gone
        (lost, closed, or past MySQLConnectionLifetimeSeconds) is replaced first, so statements built
        from the flavor suit the server that will run them; `_version_flavor` asks the server when
        the handshake's version cannot be read."""
        with self._lock:
            if self._conn is not None or self._reconnect_for_flavor or self._flavor is None:
                self._connection()  # opens or replaces an old or lost connection, detecting the flavor
            if self._flavor is None:
                self._flavor = self._version_flavor()
            return self._flavor

    def _version_flavor(self) -> fl.Flavor:
        return fl.detect_flavor_from_row(self.query_one(fl.version_sql()) or {})

    # -- reads ----------------------------------------------------------------------------------
    def _cursor(self, conn: Any, *, dictionary: bool) -> Any:
        """One cursor per kind and connection, built directly on the connection, as the driver's
        documentation shows for its cursor classes: `conn.cursor()` pings the server first, a round
        trip that a connection opened a moment ago (or one whose last statement answered) does not
        need. The connection is always the pure-Python one (`connect_params` sets use_pure)."""
        cur = self._cursors.get(dictionary)
        if cur is None:
            from mysql.connector.cursor import MySQLCursor, MySQLCursorDict

            cur = self._cursors[dictionary] = (MySQLCursorDict if dictionary else MySQLCursor)(conn)
        return cur

    def query(self, sql: str) -> list[Row]:
        import mysql.connector

        with self._lock:
            conn = self._connection()
            try:
                cur = self._cursor(conn, dictionary=True)
                cur.execute(sql)
                rows = cur.fetchall() if cur.with_rows else []
            except mysql.connector.Error as e:
                self._drop_if_lost(conn, e)
                raise topology_error(self.key, e, self._limit(connecting=False)) from e
            return [{k: _plain(v) for k, v in r.items()} for r in rows]

    def query_one(self, sql: str) -> Row | None:
        rows = self.query(sql)
        return rows[-1] if rows else None

    def core_variables(self) -> CoreVariables:
        with self._lock:
            flavor = self.flavor
            core = flavor.parse_core_variables(self.query_one(flavor.core_variables_sql()))
            return self._confirm_flavor(flavor, core, lambda f: f.core_variables_sql(), None)[1]

    def probe_variables(self) -> tuple[CoreVariables, GtidFacts]:
        """`core_variables` and `gtid_facts` in one statement (`Flavor.probe_variables_sql`)."""
        with self._lock:
            flavor = self.flavor
            row = self.query_one(flavor.probe_variables_sql())
            core = flavor.parse_core_variables(row)
            flavor, core, row = self._confirm_flavor(flavor, core, lambda f: f.probe_variables_sql(), row)
            return core, flavor.parse_gtid_facts(row if flavor.gtid_facts_sql() else None)

    def _confirm_flavor(
        self, flavor: fl.Flavor, core: CoreVariables, sql: Callable[[fl.Flavor], str], row: Row | None
    ) -> tuple[fl.Flavor, CoreVariables, Row | None]:
        """The flavor detected again from the ``@@version`` and ``@@version_comment`` the core
        variables read (the caller holds `_lock`), and kept for the connection: exactly what the
        server says of itself, comment included, where the handshake's version has no comment (and
        could be a proxy's). When that flavor reads its variables with other statement text (`sql`),
        they are read again with it; the core variables and `row` returned are that flavor's."""
        if not core.version:
            return flavor, core, row  # nothing to confirm the handshake's flavor with
        found = fl.detect_flavor(core.version, core.version_comment)
        self._flavor = found
        if sql(found) != sql(flavor):
            row = self.query_one(sql(found))
            core = found.parse_core_variables(row)
        return found, core, row

    def uptime(self) -> int:
        return self.flavor.parse_uptime(self.query(self.flavor.uptime_sql()))

    def master_status(self) -> BinlogCoordinates:
        return self.flavor.parse_master_status(self.query_one(self.flavor.master_status_sql()))

    def replica_status(self) -> ReplicaStatus:
        return self.flavor.parse_replica_status(self.query(self.flavor.replica_status_sql()))

    def replica_connections(self) -> list[tuple[str, ReplicaStatus]]:
        """Every replication connection, named ones included (MariaDB multi-source): (name, status)."""
        return self.flavor.parse_replica_connections(self.query(self.flavor.replica_connections_sql()))

    def replica_hosts(self) -> list[InstanceKey]:
        return self.flavor.parse_replica_hosts(self.query(self.flavor.replica_hosts_sql()))

    def processlist_replica_hosts(self) -> list[str]:
        return self.flavor.parse_processlist_replicas(self.query(self.flavor.processlist_replicas_sql()))

    def semi_sync(self) -> SemiSyncFacts:
        variables = rows_to_dict(self.query(self.flavor.semi_sync_variables_sql()))
        status = rows_to_dict(self.query(self.flavor.semi_sync_status_sql()))
        return self.flavor.parse_semi_sync(variables, status)

    def uptime_and_semi_sync(self) -> tuple[int, SemiSyncFacts]:
        """`uptime` and `semi_sync` in two statements instead of three (`Flavor.probe_status_sql`)."""
        with self._lock:
            flavor = self.flavor
            variables = rows_to_dict(self.query(flavor.semi_sync_variables_sql()))
            status = self.query(flavor.probe_status_sql())
            return flavor.parse_uptime(status), flavor.parse_semi_sync(variables, rows_to_dict(status))

    def gtid_facts(self) -> GtidFacts:
        sql = self.flavor.gtid_facts_sql()
        return self.flavor.parse_gtid_facts(self.query_one(sql) if sql else None)

    def binary_logs(self) -> list[tuple[str, int]]:
        return self.flavor.parse_binary_logs(self.query(self.flavor.binary_logs_sql()))

    def binlog_events(
        self, file: str, pos: int, limit: int, *, relay: bool = False, offset: int = 0
    ) -> list[BinlogEvent]:
        """One page of a binary log (or, with `relay`, a relay log) from `pos`."""
        sql = self.flavor.binlog_events_sql(file, pos, limit, relay=relay, offset=offset)
        return self.flavor.parse_binlog_events(self.query(sql))

    def grants(self) -> list[str]:
        return self.flavor.parse_grants(self.query(self.flavor.grants_sql()))

    def first_row(self, sql: str) -> tuple[Any, ...] | None:
        """The first row of a user-configured query (Detect*Query, ReplicationLagQuery,
        ReplicationCredentialsQuery) as a tuple, read by position: column names are the user's and
        may repeat (`select 'ci', 'ci'`), so they are never used as keys. None when there is no row."""
        with self._lock:
            conn = self._connection()
            import mysql.connector

            try:
                cur = self._cursor(conn, dictionary=False)
                cur.execute(sql)
                row = cur.fetchone() if cur.with_rows else None
                if cur.with_rows:
                    cur.fetchall()
            except mysql.connector.Error as e:
                self._drop_if_lost(conn, e)
                raise topology_error(self.key, e, self._limit(connecting=False)) from e
        return None if row is None else tuple(_plain(v) for v in row)

    def single_value(self, sql: str) -> Any:
        """First column of the first row of a user-configured query (Detect*Query, ReplicationLagQuery)."""
        row = self.first_row(sql)
        return None if not row else row[0]

    # -- changes --------------------------------------------------------------------------------
    def change(self, statements: list[str], *, wait_result: bool = False) -> list[Row]:
        """Run statements that change the server: each is logged and audited, or only recorded under --noop.

        The statements run on one session, in order, without another thread's statement in between."""
        out: list[Row] = []
        with self._lock:
            self._retire_if_old()  # before the first statement: all of them then share one connection
            self._one_session += 1
            try:
                for sql in statements:
                    if self.access.noop:
                        self.access.noop_statements.append((self.key, sql))
                        continue
                    self.access.report_change(self.key, redact_statement(sql))
                    out = self.query(sql)
            finally:
                self._one_session -= 1
        return out

    def wait(self, sql: str) -> Any:
        """A blocking wait function (MASTER_POS_WAIT, MASTER_GTID_WAIT): a read, but may take long."""
        return self.single_value(sql)


def _handshake_flavor(conn: Any) -> fl.Flavor | None:
    """The flavor of the version a connection's handshake announced (MariaDB's ``5.5.5-`` prefix is
    understood); None when that text cannot be read as a version (`ConnectedServer.flavor` then asks)."""
    try:
        return fl.detect_flavor_from_handshake(conn.server_info or "")
    except fl.FlavorError:
        return None


def redact_statement(sql: str) -> str:
    """Mask passwords in a statement before it is logged, audited or shown."""
    import re

    literal = r"'(?:[^'\\]|\\.|'')*'"  # backslash escapes and doubled quotes (NO_BACKSLASH_ESCAPES)
    return re.sub(r"(PASSWORD\s*=\s*)" + literal, r"\1'********'", sql, flags=re.IGNORECASE)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if isinstance(value, set):
        return ",".join(sorted(value))
    return value
