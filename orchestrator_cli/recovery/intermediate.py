"""Dead intermediate master recovery: give its replicas a new, live parent.

The new parent is, in order: a sibling of the dead intermediate master in its data center (a
registered candidate first) that replicates, logs its replicated changes and executed at least as
much as the dead one; else the dead one's own master; else such a sibling in another data center.
Replicas are moved by GTID (file:pos coordinates of the dead server mean nothing elsewhere); those
the first parent cannot serve (it is behind them) are tried below the next one. No read_only
changes are made. Successful: PostIntermediateMasterFailoverProcesses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator_cli.backend import instances
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.engine import Outcome, RecoveryRun, post_master_hooks
from orchestrator_cli.topology.primitives import refresh
from orchestrator_cli.topology.regroup import relocate_replicas_below


def _key(row: Mapping[str, Any]) -> InstanceKey:
    return InstanceKey(str(row["hostname"]), int(row["port"]))


def _exec(row: Mapping[str, Any]) -> BinlogCoordinates | None:
    file = str(row.get("relay_master_log_file") or "")
    return BinlogCoordinates(file, int(row.get("exec_master_log_pos") or 0)) if file else None


def _banned(row: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    if str(row.get("promotion_rule") or "") == "must_not":
        return True
    for pattern in config.get("PromotionIgnoreHostnameFilters") or []:
        try:
            if re.search(pattern, str(row["hostname"])):
                return True
        except re.error:
            continue
    return False


def sibling_candidates(
    dead: Mapping[str, Any], siblings: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """Siblings that can adopt the dead intermediate master's replicas, best first."""
    dead_exec = _exec(dead)
    valid = []
    for s in siblings:
        if _key(s) == _key(dead) or not int(s.get("is_last_check_valid") or 0) or _banned(s, config):
            continue
        if not (int(s.get("log_bin") or 0) and int(s.get("log_slave_updates") or 0)):
            continue
        if not (int(s.get("slave_io_running") or 0) and int(s.get("slave_sql_running") or 0)):
            continue
        if int(s.get("has_replication_filters") or 0) != int(dead.get("has_replication_filters") or 0):
            continue
        if int(s.get("binlog_server") or 0) != int(dead.get("binlog_server") or 0):
            continue
        sibling_exec = _exec(s)
        if dead_exec is not None and (sibling_exec is None or sibling_exec < dead_exec):
            continue
        valid.append(s)

    def local(s: Mapping[str, Any]) -> bool:
        return s.get("data_center") == dead.get("data_center") and s.get("physical_environment") == dead.get(
            "physical_environment"
        )

    def candidate(s: Mapping[str, Any]) -> bool:
        return str(s.get("promotion_rule") or "") in ("must", "prefer")

    return sorted(valid, key=lambda s: (not local(s), not candidate(s), str(_key(s))))


def recover_dead_intermediate_master(run: RecoveryRun) -> Outcome:
    env, backend, dead_key = run.env, run.env.backend, run.failed
    pre = run.hooks("PreFailoverProcesses", fail_fast=True)
    if not pre.ok:
        run.outcome.reason = f"PreFailoverProcesses failed: {pre.first_error()}"
        run.step(f"{run.outcome.reason}; recovery aborted, nothing changed")
        run.outcome.errors.append(run.outcome.reason)
        run.resolve()
        return run.outcome
    dead = instances.read_instance(backend, dead_key)
    if dead is None:
        return run.fail(f"{dead_key} is not known to the backend")
    grandparent = None
    if dead.get("master_host") and int(dead.get("master_port") or 0):
        grandparent = InstanceKey(str(dead["master_host"]), int(dead["master_port"]))
    replicas = instances.keys_of(instances.replicas_of(backend, dead_key))
    if not replicas:
        return run.fail(f"{dead_key} has no replicas to relocate")
    siblings = sibling_candidates(dead, instances.replicas_of(backend, grandparent) if grandparent else [], env.config)
    local = [_key(s) for s in siblings if s.get("data_center") == dead.get("data_center")]
    remote = [_key(s) for s in siblings if _key(s) not in local]
    targets = [*local[:1], *([grandparent] if grandparent else []), *remote[:1]]
    run.outcome.attempted = True
    remaining = list(replicas)
    moved_to: dict[InstanceKey, InstanceKey] = {}
    for target in targets:
        if not remaining:
            break
        run.step(f"relocating {', '.join(map(str, remaining))} below {target}")
        try:
            result = relocate_replicas_below(env, remaining, target, step=run.step)
        except OrchestratorError as e:
            run.step(f"{target} cannot adopt them: {e}")
            continue
        for key in result.moved:
            moved_to[key] = target
        remaining = [k for k in remaining if k not in result.moved]
        run.outcome.errors.extend(result.errors)
    if not moved_to:
        return run.fail(f"none of {', '.join(map(str, replicas))} could be relocated")
    successor = next(iter(moved_to.values()))
    run.outcome.successor = successor
    run.outcome.successful = True
    run.outcome.moved = [str(k) for k in moved_to]
    run.outcome.lost = [str(k) for k in remaining]
    rec.clear_detections(backend, dead_key)
    refresh(env, [*moved_to, *set(moved_to.values())])
    parents = ", ".join(sorted({str(t) for t in moved_to.values()}))
    lost = f"; lost: {', '.join(run.outcome.lost)}" if remaining else ""
    run.step(f"relocated {len(moved_to)} replica(s) of {dead_key} below {parents}{lost}")
    run.resolve()
    post_master_hooks(run)
    return run.outcome
