"""The safety net every relocation runs inside.

An :class:`Operation` takes the maintenance locks, remembers which servers it stopped and which it
re-pointed, and on the way out (success, refusal, crash or Ctrl-C alike) puts back a re-pointed
replica whose new master never served it, starts replication on everything it stopped, releases the
locks, writes one audit row, and refreshes the backend rows it touched. Under ``--noop`` the
statements are only recorded and every wait is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from orchestrator_cli.errors import OrchestratorError, TopologyError, UnsafeOperationError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import ReplicaStatus
from orchestrator_cli.topology import primitives
from orchestrator_cli.topology.env import STOP_AT_ENV, TopologyEnv
from orchestrator_cli.topology.locks import Holder
from orchestrator_cli.topology.primitives import gtid_mode_of

log = logging.getLogger("orchestrator.topology")

STALL_SECONDS = 0.3


def lock_reason(name: str, subject: InstanceKey) -> str:
    """The `reason` of an operation's maintenance locks: ``<operation> <subject>``."""
    return f"{name} {subject}"


def is_operation_lock(reason: str) -> bool:
    """Whether a lock reason is :func:`lock_reason`'s (single-instance commands use one word).

    >>> is_operation_lock("relocate db-1:3306"), is_operation_lock("stop-replica")
    (True, False)
    """
    return re.fullmatch(r"[a-z][a-z0-9-]* \S+:\d+", reason) is not None


START_TIMEOUT_SECONDS = 5.0
# Errors worth catching in clean-up so that one failing server does not stop the others' clean-up.
CLEANUP_ERRORS = (OrchestratorError, fl.FlavorError, OSError)


@dataclass
class _Change:
    key: InstanceKey
    old_master: InstanceKey | None
    old_exec: BinlogCoordinates
    old_mode: str
    new_master: InstanceKey
    new_coords: BinlogCoordinates | None
    started: bool = False


def start_and_verify(env: TopologyEnv, key: InstanceKey, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """START SLAVE and wait until the start is confirmed (`primitives.await_started`: failing at once
    on errors that waiting cannot fix); without `primitives.start_replication`'s semi-sync adjustment."""
    server = env.server(key)
    server.change(server.flavor.start_replica())
    if env.noop:
        return
    primitives.await_started(env, key, timeout)


class Operation:
    """One audited topology change; use as a context manager around the steps."""

    def __init__(self, env: TopologyEnv, name: str, subject: InstanceKey) -> None:
        self.env = env
        self.name = name
        self.subject = subject
        self.method = ""
        self.summary = ""
        self._stopped: list[InstanceKey] = []
        self._changes: list[_Change] = []
        self._involved: list[InstanceKey] = [subject]
        self._locked: set[InstanceKey] = set()
        self._locks = contextlib.ExitStack()
        self._touched = False

    # -- context ---------------------------------------------------------------------------------
    def __enter__(self) -> Operation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        problems: list[str] = []
        try:
            if not self.env.noop:
                if exc is not None:
                    problems += self._revert()
                problems += self._restart_stopped()
        finally:
            self._locks.close()
        self._audit(exc, problems)
        self._notify("audited", self.subject)  # locks released, backend rows not yet refreshed
        if self._touched:
            self._refresh()
        if exc is None and problems:
            raise TopologyError("; ".join(problems))

    # -- reads -----------------------------------------------------------------------------------
    def involve(self, *keys: InstanceKey) -> None:
        for key in keys:
            if key not in self._involved:
                self._involved.append(key)

    def stale(self, key: InstanceKey) -> None:
        """`key`'s backend row is out of date (the server says otherwise): refresh it at the end, as
        after a change, although this operation changed nothing."""
        self._touched = True
        self.involve(key)

    def read(self, key: InstanceKey) -> primitives.Live:
        """A live read of one server (and a note to refresh its backend row at the end)."""
        live = primitives.read_live(self.env, key)
        self.involve(key)
        return live

    def status(self, key: InstanceKey) -> ReplicaStatus:
        return self.env.server(key).replica_status()

    def config_seconds(self, name: str, default: int) -> float:
        return float(self.env.config.get(name, default) or default)

    # -- locks -----------------------------------------------------------------------------------
    def lock(self, *keys: InstanceKey) -> None:
        """Exclusive maintenance locks, held until the operation ends; refuses keys someone else holds.

        Locks of a killed operation are taken over (with an audit row each). What that operation
        stopped and never restarted is restarted when this one ends, as the killed one would have:
        its other instances are locked too, when nobody else holds them.
        """
        wanted = [k for k in dict.fromkeys(keys) if k not in self._locked]
        if not wanted:
            return
        orphans: list[InstanceKey] = []

        def adopt(ended: list[Holder]) -> None:
            orphans.extend(h.key for h in ended if is_operation_lock(h.reason) and h.key not in orphans)

        self._locks.enter_context(
            primitives.maintenance_lock(self.env, wanted, lock_reason(self.name, self.subject), on_takeover=adopt)
        )
        self._locked.update(wanted)
        for key in wanted:
            self._notify("locked", key)
        for key in orphans:
            if key not in self._locked:
                try:
                    self.lock(key)
                except UnsafeOperationError as e:
                    log.info("%s: left to its new holder: %s", key, e)
                    continue
            self._adopt(key)

    def _adopt(self, key: InstanceKey) -> None:
        """Restart `key` at the end if it is a replica left stopped by the killed operation."""
        self._touched = True
        self.involve(key)
        if key not in self._stopped:
            self._stopped.append(key)

    # -- steps -----------------------------------------------------------------------------------
    def _notify(self, step: str, key: InstanceKey) -> None:
        if self.env.stop_at and self.env.stop_at == f"{step}@{key}":
            # fault-injection point for tests: freeze here so that a test can `kill -9` the process
            log.warning("%s: stopping this process after step %r (%s is set)", key, step, STOP_AT_ENV)
            os.kill(os.getpid(), signal.SIGSTOP)

    def stop(self, key: InstanceKey, *, drain: bool = False) -> ReplicaStatus:
        """STOP SLAVE (after letting the SQL thread apply what was already fetched, with `drain`)."""
        server = self.env.server(key)
        self._touched = True
        if key not in self._stopped:
            self._stopped.append(key)
        self.involve(key)
        if drain:
            server.change(server.flavor.stop_io_thread())
            if not self.env.noop:
                self._drain(key)
        primitives.stop_replication(self.env, key)
        self._notify("stopped", key)
        return server.replica_status()

    def _drain(self, key: InstanceKey) -> None:
        """Let the SQL thread apply what the IO thread fetched; give up once it stops progressing.

        Only an optimisation (the moves synchronise exactly with START SLAVE UNTIL): a transaction cut
        in half by STOP IO_THREAD never completes, so waiting for exec == read could last forever.
        """
        timeout = self.config_seconds("ReasonableMaintenanceReplicationLagSeconds", 20)
        started = progressed = time.monotonic()
        last: BinlogCoordinates | None = None
        while True:
            status = self.status(key)
            if status.sql_delay or not status.sql_running or status.exec_coordinates == status.read_coordinates:
                return
            now = time.monotonic()
            if status.exec_coordinates != last:
                last, progressed = status.exec_coordinates, now
            if now - progressed > STALL_SECONDS or now - started > timeout:
                log.info("%s: SQL thread stopped short of its relay log end at %s", key, last)
                return
            primitives.poll_pause(started)

    def start_until(self, key: InstanceKey, target: BinlogCoordinates) -> None:
        """Roll a stopped replica forward to exactly `target` (its master's coordinates), then stop it."""
        server = self.env.server(key)
        if self.status(key).exec_coordinates == target:
            return
        self._touched = True
        if key not in self._stopped:
            self._stopped.append(key)
        server.change(server.flavor.start_replica_until(target.file, target.pos))
        if not self.env.noop:
            self._wait_reached(key, target)
        primitives.stop_replication(self.env, key)

    def _wait_reached(self, key: InstanceKey, target: BinlogCoordinates) -> None:
        goal = target
        timeout = max(10.0, 2 * self.config_seconds("ReasonableMaintenanceReplicationLagSeconds", 20))
        started = time.monotonic()
        while True:
            status = self.status(key)
            now = status.exec_coordinates
            if now == goal:
                return
            if now > goal:
                raise TopologyError(f"{key}: replication overshot {goal}: it executed up to {now}")
            if status.last_sql_errno:
                raise TopologyError(f"{key}: SQL thread failed before reaching {goal}: {status.last_sql_error}")
            elapsed = time.monotonic() - started
            if not status.sql_running and elapsed > 0.5:
                raise TopologyError(f"{key}: SQL thread stopped at {now} before reaching {goal}")
            if elapsed > timeout:
                raise TopologyError(f"{key}: did not reach {goal} within {timeout:g}s (at {now})")
            primitives.poll_pause(started)

    def change_master(
        self,
        key: InstanceKey,
        master: InstanceKey,
        *,
        before: ReplicaStatus,
        coords: BinlogCoordinates | None = None,
        gtid: str | None = None,
        record_equivalence: bool = True,
    ) -> None:
        """CHANGE MASTER, remembering the previous master so a failed start can be put back.

        With file:pos coordinates the replica's executed position on its old master and `coords`
        on the new one hold the same data: that equivalence is recorded for `move-equivalent`.
        """
        server = self.env.server(key)
        old_master = InstanceKey(before.master_host, before.master_port) if before.is_replica else None
        self._touched = True
        self._changes.append(
            _Change(key, old_master, before.exec_coordinates, gtid_mode_of(server.flavor, before), master, coords)
        )
        self.involve(key, master)
        primitives.change_master(self.env, key, master, coordinates=coords, gtid=gtid)
        self._notify("changed", key)
        if coords and record_equivalence and old_master and not self.env.noop and not before.exec_coordinates.is_empty:
            from orchestrator_cli.backend import equivalence

            equivalence.record(self.env.backend, old_master, before.exec_coordinates, master, coords)

    def start(self, key: InstanceKey) -> None:
        start_and_verify(self.env, key)
        for change in self._changes:
            if change.key == key:
                change.started = True
        if key in self._stopped:
            self._stopped.remove(key)
        self._notify("started", key)

    # -- clean-up --------------------------------------------------------------------------------
    def _revert(self) -> list[str]:
        """Point replicas whose new master never served them back to where they came from."""
        notes: list[str] = []
        for change in reversed(self._changes):
            if change.started:
                continue
            key = change.key
            try:
                server = self.env.server(key)
                if change.old_master is None:
                    server.change(server.flavor.stop_replica() + server.flavor.reset_replica(True))
                    notes.append(f"{key} replication configuration removed again")
                    continue
                status = server.replica_status()
                if change.new_coords is not None and status.exec_coordinates != change.new_coords:
                    notes.append(f"{key} already applied events from {change.new_master}; left there")
                    continue
                primitives.stop_replication(self.env, key)
                if change.old_mode == "off":
                    gtid = "off" if status.uses_gtid else None
                    primitives.change_master(self.env, key, change.old_master, coordinates=change.old_exec, gtid=gtid)
                else:
                    primitives.change_master(self.env, key, change.old_master, gtid=change.old_mode)
                if key not in self._stopped:
                    self._stopped.append(key)
                notes.append(f"{key} put back below {change.old_master}")
            except CLEANUP_ERRORS as e:
                notes.append(f"{key}: could not be put back below {change.old_master}: {e}")
        return notes

    def _restart_stopped(self) -> list[str]:
        problems: list[str] = []
        for key in list(self._stopped):
            try:
                status = self.status(key)
                if status.is_replica and not status.replication_running:
                    start_and_verify(self.env, key)
                self._stopped.remove(key)
            except CLEANUP_ERRORS as e:
                problems.append(f"{key}: could not restart replication: {e}")
        return problems

    def _whereabouts(self) -> str:
        try:
            status = self.status(self.subject)
        except CLEANUP_ERRORS as e:
            return f"{self.subject} unreadable: {e}"
        if not status.is_replica:
            return f"{self.subject} replicates from nobody"
        running = "running" if status.replication_running else "NOT running"
        return f"{self.subject} left below {status.master_host}:{status.master_port} (replication {running})"

    def _audit(self, exc: BaseException | None, problems: Iterable[str]) -> None:
        if exc is None:
            message = "; ".join([self.summary or f"{self.subject} via {self.method}", *problems])
        else:
            via = f" ({self.method})" if self.method else ""
            parts = [f"failed{via}: {exc}", *problems]
            if self._touched and not self.env.noop:
                parts.append(self._whereabouts())
            message = "; ".join(parts)
        try:
            self.env.audit(self.name, self.subject, message)
        except OrchestratorError as e:
            log.error("%s: cannot write audit row: %s", self.subject, e)

    def _refresh(self) -> None:
        try:
            primitives.refresh(self.env, self._refresh_keys())
        except OrchestratorError as e:
            log.warning("refresh after %s failed: %s", self.name, e)

    def _refresh_keys(self) -> list[InstanceKey]:
        """Involved servers plus the backend descendants of the ones that moved (their depth changed)."""
        from orchestrator_cli.backend import instances

        keys = list(self._involved)
        pending = [c.key for c in self._changes]
        while pending:
            key = pending.pop()
            for replica in instances.keys_of(instances.replicas_of(self.env.backend, key)):
                if replica not in keys:
                    keys.append(replica)
                    pending.append(replica)
        return keys
