"""The original's description of an instance, `[lag,status,version,ro|rw,binlog,extras…]`, in one place.

`instance-status` prints it from a full `Instance` snapshot; the `topology*` tree prints it from a
`TreeMember`, which carries only what the tree shows (a 75-field snapshot per instance, and the
`dataclasses` import it needs, cost a `topology` run more than its reading and rendering). Both hand
themselves to these functions, so the two outputs cannot drift apart. No imports: this is on the
`topology` start-up path.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Protocol

    class Described(Protocol):
        """The facts the description is made of (attributes or properties of either view)."""

        @property
        def is_detached(self) -> bool: ...
        @property
        def is_replica(self) -> bool: ...
        @property
        def replication_running(self) -> bool: ...
        @property
        def last_check_valid(self) -> bool: ...
        @property
        def recently_checked(self) -> bool: ...
        @property
        def seconds_behind_master(self) -> int | None: ...
        @property
        def lag(self) -> int | None: ...
        @property
        def sql_delay(self) -> int: ...
        @property
        def version(self) -> str: ...
        @property
        def read_only(self) -> bool: ...
        @property
        def log_bin(self) -> bool: ...
        @property
        def log_slave_updates(self) -> bool: ...
        @property
        def binlog_format(self) -> str: ...
        @property
        def uses_gtid(self) -> bool: ...
        @property
        def supports_oracle_gtid(self) -> bool: ...
        @property
        def gtid_errant(self) -> str: ...
        @property
        def pseudo_gtid(self) -> bool: ...
        @property
        def semi_sync_master_status(self) -> bool: ...
        @property
        def semi_sync_replica_status(self) -> bool: ...
        @property
        def is_downtimed(self) -> bool: ...


def lag_token(view: Described) -> str:
    """`null` when Seconds_Behind_Master is unknown; otherwise the measured lag (as the original does)."""
    if view.is_detached:
        return "detached"
    if not view.last_check_valid or not view.recently_checked:
        return "unknown"
    if view.is_replica and (not view.replication_running or view.seconds_behind_master is None):
        return "null"
    return f"{view.lag or 0}s"


def status_token(view: Described, reasonable_lag: int) -> str:
    if not view.last_check_valid:
        return "invalid"
    if not view.recently_checked:
        return "unchecked"
    if view.is_replica and not view.replication_running:
        return "nonreplicating"
    if view.is_replica:
        sbm = view.seconds_behind_master
        if sbm is not None and abs(sbm - view.sql_delay) > reasonable_lag:
            return "lag"
    return "ok"


def description_tokens(view: Described, reasonable_lag: int) -> list[str]:
    """`[lag,status,version,ro|rw,binlog,extras…]` as `instance-status` and `topology` print it."""
    log_bin = view.log_bin
    tokens = [
        lag_token(view),
        status_token(view, reasonable_lag),
        view.version,
        "ro" if view.read_only else "rw",
        view.binlog_format if log_bin else "nobinlog",
    ]
    if log_bin and view.log_slave_updates:
        tokens.append(">>")
    if view.uses_gtid or view.supports_oracle_gtid:
        tokens.append("GTID:errant" if view.gtid_errant else "GTID")
    if view.pseudo_gtid:
        tokens.append("P-GTID")
    # the runtime status, not the *_enabled setting: enabled but not (yet) active shows nothing
    if view.semi_sync_master_status:
        tokens.append("semi:master")
    if view.semi_sync_replica_status:
        tokens.append("semi:replica")
    if view.is_downtimed:
        tokens.append("downtimed")
    return [t for t in tokens if t]
