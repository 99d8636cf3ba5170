"""What online-schema-change replica selection (`topology/osc.py`) reads of an instance, and no more.

`clusters-info` computes `HeuristicLag` for every cluster at once: building a full `Instance` snapshot
(~75 fields) per member cost more than the rest of the request. An `OscMember` carries the eight facts
the selection reads, derived as `Instance` derives them (see `backend.instance_rows.osc_member_from_row`).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.model.keys import InstanceKey


@dataclass(frozen=True, slots=True)
class OscMember:
    key: InstanceKey
    master_key: InstanceKey | None
    is_replica: bool
    replication_running: bool  # both threads running (`Instance.replication_running`)
    last_check_valid: bool
    is_downtimed: bool
    replication_depth: int
    lag: int | None  # `slave_lag_seconds`
