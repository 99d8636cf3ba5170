"""The backend database handle: one lazily opened DB-API connection (sqlite3 or mysql.connector).

Statements run through plain DB-API so that the cron path never imports SQLAlchemy; SQLAlchemy is
only loaded to deploy the schema (see `deploy.py`), which happens once per backend, not per run.
"""

from __future__ import annotations

import _thread
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from orchestrator_cli import logs, observe
from orchestrator_cli.backend.dialect import Dialect, MySQLDialect, SQLiteDialect
from orchestrator_cli.errors import BackendError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")
    Row = dict[str, Any]
else:
    Row = dict  # dict[str, Any]
log = logs.getLogger("orchestrator.backend")
_LOCKED = ("database is locked", "database table is locked", "database schema is locked", "busy")
# MySQL refusing a connection because a connection limit is reached: a storm of cron jobs on a shared
# backend meets these, and they pass as soon as other clients disconnect.
ER_CON_COUNT_ERROR = 1040  # Too many connections (max_connections)
ER_TOO_MANY_USER_CONNECTIONS = 1203  # the server's max_user_connections
ER_USER_LIMIT_REACHED = 1226  # an account resource; only its MAX_USER_CONNECTIONS passes soon
_CONNECTION_LIMIT_ERRORS = (ER_CON_COUNT_ERROR, ER_TOO_MANY_USER_CONNECTIONS)
# MySQL's deadlock victim: its transaction was rolled back, and running it again is what the server
# asks for (`Backend.run_transaction`; a single statement by `execute`), as SQLite's `busy` is waited
# out. A lock wait timeout (1205) is not retried: it already waited innodb_lock_wait_timeout.
ER_LOCK_DEADLOCK = 1213
CR_MIN_CLIENT_ERROR = 2000  # mysql.connector's own errors (lost connection, timeouts) start here


def _is_connection_limit(errno: int | None, message: str) -> bool:
    return errno in _CONNECTION_LIMIT_ERRORS or (errno == ER_USER_LIMIT_REACHED and "max_user_connections" in message)


RETRY_SECONDS = 120.0  # how long lock contention and connection limits are retried before giving up
SQLITE_BUSY_SECONDS = 60.0  # one attempt's wait on a SQLite lock (busy_timeout)


class Backend:
    """Owns the connection, dialect and write retries; the per-concern modules own the SQL."""

    def __init__(self, config: Mapping[str, Any], *, deploy: bool = True, retry_seconds: float = RETRY_SECONDS) -> None:
        self.config = config
        self.retry_seconds = retry_seconds
        self.is_sqlite = "sqlite" in str(config.get("BackendDB", "sqlite")).lower()
        self.dialect: Dialect = SQLiteDialect() if self.is_sqlite else MySQLDialect()
        self._conn: Any = None
        self._cur: Any = None  # MySQL: the one cursor of `_conn`, reused (see `_cursor`)
        self._deploy = deploy
        self._opened_at = 0.0  # monotonic: when `_conn` was opened (MySQLConnectionLifetimeSeconds)
        self._lock = _thread.RLock()  # threading's RLock, without importing threading
        self._in_tx = 0

    # -- connection lifecycle -------------------------------------------------------------------
    @property
    def lifetime_seconds(self) -> int:
        """MySQLConnectionLifetimeSeconds (0: unlimited): an older MySQL connection is closed and
        replaced before its next statement, as the original's pool does (a load balancer or a
        failed-over backend behind a name is reached again). Read from `config` each time: a reload
        that assigns a new `config` applies it."""
        if self.is_sqlite:
            return 0
        return max(0, int(self.config.get("MySQLConnectionLifetimeSeconds") or 0))

    @property
    def description(self) -> str:
        if self.is_sqlite:
            return str(self.config["SQLite3DataFile"])
        return f"{self.config['MySQLOrchestratorHost']}:{self.config['MySQLOrchestratorPort']}"

    def connection(self) -> Any:
        if self._conn is None:
            self._conn = self._open_sqlite() if self.is_sqlite else self._open_mysql()
            self._opened_at = time.monotonic()
            if self._deploy:
                from orchestrator_cli.backend.deploy import ensure_schema

                ensure_schema(self)
        return self._conn

    def _open_sqlite(self) -> Any:
        sqlite3 = _sqlite_driver()
        path = str(self.config["SQLite3DataFile"])
        if path != ":memory:":
            directory = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise BackendError(f"cannot create backend directory {directory}: {e.strerror}") from e
        try:
            busy = min(SQLITE_BUSY_SECONDS, self.retry_seconds)
            conn = sqlite3.connect(path, timeout=busy, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")  # the first statement to read the file: fails on garbage
        except sqlite3.Error as e:
            raise BackendError(f"cannot open SQLite backend {path}: {e}") from e
        conn.create_function("REGEXP", 2, _sqlite_regexp, deterministic=True)
        return conn

    def mysql_params(self, with_database: bool = True) -> dict[str, Any]:
        c = self.config
        params: dict[str, Any] = {
            "host": c["MySQLOrchestratorHost"] or "127.0.0.1",
            "port": int(c["MySQLOrchestratorPort"]),
            "user": c["MySQLOrchestratorUser"],
            "password": c["MySQLOrchestratorPassword"],
            "connection_timeout": int(c["MySQLConnectTimeoutSeconds"]),
            "read_timeout": int(c["MySQLOrchestratorReadTimeoutSeconds"]),
            "autocommit": True,
            "use_pure": True,
            "charset": "utf8mb4",
            # CLIENT_CONNECT_ATTRS cleared: the driver's default attributes cost an `lsb_release -a`
            # child process on the first connection (see mysql/access.py's NO_CONNECT_ATTRS).
            "client_flags": [-(1 << 20)],
        }
        if with_database:
            params["database"] = c["MySQLOrchestratorDatabase"]
        if c.get("MySQLOrchestratorUseMutualTLS"):
            params.update(
                ssl_ca=c["MySQLOrchestratorSSLCAFile"] or None,
                ssl_cert=c["MySQLOrchestratorSSLCertFile"] or None,
                ssl_key=c["MySQLOrchestratorSSLPrivateKeyFile"] or None,
                ssl_verify_cert=not c["MySQLOrchestratorSSLSkipVerify"],
            )
        return params

    def _open_mysql(self) -> Any:
        import mysql.connector
        from mysql.connector import errorcode

        try:
            return self._connect_mysql(self.mysql_params())
        except mysql.connector.Error as e:
            if e.errno != errorcode.ER_BAD_DB_ERROR:
                text = driver_message(e)
                if "timed out" in text.lower():
                    text += f" (MySQLConnectTimeoutSeconds={self.config['MySQLConnectTimeoutSeconds']})"
                raise BackendError(f"cannot connect to MySQL backend {self.description}: {text}") from e
        try:
            bootstrap = self._connect_mysql(self.mysql_params(with_database=False))
            cur = bootstrap.cursor()
            name = str(self.config["MySQLOrchestratorDatabase"]).replace("`", "``")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
            bootstrap.close()
            return self._connect_mysql(self.mysql_params())
        except mysql.connector.Error as e:
            raise BackendError(f"cannot create MySQL backend database: {driver_message(e)}") from e

    def _connect_mysql(self, params: Mapping[str, Any]) -> Any:
        """Connect; a server at its connection limit is retried (bounded, jittered), not failed."""
        from orchestrator_cli.driver import connector

        mysql_connector = connector()

        refused: list[str] = []

        def attempt() -> Any:
            try:
                return mysql_connector.connect(**params)
            except mysql_connector.Error as e:
                if not _is_connection_limit(e.errno, str(e)):
                    raise
                if not refused:
                    log.info(
                        "MySQL backend %s at its connection limit (%s): retrying for up to %.0fs",
                        self.description, driver_message(e), self.retry_seconds,
                    )  # fmt: skip
                refused.append(driver_message(e))
                raise _ConnectionLimit(driver_message(e)) from e

        try:
            return self._retrying(attempt, wrap=False)
        except _GaveUp as e:
            raise BackendError(
                f"cannot connect to MySQL backend {self.description}: {e.last}"
                f" (still refused after retrying for {e.waited:.0f}s)"
            ) from e

    @contextmanager
    def lease(self) -> Iterator[Backend]:
        """A backend for a block of statements that belong together (a probe's read and write): this
        one itself. A `BackendPool` lends one of its connections for the block instead, so that a
        thread holds a connection only while it works with the backend."""
        yield self

    def close(self) -> None:
        self._cur = None
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _live_connection(self) -> Any:
        """The connection, reopened first when the MySQL server has closed it (KILL, wait_timeout,
        a restart): a long-lived daemon's backend outlives any one connection.

        Nothing has been sent on the dead connection yet, so reopening is safe for writes too; except
        inside a transaction, whose earlier statements died with the connection: that is an error.
        """
        conn = self.connection()
        if self.is_sqlite:
            return conn
        if not _closed_by_server(conn):
            if not self.lifetime_seconds or self._in_tx or time.monotonic() - self._opened_at < self.lifetime_seconds:
                return conn
            log.debug(
                "MySQL backend %s: connection older than MySQLConnectionLifetimeSeconds, replaced", self.description
            )
            self.close()  # a transaction never spans the replacement: its statements share one connection
        else:
            self._drop_lost()
            if self._in_tx:
                raise BackendError(f"lost the connection to MySQL backend {self.description} during a transaction")
            log.info("MySQL backend %s closed the connection: reconnecting", self.description)
        self._conn = self._open_mysql()  # the schema was checked when the first connection opened
        self._opened_at = time.monotonic()
        return self._conn

    def _drop_lost(self) -> None:
        """Forget a connection the server no longer answers on, without a QUIT it would not read."""
        conn, self._conn, self._cur = self._conn, None, None
        if conn is not None:
            try:
                conn.shutdown()
            except Exception as e:  # already gone: nothing to release
                log.debug("closing the lost backend connection failed: %s", e)

    # -- statements -----------------------------------------------------------------------------
    @contextmanager
    def _statement(self, sql: str, params: Sequence[Any]) -> Iterator[Any]:
        """Run one statement under the lock and lend its cursor until the caller has read the result."""
        with self._lock:
            cur = self._cursor()
            try:
                if self.is_sqlite:
                    # plain tuples: `dict(sqlite3.Row)` looks every column up by name, which made a wide
                    # read of thousands of rows cost more than the query
                    cur.row_factory = None
                self._run(cur, sql, params)
                yield cur
            finally:
                self._release(cur)

    def _dicts(self, cur: Any, rows: Iterable[Sequence[Any]]) -> Iterator[Row]:
        """`rows` of `cur` as dicts by column name; a repeated name reads its first column (as
        sqlite3.Row did); MySQL values are made plain (no bytearray/Decimal surprises)."""
        names = [d[0] for d in cur.description or ()]
        if not self.is_sqlite:
            return ({n: _plain(v) for n, v in zip(names, r, strict=True)} for r in rows)
        first = {n: names.index(n) for n in names}
        if len(first) < len(names):
            return ({n: r[i] for n, i in first.items()} for r in rows)
        return (dict(zip(names, r, strict=True)) for r in rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._statement(sql, params) as cur:
            return list(self._dicts(cur, cur.fetchall()))

    def query_iter(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        """Like `query`, one row at a time: a read of thousands of wide rows never holds them all.

        The connection is held until the iteration ends (or the iterator is closed). On MySQL the
        result is fetched whole first (the driver cannot run another statement mid-result).
        """
        with self._statement(sql, params) as cur:
            if not self.is_sqlite:
                yield from self._dicts(cur, cur.fetchall())
                return
            while chunk := cur.fetchmany(batch):
                yield from self._dicts(cur, chunk)

    def query_values(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples in the column order of `sql`: for reads of many rows and few columns,
        where a dict per row would cost more than the read itself."""
        with self._statement(sql, params) as cur:
            if self.is_sqlite:
                return list(cur.fetchall())
            return [tuple(_plain(v) for v in r) for r in cur.fetchall()]

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.query_one(sql, params)
        return None if row is None else next(iter(row.values()))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write; returns the affected row count. Lock contention is retried, not failed."""
        with self._lock:
            if self._in_tx:
                return self._execute_once(sql, params)
            return self._retrying(lambda: self._execute_once(sql, params))

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():
            cur = self._cursor()
            try:
                cur.executemany(self.dialect.placeholders(sql), rows)
            except Exception as e:
                self._drop_if_lost(e)
                raise self._wrap(e, sql) from e
            finally:
                self._release(cur)

    def run_transaction(self, work: Callable[[], _T]) -> _T:
        """`work()` in one transaction, run again whole when MySQL picks it as a deadlock victim or
        SQLite stays busy, for up to `retry_seconds`: `work` must be safe to repeat (upserts,
        conditional writes). Inside an enclosing transaction it runs once, and a deadlock fails the
        enclosing one."""
        if self._in_tx:
            return work()

        def once() -> _T:
            with self.transaction():
                return work()

        with self._lock:
            return self._retrying(once)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE)."""
        with self._lock:
            if self._in_tx:
                self._in_tx += 1
                try:
                    yield
                finally:
                    self._in_tx -= 1
                return
            conn = self._live_connection()
            start = (lambda: conn.execute("BEGIN IMMEDIATE")) if self.is_sqlite else conn.start_transaction
            self._retrying(lambda: self._driver_call(start, "BEGIN"))
            self._in_tx = 1
            try:
                yield
            except BaseException:
                self._in_tx = 0
                if conn is self._conn:  # a connection lost meanwhile was dropped: the server rolled back
                    try:
                        self._driver_call(conn.rollback, "ROLLBACK")
                    except BackendError as e:  # the original failure is the one to report
                        log.debug("MySQL backend %s: rollback failed: %s", self.description, e)
                raise
            else:
                self._in_tx = 0
                self._retrying(lambda: self._driver_call(conn.commit, "COMMIT"))

    def _driver_call(self, call: Callable[[], _T], what: str) -> _T:
        """`call()`, a driver method sent outside `_run` (BEGIN, COMMIT, ROLLBACK), its driver errors
        raised as `BackendError` like a statement's: a connection that timed out or was lost is dropped
        first. A raw driver exception would escape every caller's `except OrchestratorError` (the
        continuous mode's lease thread died of one when the backend hung past its read timeout)."""
        try:
            return call()
        except Exception as e:
            if isinstance(e, BackendError) or not _is_driver_error(e):
                raise
            self._drop_if_lost(e)
            raise self._wrap(e, what) from e

    def _cursor(self) -> Any:
        """A cursor for one statement. On MySQL the connection's one cursor is reused: the pure-Python
        driver's `cursor()` pings the server, a round trip per statement that cost a quarter of a
        continuous-mode probe's wall time; a connection the server closed is noticed without it."""
        conn = self._live_connection()
        if self.is_sqlite:
            return conn.cursor()
        if self._cur is None:
            self._cur = conn.cursor()
        return self._cur

    def _release(self, cur: Any) -> None:
        """Done with a cursor from `_cursor` (MySQL's reused one stays open with its connection)."""
        if cur is not self._cur:
            cur.close()

    def _run(self, cur: Any, sql: str, params: Sequence[Any]) -> None:
        started = time.monotonic()
        try:
            cur.execute(self.dialect.placeholders(sql), tuple(params))
        except Exception as e:
            self._drop_if_lost(e)
            raise self._wrap(e, sql) from e
        finally:
            observe.backend_query(sql, time.monotonic() - started)

    def _execute_once(self, sql: str, params: Sequence[Any]) -> int:
        cur = self._cursor()
        try:
            self._run(cur, sql, params)
            return int(cur.rowcount)
        finally:
            self._release(cur)

    def _drop_if_lost(self, error: Exception) -> None:
        """A statement that failed on the client's side (lost connection, timeout: mysql.connector's
        errors from 2000 on) leaves the connection unusable: the next statement opens a new one."""
        errno = getattr(error, "errno", None)
        if not self.is_sqlite and isinstance(errno, int) and errno >= CR_MIN_CLIENT_ERROR:
            log.info("MySQL backend %s: connection dropped after: %s", self.description, driver_message(error))
            self._drop_lost()

    def _wrap(self, e: Exception, sql: str) -> Exception:
        if isinstance(e, BackendError):
            return e
        text = _one_line(str(e))
        if self.is_sqlite and any(s in text for s in _LOCKED):
            return _Locked(text)
        first = " ".join(sql.split())[:80]
        if not self.is_sqlite and getattr(e, "errno", None) == ER_LOCK_DEADLOCK:
            return _LockConflict(f"backend statement failed ({first}...): {text}")
        return BackendError(f"backend statement failed ({first}...): {text}")

    def _retrying(self, fn: Callable[[], _T], *, wrap: bool = True) -> _T:
        """Retry lock contention (and connection limits) with jittered back-off for `retry_seconds`.

        tenacity is imported only when contention happens. The wait reported when giving up is the
        real one, measured from the first attempt (an attempt itself may block on SQLite's busy timeout).
        """
        started = time.monotonic()
        try:
            return fn()
        except _Retryable:
            pass
        except Exception as e:
            if not wrap or not isinstance(self._wrap(e, ""), _Retryable):
                raise
        import tenacity

        retry = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            wait=tenacity.wait_random_exponential(multiplier=0.02, max=1.0),
            stop=tenacity.stop_after_delay(max(0.0, self.retry_seconds - (time.monotonic() - started))),
            reraise=True,
        )

        def attempt() -> _T:
            try:
                return fn()
            except _Retryable:
                raise
            except Exception as e:
                if not wrap:
                    raise
                wrapped = self._wrap(e, "")
                raise wrapped from e

        try:
            return retry(attempt)
        except (_Locked, _LockConflict) as e:
            waited = time.monotonic() - started
            raise BackendError(f"backend stayed locked for {_seconds(waited)}: {e}") from e
        except _ConnectionLimit as e:
            raise _GaveUp(str(e), time.monotonic() - started) from e


class _Retryable(BackendError):
    """A transient refusal that `Backend._retrying` waits out."""


class _GaveUp(BackendError):
    """Retrying a connection limit did not help within the budget."""

    def __init__(self, last: str, waited: float) -> None:
        super().__init__(last)
        self.last = last
        self.waited = waited


class _ConnectionLimit(_Retryable):
    """MySQL's `Too many connections` (1040) or a user's connection limit (1203, 1226)."""


class _LockConflict(_Retryable):
    """MySQL's deadlock (1213): a single statement is retried by `Backend.execute`, a whole transaction
    by `Backend.run_transaction`."""


class _Locked(_Retryable):
    """SQLite lock contention: retried by `Backend._retrying`."""


def _closed_by_server(conn: Any) -> bool:
    """True when an idle MySQL connection can no longer be used: its socket is readable (the server
    closed it, or sent an unsolicited error packet before closing) or in error. One non-blocking poll,
    not a round trip, with or without TLS. A readable TLS socket may only hold TLS records of its own
    (a session ticket sent after the handshake), so that one is asked with a ping: the ping's reply
    tells, and reading it consumes those records, so the next polls are quiet again."""
    import select
    import ssl

    sock = getattr(getattr(conn, "_socket", None), "sock", None)
    if sock is None:
        return not conn.is_connected()
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
        readable = bool(poller.poll(0))
    except (OSError, ValueError):  # closed locally (fileno -1)
        return True
    if readable and isinstance(sock, ssl.SSLSocket):
        return not conn.is_connected()
    return readable


def _is_driver_error(error: BaseException) -> bool:
    """An exception of a database driver (mysql.connector, sqlite3), not a bug in our own code."""
    return type(error).__module__.split(".")[0] in ("mysql", "sqlite3", "_sqlite3")


def _one_line(text: str) -> str:
    """A driver's message on one line, without mysql-connector's advice after a timeout.

    >>> _one_line("3024: \\n    The Read Operation timed out. As a consequence the connection...\\n")
    '3024: The Read Operation timed out'
    >>> _one_line("1290 (HY000): The MariaDB server is running with the --read-only option")
    '1290 (HY000): The MariaDB server is running with the --read-only option'
    """
    text = " ".join(text.split())
    if "timed out" in text.lower():
        text = text.split(". ", 1)[0].rstrip(".")
    return text


def driver_message(error: Exception) -> str:
    """The driver's message on one line. On a timeout, mysql-connector adds advice about calling
    reconnect(), which means nothing to an operator: only its first sentence is kept."""
    text = " ".join(str(getattr(error, "msg", None) or error).split())
    if "timed out" in text.lower():
        text = text.split(". ", 1)[0].rstrip(".")
    return text


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


def _sqlite_driver() -> Any:
    """The `sqlite3` driver's C module, which `connect`, `Row` and the error classes come from.

    The `sqlite3` package around it (`sqlite3.dbapi2`) adds the DB-API constructors and registers the
    default `datetime` adapters and converters; importing it costs every CLI run ~1 ms more, `datetime`
    mostly. The backend binds no date objects (timestamps are SQL text, see `dialect.now()`) and reads
    no declared types, so it needs neither. Another Python without `_sqlite3` gets the package."""
    try:
        import _sqlite3
    except ImportError:  # pragma: no cover - CPython has it
        import sqlite3

        return sqlite3
    return _sqlite3


def _plain(value: Any) -> Any:
    """MySQL returns rich types; SQLite returns text. Callers see one shape."""
    if value is None or type(value) in (int, str, float):
        return value
    import datetime  # only the MySQL path gets here: kept off SQLite's start-up
    import decimal

    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return value


def _sqlite_regexp(pattern: str | None, value: Any) -> int:
    if pattern is None or value is None:
        return 0
    import re

    return 1 if re.search(pattern, str(value)) else 0
