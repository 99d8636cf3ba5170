"""Refactoring commands: relocate replicas on live servers (smart, classic file:pos and GTID moves).

Every command live-reads the servers it touches, refuses unsafe moves before changing anything,
runs under maintenance locks, restarts what it stopped even when it fails, and writes one audit row
per move. With `--noop` it prints the statements it would send (`host:port: STATEMENT`) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, lines
from orchestrator_cli.commands.registry import command
from orchestrator_cli.errors import UsageError

if TYPE_CHECKING:
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.topology.env import TopologyEnv
    from orchestrator_cli.topology.moves import Moved
    from orchestrator_cli.topology.relocate import BulkResult

SMART = "Smart relocation"
CLASSIC = "Classic file:pos relocation"
GTID = "GTID relocation"
BINLOG_SERVER = "Binlog server relocation"


def _env(ctx: Context) -> TopologyEnv:
    return ctx.topology_env()


def _run(ctx: Context, action: Callable[[TopologyEnv], Output]) -> Output:
    """Run `action`; under `--noop` show instead the statements it would have sent, each after its server's key."""
    from orchestrator_cli.commands import dry_run
    from orchestrator_cli.commands.progress import progress

    env = _env(ctx)
    with dry_run.recorded(ctx) as taken, progress(ctx, ctx.options.command or "moving") as update:
        env.progress = update
        try:
            out = action(env)
        finally:
            env.progress = None
    if not ctx.options.noop:
        return out
    data = {"Noop": True, "Statements": [{"Key": key, "Statement": sql} for key, sql in taken]}
    return Output(lines=dry_run.lines_of(taken), data=data)


def _moved(result: Moved) -> Output:
    return line(result, data={"Key": str(result.instance), "Master": str(result.master), "Method": result.method})


def _moved_lines(result: BulkResult, render: Callable[[Moved], str] = lambda m: str(m.instance)) -> Output:
    data: dict[str, Any] = {
        "Moved": [{"Key": str(m.instance), "Master": str(m.master), "Method": m.method} for m in result.moved],
        "Failed": {str(k): why for k, why in result.failed.items()},
    }
    return lines([render(m) for m in result.moved], data=data)


def _optional_destination(ctx: Context) -> InstanceKey | None:
    """`-d` for repoint: absent or unparsable means "the current master", as in the original."""
    try:
        return ctx.destination_key(required=False)
    except UsageError:
        return None


# -- smart relocation ------------------------------------------------------------------------------

_RELOCATE_DETAILS = """
Moves the instance below the destination, picking the safest method the two servers allow: GTID
(MariaDB MASTER_USE_GTID, Oracle auto-position), a binlog-server shortcut, recorded equivalent
coordinates, or a synchronised file:pos path through the tree (move-up to the common ancestor, then
move-below hop by hop). Refused when the destination is the instance or one of its descendants
(checked on the live servers), when either is in maintenance, or when the instance cannot replicate
from the destination. The audit row names the method used."""


def _relocate(ctx: Context, name: str) -> Output:
    from orchestrator_cli.topology.relocate import relocate

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved(relocate(env, key, destination, name=name)))


@command(
    "relocate",
    SMART,
    "Relocate a replica below another instance (GTID, binlog server, equivalence or file:pos)",
    destination="required",
    access="L",
    details=_RELOCATE_DETAILS,
    examples=("orchestrator -c relocate -i replica.to.relocate.com -d instance.that.becomes.its.master",),
)
def relocate(ctx: Context) -> Output:
    return _relocate(ctx, "relocate")


@command(
    "relocate-below",
    SMART,
    "Deprecated synonym of relocate",
    destination="required",
    access="L",
    details=_RELOCATE_DETAILS,
)
def relocate_below(ctx: Context) -> Output:
    return _relocate(ctx, "relocate-below")


@command(
    "relocate-replicas",
    SMART,
    "Relocate all (or --pattern matching) replicas of an instance below another instance",
    destination="required",
    flags=("--pattern",),
    synonyms=("relocate-slaves",),
    access="L",
    details="""
The instance itself is not contacted (it may be dead). Refused when the destination is below one of
the replicas. Each replica moves in its own audited operation (GTID, or a file:pos path when it
does not use GTID); one that fails is reported on stderr and the others still move. Prints one
host:port per relocated replica.""",
    examples=("orchestrator -c relocate-replicas -i instance.whose.replicas.will.relocate -d new.master",),
)
def relocate_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import relocate_replicas as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved_lines(run(env, key, destination, ctx.options.pattern)))


@command(
    "take-siblings",
    SMART,
    "Make all siblings of a replica its own replicas",
    synonyms=("enslave-siblings",),
    access="L",
    examples=("orchestrator -c take-siblings -i instance.that.will.become.local.master",),
)
def take_siblings(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import take_siblings as run

    key = ctx.instance_key()

    def action(env: TopologyEnv) -> Output:
        result = run(env, key)
        return line(key, data={"Key": str(key), "Moved": [str(m.instance) for m in result.moved]})

    return _run(ctx, action)


# -- classic file:pos relocation -------------------------------------------------------------------


@command(
    "move-up",
    CLASSIC,
    "Make a replica a sibling of its master (replicate from its grandparent)",
    access="L",
    details="""
A GTID replica moves by GTID; otherwise the master and the replica are stopped, the replica is
rolled forward to the master's position with START SLAVE UNTIL, and re-pointed to the grandparent at
the master's executed coordinates.""",
    examples=("orchestrator -c move-up -i replica.to.move.up.com:3306",),
)
def move_up(ctx: Context) -> Output:
    from orchestrator_cli.topology.moves import move_up as run

    key = ctx.instance_key()
    return _run(ctx, lambda env: _moved(run(env, key)))


@command(
    "move-up-replicas",
    CLASSIC,
    "Move the replicas of an instance up to be its siblings",
    flags=("--pattern",),
    synonyms=("move-up-slaves",),
    access="L",
    examples=("orchestrator -c move-up-replicas -i replica.whose.subreplicas.will.move.up.com:3306",),
)
def move_up_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import move_up_replicas as run

    key = ctx.instance_key()
    return _run(ctx, lambda env: _moved_lines(run(env, key, ctx.options.pattern)))


@command(
    "move-below",
    CLASSIC,
    "Make a replica replicate from its sibling",
    destination="required",
    access="L",
    details="""
Both are stopped; the one behind is rolled forward to the other's position with START SLAVE UNTIL;
the instance then replicates from the sibling at the sibling's own binlog coordinates (GTID replicas
move by GTID instead).""",
    examples=("orchestrator -c move-below -i replica.to.move.com -d sibling.replica.under.which.to.move.com",),
)
def move_below(ctx: Context) -> Output:
    from orchestrator_cli.topology.moves import move_below as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved(run(env, key, destination)))


@command(
    "move-equivalent",
    CLASSIC,
    "Move a replica below another instance at recorded equivalent coordinates (e.g. to undo a move)",
    destination="required",
    access="L",
    examples=("orchestrator -c move-equivalent -i replica.to.revert.master.position.com -d master.to.move.to.com",),
)
def move_equivalent(ctx: Context) -> Output:
    from orchestrator_cli.topology.moves import move_equivalent as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved(run(env, key, destination)))


@command(
    "repoint",
    CLASSIC,
    "Point a replica at its master (or -d) again, at its own executed coordinates",
    destination="optional",
    access="L",
    details="""
Reconnects the replica at the coordinates it executed, e.g. after its master's name changed or its
relay logs broke. A file:pos replica is only repointed to the same server (same server_id) or a
binlog server: elsewhere its coordinates mean nothing (use relocate).""",
    examples=("orchestrator -c repoint -i replica.to.operate.on.com",),
)
def repoint(ctx: Context) -> Output:
    from orchestrator_cli.topology.moves import repoint as run

    key = ctx.instance_key()
    destination = _optional_destination(ctx)
    return _run(ctx, lambda env: _moved(run(env, key, destination)))


@command(
    "repoint-replicas",
    CLASSIC,
    "Repoint all (or --pattern matching) replicas of an instance to it (or to -d)",
    destination="optional",
    flags=("--pattern",),
    synonyms=("repoint-slaves",),
    access="L",
    examples=("orchestrator -c repoint-replicas -i instance.whose.replicas.will.be.repointed",),
)
def repoint_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import repoint_replicas as run

    key = ctx.instance_key()
    destination = _optional_destination(ctx)
    return _run(
        ctx, lambda env: _moved_lines(run(env, key, destination, ctx.options.pattern), lambda m: f"{m.instance}<{key}")
    )


@command(
    "take-master",
    CLASSIC,
    "Swap a replica with its master (the master must itself be a replica)",
    synonyms=("enslave-master",),
    access="L",
    examples=("orchestrator -c take-master -i replica.that.will.switch.places.with.its.master.com",),
)
def take_master(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.recovery.hooks import run_take_master_hooks
    from orchestrator_cli.topology.moves import take_master as run
    from orchestrator_cli.topology.primitives import read_live

    key = ctx.instance_key()

    def action(env: TopologyEnv) -> Output:
        def audit(text: str) -> None:
            env.audit("post-take-master", key, text)

        demoted = read_live(env, key).master_key
        result = run(env, key)
        if demoted is not None and not env.noop:
            for failed in run_take_master_hooks(env.config, key, demoted, audit).failed:
                note(ctx, f"warning: {failed.describe()}")
        return line(key, data={"Key": str(key), "Master": str(result.master), "Method": result.method})

    return _run(ctx, action)


@command(
    "make-co-master",
    CLASSIC,
    "Make a read-only replica and its master replicate from each other (master-master)",
    access="L",
    details="""
The master starts replicating from the instance at the instance's binlog coordinates (Oracle GTID:
auto-position). The instance must be read-only; a master without replication credentials gets them
from ReplicationCredentialsQuery.""",
    examples=("orchestrator -c make-co-master -i replica.to.turn.into.co.master.com",),
)
def make_co_master(ctx: Context) -> Output:
    from orchestrator_cli.topology.moves import make_co_master as run

    key = ctx.instance_key()

    def action(env: TopologyEnv) -> Output:
        result = run(env, key)
        return line(key, data={"Key": str(key), "CoMaster": str(result.instance), "Method": result.method})

    return _run(ctx, action)


# -- binlog server relocation ----------------------------------------------------------------------


@command(
    "regroup-replicas-bls",
    BINLOG_SERVER,
    "Promote the most up-to-date binlog server among an instance's binlog-server replicas",
    access="L",
    details="""
The instance (typically a dead master) is not contacted; it must be known to the backend. Its
binlog-server replicas (MaxScale binlog routers) are read live; the one that executed the most
becomes the master of the others, each repointed below it at its own coordinates (binlog servers
mirror their master's binary logs under the same names), refused for any the promoted one has not
caught up with. Prints the promoted binlog server. Fails, changing nothing, when the instance has no
reachable binlog-server replica, and when none of the others could be moved; one that could not
be moved is reported on stderr. Other replicas of the instance are left alone (see
regroup-replicas).""",
    examples=("orchestrator -c regroup-replicas-bls -i instance.with.binlog.server.replicas",),
)
def regroup_replicas_bls(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note, notice
    from orchestrator_cli.topology.regroup import regroup_binlog_servers

    key = ctx.instance_key()
    ctx.known_instance(key)

    def action(env: TopologyEnv) -> Output:
        result = regroup_binlog_servers(env, key, step=lambda text: note(ctx, text))
        for failed, why in result.failed.items():
            notice(ctx, f"warning: {failed} not regrouped: {why}")
        data = {
            "Promoted": str(result.promoted),
            "Repointed": [str(k) for k in result.repointed],
            "Failed": {str(k): why for k, why in result.failed.items()},
        }
        return line(result.promoted, data=data)

    return _run(ctx, action)


# -- GTID relocation -------------------------------------------------------------------------------


@command(
    "move-gtid",
    GTID,
    "Move a replica below another instance via GTID",
    destination="required",
    access="L",
    details="""
Refused unless both use GTID (MariaDB: the replica uses MASTER_USE_GTID; Oracle: auto-position),
and the destination holds everything the replica has (MariaDB: every domain at or ahead of the
replica; Oracle: nothing the replica lacks was purged, and the replica has no errant GTIDs).""",
    examples=("orchestrator -c move-gtid -i replica.to.move.com -d instance.that.becomes.its.master",),
)
def move_gtid(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import move_gtid as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved(run(env, key, destination)))


@command(
    "move-replicas-gtid",
    GTID,
    "Move all (or --pattern matching) replicas of an instance below another instance via GTID",
    destination="required",
    flags=("--pattern",),
    synonyms=("move-slaves-gtid",),
    access="L",
    details="""
Every replica is checked for GTID compatibility before the first one moves; if any replica is not
moved the command fails (exit 1) and prints nothing.""",
    examples=("orchestrator -c move-replicas-gtid -i instance.whose.replicas.will.move -d new.master",),
)
def move_replicas_gtid(ctx: Context) -> Output:
    from orchestrator_cli.topology.relocate import move_replicas_gtid as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    return _run(ctx, lambda env: _moved_lines(run(env, key, destination, ctx.options.pattern)))
