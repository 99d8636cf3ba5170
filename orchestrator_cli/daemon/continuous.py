"""Continuous mode: keep the backend fresh, analyse every second, recover automatically.

One process of possibly several sharing a backend. A thread of its own registers in `node_health`
every second and takes part in the `active_node` election (lease 5 s, renewed every second, looked
at twice a second by followers; `--grab-election` takes it at once). Only the elected node works,
and every automated recovery carries the lease term it was decided under (recovery/fencing.py):

* discovery (a thread): every instance whose last check is older than InstancePollSeconds is probed
  again, crawling to new replicas and masters; DiscoverySeeds are added at start;
* analysis (every second, once the first discovery pass finished): the analysis changelog is kept;
  an unreachable master gets its replicas re-probed at once (they are the observers that turn it
  into a dead master); a locked semi-sync hypothesis records the stale coordinates;
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

from orchestrator_cli import __version__
from orchestrator_cli.analysis import Analysis, AnalysisCode
from orchestrator_cli.backend import election
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.topology.env import TopologyEnv, make_env

log = logging.getLogger("orchestrator.continuous")

TICK_SECONDS = 1.0
FOLLOWER_TICK_SECONDS = 0.5  # a follower looks at the lease twice a second: a dead leader is replaced sooner
MINUTE = 60.0
REPROBE_THROTTLE_SECONDS = 1.0
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
        self._stop = threading.Event()
        self._wake = threading.Event()  # a probe failed: analyse now rather than at the next tick
        self._leader = False
        self._lease: election.Lease | None = None  # the current term while this node leads
        self._discovered = threading.Event()
        self._in_flight: dict[str, Future[None]] = {}
        self._reprobed: dict[str, float] = {}
        self._detected: dict[str, str] = {}  # key -> detection-only code already recorded
        self._lock = threading.Lock()
        self.recoveries: list[Any] = []
        self._injection_access = TopologyAccess(config)  # its statements are recorded per cluster, not audited

    # -- life cycle ----------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def leader(self) -> bool:
        return self._leader

    def _say(self, text: str) -> None:
        log.info("%s", text)
        if self.note is not None:
            self.note(text)

    def _env(self) -> TopologyEnv:
        return make_env(Backend(self.config), TopologyAccess(self.config), self.config, self.owner)

    def run(self) -> int:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        env = self._env()
        started = time.monotonic()
        workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="recovery")
        discovery = threading.Thread(target=self._discovery_loop, name="discovery", daemon=True)
        lease_keeper = threading.Thread(target=self._lease_loop, name="lease", daemon=True)
        last_care, last_minute, last_injection = 0.0, 0.0, 0.0
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
                if self._leader and self._discovered.is_set():
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
                self._wake.wait(max(0.0, TICK_SECONDS - (time.monotonic() - tick)))
                self._wake.clear()
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
            env.backend.close()
        return 0

    def _lease_loop(self) -> None:
        """Registration and the lease, every second on a connection of their own, so that neither a
        slow analysis pass nor a probe that wakes the main loop early changes the lease's rhythm."""
        backend = Backend(self.config)
        registered = 0.0
        try:
            while not self._stop.is_set():
                tick = time.monotonic()
                register = tick - registered >= TICK_SECONDS
                if register:
                    registered = tick
                self._heartbeat(backend, register=register)
                interval = TICK_SECONDS if self._leader else FOLLOWER_TICK_SECONDS
                self._stop.wait(max(0.0, interval - (time.monotonic() - tick)))
        finally:
            backend.close()

    def _heartbeat(self, backend: Backend, *, register: bool = True) -> None:
        """One registration and election attempt. Losing the lease keeps what discovery learned: the
        backend is shared, and a node that leads again must not wait for a full pass first."""
        from orchestrator_cli.backend import health

        try:
            if register:
                health.register(backend, "ContinuousMode", "continuous", __version__)
            lease = election.attempt_election(backend, self.node)
        except OrchestratorError as e:
            log.error("backend unavailable: %s", e)
            lease = None
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
        env = self._env()
        try:
            while not self._stop.is_set():
                if self._leader:
                    try:
                        self._discovery_pass(env)
                    except OrchestratorError as e:
                        log.error("discovery pass failed: %s", e)
                    else:
                        self._discovered.set()
                self._stop.wait(TICK_SECONDS)
        finally:
            env.access.close()
            self._injection_access.close()
            env.backend.close()

    def _discovery_pass(self, env: TopologyEnv) -> None:
        from orchestrator_cli.backend import instances
        from orchestrator_cli.discovery.crawl import crawl

        rows = instances.all_instances(env.backend)
        known = {InstanceKey(str(r["hostname"]), int(r["port"])) for r in rows}
        due = [InstanceKey(str(r["hostname"]), int(r["port"])) for r in rows if not int(r.get("is_up_to_date") or 0)]
        for seed in self.config.get("DiscoverySeeds") or []:
            try:
                key = InstanceKey.parse(str(seed), int(self.config.get("DefaultInstancePort", 3306)))
            except ValueError as e:
                log.error("DiscoverySeeds: %s", e)
                continue
            if key not in known:
                due.append(key)
        if due:
            result = crawl(due, env.access, env.backend, env.config, follow=True)
            if result.failed:
                self._wake.set()

    # -- analysis and recovery ------------------------------------------------------------------------

    def _analyse(self, env: TopologyEnv, workers: ThreadPoolExecutor) -> None:
        """Analyse, and when observers were re-probed (a master looked unreachable), analyse once more
        right away: that second look is what turns an unreachable master into a dead one."""
        reprobed = self._analyse_once(env, workers, set())
        if reprobed is not None:
            self._analyse_once(env, workers, reprobed)

    def _analyse_once(self, env: TopologyEnv, workers: ThreadPoolExecutor, unreachable: set[str]) -> set[str] | None:
        """One analysis pass; returns the keys found unreachable by re-probes (None: nothing re-probed)."""
        from orchestrator_cli.backend import analysis as backend_analysis
        from orchestrator_cli.recovery.detection import current_analysis
        from orchestrator_cli.recovery.engine import recovery_kind

        try:
            entries = current_analysis(env.backend, env.config, include_downtimed=True, unreachable=unreachable)
            changes = [(InstanceKey(a.hostname, a.port), str(a.code)) for a in entries if a.facts.count_replicas > 0]
            backend_analysis.record_changes(env.backend, changes)
        except OrchestratorError as e:
            log.error("analysis failed: %s", e)
            return None
        random.shuffle(entries)
        reprobed: set[str] | None = None
        current = {entry.key: str(entry.code) for entry in entries}
        for key in [k for k, code in self._detected.items() if current.get(k) != code]:
            del self._detected[key]
        for entry in entries:
            failed = self._emergent(env, entry)
            if failed is not None:
                reprobed = (reprobed or set()) | failed
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
        return reprobed

    def _emergent(self, env: TopologyEnv, entry: Analysis) -> set[str] | None:
        """Speed up detection: re-probe the observers of a master that looks unreachable.

        Returns the keys whose probe failed, or None when nothing was re-probed.
        """
        from orchestrator_cli.backend import analysis as backend_analysis
        from orchestrator_cli.recovery.engine import refresh_before_recovery

        key = InstanceKey(entry.hostname, entry.port)
        if entry.code == AnalysisCode.LOCKED_SEMI_SYNC_MASTER_HYPOTHESIS:
            backend_analysis.record_stale_coordinates(
                env.backend, key, entry.facts.binary_log_file, entry.facts.binary_log_pos
            )
            return None
        if entry.code not in _OBSERVER_CODES:
            return None
        now = time.monotonic()
        if now - self._reprobed.get(entry.key, 0.0) < REPROBE_THROTTLE_SECONDS:
            return None
        self._reprobed[entry.key] = now
        try:
            return refresh_before_recovery(env, key)
        except OrchestratorError as e:
            log.warning("%s: re-probe failed: %s", key, e)
            return None

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

        lease = self._lease
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
            self._injection_access.close()
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
        from orchestrator_cli.model.instance import InstanceView
        from orchestrator_cli.recovery.fencing import Fence, LeaseLost
        from orchestrator_cli.topology.pseudo_gtid import inject_pseudo_gtid

        lease = self._lease
        if lease is None:
            return
        quiet = make_env(env.backend, self._injection_access, self.config, self.owner)
        quiet.access.on_change = None
        # a resumed ex-leader must not write an entry (a binlog event) into a master it no longer manages
        quiet.access.guard = Fence(env.backend, lease).guard
        for row in instances.masters(env.backend):
            view = InstanceView(row)
            if not view.valid:
                continue
            try:
                inject_pseudo_gtid(quiet, view.key)
                injected.record_injection(env.backend, str(row["cluster_name"]))
            except OrchestratorError as e:
                log.warning("%s: Pseudo-GTID injection failed: %s", view.key, e)
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
        except OrchestratorError as e:
            log.error("caretaking failed: %s", e)

    def _release_lost_in_recovery(self, env: TopologyEnv) -> None:
        """End the `lost-in-recovery` downtime of an instance that is back: valid and replicating again,
        or a master that alone claims its cluster alias (spec §3.14)."""
        from orchestrator_cli.backend import downtime, instances
        from orchestrator_cli.backend import recovery as rec
        from orchestrator_cli.model.instance import InstanceView

        aged = rec.aged_lost_in_recovery(env.backend)
        if not aged:
            return
        rows = instances.all_instances(env.backend)
        by_key = {InstanceKey(str(r["hostname"]), int(r["port"])): r for r in rows}
        alias_holders: dict[str, int] = {}
        for r in rows:
            alias = str(r.get("suggested_cluster_alias") or "")
            if alias:
                alias_holders[alias] = alias_holders.get(alias, 0) + 1
        for key in aged:
            row = by_key.get(key)
            if row is None or not int(row.get("is_last_check_valid") or 0):
                continue
            alias = str(row.get("suggested_cluster_alias") or "")
            lone_master = int(row.get("replication_depth") or 0) == 0 and alias and alias_holders.get(alias) == 1
            if InstanceView(row).replication_running or lone_master:
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
