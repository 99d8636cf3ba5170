"""Continuous mode's discovery: every instance probed on its own schedule, each probe written as it
completes, so that one slow or hung server costs its own freshness and nobody else's.

* Every second the backend's rows are read; a server is due InstancePollSeconds after this process
  last probed it, or, when it has not, when the backend says its last check is older than that
  (spec §1.1); each DiscoverySeeds entry not known yet is due. A key is never probed twice at once.
  After its first probe each server gets its own phase in the poll cycle (its second probe comes
  a random part of InstancePollSeconds later), so that a failure seen by any of them is seen soon.
* A probe writes its own row the moment it completes (`crawl.probe_one`); the replicas and the master
  it names are probed next when the backend does not know them yet.
* A probe running longer than InstancePollSeconds + ReasonableInstanceCheckSeconds marks its server
  hung: its `last_attempted_check` moves forward every second (the analysis then counts the
  server's last check as invalid, spec §1.10, without waiting for the read timeout) and
  `Unresponsive` lets recoveries treat it as unreachable at once. A probe that fails on a timeout
  (read, write or handshake: the server does not answer) marks it too. The mark is cleared only
  when a probe of the server is answered.
* Servers whose last probe failed are suspects: they are probed by their own small pool, after an
  exponential back-off, so dead and hung hosts never hold the workers that keep healthy hosts fresh.
* A replica that reports a broken IO thread (the replicas are the observers, spec §2 and §3.3) gets
  its master probed at once, back-off or not; the replicas of a server that hangs or fails are
  probed about every 0.4 s; `request()` does the same for analysis.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orchestrator_cli import observe
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.discovery.crawl import Probed, probe_one
from orchestrator_cli.discovery.sharing import DiscoveryShare
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess, Unresponsive

log = logging.getLogger("orchestrator.discovery")

SCAN_SECONDS = 1.0
# Ours: the original re-probes observers once a second. Discovery ticks every 0.2 s, so this lets a
# key through every other tick (0.4 s); 0.5 let it through every third (0.6 s, measured), and the
# replicas of a hung master report its loss up to that long after their IO thread gave up.
REQUEST_THROTTLE_SECONDS = 0.35
SUSPECT_WORKERS = 4

OnProbed = Callable[[Probed, Backend], None]


def backoff_seconds(failures: int, poll: int) -> float:
    """How long a server whose last `failures` probes failed waits for its next probe.

    >>> [backoff_seconds(n, 1) for n in range(1, 6)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> [backoff_seconds(n, 5) for n in range(1, 4)]
    [5.0, 10.0, 10.0]
    """
    cap = max(2.0 * poll, 8.0)
    return float(min(poll * 2 ** max(0, failures - 1), cap))


def io_broken(instance: Instance) -> bool:
    """A replica whose IO thread is not running or reports an error: its master may be gone.

    >>> io_broken(Instance(key=InstanceKey("db2", 3306), master_host="db1", io_running=True))
    False
    >>> io_broken(Instance(key=InstanceKey("db2", 3306), master_host="db1", io_running=False))
    True
    >>> io_broken(Instance(key=InstanceKey("db2", 3306), master_host="", io_running=False))
    False
    """
    if not instance.master_host:
        return False
    return not instance.io_running or bool(instance.last_io_error)


class DiscoveryScheduler:
    def __init__(
        self,
        config: Mapping[str, Any],
        unresponsive: Unresponsive,
        *,
        on_probed: OnProbed | None = None,
        on_change: Callable[[], None] | None = None,
        share: DiscoveryShare | None = None,
    ) -> None:
        self.config = config
        self.share = share  # None: this process probes every instance (the original's way)
        self.poll = max(1, int(config.get("InstancePollSeconds", 5)))
        self.hung_after = self.poll + int(config.get("ReasonableInstanceCheckSeconds", 1))
        self.unresponsive = unresponsive
        self.on_probed = on_probed
        self.on_change = on_change  # something the analysis should look at now (a failure, a broken replica)
        workers = max(1, min(int(config.get("DiscoveryMaxConcurrency", 300)), 32))
        self._healthy = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
        self._suspect = ThreadPoolExecutor(max_workers=SUSPECT_WORKERS, thread_name_prefix="probe-suspect")
        self._access = TopologyAccess(config)  # probes always try: they are how a server's return is seen
        # A reload replaces `_access`; the one it replaced is closed once no probe uses it any more.
        self._access_users: dict[int, int] = {}  # id(access) -> probes running on it
        self._retired: list[TopologyAccess] = []
        self._lock = threading.Lock()
        self._in_flight: dict[InstanceKey, float] = {}  # key -> started (monotonic)
        self._failures: dict[InstanceKey, int] = {}
        self._not_before: dict[InstanceKey, float] = {}
        self._requested: dict[InstanceKey, float] = {}
        self._attempt_recorded: dict[InstanceKey, float] = {}
        self._local = threading.local()
        self._backends: list[Backend] = []
        self._last_scan = 0.0
        self._known: set[InstanceKey] = set()
        self._backend_due: set[InstanceKey] = set()
        self._next_due: dict[InstanceKey, float] = {}  # monotonic; set when a probe starts
        self._master_of: dict[InstanceKey, InstanceKey] = {}  # replica -> master, as last probed
        # Shared discovery: what the backend says about the instances other nodes probe.
        self._backend_master_of: dict[InstanceKey, InstanceKey] = {}
        self._backend_failing: set[InstanceKey] = set()  # last check failed, whoever probed it
        self._overdue: set[InstanceKey] = set()  # not checked for 5 x InstancePollSeconds by anyone
        self._verdict_at: dict[InstanceKey, float] = {}  # when this node's last probe of a key ended
        self._noticed: set[InstanceKey] = set()  # replicas whose IO thread already reports its master lost
        self._backend_noticed: set[InstanceKey] = set()  # the same, as other nodes' probes wrote it
        # Probed by the leader itself, whoever owns them: what it acts on from its own probes (a failed
        # master downtimed lost-in-recovery, fenced the moment a probe sees it writable again).
        self.leader_keys: frozenset[InstanceKey] = frozenset()
        self._leading = True
        self._first_wave: set[InstanceKey] | None = None
        self.first_pass = threading.Event()
        self._open = threading.Event()  # cleared at shutdown: probes cut short are not failures
        self._open.set()

    # -- the discovery thread ------------------------------------------------------------------------

    def tick(self, backend: Backend, *, lead: bool = True) -> None:
        """Called several times a second by the discovery thread: while this node leads, or, when
        discovery is shared, on every node (`lead` False: only this node's share)."""
        now = time.monotonic()
        self._leading = lead
        if now - self._last_scan >= SCAN_SECONDS:
            self._last_scan = now
            self._scan(backend, now)
        # A leader's first pass covers every instance due, shared or not: analysis must not start on
        # what another node (maybe the dead ex-leader) left stale.
        submitted = self._submit_due(now, everything=lead and self._first_wave is None)
        if self._first_wave is None and self._last_scan:
            self._first_wave = submitted | {k for k in self._backend_due if self.in_flight(k)}
        self._watch_hung(backend, now)
        self._watch_observers()
        self._check_first_pass(now)

    def _scan(self, backend: Backend, now: float) -> None:
        """The backend's keys, and which of them are due by the backend's clock (for keys this
        process has not probed yet, e.g. right after it was elected)."""
        from orchestrator_cli.backend import instances

        rebalanced = self.share is not None and self.share.refresh(backend)
        rows = instances.scan_rows(backend)
        known = set(instances.keys_of(rows))
        due = set(instances.keys_due(rows))
        if self.share is not None:
            self._learn_from_others(rows, now)
            if rebalanced or len(known) != len(self._known):
                log.info(
                    "discovery shared by %d node(s): this node probes %d of %d instances",
                    len(self.share.nodes), sum(map(self.share.owns, known)), len(known),
                )  # fmt: skip
        for seed in self.config.get("DiscoverySeeds") or []:
            try:
                key = InstanceKey.parse(str(seed), int(self.config.get("DefaultInstancePort", 3306)))
            except ValueError as e:
                log.error("DiscoverySeeds: %s", e)
                continue
            if key not in known:
                known.add(key)
                due.add(key)
        self._known, self._backend_due = known, due

    def _learn_from_others(self, rows: list[Any], now: float) -> None:
        """Shared discovery: other nodes probe most instances, so the backend is where this node
        learns that one hangs (marked unresponsive here too: the leader's recoveries must not wait
        out a timeout on it), which ones fail (their replicas are the observers) and which ones
        nobody refreshed for too long (the leader probes those itself)."""
        from orchestrator_cli.backend import instances
        from orchestrator_cli.backend.instance_rows import key_of
        from orchestrator_cli.model.coerce import to_int

        unanswered = set(instances.keys_unanswered(rows))
        with self._lock:
            # this node's own probes that ended after the rows were read know better than the rows
            newer = {k for k, at in self._verdict_at.items() if at >= now}
            running = set(self._in_flight)
        for key in unanswered - newer:
            self.unresponsive.mark(key, now)  # also while a probe of this node waits on it
        failing: set[InstanceKey] = set()
        overdue: set[InstanceKey] = set()
        masters: dict[InstanceKey, InstanceKey] = {}
        noticed: set[InstanceKey] = set()
        for r in rows:
            key = key_of(r)
            valid = to_int(r.get("is_last_check_valid"))
            if valid and key not in unanswered and key not in newer and key not in running:
                self.unresponsive.clear(key)  # another node's probe was answered
            if not valid:
                failing.add(key)
            if not to_int(r.get("is_recently_checked")):
                overdue.add(key)
            if r.get("master_host"):
                masters[key] = InstanceKey(str(r["master_host"]), to_int(r.get("master_port")))
                if not to_int(r.get("slave_io_running")) or r.get("last_io_error"):
                    noticed.add(key)
        with self._lock:
            self._backend_failing, self._overdue, self._backend_master_of = failing, overdue, masters
            self._backend_noticed = noticed

    def _submit_due(self, now: float, *, everything: bool = False) -> set[InstanceKey]:
        """Keys due: by this process's schedule (its clock is finer than the backend's one-second
        timestamps), or by the backend for keys it never probed; none before its back-off ends.
        With shared discovery, only this node's share (unless `everything`), and, on the leader,
        `leader_keys` and what nobody refreshed for 5 x InstancePollSeconds (an owner registered
        but stuck), both on the leader's own schedule."""
        submitted: set[InstanceKey] = set()
        for key in self._known:
            if now < self._not_before.get(key, 0.0):
                continue
            next_due = self._next_due.get(key)
            if everything or self.share is None or self.share.owns(key):
                due = now >= next_due if next_due is not None else key in self._backend_due
            elif self._leading and (key in self.leader_keys or key in self._overdue):
                due = next_due is None or now >= next_due  # on the leader's own clock, from now on
            else:
                # another node's: when it comes back to this one, the backend says when it is due
                self._next_due.pop(key, None)
                continue
            if due and self._submit(key):
                submitted.add(key)
        return submitted

    def _watch_hung(self, backend: Backend, now: float) -> None:
        from orchestrator_cli.backend import instances

        with self._lock:
            hanging = [(k, started) for k, started in self._in_flight.items() if now - started > self.hung_after]
        for key, started in hanging:
            newly = self.unresponsive.since(key) is None
            self.unresponsive.mark(key, started)
            if now - self._attempt_recorded.get(key, 0.0) >= 1.0:
                self._attempt_recorded[key] = now
                try:
                    instances.record_attempt(backend, key)
                except OrchestratorError as e:
                    log.error("%s: could not record the probe attempt: %s", key, e)
            if newly:
                log.info("%s: probe not answered for %.0fs: marked unreachable", key, now - started)
                self._changed()

    def _watch_observers(self) -> None:
        """While a server hangs or fails, its replicas (the observers) are probed about every 0.4 s
        until their IO thread reports the master lost: the last of them to report it turns it into a
        dead master. A replica that already reports it has nothing more to tell (a master that stays
        dead must not keep its replicas probed at that rate). With shared discovery only the leader
        does this (it acts on what they report); the others probe their share."""
        if self.share is not None and not self._leading:
            return
        with self._lock:
            suspects = set(self._failures) | self.unresponsive.marked() | self._backend_failing
            master_of = {**self._backend_master_of, **self._master_of}
            noticed = (self._backend_noticed - set(self._master_of)) | self._noticed
            observers = [k for k, master in master_of.items() if master in suspects and k not in noticed]
        if observers:
            self.request(observers)

    def _check_first_pass(self, now: float) -> None:
        if self.first_pass.is_set() or self._first_wave is None:
            return
        with self._lock:
            running = {k: started for k, started in self._in_flight.items() if k in self._first_wave}
        waiting = [k for k, started in running.items() if now - started <= self.hung_after]
        if not waiting:
            self.first_pass.set()

    # -- probes --------------------------------------------------------------------------------------

    def request(self, keys: Iterable[InstanceKey]) -> None:
        """Probe these now (observers of a failure), back-off or not; at most every
        REQUEST_THROTTLE_SECONDS per key."""
        now = time.monotonic()
        for key in keys:
            if now - self._requested.get(key, 0.0) < REQUEST_THROTTLE_SECONDS:
                continue
            if self._submit(key):
                self._requested[key] = now

    def failing(self) -> dict[InstanceKey, int]:
        """Servers whose last probes failed, with how many failed in a row."""
        with self._lock:
            return dict(self._failures)

    def in_flight(self, key: InstanceKey) -> bool:
        with self._lock:
            return key in self._in_flight

    def _submit(self, key: InstanceKey) -> bool:
        with self._lock:
            if key in self._in_flight:
                return False
            now = self._in_flight[key] = time.monotonic()
            first = key not in self._next_due
            # After its first probe each server gets its own phase in the poll cycle: servers probed
            # at different moments notice a failure sooner than servers probed all at once.
            self._next_due[key] = now + (self.poll * random.uniform(0.2, 1.0) if first else self.poll)
            pool = self._suspect if self._failures.get(key) else self._healthy
        try:
            pool.submit(self._probe, key)
        except RuntimeError:  # shut down
            with self._lock:
                self._in_flight.pop(key, None)
            return False
        return True

    def _backend(self) -> Backend:
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._local.backend = Backend(self.config)
            with self._lock:
                self._backends.append(backend)
        return backend

    def _probe(self, key: InstanceKey) -> None:
        started = time.monotonic()
        try:
            backend = self._backend()
            access, config = self._take_access()
            try:
                probed = probe_one(key, access, backend, config, record_failure=self._open.is_set)
            finally:
                self._give_back_access(access)
        except OrchestratorError as e:  # the backend failed; the server is probed again next scan
            log.error("%s: discovery failed: %s", key, e)
            self._forget_flight(key)
            return
        except Exception:
            self._forget_flight(key)
            raise
        now = time.monotonic()
        observe.probe_finished(str(key), now - started, probed.result is not None)
        with self._lock:
            started = self._in_flight.pop(key, now)
            self._verdict_at[key] = now
            if self._first_wave is not None:
                # probed once, answered or not: a re-probe (a hung master the observers keep asking
                # for) must not hold the first pass, and with it analysis, back
                self._first_wave.discard(key)
            if probed.result is None:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                self._not_before[key] = now + backoff_seconds(failures, self.poll)
            else:
                self._failures.pop(key, None)
                self._not_before.pop(key, None)
        log.debug(
            "%s: probe %s in %.0f ms", key, "failed" if probed.result is None else "answered", (now - started) * 1000
        )
        # The mark lasts until the server answers again: a probe that timed out is fresh news that
        # it is still unreachable, and a recovery that tried it for real would pay the timeout again
        # (2 s per statement on a hung master, measured by bench/chaos.py).
        if probed.result is not None:
            self.unresponsive.clear(key)
        elif probed.timed_out and self._open.is_set():
            # A hung server's probe fails on its read timeout (MySQLDiscoveryReadTimeoutSeconds), which
            # is usually shorter than `hung_after`: without this the mark would never be set. Other
            # failures (a refused login, an SQL error) do not mark: that server answers, may be
            # writable, and a recovery must still be able to reach it (to set it read-only).
            if self.unresponsive.since(key) is None:
                log.info("%s: probe timed out after %.1fs: marked unreachable", key, now - started)
            self.unresponsive.mark(key, started)
        self._attempt_recorded.pop(key, None)
        if probed.result is None:
            self._changed()
        else:
            written = instance_from_row(probed.result.row)  # as written to the backend
            master_as_written = InstanceKey(written.master_host, written.master_port)
            with self._lock:  # the master as written to the backend (its resolved name)
                if written.master_host and probed.result.master_key is not None:
                    self._master_of[key] = master_as_written
                else:
                    self._master_of.pop(key, None)
                if io_broken(written):
                    self._noticed.add(key)
                else:
                    self._noticed.discard(key)
            if io_broken(written) and (self.share is None or self._leading):
                # the observer says its master is gone: look at the master now
                self.request([master_as_written])
                self._changed()
            for neighbour in probed.neighbours:
                if neighbour not in self._known:  # new to the backend: follow it now
                    self._submit(neighbour)
        if self.on_probed is not None:
            try:
                self.on_probed(probed, backend)
            except OrchestratorError as e:
                log.error("%s: %s", key, e)

    def _forget_flight(self, key: InstanceKey) -> None:
        """The probe's outcome is unknown (the backend failed): a hung mark stays until a probe of the
        server is answered."""
        with self._lock:
            self._in_flight.pop(key, None)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- reload ---------------------------------------------------------------------------------------
    def reload(self, config: Mapping[str, Any]) -> None:
        """Apply a reloaded configuration: probes started from now on connect with its credentials and
        timeouts (a new `TopologyAccess`: no connection opened under the old one is reused) and read its
        discovery settings; the backends of the probe threads see it too. The pools' sizes stay."""
        with self._lock:
            self.config = config
            self.poll = max(1, int(config.get("InstancePollSeconds", 5)))
            self.hung_after = self.poll + int(config.get("ReasonableInstanceCheckSeconds", 1))
            old, self._access = self._access, TopologyAccess(config)
            unused = not self._access_users.get(id(old))
            if not unused:
                self._retired.append(old)
            backends = list(self._backends)
        for backend in backends:
            backend.config = config
        if unused:
            old.close()

    def _take_access(self) -> tuple[TopologyAccess, Mapping[str, Any]]:
        with self._lock:
            access = self._access
            self._access_users[id(access)] = self._access_users.get(id(access), 0) + 1
            return access, self.config

    def _give_back_access(self, access: TopologyAccess) -> None:
        with self._lock:
            left = self._access_users[id(access)] - 1
            if left:
                self._access_users[id(access)] = left
                return
            del self._access_users[id(access)]
            retired = access in self._retired
            if retired:
                self._retired.remove(access)
        if retired:
            access.close()

    def close(self) -> None:
        """Stop probing: queued probes are dropped, running ones are cut short (a hung server would
        otherwise hold the process for its read timeout)."""
        self._open.clear()
        self._healthy.shutdown(wait=False, cancel_futures=True)
        self._suspect.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            accesses = [self._access, *self._retired]
        for access in accesses:
            access.abort()

    def join(self) -> None:
        """Wait for the probes still running, then close their connections and backends."""
        self._healthy.shutdown(wait=True, cancel_futures=True)
        self._suspect.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            accesses, self._retired = [self._access, *self._retired], []
        for access in accesses:
            access.close()
        with self._lock:
            backends, self._backends = list(self._backends), []
        for backend in backends:
            backend.close()
