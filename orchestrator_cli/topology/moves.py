"""Single-replica moves: move-up, move-below, move-equivalent, repoint, take-master, make-co-master.

Each public function runs one :class:`~orchestrator_cli.topology.operation.Operation` (locks,
clean-up, audit, refresh). The ``*_within`` functions do the work inside an operation that the
caller owns, so `relocate` can chain several hops under one audit row.

A replica that uses GTID is moved by GTID even by the classic commands (the original converted it
to file:pos); otherwise the file:pos paths synchronise exactly as the original does: stop, let the
SQL thread apply what it fetched, roll the one behind forward with ``START SLAVE UNTIL``, and take
the coordinates that hold the same data on the new master.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.errors import NotFoundError, OrchestratorError, TopologyError, UnsafeOperationError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.topology import gtid_moves, locks
from orchestrator_cli.topology.ancestry import Hop, refuse_cycle
from orchestrator_cli.topology.credentials import Credentials, replication_credentials
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.operation import Operation, lock_reason
from orchestrator_cli.topology.primitives import Live, gtid_mode_of, kept_gtid_mode
from orchestrator_cli.topology.rules import can_replicate_from

UNKNOWN_LOG_FILE = "orchestrator-unknown-log-file"


class CoordinatesMoved(TopologyError):
    """The replica executed more events while being stopped: recorded equivalences no longer apply."""


@dataclass(frozen=True)
class Moved:
    """What a successful move did: `instance` now replicates from `master`, by `method`."""

    instance: InstanceKey
    master: InstanceKey
    method: str

    def __str__(self) -> str:
        return f"{self.instance}<{self.master}"


# -- checks shared by every move -------------------------------------------------------------------


def require_replica(live: Live) -> None:
    if not live.status.is_replica:
        raise TopologyError(f"instance {live.key} is not a replica")
    if live.status.is_detached:
        raise TopologyError(f"instance {live.key} is detached from its master ({live.status.master_host})")


def check_can_replicate(replica: Live, source: Live, config: Mapping[str, Any]) -> None:
    """`CanReplicateFrom` on live reads (spec §4.2), as an error carrying the original's wording."""
    why = can_replicate_from(replica.instance, source.instance, config)
    if why:
        raise UnsafeOperationError(f"{replica.key} cannot replicate from {source.key}. Reason: {why}")


def refuse_lagging(op: Operation, *lives: Live) -> None:
    """File:pos moves synchronise replicas with each other: refuse ones too far behind to do it quickly."""
    reasonable = int(op.config_seconds("ReasonableMaintenanceReplicationLagSeconds", 20))
    for live in lives:
        lag = live.status.seconds_behind_master
        if lag is not None and lag - live.status.sql_delay > reasonable:
            raise UnsafeOperationError(f"{live.key} lags {lag}s behind its master (more than {reasonable}s)")


def deny_gtid(live: Live) -> str | None:
    """The CHANGE MASTER `gtid` argument for an explicit file:pos position."""
    return "off" if live.status.uses_gtid else None


def self_coordinates(op: Operation, key: InstanceKey) -> BinlogCoordinates:
    own = op.env.server(key).master_status()
    if own.is_empty:
        raise TopologyError(f"{key} has no binary log coordinates (is log_bin enabled?)")
    return own


def exec_coordinates(op: Operation, key: InstanceKey) -> BinlogCoordinates:
    return op.status(key).exec_coordinates


def master_server_id(env: TopologyEnv | None, live: Live) -> int:
    """The server id of `live`'s configured master (Master_Host:Master_Port), 0 when unknown.

    ``Master_Server_Id`` is only trusted while the IO thread is connected (a stopped MariaDB replica
    still reports its previous master's); otherwise the master is asked, when `env` allows it.
    """
    if live.status.confirmed_master_server_id or env is None or live.master_key is None:
        return live.status.confirmed_master_server_id
    try:
        return env.server(live.master_key).core_variables().server_id
    except (OrchestratorError, fl.FlavorError):
        return 0


def same_master(a: Live, b: Live, env: TopologyEnv | None = None) -> bool:
    """Both are configured below the same master, possibly under two names of one server."""
    if a.master_key == b.master_key:
        return True
    if a.status.master_port != b.status.master_port:
        return False
    ids = master_server_id(env, a), master_server_id(env, b)
    return bool(ids[0]) and ids[0] == ids[1]


# -- move-up ---------------------------------------------------------------------------------------


def move_up_within(op: Operation, instance: Live) -> InstanceKey:
    """Make `instance` a sibling of its master (file:pos: synchronised on the master's position)."""
    require_replica(instance)
    assert instance.master_key is not None
    master = op.read(instance.master_key)
    if not master.status.is_replica or master.master_key is None:
        raise TopologyError(f"master {master.key} is not a replica itself: {instance.key} cannot move up")
    grand = op.read(master.master_key)
    op.lock(instance.key, master.key, grand.key)
    chain = refuse_cycle(op.env, instance, grand)
    check_can_replicate(instance, grand, op.env.config)
    if gtid_moves.incompatibility(instance, grand) is None:
        op.method = op.method or "gtid"
        gtid_moves.move(op, instance, grand, chain)
        return grand.key
    op.method = op.method or "file:pos"
    refuse_lagging(op, instance, master)
    op.stop(master.key, drain=True)
    op.stop(instance.key, drain=True)
    master_self = self_coordinates(op, master.key)
    master_exec = exec_coordinates(op, master.key)
    op.start_until(instance.key, master_self)
    op.change_master(
        instance.key, grand.key, before=op.status(instance.key), coords=master_exec, gtid=deny_gtid(instance)
    )
    op.start(instance.key)
    op.start(master.key)
    return grand.key


def move_up(env: TopologyEnv, key: InstanceKey, *, from_below: tuple[InstanceKey, InstanceKey] | None = None) -> Moved:
    """Move `key` up below its grandparent. `from_below` (former master, grandparent): the move
    move-up-replicas expects, from the backend's rows, which may be stale (see `_moved_up_before`)."""
    with Operation(env, "move-up", key) as op:
        instance = op.read(key)
        resumed = _resume_killed_move_up(op, instance)
        if resumed is not None:
            return resumed
        if from_below is not None and instance.master_key != from_below[0]:
            return _moved_up_before(op, instance, *from_below)
        master = move_up_within(op, instance)
        op.summary = f"moved {key} up below {master} via {op.method}"
    return Moved(key, master, op.method)


def _resume_killed_move_up(op: Operation, instance: Live) -> Moved | None:
    """A retry of a move-up whose process was killed after the instance moved: report the move
    (taking the killed process's locks over restarts what it left stopped) instead of moving the
    instance up a second level. The move happened when the instance now replicates from the master
    of its former master, a server that killed process also locked.
    """
    masters = _killed_operation_masters(op, instance.key)
    grand = instance.master_key
    if grand is None or grand not in masters.values():
        return None
    op.lock(instance.key)
    op.method = "gtid" if instance.status.uses_gtid else "file:pos"
    former = next(k for k, master in masters.items() if master == grand)
    op.summary = f"moved {instance.key} up below {grand} (beside {former}): completed the move-up a killed process left"
    return Moved(instance.key, grand, op.method)


def _moved_up_before(op: Operation, instance: Live, former: InstanceKey, grand: InstanceKey) -> Moved:
    """move-up-replicas of `former` found `instance` below it in the backend, but the server already
    replicates from `grand`: it was moved up before its row was refreshed (by a process killed
    between its move and that refresh). Moving it up again would take it a second level up, below
    `grand`'s master. Reported as moved, and its row refreshed; below any other server, refused."""
    key = instance.key
    if instance.master_key != grand:
        raise TopologyError(f"{key} no longer replicates from {former} (now from {instance.master_key}): not moved")
    op.stale(key)
    op.method = "gtid" if instance.status.uses_gtid else "file:pos"
    op.summary = f"{key} already replicates from {grand}: moved up before (its backend row still named {former})"
    return Moved(key, grand, op.method)


# -- move-below ------------------------------------------------------------------------------------


def move_below_within(op: Operation, instance: Live, sibling: Live, chain: list[Hop] | None = None) -> InstanceKey:
    """Make `instance` replicate from its sibling (file:pos: both rolled to the same position first)."""
    require_replica(instance)
    if instance.key == sibling.key or not sibling.status.is_replica or not same_master(instance, sibling, op.env):
        raise TopologyError(f"instances are not siblings: {instance.key}, {sibling.key}")
    require_replica(sibling)
    op.lock(instance.key, sibling.key)
    if chain is None:
        chain = refuse_cycle(op.env, instance, sibling)
    check_can_replicate(instance, sibling, op.env.config)
    if gtid_moves.incompatibility(instance, sibling) is None:
        op.method = op.method or "gtid"
        gtid_moves.move(op, instance, sibling, chain)
        return sibling.key
    op.method = op.method or "file:pos"
    refuse_lagging(op, instance, sibling)
    op.stop(instance.key, drain=True)
    op.stop(sibling.key, drain=True)
    mine = exec_coordinates(op, instance.key)
    theirs = exec_coordinates(op, sibling.key)
    if mine < theirs:
        op.start_until(instance.key, theirs)
    elif theirs < mine:
        op.start_until(sibling.key, mine)
    sibling_self = self_coordinates(op, sibling.key)
    op.change_master(
        instance.key, sibling.key, before=op.status(instance.key), coords=sibling_self, gtid=deny_gtid(instance)
    )
    op.start(instance.key)
    op.start(sibling.key)
    return sibling.key


def move_below(env: TopologyEnv, key: InstanceKey, sibling: InstanceKey) -> Moved:
    with Operation(env, "move-below", key) as op:
        master = move_below_within(op, op.read(key), op.read(sibling))
        op.summary = f"moved {key} below its sibling {master} via {op.method}"
    return Moved(key, master, op.method)


# -- move-equivalent -------------------------------------------------------------------------------


def equivalent_coordinates(env: TopologyEnv, instance: Live, other: InstanceKey) -> BinlogCoordinates | None:
    """Recorded coordinates on `other` holding what `instance` has executed from its master, if any."""
    from orchestrator_cli.backend import equivalence

    if instance.master_key is None or instance.status.exec_coordinates.is_empty:
        return None
    return equivalence.find(env.backend, instance.master_key, instance.status.exec_coordinates, other)


def move_equivalent_within(op: Operation, instance: Live, other: Live, coords: BinlogCoordinates) -> InstanceKey:
    op.lock(instance.key, other.key)
    op.stop(instance.key)
    now = op.status(instance.key)
    if not op.env.noop and now.exec_coordinates != instance.status.exec_coordinates:
        raise CoordinatesMoved(
            f"{instance.key} executed past {instance.status.exec_coordinates} while stopping; "
            "its equivalent coordinates no longer apply"
        )
    op.change_master(instance.key, other.key, before=now, coords=coords, gtid=deny_gtid(instance))
    op.start(instance.key)
    return other.key


def move_equivalent(env: TopologyEnv, key: InstanceKey, other_key: InstanceKey) -> Moved:
    with Operation(env, "move-equivalent", key) as op:
        instance, other = op.read(key), op.read(other_key)
        require_replica(instance)
        op.lock(key, other_key)
        refuse_cycle(env, instance, other)
        check_can_replicate(instance, other, env.config)
        coords = equivalent_coordinates(env, instance, other_key)
        if coords is None:
            raise NotFoundError(
                f"no equivalent coordinates found for {key} at {instance.status.exec_coordinates}"
                f" of {instance.master_key} on {other_key}"
            )
        op.method = "equivalence"
        move_equivalent_within(op, instance, other, coords)
        op.summary = f"moved {key} below {other_key} at equivalent coordinates {coords}"
    return Moved(key, other_key, op.method)


# -- repoint ---------------------------------------------------------------------------------------


def repoint_within(op: Operation, instance: Live, target: Live | None) -> InstanceKey:
    """CHANGE MASTER to `target` (default: the current master) at the replica's own executed position.

    File:pos coordinates only mean something on the server that wrote them, so a file:pos replica
    is only repointed to its current master, to the same server under another name (same
    server_id), or to a binlog server.
    """
    require_replica(instance)
    current = instance.master_key
    assert current is not None
    master = current if target is None else target.key
    op.lock(instance.key, *([target.key] if target is not None else []))
    if target is not None and target.key != current:
        refuse_cycle(op.env, instance, target)
        check_can_replicate(instance, target, op.env.config)
        target_instance = target.instance
        same_server = target_instance.server_id == master_server_id(op.env, instance)
        if not instance.status.uses_gtid and not same_server and not target_instance.binlog_server:
            raise UnsafeOperationError(
                f"{instance.key} replicates by file:pos from {current}; its coordinates mean nothing on "
                f"{target.key} (another server): use relocate"
            )
    op.method = op.method or ("gtid" if instance.status.uses_gtid else "file:pos")
    op.stop(instance.key)
    before = op.status(instance.key)
    if target is not None and target.instance.binlog_server:
        refuse_behind_binlog_server(op, instance.key, before.exec_coordinates, target.key)
    coords: BinlogCoordinates | None = None
    if not before.uses_gtid:
        executed = before.exec_coordinates
        coords = BinlogCoordinates(UNKNOWN_LOG_FILE, 4) if executed.is_empty else executed
    gtid = kept_gtid_mode(instance.flavor, before)
    op.change_master(instance.key, master, before=before, coords=coords, gtid=gtid, record_equivalence=False)
    op.start(instance.key)
    return master


def refuse_behind_binlog_server(
    op: Operation, key: InstanceKey, executed: BinlogCoordinates, binlog_server: InstanceKey
) -> None:
    """A binlog server serves only what it received: a replica that executed past that point would
    ask it for coordinates it does not have yet (and skip or repeat events once it has them)."""
    if executed.is_empty:
        return
    served = op.env.server(binlog_server).master_status()
    if not served.is_empty and served < executed:
        raise UnsafeOperationError(
            f"binlog server {binlog_server} is not up to date: it has {served}, {key} executed {executed}"
        )


def repoint(
    env: TopologyEnv, key: InstanceKey, target_key: InstanceKey | None, *, binlog_server_target: bool = False
) -> Moved:
    """`binlog_server_target`: the caller asked the target itself that it is a binlog server (a probe
    does not tell MaxScale apart), so it serves the replica's coordinates as a binlog server does."""
    with Operation(env, "repoint", key) as op:
        instance = op.read(key)
        target = op.read(target_key) if target_key is not None and target_key != instance.master_key else None
        if target is not None and binlog_server_target:
            target = dataclasses.replace(target, row={**target.row, "binlog_server": 1})
        master = repoint_within(op, instance, target)
        op.summary = f"repointed {key} to {master} at its own coordinates ({op.method})"
    return Moved(key, master, op.method)


# -- take-master -----------------------------------------------------------------------------------


def take_master(env: TopologyEnv, key: InstanceKey) -> Moved:
    """Swap `key` with its master M: `key` replicates from M's master, M from `key`."""
    with Operation(env, "take-master", key) as op:
        instance = op.read(key)
        require_replica(instance)
        assert instance.master_key is not None
        resumed = _resume_killed_take_master(op, instance)
        if resumed is not None:
            return resumed
        master = op.read(instance.master_key)
        if not master.status.is_replica or master.master_key is None:
            raise TopologyError(
                f"master {master.key} is not a replica: take-master needs a master that replicates itself"
                f" (use graceful-master-takeover to promote {key})"
            )
        grand = op.read(master.master_key)
        op.lock(key, master.key, grand.key)
        if grand.master_key is not None and grand.master_key == master.key:
            raise UnsafeOperationError(f"{master.key} is a co-master of {grand.key}. Cannot take it")
        check_can_replicate(master, instance, env.config)
        check_can_replicate(instance, grand, env.config)
        use_gtid = gtid_moves.incompatibility(instance, grand) is None and (
            gtid_moves.incompatibility(master, instance) is None
        )
        op.method = "gtid" if use_gtid else "file:pos"
        if not use_gtid:
            refuse_lagging(op, instance, master)
        op.stop(master.key, drain=True)
        op.stop(key, drain=True)
        master_self = self_coordinates(op, master.key)
        master_exec = exec_coordinates(op, master.key)
        op.start_until(key, master_self)
        own_self = self_coordinates(op, key)
        if use_gtid:
            # both keep their GTID mode, named (the master's may switch to current_pos, see mariadb_plan)
            stopped = op.status(key)
            op.change_master(key, grand.key, before=stopped, gtid=gtid_mode_of(instance.flavor, stopped))
            master_server = env.server(master.key)
            before = master_server.replica_status()
            mode: str | None = None
            if master.flavor.is_mariadb:
                log_slave_updates = master.instance.log_slave_updates
                chosen = gtid_moves.mariadb_plan(before, master_server.gtid_facts(), log_slave_updates)
                if chosen.repair:
                    master_server.change(master_server.flavor.set_gtid_slave_pos(chosen.repair))
                mode = chosen.mode
            op.change_master(master.key, key, before=before, gtid=mode or gtid_mode_of(master.flavor, before))
        else:
            op.change_master(key, grand.key, before=op.status(key), coords=master_exec, gtid=deny_gtid(instance))
            op.change_master(master.key, key, before=op.status(master.key), coords=own_self, gtid=deny_gtid(master))
        op.start(key)
        op.start(master.key)
        op.summary = (
            f"{key} took over from its master {master.key}: {key}<{grand.key}, {master.key}<{key} ({op.method})"
        )
    return Moved(key, grand.key, op.method)


def _killed_operation_masters(op: Operation, key: InstanceKey) -> dict[InstanceKey, InstanceKey]:
    """When a process running this same operation on `key` was killed: the other servers it locked
    that replicate now, each with its master as the server reports it (empty otherwise)."""
    killed = locks.killed_operation_locks(op.env, key, lock_reason(op.name, key))
    masters: dict[InstanceKey, InstanceKey] = {}
    for other in dict.fromkeys(h.key for h in killed if h.key != key):
        status = op.status(other)
        if status.is_replica and not status.is_detached:
            masters[other] = InstanceKey(status.master_host, status.master_port)
    return masters


def _resume_killed_take_master(op: Operation, instance: Live) -> Moved | None:
    """A retry of a take-master whose process was killed midway: finish it instead of starting anew.

    The killed process's locks name the former master and grandparent. Once the instance left its
    former master, starting anew would swap it with its new master too. Swap done (the former master
    replicates from the instance): take the locks over, which restarts what was left stopped, and
    report the swap. Half done (both replicate from the grandparent): restart them and name the one
    move still missing. Not begun: None, and the ordinary path takes the locks over.
    """
    key = instance.key
    masters = _killed_operation_masters(op, key)
    grand = instance.master_key
    if not masters or grand is None:
        return None
    former = [k for k, master in masters.items() if master == key]
    siblings = [k for k, master in masters.items() if master == grand]
    if not former and not siblings:
        return None
    op.lock(key)  # takes over every lock of the killed process; what it left stopped restarts at the end
    op.method = "gtid" if instance.status.uses_gtid else "file:pos"
    if former:
        op.summary = (
            f"{key}<{grand}, {former[0]}<{key}: completed the take-master a killed process "
            "left with replication stopped"
        )
        return Moved(key, grand, op.method)
    raise TopologyError(
        f"a killed take-master of {key} moved it below {grand} but left {siblings[0]} there too; "
        f"replication restarted on both; finish the swap with "
        f"`orchestrator -c move-below -i {siblings[0]} -d {key}`"
    )


# -- make-co-master --------------------------------------------------------------------------------


def make_co_master(env: TopologyEnv, key: InstanceKey) -> Moved:
    """Make `key`'s master M replicate from `key` (master-master), at `key`'s own binlog position."""
    with Operation(env, "make-co-master", key) as op:
        instance = op.read(key)
        require_replica(instance)
        assert instance.master_key is not None
        master = op.read(instance.master_key)
        if master.master_key is not None and master.master_key == key:
            if _killed_operation_masters(op, key).get(master.key) == key:
                return _complete_killed_make_co_master(op, instance, master)
            raise TopologyError(f"instance {key} is already co master of {master.key}")
        if not instance.instance.read_only:
            raise UnsafeOperationError(f"instance {key} is not read-only; first make it read-only")
        if master.status.is_replica and master.master_key is not None:
            _refuse_not_real_master(op, master)
        check_can_replicate(master, instance, env.config)
        credentials = _missing_credentials(op, instance, master)
        op.lock(key, master.key)
        use_gtid = instance.flavor.is_oracle and instance.status.auto_position and master.gtid.supports_oracle_gtid
        op.method = "gtid" if use_gtid else "file:pos"
        if master.status.is_replica:
            op.stop(master.key)
        before = op.status(master.key)
        if use_gtid:
            op.change_master(master.key, key, before=before, gtid="auto")
        else:
            own_self = self_coordinates(op, key)
            op.change_master(
                master.key, key, before=before, coords=own_self, gtid=deny_gtid(master), record_equivalence=False
            )
        _give_credentials(op, instance, master.key, credentials)
        op.start(master.key)
        op.summary = f"{master.key} now replicates from {key} (co-masters, {op.method})"
    return Moved(master.key, key, op.method)


def _complete_killed_make_co_master(op: Operation, instance: Live, master: Live) -> Moved:
    """A retry of a make-co-master killed after its CHANGE MASTER: the master already points at the
    instance, stopped, maybe still without credentials. Taking the killed process's locks over
    restarts it at the end; refusing ("already co master") left it stopped, its locks hiding both
    servers from analysis until they expired."""
    key = instance.key
    op.lock(key)
    _give_credentials(op, instance, master.key, _missing_credentials(op, instance, op.read(master.key)))
    op.method = "gtid" if master.status.uses_gtid else "file:pos"
    op.summary = f"{master.key} now replicates from {key}: completed the make-co-master a killed process left"
    return Moved(master.key, key, op.method)


def _missing_credentials(op: Operation, instance: Live, master: Live) -> Credentials | None:
    """The credentials `master` still lacks to replicate from `instance` (None: it has a user);
    refused, before any change, when it lacks them and none are configured."""
    if master.status.master_user:
        return None
    credentials = replication_credentials(op.env, instance.key)
    if credentials is None:
        raise UnsafeOperationError(
            f"{master.key} has no replication credentials to connect to {instance.key}: "
            "configure ReplicationCredentialsQuery"
        )
    return credentials


def _give_credentials(op: Operation, instance: Live, master_key: InstanceKey, credentials: Credentials | None) -> None:
    if credentials is None:
        return
    server = op.env.server(master_key)
    fields = credentials.change_master_fields(ssl_allowed=instance.status.master_ssl_allowed)
    server.change(server.flavor.change_master(**fields))


def _refuse_not_real_master(op: Operation, master: Live) -> None:
    """A master that replicates is acceptable only from a co-master that is gone or read-only."""
    assert master.master_key is not None
    try:
        other = op.read(master.master_key)
    except TopologyError:
        return
    if other.master_key != master.key:
        raise UnsafeOperationError(f"{master.key} is not a real master: it replicates from {other.key}")
    if not other.instance.read_only:
        raise UnsafeOperationError(
            f"{master.key} is already co-master with {other.key}, which is reachable and writable"
        )
