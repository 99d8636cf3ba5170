"""`TopologyServer`: what discovery, topology and recovery use of one topology server.

`TopologyAccess.server()` and `TopologyEnv.server()` return it; `mysql/server.py`'s `ConnectedServer`
(a mysql.connector connection) implements it, and so do the recorded servers of the tests.  Every
read returns a typed fact (mysql/facts.py); statement text comes from the server's `flavor`, and
every statement that changes the server goes through `change` (logged, audited, or only recorded
under --noop).  Importing this module imports no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from orchestrator_cli.model.coordinates import BinlogCoordinates
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.mysql.facts import BinlogEvent, CoreVariables, GtidFacts, ReplicaStatus, SemiSyncFacts
    from orchestrator_cli.mysql.flavor import Flavor

Row = dict[str, Any]  # a result row keyed by column name, values made plain (bytes decoded)


class TopologyServer(Protocol):
    """One topology server, reached lazily: the connection opens on the first statement."""

    @property
    def key(self) -> InstanceKey: ...

    @property
    def flavor(self) -> Flavor:
        """The server's family and version, as the current connection's handshake announced it
        (detected again on each new connection; a probe confirms it from ``@@version_comment``)."""
        ...

    # -- reads: typed facts -------------------------------------------------------------------------
    def core_variables(self) -> CoreVariables: ...

    def probe_variables(self) -> tuple[CoreVariables, GtidFacts]:
        """`core_variables` and `gtid_facts`, read in one statement (a probe's first)."""
        ...

    def uptime(self) -> int: ...

    def uptime_and_semi_sync(self) -> tuple[int, SemiSyncFacts]:
        """`uptime` and `semi_sync`, read in two statements instead of three."""
        ...

    def master_status(self) -> BinlogCoordinates:
        """The binary log's current coordinates; empty (``file == ""``) without a binary log."""
        ...

    def replica_status(self) -> ReplicaStatus: ...
    def replica_connections(self) -> list[tuple[str, ReplicaStatus]]: ...

    def replica_hosts(self) -> list[InstanceKey]: ...

    def processlist_replica_hosts(self) -> list[str]: ...

    def semi_sync(self) -> SemiSyncFacts: ...

    def gtid_facts(self) -> GtidFacts: ...

    def binary_logs(self) -> list[tuple[str, int]]: ...

    def binlog_events(
        self, file: str, pos: int, limit: int, *, relay: bool = False, offset: int = 0
    ) -> list[BinlogEvent]: ...

    def grants(self) -> list[str]: ...

    # -- reads: statements of the flavor, user-configured queries ---------------------------------
    def query(self, sql: str) -> list[Row]:
        """Rows of a statement the flavor built, keyed by column name."""
        ...

    def query_one(self, sql: str) -> Row | None:
        """The last row of :meth:`query`, None without a row."""
        ...

    def first_row(self, sql: str) -> tuple[Any, ...] | None:
        """The first row of a user-configured query, read by position (column names may repeat)."""
        ...

    def single_value(self, sql: str) -> Any:
        """First column of the first row of a user-configured query; None without a row."""
        ...

    # -- changes --------------------------------------------------------------------------------------
    def change(self, statements: list[str], *, wait_result: bool = False) -> list[Row]:
        """Run statements that change the server, each logged and audited (recorded only under --noop)."""
        ...

    def wait(self, sql: str) -> Any:
        """A blocking wait function (MASTER_POS_WAIT, MASTER_GTID_WAIT)."""
        ...

    def close(self) -> None: ...
