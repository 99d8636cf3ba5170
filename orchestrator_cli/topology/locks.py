"""Who holds a maintenance lock, and taking over the locks of a process that was killed.

An internal lock (taken by a topology operation, ``explicitly_bounded = 0``) records the taker's
host and process token; the token carries the process id (``backend.health``). A later operation
that finds such a lock on this host, held by a process id that no longer runs, ends every lock of
that process (each with an audit row) and goes on: a ``kill -9`` must not block the instances for
the lock's ten minutes. Locks taken with ``begin-maintenance``, locks of live processes and locks of
processes on other hosts are never taken over; the refusal then says who holds the lock, until when,
and how to release it.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from orchestrator_cli.backend.maintenance import MaintenanceLock
from orchestrator_cli.errors import UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.env import TopologyEnv

log = logging.getLogger("orchestrator.topology")

OwnerState = Literal["alive", "dead", "unknown"]
TAKEOVER_AUDIT_TYPE = "maintenance-takeover"


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a zombie, killed but not yet reaped, does not count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@dataclass(frozen=True)
class Holder(MaintenanceLock):
    """An active maintenance lock, with what this host can tell about the process that took it."""

    @staticmethod
    def of(lock: MaintenanceLock) -> Holder:
        return Holder(**{f.name: getattr(lock, f.name) for f in fields(MaintenanceLock)})

    @property
    def pid(self) -> int | None:
        from orchestrator_cli.backend.health import pid_of_token

        return pid_of_token(self.node[1])

    def owner_state(self) -> OwnerState:
        """Whether the taking process still runs; "unknown" unless it ran on this host and left its pid."""
        pid = self.pid
        if pid is None or self.node[0] != socket.gethostname():
            return "unknown"
        return "alive" if process_alive(pid) else "dead"

    def taken_over_possible(self) -> bool:
        return not self.explicit and self.owner_state() == "dead"

    def describe(self) -> str:
        """``held by root: relocate h:1, process 42 on db-admin (still running), until 2026-…``"""
        parts = [f"held by {self.owner}: {self.reason}"]
        if self.explicit:
            parts.append("taken with begin-maintenance")
        else:
            state = self.owner_state()
            process = f"process {self.pid}" if self.pid is not None else "a process"
            where = {"alive": " (still running)", "dead": " (no longer running)", "unknown": ""}[state]
            parts.append(f"{process} on {self.node[0]}{where}")
        parts.append(f"until {self.until}")
        return ", ".join(parts)


def holder(env: TopologyEnv, key: InstanceKey) -> Holder | None:
    from orchestrator_cli.backend import maintenance

    lock = maintenance.active(env.backend, key)
    return Holder.of(lock) if lock is not None else None


def refusal(key: InstanceKey, held: Holder | None) -> UnsafeOperationError:
    if held is None:
        return UnsafeOperationError(f"cannot begin maintenance on {key} (another process took it meanwhile)")
    return UnsafeOperationError(
        f"cannot begin maintenance on {key} ({held.describe()}); `orchestrator -c end-maintenance -i {key}` releases it"
    )


def check_free(env: TopologyEnv, key: InstanceKey) -> None:
    """For --noop: refuse as the real run would (a killed process's lock would be taken over)."""
    held = holder(env, key)
    if held is not None and not held.taken_over_possible():
        raise refusal(key, held)


def killed_operation_locks(env: TopologyEnv, key: InstanceKey, reason: str) -> list[Holder]:
    """The locks of a killed process whose lock on `key` has `reason` (empty when there is none).

    A retry of the same command reads them to tell how far the killed one got before resuming.
    """
    from orchestrator_cli.backend import maintenance

    held = holder(env, key)
    if held is None or held.reason != reason or not held.taken_over_possible():
        return []
    return [Holder.of(t) for t in maintenance.held_by_process(env.backend, held.node)]


def take_over_dead(env: TopologyEnv, key: InstanceKey, *, all_of_process: bool = True) -> list[Holder]:
    """When the lock on `key` belongs to a killed process on this host, end it (by default with all
    the other locks of that process: the caller then owes their instances the clean-up the killed
    process never did).

    Returns the locks ended (each audited on its instance); empty when the lock is not such a lock
    or another process ended it first.
    """
    from orchestrator_cli.backend import maintenance

    held = holder(env, key)
    if held is None or not held.taken_over_possible():
        return []
    taken = maintenance.held_by_process(env.backend, held.node) if all_of_process else []
    ended: list[Holder] = []
    for lock in [Holder.of(t) for t in taken] or [held]:
        if not maintenance.end_if_held_by(env.backend, lock.maintenance_id, lock.node):
            continue
        ended.append(lock)
        message = (
            f"maintenance lock {lock.maintenance_id} ({lock.owner}: {lock.reason}) released: "
            f"its process {lock.pid} on {lock.node[0]} is gone; taken over by {env.owner}"
        )
        log.warning("%s: %s", lock.key, message)
        env.audit(TAKEOVER_AUDIT_TYPE, lock.key, message)
    return ended
