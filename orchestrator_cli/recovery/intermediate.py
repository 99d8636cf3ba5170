"""Dead intermediate master recovery (spec §3.9): give the dead server's replicas a new, live parent.

The candidate sibling S is chosen among the dead intermediate master's (IM's) siblings: valid ones
only (replicating, logging their replicated changes, not banned, same filters and binlog-server
kind, executed at least as much as the IM), ordered by more replicas first, then lower Exec
coordinates (the original's order), and picked in four passes: a registered candidate in the IM's
data center and environment, a candidate anywhere, any sibling in the IM's data center and
environment, any sibling.

* Plan A: S is in the IM's data center: relocate all the IM's replicas below S. Resolved (successor
  S) when at least one moved and nothing failed.
* Plan B: regroup the IM's replicas: one of them, R, becomes the local master of the others. R is
  the provisional successor when nothing was lost and nothing failed.
* Plan C: S is in another data center: relocate whatever still replicates from the IM below S, as
  in Plan A.
* Plan D: relocate whatever still replicates from the IM (R with its new replicas included) below
  the IM's own master. Resolved when at least one moved; the successor is R if set, else that master.

Replicas that do not answer take no part (as the dead replicas of a dead master): they are reported
lost and do not fail a plan. Replicas move by GTID (file:pos coordinates of the dead server mean
nothing elsewhere). No read_only changes, no downtime, no key-value or alias updates. Successful:
PostIntermediateMasterFailoverProcesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestrator_cli.backend import instances
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.instance_rows import instances_from_rows, key_of
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.engine import Outcome, RecoveryRun, post_master_hooks
from orchestrator_cli.topology.primitives import refresh, start_replication
from orchestrator_cli.topology.regroup import regroup_replicas, relocate_replicas_below


def _exec(instance: Instance) -> BinlogCoordinates | None:
    executed = instance.exec_coordinates
    return executed if executed.file else None


def _banned(instance: Instance, config: Mapping[str, Any]) -> bool:
    if instance.promotion_rule == "must_not":
        return True
    for pattern in config.get("PromotionIgnoreHostnameFilters") or []:
        try:
            if re.search(pattern, instance.key.hostname):
                return True
        except re.error:
            continue
    return False


def sibling_refusal(dead: Instance, sibling: Instance, config: Mapping[str, Any]) -> str | None:
    """Why `sibling` cannot adopt the dead intermediate master's replicas (None: it can)."""
    if sibling.key == dead.key:
        return "it is the dead intermediate master"
    if not (sibling.log_bin and sibling.log_slave_updates):
        return "no binary log with log_slave_updates"
    if not (sibling.io_running and sibling.sql_running):
        return "not replicating"
    if not sibling.last_check_valid:
        return "its last check failed"
    if _banned(sibling, config):
        return "banned from promotion (must_not or PromotionIgnoreHostnameFilters)"
    if sibling.has_replication_filters != dead.has_replication_filters:
        return "replication filters differ"
    if sibling.binlog_server != dead.binlog_server:
        return "binlog-server kind differs"
    dead_exec, sibling_exec = _exec(dead), _exec(sibling)
    if dead_exec is not None and (sibling_exec is None or sibling_exec < dead_exec):
        return f"executed less than the dead intermediate master ({sibling_exec} < {dead_exec})"
    return None


def candidate_sibling(dead: Instance, siblings: Sequence[Instance], config: Mapping[str, Any]) -> Instance | None:
    """The sibling the dead intermediate master's replicas go to, or None (spec §3.9 step 2).

    Order: more replicas first; ties with *lower* Exec coordinates first (as the original sorts);
    then by key, so the choice is stable. Passes: a candidate (must/prefer) in the dead one's data
    center and environment; a candidate anywhere; any in its data center and environment; any.
    """
    valid = [s for s in siblings if sibling_refusal(dead, s, config) is None]
    unknown = BinlogCoordinates("", 0)
    valid.sort(key=lambda s: (-s.num_replica_hosts, _exec(s) or unknown, str(s.key)))

    def local(s: Instance) -> bool:
        return s.data_center == dead.data_center and s.physical_environment == dead.physical_environment

    def candidate(s: Instance) -> bool:
        return s.promotion_rule in ("must", "prefer")

    passes: tuple[Callable[[Instance], bool], ...] = (
        lambda s: candidate(s) and local(s),
        candidate,
        local,
        lambda s: True,
    )
    for accept in passes:
        for s in valid:
            if accept(s):
                return s
    return None


def _reachable(run: RecoveryRun, keys: Sequence[InstanceKey]) -> tuple[list[InstanceKey], list[InstanceKey]]:
    """(answering, not answering) replicas. Like the dead replicas of a dead master (spec §3.7.3), those
    that do not answer take no part in the plans: they are reported lost, and do not fail a plan."""
    from orchestrator_cli.topology.parallel import parallel

    env = run.env

    def ping(key: InstanceKey) -> None:
        try:
            env.server(key).core_variables()
        except OrchestratorError:
            env.access.forget(key)
            raise

    answering, silent = [], []
    for key, _, error in parallel(list(keys), ping, len(keys)):
        if error is None:
            answering.append(key)
        else:
            silent.append(key)
            run.step(f"{key}: does not answer ({error}): lost, left out of the plans")
    return answering, silent


class _Plans:
    """The replicas still below the dead intermediate master, and what each plan did with them."""

    def __init__(self, run: RecoveryRun, dead: Instance, replicas: list[InstanceKey]) -> None:
        self.run = run
        self.dead = dead
        self.remaining = list(replicas)
        self.moved: dict[InstanceKey, InstanceKey] = {}
        self.stopped: set[InstanceKey] = set()

    def relocate(self, plan: str, target: InstanceKey) -> tuple[int, bool]:
        """Relocate every remaining replica below `target`: (how many moved, whether anything failed)."""
        run = self.run
        if not self.remaining:
            return 0, False
        run.step(f"plan {plan}: relocating {', '.join(map(str, self.remaining))} below {target}")
        try:
            result = relocate_replicas_below(run.env, self.remaining, target, step=run.step)
        except OrchestratorError as e:
            run.outcome.errors.append(f"{target} cannot adopt them: {e}")
            run.step(f"plan {plan}: {target} cannot adopt them: {e}")
            return 0, True
        for key in result.moved:
            self.moved[key] = target
        self.remaining = [k for k in self.remaining if k not in result.moved]
        run.outcome.errors.extend(result.errors)
        failed = bool(result.errors or result.lost)
        run.step(
            f"plan {plan}: {len(result.moved)} moved below {target}"
            + (f"; not moved: {', '.join(map(str, result.lost))}" if result.lost else "")
        )
        return len(result.moved), failed

    def regroup(self) -> InstanceKey | None:
        """Plan B: one remaining replica takes the others; returns it when nothing was lost or failed."""
        run = self.run
        if not self.remaining:
            return None
        if len(self.remaining) == 1:
            # a single replica is its own regroup: nothing moves
            run.step(f"plan B: {self.remaining[0]} is the only replica: nothing to regroup")
            return self.remaining[0]
        run.step(f"plan B: regrouping {', '.join(map(str, self.remaining))}")
        dead = self.dead.key
        rows = [r for r in instances.replicas_of(run.env.backend, dead) if key_of(r) in self.remaining]
        try:
            result = regroup_replicas(run.env, dead, for_failover=True, step=run.step, backend_rows=rows)
        except OrchestratorError as e:
            run.outcome.errors.append(f"regroup failed: {e}")
            run.step(f"plan B: regroup failed: {e}")
            return None
        # the regrouped replica is left stopped (it may point at a sibling it caught up from, now its replica)
        self.stopped.update(k for k in result.stopped if k != result.candidate)
        self.remaining = [k for k in self.remaining if k not in result.moved]
        for key in result.moved:
            if result.candidate is not None:
                self.moved[key] = result.candidate
        run.outcome.errors.extend(result.errors)
        if result.candidate is None:
            return None
        run.step(f"plan B: {result.candidate} took {len(result.moved)} sibling(s)")
        if result.lost or result.errors:
            run.step(f"plan B: lost {', '.join(map(str, result.lost)) or 'none'}: {result.candidate} is no successor")
            return None
        return result.candidate

    def restart_left_behind(self) -> None:
        """Replicas the regroup stopped (other than the one it chose) and no plan moved resume waiting
        for their (dead) master."""
        for key in [k for k in self.remaining if k in self.stopped]:
            try:
                start_replication(self.run.env, key, timeout=1.0)
            except OrchestratorError as e:
                self.run.step(f"{key}: left stopped: {e}")


def recover_dead_intermediate_master(run: RecoveryRun) -> Outcome:
    env, backend, dead_key = run.env, run.env.backend, run.failed
    pre = run.hooks("PreFailoverProcesses", fail_fast=True)
    if not pre.ok:
        run.outcome.vetoed = True
        run.outcome.reason = f"PreFailoverProcesses failed: {pre.first_error()}"
        run.step(f"{run.outcome.reason}; recovery aborted, nothing changed")
        run.outcome.errors.append(run.outcome.reason)
        run.resolve()
        return run.outcome
    dead = instances.read_snapshot(backend, dead_key)
    if dead is None:
        return run.fail(f"{dead_key} is not known to the backend")
    grandparent = dead.master_key
    replicas = instances.keys_of(instances.replicas_of(backend, dead_key))
    if not replicas:
        return run.fail(f"{dead_key} has no replicas to relocate")
    siblings = instances_from_rows(instances.replicas_of(backend, grandparent)) if grandparent else []
    sibling = candidate_sibling(dead, siblings, env.config) if len(siblings) > 1 else None
    if sibling is None:
        run.step(f"no valid sibling of {dead_key} can adopt its replicas")
    else:
        where = "same" if sibling.data_center == dead.data_center else "another"
        run.step(f"candidate sibling: {sibling.key} ({where} data center: {sibling.data_center or '-'})")
    run.outcome.attempted = True
    answering, silent = _reachable(run, replicas)
    if not answering:
        run.outcome.lost = [str(k) for k in silent]
        return run.fail(f"none of the replicas of {dead_key} answers ({', '.join(map(str, silent))})")
    plans = _Plans(run, dead, answering)
    successor: InstanceKey | None = None
    resolved = False

    if sibling is not None and sibling.data_center == dead.data_center:
        moved, failed = plans.relocate("A", sibling.key)
        if moved and not failed:
            resolved, successor = True, sibling.key
    if not resolved:
        successor = plans.regroup()
        if sibling is not None and sibling.data_center != dead.data_center:
            moved, failed = plans.relocate("C", sibling.key)
            if moved and not failed:
                resolved, successor = True, sibling.key
    if not resolved:
        if grandparent is None:
            run.step(f"plan D: {dead_key} has no master to move its replicas up to")
        else:
            moved, _ = plans.relocate("D", grandparent)
            if moved:
                resolved = True
                successor = successor or grandparent
    plans.restart_left_behind()
    run.outcome.moved = [str(k) for k in plans.moved]
    run.outcome.lost = [str(k) for k in [*silent, *plans.remaining]]
    if plans.moved:
        refresh(env, [*plans.moved, *set(plans.moved.values())])
    if not resolved or successor is None:
        if not plans.moved:
            return run.fail(f"none of {', '.join(map(str, replicas))} could be relocated")
        done = ", ".join(f"{k} below {t}" for k, t in plans.moved.items())
        return run.fail(f"not resolved: moved {done}; not moved: {', '.join(run.outcome.lost) or 'none'}")
    run.outcome.successor = successor
    run.outcome.successful = True
    rec.clear_detections(backend, dead_key)
    parents = ", ".join(sorted({str(t) for t in plans.moved.values()}))
    lost = f"; lost: {', '.join(run.outcome.lost)}" if run.outcome.lost else ""
    run.step(f"relocated {len(plans.moved)} replica(s) of {dead_key} below {parents}; successor {successor}{lost}")
    run.resolve()
    post_master_hooks(run)
    return run.outcome
