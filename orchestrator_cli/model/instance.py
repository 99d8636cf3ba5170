"""A read-only view of one `database_instance` row plus its derived flags, and the original's description tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.model.coerce import to_int as _int
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.threads import ThreadState


@dataclass(frozen=True)
class InstanceView:
    """Derived predicates the original computes over an instance row (spec §1.12)."""

    row: Mapping[str, Any]

    def __getitem__(self, column: str) -> Any:
        return self.row.get(column)

    @property
    def key(self) -> InstanceKey:
        return InstanceKey(str(self.row["hostname"]), _int(self.row["port"]))

    @property
    def master_key(self) -> InstanceKey | None:
        host = str(self.row.get("master_host") or "")
        port = _int(self.row.get("master_port"))
        if not host or host == "_" or port == 0:
            return None
        return InstanceKey(host, port)

    @property
    def is_replica(self) -> bool:
        uses_gtid = _int(self.row.get("oracle_gtid")) or _int(self.row.get("mariadb_gtid"))
        return self.master_key is not None and bool(self.row.get("master_log_file") or uses_gtid)

    @property
    def io_state(self) -> ThreadState:
        default = ThreadState.STOPPED if self.is_replica else ThreadState.NONE
        return ThreadState.from_cell(self.row.get("replication_io_thread_state"), default)

    @property
    def sql_state(self) -> ThreadState:
        default = ThreadState.STOPPED if self.is_replica else ThreadState.NONE
        return ThreadState.from_cell(self.row.get("replication_sql_thread_state"), default)

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
        return str(self.row.get("relay_master_log_file") or "").startswith("//") or str(
            self.row.get("master_host") or ""
        ).startswith("//")

    @property
    def valid(self) -> bool:
        return bool(_int(self.row.get("is_last_check_valid")))

    @property
    def recently_checked(self) -> bool:
        return bool(_int(self.row.get("is_recently_checked")))

    @property
    def lag(self) -> int | None:
        value = self.row.get("slave_lag_seconds")
        return None if value is None else _int(value)

    @property
    def uses_gtid(self) -> bool:
        return bool(_int(self.row.get("oracle_gtid")) or _int(self.row.get("mariadb_gtid")))

    def lag_token(self) -> str:
        """`null` when Seconds_Behind_Master is unknown; otherwise the measured lag (as the original does)."""
        if self.is_detached:
            return "detached"
        if not self.valid or not self.recently_checked:
            return "unknown"
        if self.is_replica and (not self.replication_running or self.row.get("seconds_behind_master") is None):
            return "null"
        return f"{self.lag or 0}s"

    def status_token(self, reasonable_lag: int) -> str:
        if not self.valid:
            return "invalid"
        if not self.recently_checked:
            return "unchecked"
        if self.is_replica and not self.replication_running:
            return "nonreplicating"
        if self.is_replica:
            sbm = self.row.get("seconds_behind_master")
            if sbm is not None and abs(_int(sbm) - _int(self.row.get("sql_delay"))) > reasonable_lag:
                return "lag"
        return "ok"

    def description_tokens(self, reasonable_lag: int) -> list[str]:
        """`[lag,status,version,ro|rw,binlog,extras…]` as `instance-status` and `topology` print it."""
        r = self.row
        log_bin = bool(_int(r.get("log_bin")))
        tokens = [
            self.lag_token(),
            self.status_token(reasonable_lag),
            str(r.get("version") or ""),
            "ro" if _int(r.get("read_only")) else "rw",
            str(r.get("binlog_format") or "") if log_bin else "nobinlog",
        ]
        if log_bin and _int(r.get("log_slave_updates")):
            tokens.append(">>")
        if self.uses_gtid or _int(r.get("supports_oracle_gtid")):
            tokens.append("GTID:errant" if r.get("gtid_errant") else "GTID")
        if _int(r.get("pseudo_gtid")):
            tokens.append("P-GTID")
        # the runtime status, not the *_enabled setting: enabled but not (yet) active shows nothing
        if _int(r.get("semi_sync_master_status")):
            tokens.append("semi:master")
        if _int(r.get("semi_sync_replica_status")):
            tokens.append("semi:replica")
        if _int(r.get("is_downtimed")):
            tokens.append("downtimed")
        return [t for t in tokens if t]
