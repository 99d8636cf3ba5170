"""`relocate` and the bulk moves built on it: pick the safest way to put a replica below a target.

The choice (:func:`plan_relocation`) is a pure function of live reads: the target already is the
configured master (nothing to do, or only START SLAVE when replication is stopped); GTID when both
sides support it; a binlog-server shortcut; recorded equivalent coordinates; otherwise a file:pos
path through the tree — up to the lowest common ancestor with move-up, then down with move-below,
one synchronised hop at a time (the original only handled a sibling or the grandparent here).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator_cli.errors import OrchestratorError, TopologyError, UnsafeOperationError, UsageError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology import ancestry, gtid_moves, moves
from orchestrator_cli.topology.ancestry import Hop
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.moves import Moved
from orchestrator_cli.topology.operation import Operation
from orchestrator_cli.topology.primitives import Live, read_live

log = logging.getLogger("orchestrator.topology")

UP = "move-up"
BELOW = "move-below"


@dataclass(frozen=True)
class Step:
    kind: str  # UP or BELOW
    via: InstanceKey  # the master after this step


@dataclass(frozen=True)
class RelocationPlan:
    method: str  # "none", "start", "gtid", "binlog-server", "equivalence", "file:pos"
    steps: tuple[Step, ...] = ()
    coords: BinlogCoordinates | None = None

    def describe(self) -> str:
        if self.method != "file:pos":
            return self.method
        return "file:pos (" + ", ".join(f"{s.kind} {s.via}" for s in self.steps) + ")"


def replicates_from(instance: Live, source: Hop) -> bool:
    """Whether `instance` is configured to replicate from `source` (Master_Host:Master_Port).

    The same server under another name counts only when the IO thread is connected to it: the
    ``Master_Server_Id`` of a stopped or reconnecting MariaDB replica still names its previous master.
    """
    master = instance.master_key
    if master is None:
        return False
    return Hop(master, instance.status.confirmed_master_server_id or None).same_server(source.key, source.server_id)


def plan_relocation(
    instance: Live,
    target: Live,
    instance_chain: Sequence[Hop] | Callable[[], Sequence[Hop]],
    target_chain: Sequence[Hop],
    equivalent: BinlogCoordinates | None = None,
) -> RelocationPlan:
    """How to move `instance` below `target` (both live; chains are their ancestors, nearest first).

    `instance_chain` may be a function: walking up from the instance costs queries, and only the
    file:pos and binlog-server paths need it.
    """
    target_hop = ancestry.hop_of(target)
    if replicates_from(instance, target_hop):
        return RelocationPlan("none" if instance.status.replication_running else "start")
    if gtid_moves.incompatibility(instance, target) is None:
        return RelocationPlan("gtid")
    if callable(instance_chain):
        instance_chain = instance_chain()
    if target.instance.binlog_server:
        if (
            instance_chain
            and target_chain
            and instance_chain[0].same_server(target_chain[0].key, target_chain[0].server_id)
        ):
            return RelocationPlan("binlog-server")
        raise UnsafeOperationError(
            f"relocating {instance.key} below binlog server {target.key} turns to be too complex; please do it manually"
        )
    if equivalent is not None:
        return RelocationPlan("equivalence", coords=equivalent)
    line = [target_hop, *target_chain]
    for ups, ancestor in enumerate(instance_chain):
        meeting = next((j for j, hop in enumerate(line) if hop.same_server(ancestor.key, ancestor.server_id)), None)
        if meeting is None:
            continue
        steps = [Step(UP, instance_chain[k + 1].key) for k in range(ups)]
        steps += [Step(BELOW, hop.key) for hop in reversed(line[:meeting])]
        return RelocationPlan("file:pos", tuple(steps))
    raise UnsafeOperationError(
        f"relocating {instance.key} below {target.key} turns to be too complex; please do it manually "
        "(no GTID and no common ancestor)"
    )


def relocate_within(op: Operation, instance_key: InstanceKey, target_key: InstanceKey) -> RelocationPlan:
    """Checks, plan and execution of one relocation inside `op`."""
    env = op.env
    instance, target = op.read(instance_key), op.read(target_key)
    moves.require_replica(instance)
    if instance.key == target.key:
        raise UnsafeOperationError(f"cannot move {instance.key} below itself")
    # lock before checking the ancestry: a concurrent move of the target cannot slip in between
    op.lock(instance.key, target.key)
    target_chain = ancestry.refuse_cycle(env, instance, target)
    moves.check_can_replicate(instance, target, env.config)
    equivalent = None if instance.status.uses_gtid else moves.equivalent_coordinates(env, instance, target.key)
    plan = plan_relocation(instance, target, lambda: ancestry.upstream(env, instance), target_chain, equivalent)
    op.method = plan.describe()
    if plan.method == "none":
        return plan
    if plan.method == "start":
        # already configured below the target, replication stopped (by an operator, or by a relocate
        # that was killed after CHANGE MASTER): finish the move by starting it
        op.stop(instance.key)
        op.start(instance.key)
        return plan
    if plan.method == "gtid":
        gtid_moves.move(op, instance, target, target_chain)
    elif plan.method == "binlog-server":
        moves.repoint_within(op, instance, target)
    elif plan.method == "equivalence":
        assert plan.coords is not None
        try:
            moves.move_equivalent_within(op, instance, target, plan.coords)
            return plan
        except moves.CoordinatesMoved as e:
            log.info("%s; relocating by file:pos instead", e)
        plan = plan_relocation(instance, target, lambda: ancestry.upstream(env, instance), target_chain)
        op.method = plan.describe()
    if plan.method == "file:pos":
        previous: InstanceKey | None = None
        for step in plan.steps:
            current = op.read(instance.key)
            if op.env.noop and previous is not None:
                current = _as_if_below(current, previous)
            if step.kind == UP:
                moves.move_up_within(op, current)
            else:
                moves.move_below_within(op, current, op.read(step.via))
            previous = step.via
    return plan


def _as_if_below(live: Live, master: InstanceKey) -> Live:
    """Under --noop nothing moved: pretend the previous hop happened so the next hop's statements are right."""
    status = live.status.replace(master_host=master.hostname, master_port=master.port, master_server_id=0)
    return dataclasses.replace(live, status=status)


def relocate(env: TopologyEnv, instance_key: InstanceKey, target_key: InstanceKey, name: str = "relocate") -> Moved:
    with Operation(env, name, instance_key) as op:
        plan = relocate_within(op, instance_key, target_key)
        if plan.method == "none":
            op.summary = f"{instance_key} already replicates from {target_key}"
        elif plan.method == "start":
            op.summary = f"{instance_key} already replicates from {target_key}; replication restarted"
        else:
            op.summary = f"relocated {instance_key} below {target_key} via {op.method}"
    return Moved(instance_key, target_key, op.method)


# -- bulk moves ------------------------------------------------------------------------------------


def replicas_of(
    env: TopologyEnv, master: InstanceKey, pattern: str = "", exclude: InstanceKey | None = None
) -> list[InstanceKey]:
    """Backend replicas of `master` whose `host:port` matches the `--pattern` regex."""
    from orchestrator_cli.backend import instances

    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as e:
        raise UsageError(f"invalid --pattern {pattern!r}: {e}") from e
    keys = instances.keys_of(instances.replicas_of(env.backend, master))
    return [k for k in keys if k != exclude and (regex is None or regex.search(str(k)))]


@dataclass
class BulkResult:
    moved: list[Moved]
    failed: dict[InstanceKey, str]


def each(
    keys: Sequence[InstanceKey],
    move_one: Callable[[InstanceKey], Moved],
    progress: Callable[[int, int, str], None] | None = None,
) -> BulkResult:
    """Run one audited operation per replica; a failure is logged and the others still move."""
    result = BulkResult([], {})
    for done, key in enumerate(keys):
        if progress is not None:
            progress(done, len(keys), str(key))
        try:
            result.moved.append(move_one(key))
        except OrchestratorError as e:
            log.error("%s: %s", key, e)
            result.failed[key] = str(e)
    if progress is not None:
        progress(len(keys), len(keys), "")
    return result


def refuse_target_below(env: TopologyEnv, replicas: Sequence[InstanceKey], target_key: InstanceKey) -> None:
    """The target must not sit below any of the replicas about to move below it."""
    target = read_live(env, target_key)
    chain = ancestry.upstream(env, target)
    for key in replicas:
        if key == target_key or any(hop.key == key for hop in chain):
            raise UnsafeOperationError(f"{target_key} is a descendant of {key}, one of the replicas to move")


def relocate_replicas(
    env: TopologyEnv, master: InstanceKey, target: InstanceKey, pattern: str = "", name: str = "relocate-replicas"
) -> BulkResult:
    """Relocate the replicas of `master` (which is not contacted) below `target`, one by one."""
    keys = replicas_of(env, master, pattern, exclude=target)
    if not keys:
        return BulkResult([], {})
    refuse_target_below(env, keys, target)
    result = each(keys, lambda key: relocate(env, key, target, name=name), env.progress)
    if not result.moved:
        raise TopologyError(
            f"{name}: error on all operations: " + "; ".join(f"{k}: {e}" for k, e in result.failed.items())
        )
    return result


def take_siblings(env: TopologyEnv, key: InstanceKey) -> BulkResult:
    """Move every sibling of `key` below it."""
    instance = read_live(env, key)
    if not instance.status.is_replica or instance.master_key is None:
        raise TopologyError(f"take-siblings: instance {key} is not a replica.")
    keys = replicas_of(env, instance.master_key, exclude=key)
    if not keys:
        return BulkResult([], {})
    result = each(keys, lambda sibling: relocate(env, sibling, key, name="take-siblings"), env.progress)
    if not result.moved:
        raise TopologyError("take-siblings: error on all operations: " + "; ".join(result.failed.values()))
    return result


def move_up_replicas(env: TopologyEnv, key: InstanceKey, pattern: str = "") -> BulkResult:
    """Move the replicas of `key` up to be its siblings."""
    instance = read_live(env, key)
    if not instance.status.is_replica or instance.master_key is None:
        raise TopologyError(f"instance {key} is not a replica")
    keys = replicas_of(env, key, pattern)
    if not keys:
        return BulkResult([], {})
    expected = (key, instance.master_key)
    result = each(keys, lambda replica: moves.move_up(env, replica, from_below=expected), env.progress)
    if not result.moved:
        raise TopologyError("move-up-replicas: error on all operations: " + "; ".join(result.failed.values()))
    return result


def repoint_replicas(env: TopologyEnv, key: InstanceKey, target: InstanceKey | None, pattern: str = "") -> BulkResult:
    """Repoint each replica of `key` to `key` again (or to `target`) at its own coordinates."""
    keys = replicas_of(env, key, pattern, exclude=target)
    destination = target or key
    result = each(keys, lambda replica: moves.repoint(env, replica, destination), env.progress)
    if keys and not result.moved:
        raise TopologyError("repoint-replicas: error on all operations: " + "; ".join(result.failed.values()))
    return result


def move_gtid(env: TopologyEnv, key: InstanceKey, target_key: InstanceKey, name: str = "move-gtid") -> Moved:
    """Move by GTID only: refused when the two servers cannot do it."""
    with Operation(env, name, key) as op:
        instance, target = op.read(key), op.read(target_key)
        moves.require_replica(instance)
        op.lock(key, target_key)
        chain = ancestry.refuse_cycle(env, instance, target)
        moves.check_can_replicate(instance, target, env.config)
        op.method = "gtid"
        gtid_moves.move(op, instance, target, chain)
        op.summary = f"moved {key} below {target_key} via gtid"
    return Moved(key, target_key, "gtid")


def move_replicas_gtid(env: TopologyEnv, master: InstanceKey, target: InstanceKey, pattern: str = "") -> BulkResult:
    """All or report: every replica is checked for GTID compatibility before the first one moves."""
    keys = replicas_of(env, master, pattern, exclude=target)
    if not keys:
        return BulkResult([], {})
    refuse_target_below(env, keys, target)
    target_live = read_live(env, target)
    for key in keys:
        why = gtid_moves.incompatibility(read_live(env, key), target_live)
        if why:
            raise TopologyError(f"MoveReplicasGTID: only moved 0 out of {len(keys)} replicas of {master}: {why}")
    result = each(keys, lambda key: move_gtid(env, key, target, name="move-replicas-gtid"), env.progress)
    if result.failed:
        raise TopologyError(
            f"MoveReplicasGTID: only moved {len(result.moved)} out of {len(keys)} replicas of {master}: "
            + "; ".join(f"{k}: {e}" for k, e in result.failed.items())
        )
    return result
