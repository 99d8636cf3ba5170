"""A bounded set of backend connections for a process that serves many threads at once (the HTTP
service's request threads, continuous discovery's probe workers).

One `Backend` holds one connection behind a lock, so a service sharing one `Backend` between its
request threads answers one backend statement at a time, whatever the backend could do in parallel.
`BackendPool` is a `Backend` that owns up to `size` ordinary `Backend` members (each with its own
connection, opened on first use) and lends one to a thread for each call:

* a statement (`query`, `execute`, ...) borrows a member for the statement;
* `transaction()` (and any other context manager or generator of `Backend`, e.g. `query_iter`) keeps
  its member until it ends, and every call the same thread makes meanwhile goes to that member: a
  transaction's statements all run on its connection, as they did on the one shared `Backend`;
* when every member is lent out, a caller waits for one (up to `retry_seconds`, then a BackendError).

A thread only ever holds one member, so a bounded pool cannot deadlock on itself. Everything a
`Backend` does per connection (deploying or checking the schema, SQLite's busy timeout, retries of lock
contention and connection limits, what happens when a connection is lost) is the members' own: the pool
only chooses which member serves a call. Every public method of `Backend` is lent out that way (see
`_lend`), so a method added to `Backend` later is pooled without a change here.

A pool of a SQLite `:memory:` database has one member: each connection would be a database of its own.

Members that come back while `max_idle` others already sit idle are closed, as the original's Go pool
does (MaxIdle = max(10, 25% of `MySQLOrchestratorMaxPoolConnections`)): a burst that opened a hundred
connections does not keep them open for the life of the daemon. Several daemons share one MySQL
backend, whose `max_connections` (151 by default) they would otherwise fill between them.

Threads that spend most of their time on something else (a probe waits on a MySQL server far longer
than on the backend) take a member only for the statements that belong together, with `lease()`:
hundreds of them then share the few connections that are busy at any moment (`writers_size`).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from orchestrator_cli.backend.connection import RETRY_SECONDS, Backend
from orchestrator_cli.errors import BackendError

DEFAULT_SIZE = 40  # anyio's default worker threadpool, which runs the service's (sync) routes
DEFAULT_MAX_OPEN = 128  # MySQLOrchestratorMaxPoolConnections when the config leaves it out

# Backend members that are not lent out: the pool's own lifecycle, and plain values.
_NOT_LENT = frozenset({"close", "connection", "description", "lease", "mysql_params"})


def max_idle(config: Mapping[str, Any]) -> int:
    """Members kept open while nobody holds them: max(10, 25% of `MySQLOrchestratorMaxPoolConnections`),
    the original's MaxIdle (its default 128 keeps 32; 0, no limit, keeps 10).

    >>> max_idle({"BackendDB": "mysql"})
    32
    >>> max_idle({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 16})
    10
    >>> max_idle({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 0})
    10
    """
    cap = config.get("MySQLOrchestratorMaxPoolConnections", DEFAULT_MAX_OPEN)
    return max(10, int(cap or 0) // 4)


def default_size(config: Mapping[str, Any]) -> int:
    """One connection per request worker thread, within `MySQLOrchestratorMaxPoolConnections`; one
    for a SQLite database in memory.

    >>> default_size({"BackendDB": "sqlite", "SQLite3DataFile": ":memory:"})
    1
    >>> default_size({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 8})
    8
    >>> default_size({"BackendDB": "sqlite", "SQLite3DataFile": "/var/lib/orchestrator/orchestrator.db"})
    40
    """
    if "sqlite" in str(config.get("BackendDB", "sqlite")).lower() and str(config.get("SQLite3DataFile")) == ":memory:":
        return 1
    cap = int(config.get("MySQLOrchestratorMaxPoolConnections") or DEFAULT_SIZE)
    return max(1, min(DEFAULT_SIZE, cap))


def writers_size(config: Mapping[str, Any], threads: int) -> int:
    """Connections for `threads` threads that each write now and then (continuous discovery's probe
    workers): on MySQL one per thread, at most `MySQLOrchestratorMaxPoolConnections` (the original's
    limit of open backend connections; 0 or less: no limit, as the Go pool reads it); on SQLite one,
    since the database takes one writer at a time anyway and a second connection would only wait
    for the lock in SQLite's busy handler, which sleeps, instead of in the pool's queue.

    >>> writers_size({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 128}, 300)
    128
    >>> writers_size({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 128}, 32)
    32
    >>> writers_size({"BackendDB": "mysql", "MySQLOrchestratorMaxPoolConnections": 0}, 300)
    300
    >>> writers_size({"BackendDB": "sqlite", "SQLite3DataFile": "/var/lib/orchestrator/orchestrator.db"}, 300)
    1
    """
    if "sqlite" in str(config.get("BackendDB", "sqlite")).lower():
        return 1
    cap = int(config.get("MySQLOrchestratorMaxPoolConnections") or 0)
    return max(1, min(threads, cap) if cap > 0 else threads)


class _Loan:
    """The member a thread holds, and how many nested calls of that thread hold it."""

    __slots__ = ("member", "depth")

    def __init__(self, member: Backend) -> None:
        self.member = member
        self.depth = 1


class BackendPool(Backend):
    """Up to `size` `Backend` members, each lent to one thread at a time (see the module docstring)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        size: int | None = None,
        deploy: bool = True,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        # Not Backend.__init__: the pool has no connection of its own. It answers what callers read
        # off a Backend (config, dialect, is_sqlite, retry_seconds) as its members do.
        first = Backend(config, deploy=deploy, retry_seconds=retry_seconds)
        self.config = config
        self.retry_seconds = retry_seconds
        self.is_sqlite = first.is_sqlite
        self.dialect = first.dialect
        self.size = max(1, size if size is not None else default_size(config))
        self.max_idle = max_idle(config)
        self._deploy = deploy
        self._members: list[Backend] = [first]
        self._idle: list[Backend] = [first]
        self._loans: dict[int, _Loan] = {}  # thread ident -> the member it holds
        self._available = threading.Condition(threading.Lock())
        self._closing: set[int] = set()  # ids of members lent out when `close` ran: closed when returned

    # -- lending -------------------------------------------------------------------------------
    def _borrow(self) -> tuple[int, Backend]:
        """The member of the calling thread (the one it already holds, or a free one)."""
        ident = threading.get_ident()
        with self._available:
            loan = self._loans.get(ident)
            if loan is not None:
                loan.depth += 1
                return ident, loan.member
            member = self._take_idle()
            self._loans[ident] = _Loan(member)
            return ident, member

    def _take_idle(self) -> Backend:
        """A member nobody holds; a new one while fewer than `size` exist; else wait (the condition is held)."""
        deadline = time.monotonic() + self.retry_seconds
        while True:
            if self._idle:
                return self._idle.pop()
            if len(self._members) < self.size:
                member = Backend(self.config, deploy=self._deploy, retry_seconds=self.retry_seconds)
                self._members.append(member)
                return member
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackendError(
                    f"all {self.size} connections to backend {self.description} stayed busy"
                    f" for {self.retry_seconds:.0f}s"
                )
            self._available.wait(remaining)

    def _give_back(self, ident: int) -> None:
        surplus = None
        with self._available:
            loan = self._loans[ident]
            loan.depth -= 1
            if loan.depth:
                return
            del self._loans[ident]
            member = loan.member
            if id(member) in self._closing:
                self._closing.discard(id(member))
                member.close()
            if len(self._idle) >= self.max_idle:
                # enough open and unused already: this one is forgotten, and closed below, outside
                # the lock (a waiter takes an idle member, or opens one while fewer than `size` exist)
                self._members.remove(member)
                surplus = member
            else:
                self._idle.append(member)
            self._available.notify()
        if surplus is not None:
            surplus.close()

    @contextmanager
    def lease(self) -> Iterator[Backend]:
        """The calling thread's member for the block: every call of this thread inside it uses it."""
        ident, member = self._borrow()
        try:
            yield member
        finally:
            self._give_back(ident)

    def in_use(self) -> int:
        """How many members are lent out right now (for tests and metrics)."""
        with self._available:
            return len(self._loans)

    # -- the pool's own lifecycle --------------------------------------------------------------
    def use_config(self, config: Mapping[str, Any]) -> None:
        """A reloaded configuration for every member, present and future. The database it names must
        be the one the pool opened (a reload keeps the backend keys: `config.RESTART_KEYS`)."""
        with self._available:
            self.config = config
            members = list(self._members)
        for member in members:
            member.config = config

    def connection(self) -> Any:
        """The connection of the member this thread holds (inside `lease()` or a transaction)."""
        with self._available:
            loan = self._loans.get(threading.get_ident())
        if loan is None:
            raise BackendError("BackendPool.connection() outside a lease: use `with pool.lease() as backend`")
        return loan.member.connection()

    def close(self) -> None:
        """Close every member's connection (a member lent out is closed when it comes back). The pool
        stays usable: a later call opens connections again, as `Backend.close` allows."""
        with self._available:  # held: nobody borrows a member while it is being closed
            self._closing = {id(loan.member) for loan in self._loans.values()}
            for member in self._idle:
                member.close()


def _lend(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """`Backend.<name>` on the calling thread's member, held for the call, the iteration or the block."""
    if inspect.isgeneratorfunction(method):

        def iterate(self: BackendPool, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with self.lease() as member:
                yield from getattr(member, name)(*args, **kwargs)

        lent: Callable[..., Any] = iterate
    elif inspect.isgeneratorfunction(getattr(method, "__wrapped__", None)):  # a @contextmanager

        @contextmanager
        def block(self: BackendPool, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with self.lease() as member:
                manager: AbstractContextManager[Any] = getattr(member, name)(*args, **kwargs)
                with manager as value:
                    yield value

        lent = block
    else:

        def call(self: BackendPool, *args: Any, **kwargs: Any) -> Any:
            ident, member = self._borrow()
            try:
                return getattr(member, name)(*args, **kwargs)
            finally:
                self._give_back(ident)

        lent = call
    lent.__name__ = name
    lent.__qualname__ = f"BackendPool.{name}"
    lent.__doc__ = method.__doc__
    return lent


def _lent_names() -> list[str]:
    return [
        name
        for name, value in vars(Backend).items()
        if not name.startswith("_") and name not in _NOT_LENT and inspect.isfunction(value)
    ]


for _name in _lent_names():
    setattr(BackendPool, _name, _lend(_name, getattr(Backend, _name)))
