"""Continuous mode's discovery: every instance probed on its own schedule, each probe written as it
completes, so that one slow or hung server costs its own freshness and nobody else's.

* Every second the backend's rows are read; a server is due InstancePollSeconds after this process
  last probed it, or, when it has not, InstancePollSeconds after the backend's last check of it
  (spec §1.1); each DiscoverySeeds entry not known yet is due. After its first probe each server
  gets its own phase in the poll cycle (its second probe comes a random part of InstancePollSeconds
  later), so that a failure seen by any of them is seen soon.
* A worker that is free takes the server due the longest (`probe_queue.ProbeQueue`): when the
  workers cannot keep up, every server is probed again about every N / (probes per second)
  seconds, the stalest first, none early; a server waits in the queue, not in a pool's queue, so
  only a probe that really runs counts as in flight (and can look hung). A key is never probed
  twice at once.
* A probe writes its own row the moment it completes (`crawl.probe_one`); the replicas and the master
  it names are probed next when the backend does not know them yet.
* A probe running longer than InstancePollSeconds + ReasonableInstanceCheckSeconds marks its server
  hung: its `last_attempted_check` moves forward every second (the analysis then counts the
  server's last check as invalid, spec §1.10, without waiting for the read timeout) and
  `Unresponsive` lets recoveries treat it as unreachable at once. A probe that fails on a timeout
  (read, write or handshake: the server does not answer) marks it too. The mark is cleared only
  when a probe of the server is answered.
* Workers (`DiscoveryMaxConcurrency`, the original's 300) share a pool of backend connections
  (`BackendPool`, at most `MySQLOrchestratorMaxPoolConnections`; one on SQLite): a probe borrows
  one for its backend read and write only, after the server answered, so most workers wait on
  servers while a few connections carry every write. A probe whose server has answered is never
  judged hung, however long it waits for a connection. Up to DiscoveryMaxConcurrency probes run at
  once: fewer while the process is short of CPU (`concurrency.ConcurrencyLimit`: more would only
  stretch every probe, past the hung threshold).
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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator_cli import observe
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.config import discovery_max_concurrency
from orchestrator_cli.discovery.concurrency import ConcurrencyLimit
from orchestrator_cli.discovery.crawl import Probed, probe_one
from orchestrator_cli.discovery.probe_queue import ProbeQueue
from orchestrator_cli.discovery.sharing import DiscoveryShare
from orchestrator_cli.driver import connector
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess, Unresponsive

if TYPE_CHECKING:
    from orchestrator_cli.backend.connection_pool import BackendPool

log = logging.getLogger("orchestrator.discovery")

SCAN_SECONDS = 1.0
# Ours: the original re-probes observers once a second. Discovery ticks every 0.2 s, so this lets a
# key through every other tick (0.4 s); 0.5 let it through every third (0.6 s, measured), and the
# replicas of a hung master report its loss up to that long after their IO thread gave up.
REQUEST_THROTTLE_SECONDS = 0.35
SUSPECT_WORKERS = 4

OnProbed = Callable[[Probed, Backend], None]


def cpu_wait(nap: float = 0.001) -> float:
    """How late the calling thread runs after a `nap`-second sleep: how long a thread woken by an
    answer waits for the CPU (the GIL, the machine) in this process right now."""
    started = time.monotonic()
    time.sleep(nap)
    return max(0.0, time.monotonic() - started - nap)


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


@dataclass
class _Pool:
    """Workers and the servers waiting for them: the healthy servers' pool, or the suspects'."""

    name: str
    size: int
    executor: ThreadPoolExecutor
    queue: ProbeQueue[InstanceKey] = field(default_factory=ProbeQueue)
    running: int = 0


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
        workers = discovery_max_concurrency(config)
        connector()  # the driver and its plugins, imported before the workers race to (driver.py)
        self._healthy = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
        self._suspect = ThreadPoolExecutor(max_workers=SUSPECT_WORKERS, thread_name_prefix="probe-suspect")
        # servers whose last probe was answered, and suspects (failed last), each with its workers
        # how many of the workers probe at once: fewer while more would only slow every probe down
        self._limit = ConcurrencyLimit(workers, hung_after=self.hung_after)
        self._saturated = False  # every slot of `_probes` was busy while servers were due (this period)
        self._probes = _Pool("probe", self._limit.value, self._healthy)
        self._suspects = _Pool("suspect", SUSPECT_WORKERS, self._suspect)
        self._access = TopologyAccess(config)  # probes always try: they are how a server's return is seen
        # A reload replaces `_access`; the one it replaced is closed once no probe uses it any more.
        self._access_users: dict[int, int] = {}  # id(access) -> probes running on it
        self._retired: list[TopologyAccess] = []
        self._lock = threading.Lock()
        self._in_flight: dict[InstanceKey, float] = {}  # key -> its probe started (monotonic): running only
        self._answered: dict[InstanceKey, float] = {}  # in flight, past the server (at the backend: never
        # hung) -> when the server had answered
        self._failures: dict[InstanceKey, int] = {}
        self._requested: dict[InstanceKey, float] = {}
        self._attempt_recorded: dict[InstanceKey, float] = {}
        self._workers = workers
        self._pool: BackendPool | None = None  # the workers' backend connections, made on the first probe
        self._last_scan = 0.0
        self._known: set[InstanceKey] = set()
        self._next_due: dict[InstanceKey, float] = {}  # this process's schedule: set when a probe starts
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
        self._paused = False  # set by pause(), cleared by tick()
        self._backlogged = False  # this node's own probes are overdue by more than a poll (at the last scan)
        self._first_wave: set[InstanceKey] | None = None
        self._first_wave_at = 0.0  # when the first wave was taken (monotonic)
        self.first_pass = threading.Event()
        self._open = threading.Event()  # cleared at shutdown: probes cut short are not failures
        self._open.set()

    # -- the discovery thread ------------------------------------------------------------------------

    def tick(self, backend: Backend, *, lead: bool = True) -> None:
        """Called several times a second by the discovery thread: while this node leads, or, when
        discovery is shared, on every node (`lead` False: only this node's share)."""
        self._limit.observe(cpu_wait())
        now = time.monotonic()
        self._leading = lead
        self._paused = False
        if now - self._last_scan >= SCAN_SECONDS:
            elapsed = now - self._last_scan if self._last_scan else SCAN_SECONDS
            self._last_scan = now
            # A leader's first pass covers every instance due, shared or not: analysis must not start on
            # what another node (maybe the dead ex-leader) left stale.
            due_now = self._scan(backend, now, everything=lead and self._first_wave is None)
            if self._first_wave is None:
                with self._lock:
                    self._first_wave = due_now | set(self._in_flight)
                    self._first_wave_at = now
            with self._lock:
                saturated, self._saturated = self._saturated, False
                limit, self._probes.size = self._probes.size, self._limit.update(saturated=saturated, elapsed=elapsed)
            if limit != self._probes.size:
                log.debug("probes at once: %d (was %d)", self._probes.size, limit)
        self._watch_hung(backend, now)
        self._watch_observers()
        self._fill()
        self._check_first_pass(now)

    def pause(self) -> None:
        """This process stops probing (it no longer leads, and discovery is not shared): the servers
        waiting are dropped, with this process's schedule; probes running end on their own. The next
        `tick` starts again from the backend's last checks."""
        with self._lock:
            self._paused = True  # a probe still running does not start the next one
            for pool in (self._probes, self._suspects):
                for key in pool.queue:
                    pool.queue.remove(key)
            self._next_due.clear()

    def _scan(self, backend: Backend, now: float, *, everything: bool = False) -> set[InstanceKey]:
        """The backend's keys, each queued for its next probe; returns those due at once. A key this
        process has not probed yet (e.g. right after it was elected) is due by the backend's clock:
        InstancePollSeconds after its last check (spec §1.1)."""
        from orchestrator_cli.backend import instances
        from orchestrator_cli.backend.instance_rows import key_of
        from orchestrator_cli.model.coerce import to_opt_int

        # seconds since each key's last check, by the backend's clock (None: never checked)
        ages: dict[InstanceKey, int | None]
        if self.share is None:  # this process probes every instance: the ages are all it needs
            ages = {InstanceKey(h, p): age for h, p, age in instances.check_ages(backend)}
        else:
            rebalanced = self.share.refresh(backend)
            rows = instances.scan_rows(backend)
            ages = {key_of(r): to_opt_int(r.get("seconds_since_check")) for r in rows}
            self._learn_from_others(rows, now)
            if rebalanced or len(ages) != len(self._known):
                log.info(
                    "discovery shared by %d node(s): this node probes %d of %d instances",
                    len(self.share.nodes), sum(map(self.share.owns, ages)), len(ages),
                )  # fmt: skip
        known = set(ages)
        for seed in self.config.get("DiscoverySeeds") or []:
            try:
                key = InstanceKey.parse(str(seed), int(self.config.get("DefaultInstancePort", 3306)))
            except ValueError as e:
                log.error("DiscoverySeeds: %s", e)
                continue
            if key not in known:
                known.add(key)
                ages[key] = None
        self._known = known
        return self._queue_known(ages, now, everything=everything)

    def _queue_known(self, ages: Mapping[InstanceKey, int | None], now: float, *, everything: bool) -> set[InstanceKey]:
        """Every key this process probes is queued (or running); the others are dropped, with their
        schedule here (when one comes back, the backend says when it is due). With shared discovery
        that is this node's share (all due keys when `everything`), and, on the leader,
        `leader_keys` and what nobody refreshed for 5 x InstancePollSeconds (an owner registered but
        stuck). A queued key that another process probed since this one did is put back to
        InstancePollSeconds after that probe: the same server is not probed twice in one cycle
        (a leader's first pass or take-over, a shared node joining)."""
        due_now: set[InstanceKey] = set()
        with self._lock:
            stalest = self._probes.queue.stalest_due()
            # the leader's own share waits more than a poll: it cannot take over anybody's overdue servers
            self._backlogged = stalest is not None and stalest < now - self.poll
            for key, age in ages.items():
                checked = None if age is None else now - age  # the backend's last check, on this clock
                if self._first_wave is not None and self._refreshed_by_owner(key, checked):
                    self._first_wave.discard(key)
                if not (self._wanted(key) or (everything and (checked is None or checked + self.poll <= now))):
                    for pool in (self._probes, self._suspects):
                        if not pool.queue.requested(key):
                            pool.queue.remove(key)
                    self._next_due.pop(key, None)
                    continue
                if key in self._in_flight:
                    continue
                pool = self._pool_of(key)
                queued = pool.queue.due(key)
                if queued is not None:
                    if checked is not None and self._checked_elsewhere(key, checked, queued):
                        pool.queue.put(key, checked + self.poll)
                    continue
                if self._other(pool).queue.due(key) is not None:
                    continue  # moved between pools by a probe's outcome: already queued there
                due = self._next_due.get(key)
                if due is None:
                    due = now if checked is None else checked + self.poll
                pool.queue.put(key, due)
                if due <= now:
                    due_now.add(key)
            # a server a probe named but that is not in the backend (its probe failed): named again, followed again
            for pool in (self._probes, self._suspects):
                for key in pool.queue:
                    if key not in ages and not pool.queue.requested(key):
                        pool.queue.remove(key)
            for key in [k for k in self._next_due if k not in ages and k not in self._in_flight]:
                del self._next_due[key]
        return due_now

    def _refreshed_by_owner(self, key: InstanceKey, checked: float | None) -> bool:
        """Whether a key of the leader's first pass that another live node owns was checked since
        the pass began (the lock is held): it is not stale, and probing it too would only take a
        turn from this node's own share (under load, the pass over every instance then outlasted
        a whole poll cycle of the other nodes, and this node's share went unprobed meanwhile).
        Timestamps have one-second resolution: a check within a second of the start does not count."""
        if self._first_wave is None or key not in self._first_wave or checked is None or key in self._in_flight:
            return False
        if self.share is None or self.share.owns(key):
            return False
        return checked > self._first_wave_at + 1

    def _checked_elsewhere(self, key: InstanceKey, checked: float, queued: float) -> bool:
        """Whether the backend's last check of a queued key is another process's probe, newer than
        this process's last one and than its queued due time allows (the backend's timestamps have
        one-second resolution: a second either way is noise)."""
        if queued == float("-inf"):
            return False  # requested: probed now whoever checked it
        ours = self._verdict_at.get(key)
        return (ours is None or checked > ours + 2) and checked + self.poll > queued + 1

    def _wanted(self, key: InstanceKey) -> bool:
        """Whether this process probes `key` on its schedule (the lock is held)."""
        if self.share is None or self.share.owns(key):
            return True
        if self._first_wave is not None and key in self._first_wave:
            return True  # the first pass probes it once, whoever owns it
        if not self._leading:
            return False
        # An owner's server nobody refreshed for 5 x InstancePollSeconds: the owner is stuck, unless
        # this node cannot keep up with its own share either (then the whole fleet is overloaded, and
        # probing the other's servers too would only probe them twice: the owner probes them next).
        return key in self.leader_keys or (key in self._overdue and not self._backlogged)

    def _pool_of(self, key: InstanceKey) -> _Pool:
        return self._suspects if self._failures.get(key) else self._probes

    def _other(self, pool: _Pool) -> _Pool:
        return self._probes if pool is self._suspects else self._suspects

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

    def _watch_hung(self, backend: Backend, now: float) -> None:
        from orchestrator_cli.backend import instances

        with self._lock:
            hanging = [
                (k, started)
                for k, started in self._in_flight.items()
                if now - started > self.hung_after and k not in self._answered
            ]
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
        """The first pass is over when every key of the first wave was probed once, or hangs."""
        if self.first_pass.is_set() or self._first_wave is None:
            return
        with self._lock:
            waiting = [
                k
                for k in self._first_wave
                if k in self._answered or now - self._in_flight.get(k, now) <= self.hung_after
            ]
        if not waiting:
            self.first_pass.set()

    # -- probes --------------------------------------------------------------------------------------

    def request(self, keys: Iterable[InstanceKey]) -> None:
        """Probe these now (observers of a failure), before every server merely due, back-off or
        not; at most every REQUEST_THROTTLE_SECONDS per key, and not while a probe of it runs (nor
        while paused: they wait for the next tick)."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                if now - self._requested.get(key, 0.0) < REQUEST_THROTTLE_SECONDS or key in self._in_flight:
                    continue
                pool = self._pool_of(key)
                self._other(pool).queue.remove(key)
                pool.queue.urge(key)
                self._requested[key] = now
        self._fill()

    def failing(self) -> dict[InstanceKey, int]:
        """Servers whose last probes failed, with how many failed in a row."""
        with self._lock:
            return dict(self._failures)

    def in_flight(self, key: InstanceKey) -> bool:
        """Whether a probe of `key` is running (not merely queued)."""
        with self._lock:
            return key in self._in_flight

    def queued(self) -> int:
        """How many servers wait for a free worker or for their due time."""
        with self._lock:
            return len(self._probes.queue) + len(self._suspects.queue)

    def _fill(self) -> None:
        """Start probes while a pool has a free worker and a server that is due: requested ones
        first, then the stalest (`ProbeQueue.take`). Called by the discovery thread's tick, by
        `request`, and by each worker as its probe ends, so that a busy pool never waits for a tick."""
        with self._lock:
            if self._paused or not self._open.is_set():
                return
            now = time.monotonic()
            for pool in (self._probes, self._suspects):
                while pool.running < pool.size:
                    key = pool.queue.take(now)
                    if key is None:
                        break
                    self._start(key, pool, now)
                else:
                    due = pool.queue.next_due()
                    if pool is self._probes and due is not None and due <= now:
                        self._saturated = True  # a larger limit would have started more

    def _start(self, key: InstanceKey, pool: _Pool, now: float) -> None:
        """Run a probe of `key` on `pool` (the lock is held)."""
        self._in_flight[key] = now
        first = key not in self._next_due
        # After its first probe each server gets its own phase in the poll cycle: servers probed at
        # different moments notice a failure sooner than servers probed all at once.
        self._next_due[key] = now + (self.poll * random.uniform(0.2, 1.0) if first else self.poll)
        pool.running += 1
        try:
            pool.executor.submit(self._run, key, pool)
        except RuntimeError:  # shut down
            pool.running -= 1
            self._in_flight.pop(key, None)

    def _run(self, key: InstanceKey, pool: _Pool) -> None:
        try:
            self._probe(key)
        finally:
            with self._lock:
                pool.running -= 1
            self._fill()

    def _follow(self, key: InstanceKey) -> None:
        """A server a probe named (a replica, a master) that the backend did not know: probed soon,
        before the servers merely due."""
        with self._lock:
            if key in self._known or key in self._in_flight or key in self._next_due:
                return
            if key in self._probes.queue or key in self._suspects.queue:
                return
            self._known.add(key)
            self._probes.queue.urge(key)

    def _backend(self) -> BackendPool:
        """The workers' pool of backend connections (see the module's notes)."""
        with self._lock:
            if self._pool is None:
                from orchestrator_cli.backend.connection_pool import BackendPool, writers_size

                self._pool = BackendPool(self.config, size=writers_size(self.config, self._workers + SUSPECT_WORKERS))
            return self._pool

    def _server_answered(self, key: InstanceKey) -> None:
        """The probe of `key` is done with the server; what is left waits on the backend only."""
        with self._lock:
            if key in self._in_flight:
                self._answered[key] = time.monotonic()

    def _probe(self, key: InstanceKey) -> None:
        started = time.monotonic()
        try:
            backend = self._backend()
            access, config = self._take_access()
            try:
                probed = probe_one(
                    key, access, backend, config, record_failure=self._open.is_set,
                    answered=lambda: self._server_answered(key),
                )  # fmt: skip
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
            answered = self._answered.pop(key, now)
            if probed.result is not None:
                self._limit.observe_probe(answered - started)
            self._verdict_at[key] = now
            if self._first_wave is not None:
                # probed once, answered or not: a re-probe (a hung master the observers keep asking
                # for) must not hold the first pass, and with it analysis, back
                self._first_wave.discard(key)
            if probed.result is None:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                due = now + backoff_seconds(failures, self.poll)
            else:
                self._failures.pop(key, None)
                due = self._next_due.get(key, started + self.poll)
            if self._wanted(key) and self._open.is_set():
                pool = self._pool_of(key)  # a failed server waits out its back-off among the suspects
                self._other(pool).queue.remove(key)
                if not pool.queue.requested(key):
                    pool.queue.put(key, due)
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
                self._follow(neighbour)  # new to the backend: probed soon
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
            self._answered.pop(key, None)

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
            self._limit.hung_after = self.hung_after
            old, self._access = self._access, TopologyAccess(config)
            unused = not self._access_users.get(id(old))
            if not unused:
                self._retired.append(old)
            pool = self._pool
        if pool is not None:
            pool.use_config(config)
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
            pool = self._pool
        if pool is not None:
            pool.close()
