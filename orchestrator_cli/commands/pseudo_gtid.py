"""Pseudo-GTID relocation: move file:pos replicas anywhere by matching their logs (needs PseudoGTIDPattern).

Each command live-reads the servers, refuses unsafe moves before changing anything, runs under
maintenance locks with the same clean-up as the classic moves, and writes one audit row per replica
(method ``pseudo-gtid``). With `--noop` it prints the statements it would send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output
from orchestrator_cli.commands.refactoring import _moved, _moved_lines, _run
from orchestrator_cli.commands.registry import command

if TYPE_CHECKING:
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.topology.env import TopologyEnv

PSEUDO_GTID = "Pseudo-GTID relocation"
SKIP = "--skip-binlog-search (search relay logs only)"
NOOP = "--noop: print the statements that would run, change nothing"

_MATCH_DETAILS = """
Finds the instance's last Pseudo-GTID entry (in its binary logs when it has log_slave_updates and
the same binlog_format as the destination, else in its executed relay logs; --skip-binlog-search
forces relay logs), finds the identical entry in the destination's binary logs, walks both forward
in lock-step comparing events, and points the instance at the destination's position after its last
event. Refused without PseudoGTIDPattern, below itself or one of its descendants, below a binlog
server, when either is in maintenance, or when the instance is ahead of the destination."""


def _destination(ctx: Context) -> InstanceKey:
    destination = ctx.destination_key()
    assert destination is not None
    return destination


@command(
    "match",
    PSEUDO_GTID,
    "Match a replica below another instance via Pseudo-GTID (the instance must not be ahead of it)",
    destination="required",
    flags=(SKIP, NOOP),
    access="L",
    details=_MATCH_DETAILS,
    examples=("orchestrator -c match -i replica.to.relocate.com -d instance.that.becomes.its.master",),
)
def match(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import match_below

    key, destination = ctx.instance_key(), _destination(ctx)
    skip = ctx.options.skip_binlog_search
    return _run(ctx, lambda env: _moved(match_below(env, key, destination, skip_binlog_search=skip)))


@command(
    "match-up",
    PSEUDO_GTID,
    "Make a replica a sibling of its master via Pseudo-GTID (the master may be dead)",
    flags=(SKIP, NOOP),
    access="L",
    details="The instance is matched below its master's master (read from the backend when the master is dead).",
    examples=("orchestrator -c match-up -i replica.to.match.up.com:3306",),
)
def match_up(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import match_up as run

    key, skip = ctx.instance_key(), ctx.options.skip_binlog_search
    return _run(ctx, lambda env: _moved(run(env, key, skip_binlog_search=skip)))


@command(
    "rematch",
    PSEUDO_GTID,
    "Reconnect a replica to its own master at coordinates found via Pseudo-GTID",
    flags=(SKIP, NOOP),
    access="L",
    details="Repairs a replica whose relay logs or coordinates are broken (non crash-safe replication).",
    examples=("orchestrator -c rematch -i replica.to.rematch.under.its.master",),
)
def rematch(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import rematch as run

    key, skip = ctx.instance_key(), ctx.options.skip_binlog_search
    return _run(ctx, lambda env: _moved(run(env, key, skip_binlog_search=skip)))


@command(
    "match-replicas",
    PSEUDO_GTID,
    "Match all (or --pattern matching) replicas of an instance below another instance via Pseudo-GTID",
    destination="required",
    flags=("--pattern", SKIP, NOOP),
    synonyms=("match-slaves",),
    access="L",
    details="""
The instance itself is not contacted (it may be dead). Each replica is matched in its own audited
operation; if any replica is not matched the command fails (exit 1, `MultiMatchReplicas: only
matched X out of Y ...`) and prints nothing. Prints one host:port per matched replica.""",
    examples=("orchestrator -c match-replicas -i instance.whose.replicas.will.relocate -d new.master",),
)
def match_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import match_replicas as run

    key, destination = ctx.instance_key(), _destination(ctx)
    pattern, skip = ctx.options.pattern, ctx.options.skip_binlog_search
    return _run(ctx, lambda env: _moved_lines(run(env, key, destination, pattern, skip_binlog_search=skip)))


@command(
    "match-up-replicas",
    PSEUDO_GTID,
    "Match the replicas of an instance up to be its siblings via Pseudo-GTID",
    flags=("--pattern", SKIP, NOOP),
    synonyms=("match-up-slaves",),
    access="L",
    details="The instance may be dead. Fails only when every replica failed; prints one host:port per matched replica.",
    examples=("orchestrator -c match-up-replicas -i replica.whose.subreplicas.will.move.up.com:3306",),
)
def match_up_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import match_up_replicas as run

    key, pattern, skip = ctx.instance_key(), ctx.options.pattern, ctx.options.skip_binlog_search
    return _run(ctx, lambda env: _moved_lines(run(env, key, pattern, skip_binlog_search=skip)))


@command(
    "regroup-replicas-pgtid",
    PSEUDO_GTID,
    "Make the best replica of an instance (possibly dead, not contacted) the master of its siblings via Pseudo-GTID",
    synonyms=("regroup-slaves-pgtid",),
    flags=(SKIP, NOOP),
    access="L",
    details="""
Every replica is stopped after applying what it fetched and the candidate is chosen as for a
failover. Siblings at the candidate's position continue at its own binlog position (trivial), those
behind it are matched below it by Pseudo-GTID, those ahead of it are lost. Prints the candidate, then
`<candidate> lost: N, trivial: N, pseudo-gtid: N`. The candidate keeps replicating from the instance.""",
    examples=("orchestrator -c regroup-replicas-pgtid -i instance.with.replicas.one.of.which.will.turn.local.master",),
)
def regroup_replicas_pgtid(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import regroup_replicas_pgtid as run

    key, skip = ctx.instance_key(), ctx.options.skip_binlog_search

    def action(env: TopologyEnv) -> Output:
        result = run(env, key, skip_binlog_search=skip)
        candidate = str(result.candidate)
        summary = (
            f"{candidate} lost: {len(result.lost)}, trivial: {len(result.trivial)}, pseudo-gtid: {len(result.matched)}"
        )
        data = {
            "Candidate": candidate,
            "Trivial": [str(k) for k in result.trivial],
            "PseudoGTID": [str(k) for k in result.matched],
            "Lost": [str(k) for k in result.lost],
            "Failed": {str(k): why for k, why in result.failed.items()},
        }
        return Output(lines=[candidate, summary], data=data)

    return _run(ctx, action)
