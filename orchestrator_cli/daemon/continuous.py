"""Continuous mode: keep the backend fresh, analyse every second, recover automatically.

One process of possibly several sharing a backend. A thread of its own registers in `node_health`
every second and takes part in the `active_node` election (lease 5 s, renewed every second, looked
at twice a second by followers; `--grab-election` takes it at once). Only the elected node works,
and every automated recovery carries the lease term it was decided under (recovery/fencing.py):

* discovery (a thread, `discovery.scheduler`): every instance whose last check is older than
  InstancePollSeconds is probed again, each probe written as it completes; new replicas and masters
  are followed; with ShareDiscoveryAmongNodes every daemon, leader or not, probes its share
  (`discovery.sharing`) and the leader still probes itself what confirms a failure; a hung server
  is marked unreachable once its probe times out or runs past InstancePollSeconds +
  ReasonableInstanceCheckSeconds; failing servers back off in their own pool; DiscoverySeeds are
  added. A returning failed master (downtimed `lost-in-recovery`, writable) is fenced at once
  (`recovery.returning_master`);
* analysis (every second, and at once when a probe failed or a replica reported a broken IO
  thread, once the first discovery pass finished; that state survives leadership changes): the
  analysis changelog is kept; an unreachable master gets itself and its replicas re-probed at once
  (they are the observers that turn it into a dead master); a locked semi-sync hypothesis records
  the stale coordinates;
* recovery: each entry with a handler runs in its own worker (one at a time per instance), after a
  live re-probe of the failed instance and its replicas confirms the analysis. Automated recovery
  honours Recover*ClusterFilters, the global switch, downtime and anti-flapping (engine.execute);
* caretaking: expiring downtimes and maintenance locks, releasing `lost-in-recovery` downtimes of
  instances that replicate again, expiring candidates, node rows, changelog and stale coordinates,
  acknowledging recoveries of crashed processes.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from orchestrator_cli import __version__, observe
from orchestrator_cli.analysis import Analysis, AnalysisCode
from orchestrator_cli.backend import election
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess, Unresponsive
from orchestrator_cli.topology.env import TopologyEnv, make_env

log = logging.getLogger("orchestrator.continuous")

TICK_SECONDS = 1.0
DISCOVERY_TICK_SECONDS = 0.2
MIN_ANALYSIS_INTERVAL_SECONDS = 0.1
FOLLOWER_TICK_SECONDS = 0.5  # a follower looks at the lease twice a second: a dead leader is replaced sooner
MINUTE = 60.0
REPROBE_THROTTLE_SECONDS = 0.5  # observers of an unreachable master (the original: 1 s)
_OBSERVER_CODES = frozenset(
    {
        AnalysisCode.UNREACHABLE_MASTER,
        AnalysisCode.UNREACHABLE_MASTER_WITH_LAGGING_REPLICAS,
        AnalysisCode.UNREACHABLE_CO_MASTER,
        AnalysisCode.UNREACHABLE_INTERMEDIATE_MASTER,
        AnalysisCode.UNREACHABLE_INTERMEDIATE_MASTER_WITH_LAGGING_REPLICAS,
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING,
        AnalysisCode.ALL_MASTER_REPLICAS_NOT_REPLICATING_OR_DEAD,
    }
)

Note = Callable[[str], None]


class Complaints:
    """One error line when a loop's backend work starts failing, debug lines while it keeps failing, and
    one line when it works again: a backend that is down, hung or read-only for a minute must not write
    an error per tick per loop (the lease thread ticks twice a second).

    >>> import logging
    >>> c = Complaints(logging.getLogger("doctest"))
    >>> c.failed("analysis failed", RuntimeError("refused")), c.failed("analysis failed", RuntimeError("again"))
    (True, False)
    >>> c.ok("analysis failed"), c.ok("analysis failed")
    (True, False)
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._since: dict[str, float] = {}
        self._lock = threading.Lock()

    def failed(self, what: str, error: BaseException, *, level: int = logging.ERROR) -> bool:
        """Log `what: error` unless `what` is already failing; True when it was logged."""
        with self._lock:
            first = what not in self._since
            if first:
                self._since[what] = time.monotonic()
        if first:
            self._log.log(level, "%s: %s", what, error)
        else:
            self._log.debug("%s (still): %s", what, error)
        return first

    def ok(self, what: str) -> bool:
        """`what` worked: one line if it had been failing; True when it had."""
        with self._lock:
            since = self._since.pop(what, None)
        if since is not None:
            self._log.info("%s: works again after %.0fs", what, time.monotonic() - since)
        return since is not None


PSEUDO_GTID_INTERVAL_SECONDS = 5  # the original injects every 5 s


class ContinuousMode:
    """The loop; `run()` returns when stopped (signal, `stop()`, or `duration` elapsed)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        owner: str = "orchestrator",
        grab_election: bool = False,
        duration: float | None = None,
        note: Note | None = None,
    ) -> None:
        from orchestrator_cli.backend import health

        self.config = config
        self.owner = owner
        self.grab = grab_election
        self.duration = duration
        self.note = note
        self.node = health.identity()
        self.poll = max(1, int(config.get("InstancePollSeconds", 5)))
        # ShareDiscoveryAmongNodes: every daemon probes its share of the instances (discovery/sharing.py)
        self.sharing = bool(config.get("ShareDiscoveryAmongNodes", False))
        self._stop = threading.Event()
        self._wake = threading.Event()  # a probe failed: analyse now rather than at the next tick
        self._leader = False  # what the lease thread last learned; `leader` also asks that it be recent
        self._renewed_at = 0.0  # monotonic: when the attempt that last returned our lease was started
        self._stale_said = False
        self._complaints = Complaints(log)
        self._expiry_watch = election.ExpiryWatch()
        # Servers whose probe hangs: recoveries treat them as unreachable without a connect timeout.
        self._unresponsive = Unresponsive()
        self._scheduler: Any = None  # the discovery scheduler, made by the discovery thread
        # Set once the first discovery pass finished; kept across leadership changes (a shared
        # backend stays fresh under the other leader).
        self._lease: election.Lease | None = None  # the current term while this node leads
        self._discovered = threading.Event()
        self._lost_in_recovery: set[InstanceKey] = set()
        self._fenced_at: dict[InstanceKey, float] = {}
        self._in_flight: dict[str, Future[None]] = {}
        self._reprobed: dict[str, float] = {}
        self._detected: dict[str, str] = {}  # key -> detection-only code already recorded
        self._lock = threading.Lock()
        self.recoveries: list[Any] = []
        # AutoPseudoGTID's access: its statements are recorded per cluster, not audited. The main loop's
        # alone (it injects; `_renewed` and the end of `run` close it), never a recovery's to close.
        self._injection_access = TopologyAccess(config)
        self._generation = 0  # counts reloads: the main loop renews its topology access when it changes
        self._long_lived: list[Backend] = []  # the loops' own backends, handed a reloaded config

    # -- reload --------------------------------------------------------------------------------------

    def reload(self, fresh: Mapping[str, Any]) -> list[str]:
        """Apply a configuration read again (SIGHUP, the API's `reload-configuration`).

        What takes effect: topology credentials, timeouts and TLS (every connection to a server opened
        from now on: discovery's next probes, the next recovery, the main loop's next pass; connections
        opened under the old values are closed, not reused), discovery settings (poll interval,
        filters, patterns, seeds), analysis and recovery settings, hooks. What does not: the backend
        database and the HTTP listener (`config.RESTART_KEYS`); their names are returned, and logged,
        when the files changed them: they need a restart.
        """
        from orchestrator_cli.config import Config, reloaded

        current = self.config
        effective, ignored = reloaded(current, fresh if isinstance(fresh, Config) else Config(dict(fresh), []))
        with self._lock:
            self.config = effective
            self.poll = max(1, int(effective.get("InstancePollSeconds", 5)))
            self._generation += 1
            backends = list(self._long_lived)
        for backend in backends:
            backend.config = effective
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.reload(effective)
        self._wake.set()  # the main loop renews its access now, not at the next tick
        if ignored:
            log.warning("configuration reloaded; these changes need a restart to take effect: %s", ", ".join(ignored))
        else:
            log.info("configuration reloaded")
        return ignored

    def _own(self, backend: Backend) -> Backend:
        with self._lock:
            self._long_lived.append(backend)
        return backend

    def _disown(self, backend: Backend) -> None:
        with self._lock:
            if backend in self._long_lived:
                self._long_lived.remove(backend)
        backend.close()

    def _renewed(self, env: TopologyEnv) -> TopologyEnv:
        """The main loop's environment under the reloaded configuration (same backend, new access)."""
        with self._lock:
            config = self.config
            injection, self._injection_access = self._injection_access, TopologyAccess(config)
        access = TopologyAccess(config, unresponsive=self._unresponsive)
        renewed = make_env(env.backend, access, config, self.owner)
        env.access.close()
        injection.close()
        return renewed

    # -- life cycle ----------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def leader(self) -> bool:
        return self._current_lease() is not None

    def _current_lease(self) -> election.Lease | None:
        """The lease while this node leads: held at the last attempt, and renewed within FENCE_SECONDS.

        A lease thread stuck in a statement (a backend hung up to MySQLOrchestratorReadTimeoutSeconds,
        connections refused and retried at max_connections) learns nothing new; meanwhile the lease
        expires on the backend and another node is elected. Judged by this process's own clock from the
        moment the last successful renewal was sent, so the node stops acting as leader on its own."""
        lease = self._lease
        if lease is None:
            return None
        silent = time.monotonic() - self._renewed_at
        if silent < election.FENCE_SECONDS:
            return lease
        with self._lock:  # said once, by whichever thread notices first (the lease thread may be stuck)
            said, self._stale_said = self._stale_said, True
        if not said:
            log.warning("lease not renewed for %.0fs (backend not answering): acting as a follower until it is", silent)
        return None

    def _say(self, text: str) -> None:
        log.info("%s", text)
        if self.note is not None:
            self.note(text)

    def _env(self) -> TopologyEnv:
        access = TopologyAccess(self.config, unresponsive=self._unresponsive)
        return make_env(Backend(self.config), access, self.config, self.owner)

    def run(self, reload_config: Callable[[], Mapping[str, Any]] | None = None) -> int:
        """`reload_config`: reads the configuration files again; given, SIGHUP reloads (`reload`)."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
            if reload_config is not None:
                signal.signal(signal.SIGHUP, lambda *_: self.reload_in_background(reload_config))
        env = self._env()
        self._own(env.backend)
        generation = self._generation
        started = time.monotonic()
        workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="recovery")
        discovery = threading.Thread(target=self._discovery_loop, name="discovery", daemon=True)
        lease_keeper = threading.Thread(target=self._lease_loop, name="lease", daemon=True)
        last_care, last_minute, last_injection, last_beat = 0.0, 0.0, 0.0, 0.0
        try:
            if self.grab:
                election.grab_election(env.backend, self.node)
                self._say(f"grabbed the election as {self.node[0]}")
            lease_keeper.start()
            discovery.start()
            while not self._stop.is_set():
                tick = time.monotonic()
                if self.duration is not None and tick - started >= self.duration:
                    break
                if generation != self._generation:
                    generation = self._generation
                    env = self._renewed(env)
                if tick - last_beat >= TICK_SECONDS:
                    # The analysis rhythm: once a second, plus wake-ups (the lease has its own thread).
                    last_beat = tick
                if self.leader and self._discovered.is_set():
                    self._analyse(env, workers)
                    if tick - last_care >= self.poll:
                        last_care = tick
                        self._caretaking(env)
                    if tick - last_minute >= MINUTE:
                        last_minute = tick
                        self._minutely(env)
                    if self.config.get("AutoPseudoGTID") and tick - last_injection >= PSEUDO_GTID_INTERVAL_SECONDS:
                        last_injection = tick
                        self._inject_pseudo_gtid(env)
                self._wake.wait(max(0.0, TICK_SECONDS - (time.monotonic() - last_beat)))
                self._wake.clear()
                self._stop.wait(max(0.0, MIN_ANALYSIS_INTERVAL_SECONDS - (time.monotonic() - tick)))
        finally:
            self._stop.set()
            workers.shutdown(wait=True)
            if discovery.is_alive():
                discovery.join(timeout=10)
            if lease_keeper.is_alive():
                lease_keeper.join(timeout=10)
            self._step_down(env)
            env.access.close()
            self._injection_access.close()
            self._disown(env.backend)
        return 0

    def reload_in_background(self, reload_config: Callable[[], Mapping[str, Any]]) -> None:
        """SIGHUP: read the files and apply them on a thread of their own (not inside the handler)."""

        def work() -> None:
            try:
                fresh = reload_config()
            except OrchestratorError as e:
                log.error("configuration not reloaded: %s", e)
                return
            self.reload(fresh)

        threading.Thread(target=work, name="reload", daemon=True).start()

    def _lease_loop(self) -> None:
        """Registration and the lease, every second on a connection of their own, so that neither a
        slow analysis pass nor a probe that wakes the main loop early changes the lease's rhythm."""
        backend = self._own(Backend(self.config))
        registered = 0.0
        try:
            while not self._stop.is_set():
                tick = time.monotonic()
                register = tick - registered >= TICK_SECONDS
                if register:
                    registered = tick
                try:
                    self._heartbeat(backend, register=register)
                except Exception as e:  # noqa: BLE001  (the lease thread must outlive any one failure)
                    log.exception("election attempt failed: %s", e)
                    self._lease, self._leader = None, False
                interval = TICK_SECONDS if self._leader else FOLLOWER_TICK_SECONDS
                self._stop.wait(max(0.0, interval - (time.monotonic() - tick)))
        finally:
            self._disown(backend)

    def _heartbeat(self, backend: Backend, *, register: bool = True) -> None:
        """One registration and election attempt. Losing the lease keeps what discovery learned: the
        backend is shared, and a node that leads again must not wait for a full pass first."""
        from orchestrator_cli.backend import health

        if register:
            info = health.SHARED_DISCOVERY_INFO if self.sharing else health.CONTINUOUS_INFO
            try:
                health.register(backend, info, health.CONTINUOUS_COMMAND, __version__)
                self._complaints.ok("registration failed")
            except OrchestratorError as e:
                # Nodes starting together race for node_health rows: a deadlock there is retried next tick.
                if election.is_race(e):
                    log.debug("registration failed: %s", e)
                else:
                    self._complaints.failed("registration failed", e)
        started = time.monotonic()
        try:
            lease = election.attempt_election(backend, self.node, self._expiry_watch)
            self._complaints.ok("backend unavailable")
        except OrchestratorError as e:
            self._complaints.failed("backend unavailable", e)
            lease = None
        if lease is not None:
            if self._stale_said and lease == self._lease:
                log.info("lease renewed again: this node runs discovery and recovery")
            self._renewed_at = started
        self._stale_said = False
        leader = lease is not None
        if leader != self._leader:
            self._say("elected: this node runs discovery and recovery" if leader else "not the active node")
        self._lease = lease
        self._leader = leader

    def _step_down(self, env: TopologyEnv) -> None:
        if self._lease is not None:
            try:
                election.step_down(env.backend, self.node)
            except OrchestratorError as e:
                log.warning("could not give up the election: %s", e)

    # -- discovery -----------------------------------------------------------------------------------

    def _discovery_loop(self) -> None:
        from orchestrator_cli.backend import instances
        from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
        from orchestrator_cli.discovery.sharing import DiscoveryShare

        backend = self._own(Backend(self.config))
        scheduler = self._scheduler = DiscoveryScheduler(
            self.config,
            self._unresponsive,
            on_probed=self._on_probed,
            on_change=self._wake.set,
            share=DiscoveryShare(self.node[1]) if self.sharing else None,
        )
        last_lost = 0.0
        try:
            while not self._stop.is_set():
                leader = self.leader
                if leader or self.sharing:
                    try:
                        now = time.monotonic()
                        if leader and now - last_lost >= TICK_SECONDS:
                            last_lost = now
                            self._lost_in_recovery = set(instances.keys_of(instances.lost_in_recovery(backend)))
                            # fencing acts on the leader's own probes: with shared discovery it probes these itself
                            scheduler.leader_keys = frozenset(self._lost_in_recovery)
                        scheduler.tick(backend, lead=leader)
                        self._complaints.ok("discovery failed")
                    except OrchestratorError as e:
                        self._complaints.failed("discovery failed", e)
                    if scheduler.first_pass.is_set() and not self._discovered.is_set():
                        self._discovered.set()
                        self._wake.set()
                else:
                    scheduler.pause()  # a follower probes nothing (the original's way)
                self._stop.wait(DISCOVERY_TICK_SECONDS)
        finally:
            scheduler.close()
            scheduler.join()
            self._disown(backend)

    def _on_probed(self, probed: Any, backend: Backend) -> None:
        """After each probe: fence a failed master that came back writable (recovery.returning_master).

        The change is made under the lease term, like an automated recovery: a node that lost the lease
        in between changes nothing."""
        from orchestrator_cli.backend.instance_rows import instance_from_row
        from orchestrator_cli.recovery.fencing import Fence, LeaseLost
        from orchestrator_cli.recovery.returning_master import fence, needs_fencing

        res = probed.result
        lease = self._current_lease()
        if res is None or lease is None or res.key not in self._lost_in_recovery:
            return  # only a failed master downtimed lost-in-recovery is ever fenced: no snapshot to build
        probed_instance = instance_from_row(res.row)
        if not needs_fencing(probed_instance, True):
            return
        now = time.monotonic()
        with self._lock:
            if now - self._fenced_at.get(res.key, 0.0) < REPROBE_THROTTLE_SECONDS:
                return
            self._fenced_at[res.key] = now
        env = make_env(backend, TopologyAccess(self.config), self.config, self.owner)
        env.access.guard = Fence(backend, lease).guard
        try:
            fence(env, res.key, probed_instance, self.node[0], self._say)
        except LeaseLost as e:
            log.info("%s: fencing skipped: %s", res.key, e)
        finally:
            env.access.close()

    # -- analysis and recovery ------------------------------------------------------------------------

    def _analyse(self, env: TopologyEnv, workers: ThreadPoolExecutor) -> None:
        """One analysis pass. Observers of a master that looks unreachable are re-probed in the
        background; each completed probe is written at once and wakes the next pass."""
        from orchestrator_cli.backend import analysis as backend_analysis
        from orchestrator_cli.recovery.detection import current_analysis
        from orchestrator_cli.recovery.engine import recovery_kind

        try:
            unreachable = {str(k) for k in self._unresponsive.marked()}
            entries = current_analysis(env.backend, env.config, include_downtimed=True, unreachable=unreachable)
            changes = [(InstanceKey(a.hostname, a.port), str(a.code)) for a in entries if a.facts.count_replicas > 0]
            backend_analysis.record_changes(env.backend, changes)
            observe.analysis_entries(str(a.code) for a in entries)
            self._complaints.ok("analysis failed")
        except OrchestratorError as e:
            self._complaints.failed("analysis failed", e)
            return
        random.shuffle(entries)
        current = {entry.key: str(entry.code) for entry in entries}
        for key in [k for k, code in self._detected.items() if current.get(k) != code]:
            del self._detected[key]
        for entry in entries:
            self._emergent(env, entry)
            kind = recovery_kind(entry.code)
            if entry.skippable_due_to_downtime or kind is None:
                continue
            if kind == "detection":
                # nothing to recover: record the detection (and run its hooks) once per episode
                if self._detected.get(entry.key) == str(entry.code):
                    continue
                self._detected[entry.key] = str(entry.code)
            with self._lock:
                running = self._in_flight.get(entry.key)
                if running is not None and not running.done():
                    continue
                self._in_flight[entry.key] = workers.submit(self._recover, entry)

    def _emergent(self, env: TopologyEnv, entry: Analysis) -> None:
        """Speed up detection: re-probe a master that looks unreachable and its replicas, the
        observers that turn it into a dead master (spec §3.3), without waiting for the probes."""
        from orchestrator_cli.backend import analysis as backend_analysis
        from orchestrator_cli.backend import instances

        key = InstanceKey(entry.hostname, entry.port)
        if entry.code == AnalysisCode.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS:
            backend_analysis.record_stale_coordinates(
                env.backend, key, entry.facts.binary_log_file, entry.facts.binary_log_pos
            )
            return
        if entry.code not in _OBSERVER_CODES or self._scheduler is None:
            return
        now = time.monotonic()
        if now - self._reprobed.get(entry.key, 0.0) < REPROBE_THROTTLE_SECONDS:
            return
        self._reprobed[entry.key] = now
        try:
            replicas = instances.keys_of(instances.replicas_of(env.backend, key))
        except OrchestratorError as e:
            log.warning("%s: re-probe failed: %s", key, e)
            return
        self._scheduler.request([key, *replicas])

    def _recover(self, entry: Analysis) -> None:
        """Confirm the failure with fresh probes, then run the automated recovery."""
        from orchestrator_cli.recovery.detection import analysis_of
        from orchestrator_cli.recovery.engine import (
            AUTOMATED,
            Request,
            execute,
            recovery_kind,
            refresh_before_recovery,
        )

        lease = self._current_lease()
        if lease is None:
            return  # leadership was lost since the analysis: the new leader decides
        env = self._env()
        key = InstanceKey(entry.hostname, entry.port)
        try:
            if recovery_kind(entry.code) == "detection":
                execute(env, Request(entry, AUTOMATED, lease=lease))
                return
            unreachable = refresh_before_recovery(env, key)
            confirmed = analysis_of(env.backend, env.config, entry.key, unreachable)
            if confirmed is None or confirmed.code != entry.code:
                log.info("%s: %s not confirmed by a fresh probe", key, entry.code)
                return
            outcome = execute(env, Request(confirmed, AUTOMATED, lease=lease))
            if outcome.attempted:
                self.recoveries.append(outcome)
                result = f"promoted {outcome.successor}" if outcome.successor else f"failed: {outcome.reason}"
                self._say(f"recovered {outcome.code} on {key}: {result}")
            elif outcome.blocked_by is not None:
                log.warning("%s: %s", key, outcome.reason)
        except OrchestratorError as e:
            log.error("%s: recovery of %s failed: %s", key, entry.code, e)
        finally:
            env.access.close()
            env.backend.close()

    # -- caretaking ------------------------------------------------------------------------------------

    def _inject_pseudo_gtid(self, env: TopologyEnv) -> None:
        """AutoPseudoGTID: one ascending entry per cluster's writable master, every few seconds.

        These statements are no-ops by construction (DROP VIEW IF EXISTS of a view in a schema that
        need not exist); they are recorded per cluster in `cluster_injected_pseudo_gtid` instead of one
        audit row each, which would add thousands of rows per cluster a day.
        """
        from orchestrator_cli.backend import instances
        from orchestrator_cli.backend import pseudo_gtid as injected
        from orchestrator_cli.backend.instance_rows import instances_from_rows
        from orchestrator_cli.recovery.fencing import Fence, LeaseLost
        from orchestrator_cli.topology.pseudo_gtid import inject_pseudo_gtid

        lease = self._current_lease()
        if lease is None:
            return
        quiet = make_env(env.backend, self._injection_access, self.config, self.owner)
        quiet.access.on_change = None
        # a resumed ex-leader must not write an entry (a binlog event) into a master it no longer manages
        quiet.access.guard = Fence(env.backend, lease).guard
        for master in instances_from_rows(instances.masters(env.backend)):
            if not master.last_check_valid:
                continue
            try:
                inject_pseudo_gtid(quiet, master.key)
                injected.record_injection(env.backend, master.cluster_name)
            except OrchestratorError as e:
                log.warning("%s: Pseudo-GTID injection failed: %s", master.key, e)
            except LeaseLost as e:
                log.info("Pseudo-GTID injection stopped: %s", e)
                return

    def _caretaking(self, env: TopologyEnv) -> None:
        from orchestrator_cli.backend import downtime, maintenance
        from orchestrator_cli.backend import recovery as rec

        try:
            downtime.renew_lost_in_recovery(env.backend)
            downtime.expire(env.backend)
            maintenance.release_expired(env.backend)
            rec.expire(env.backend)
            self._release_lost_in_recovery(env)
            self._complaints.ok("caretaking failed")
        except OrchestratorError as e:
            self._complaints.failed("caretaking failed", e)

    def _release_lost_in_recovery(self, env: TopologyEnv) -> None:
        """End the `lost-in-recovery` downtime of an instance that is back: valid and replicating again,
        or a master that alone claims its cluster alias (spec §3.14)."""
        from orchestrator_cli.backend import downtime, instances
        from orchestrator_cli.backend import recovery as rec
        from orchestrator_cli.backend.instance_rows import instances_from_rows

        aged = rec.aged_lost_in_recovery(env.backend)
        if not aged:
            return
        snapshot = instances_from_rows(instances.all_instances(env.backend))
        by_key = {i.key: i for i in snapshot}
        alias_holders: dict[str, int] = {}
        for i in snapshot:
            if i.suggested_cluster_alias:
                alias_holders[i.suggested_cluster_alias] = alias_holders.get(i.suggested_cluster_alias, 0) + 1
        for key in aged:
            inst = by_key.get(key)
            if inst is None or not inst.last_check_valid:
                continue
            alias = inst.suggested_cluster_alias
            lone_master = inst.replication_depth == 0 and bool(alias) and alias_holders.get(alias) == 1
            if inst.replication_running or lone_master:
                downtime.end(env.backend, key)
                self._say(f"{key}: lost-in-recovery downtime ended (it is back)")

    def _minutely(self, env: TopologyEnv) -> None:
        from orchestrator_cli.backend import analysis as backend_analysis
        from orchestrator_cli.backend import candidates, health, retention
        from orchestrator_cli.backend import recovery as rec

        try:
            deleted = {table: n for table, n in retention.purge(env.backend).items() if n}
            if deleted:
                log.info("retention: deleted %s", deleted)
            candidates.expire(env.backend)
            health.purge(env.backend)
            backend_analysis.expire_changelog(env.backend)
            backend_analysis.expire_stale_coordinates(env.backend)
            rec.acknowledge_crashed(env.backend)
        except OrchestratorError as e:
            log.error("caretaking failed: %s", e)
