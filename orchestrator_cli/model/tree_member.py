"""What the `topology*` tree shows of one instance, and no more.

A `topology -i` run reads one cluster and prints a line per member. Building a full `Instance` per
member is cheap at run time, but importing it is not: `Instance` is a ~75-field frozen dataclass,
and `dataclasses` (with `inspect`), `typing` and the model modules it pulls in cost that run about as
much as everything else it does. A `TreeMember` holds the facts the tree (plain, tabulated, tags,
JSON and terminal forms) reads, derived from a row as `Instance` derives them (see
`backend.tree_rows.tree_member_from_row`), in a written-out immutable class: no `dataclasses`, no
`typing` at run time.

>>> m = TreeMember(key=InstanceKey("db2", 3306), master_key=InstanceKey("db1", 3306), is_replica=True,
...                replication_running=True, last_check_valid=True, recently_checked=True,
...                seconds_behind_master=0, lag=0, version="10.11.6-MariaDB-log", read_only=True,
...                log_bin=True, binlog_format="ROW")
>>> m.description_tokens(reasonable_lag=10)
['0s', 'ok', '10.11.6-MariaDB-log', 'ro', 'ROW']
>>> m.master_key
InstanceKey(hostname='db1', port=3306)
"""

from __future__ import annotations

from orchestrator_cli.model import description
from orchestrator_cli.model.keys import InstanceKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TreeMember"]

_FIELDS = (
    "key", "master_key", "instance_alias", "replication_depth", "is_co_master",
    "is_replica", "replication_running", "is_detached", "last_check_valid", "recently_checked",
    "seconds_behind_master", "lag", "sql_delay",
    "version", "read_only", "log_bin", "log_slave_updates", "binlog_format",
    "uses_gtid", "supports_oracle_gtid", "gtid_errant", "pseudo_gtid",
    "semi_sync_master_status", "semi_sync_replica_status", "is_downtimed",
)  # fmt: skip


class TreeMember:
    """One member of a cluster as its topology tree shows it; an immutable value, equal by its fields.

    Each field means what the `Instance` attribute or property of the same name means. Defaults
    describe an unknown, never-checked standalone server, as `Instance`'s do.
    """

    __slots__ = _FIELDS
    key: InstanceKey
    master_key: InstanceKey | None  # None when no master is configured
    instance_alias: str
    replication_depth: int
    is_co_master: bool
    is_replica: bool
    replication_running: bool  # a replica with both threads running
    is_detached: bool
    last_check_valid: bool
    recently_checked: bool
    seconds_behind_master: int | None
    lag: int | None  # `slave_lag_seconds`
    sql_delay: int
    version: str
    read_only: bool
    log_bin: bool
    log_slave_updates: bool
    binlog_format: str
    uses_gtid: bool  # Oracle or MariaDB GTID in use
    supports_oracle_gtid: bool
    gtid_errant: str
    pseudo_gtid: bool
    semi_sync_master_status: bool
    semi_sync_replica_status: bool
    is_downtimed: bool

    def __init__(
        self,
        *,
        key: InstanceKey,
        master_key: InstanceKey | None = None,
        instance_alias: str = "",
        replication_depth: int = 0,
        is_co_master: bool = False,
        is_replica: bool = False,
        replication_running: bool = False,
        is_detached: bool = False,
        last_check_valid: bool = False,
        recently_checked: bool = False,
        seconds_behind_master: int | None = None,
        lag: int | None = None,
        sql_delay: int = 0,
        version: str = "",
        read_only: bool = False,
        log_bin: bool = False,
        log_slave_updates: bool = False,
        binlog_format: str = "",
        uses_gtid: bool = False,
        supports_oracle_gtid: bool = False,
        gtid_errant: str = "",
        pseudo_gtid: bool = False,
        semi_sync_master_status: bool = False,
        semi_sync_replica_status: bool = False,
        is_downtimed: bool = False,
    ) -> None:
        values = locals()
        set_ = object.__setattr__
        for name in _FIELDS:
            set_(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: TreeMember is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: TreeMember is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not TreeMember:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"TreeMember({self.key}, master={self.master_key}, depth={self.replication_depth})"

    def description_tokens(self, reasonable_lag: int) -> list[str]:
        """`[lag,status,version,ro|rw,binlog,extras…]`, exactly as `Instance.description_tokens`."""
        return description.description_tokens(self, reasonable_lag)
