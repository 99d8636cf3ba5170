"""Pure refactoring rules over instance snapshots: can one server replicate from another."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator_cli.model.instance import Instance

_FORMAT_ORDER = {"STATEMENT": 0, "MIXED": 1, "ROW": 2}


def major_version(version: str) -> tuple[int, ...]:
    """`5.7.30-log` -> (5, 7); `10.11.19-MariaDB` -> (10, 11)."""
    parts = []
    for token in str(version).split(".")[:2]:
        digits = "".join(ch for ch in token if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def can_replicate_from(replica: Instance, source: Instance, config: Mapping[str, Any]) -> str | None:
    """None when `replica` may replicate from `source`; otherwise the reason it may not (spec §4.2)."""
    r, s = replica, source
    if r.key == s.key:
        return f"{r.key} cannot replicate from itself"
    if not s.log_bin:
        return f"{s.key} does not have binary logs enabled"
    if s.is_replica and not s.log_slave_updates:
        return f"{s.key} is a replica without log_slave_updates"
    binlog_server = s.binlog_server or r.binlog_server
    if not binlog_server and major_version(r.version) < major_version(s.version):
        return f"{r.key} runs {r.version}, older than {s.key} ({s.version})"
    if r.log_bin and r.log_slave_updates:
        rf = _FORMAT_ORDER.get(r.binlog_format.upper(), 0)
        sf = _FORMAT_ORDER.get(s.binlog_format.upper(), 0)
        if rf < sf:
            return f"{r.key} logs {r.binlog_format} while {s.key} logs {s.binlog_format}"
    if config.get("VerifyReplicationFilters") and s.has_replication_filters and not r.has_replication_filters:
        return f"{s.key} has replication filters and {r.key} has none"
    if not binlog_server and r.server_id == s.server_id:
        return f"{r.key} and {s.key} have the same server_id {r.server_id}"
    if not binlog_server and r.server_uuid and r.server_uuid == s.server_uuid:
        return f"{r.key} and {s.key} have the same server_uuid {r.server_uuid}"
    reasonable = int(config.get("ReasonableMaintenanceReplicationLagSeconds", 20))
    s_delay, r_delay = s.sql_delay, r.sql_delay
    if s_delay > r_delay and s_delay > reasonable:
        return f"{s.key} has SQL delay {s_delay}s, larger than {r.key}'s {r_delay}s"
    return None
