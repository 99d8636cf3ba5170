"""Recovery commands: failure analysis, recoveries and takeovers, acknowledgements, the global switch.

Each command is thin: it resolves its arguments, calls `recovery/` (or the backend for the pure
bookkeeping commands) and shapes the original's output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, nothing
from orchestrator_cli.commands.registry import CLUSTER, NO_INSTANCE, command
from orchestrator_cli.errors import NotFoundError

if TYPE_CHECKING:
    from orchestrator_cli.topology.regroup import RegroupResult

SECTION = "Recovery"


@command(
    "replication-analysis",
    SECTION,
    "List current replication problems of all clusters (downtimed and problem-free entries omitted)",
    target=NO_INSTANCE,
    details=(
        "One line per problem: `host:port (cluster C): Code[, Warning...]`. Empty output means no\n"
        "problems. `--format json` prints the original API's ReplicationAnalysis objects."
    ),
)
def replication_analysis(ctx: Context) -> Output:
    from orchestrator_cli.analysis import format_line, to_json
    from orchestrator_cli.recovery.detection import current_analysis

    entries = current_analysis(ctx.backend, ctx.config)
    return Output(lines=[format_line(a) for a in entries], data=[to_json(a) for a in entries])


# -- global recovery switch (registered with an empty section name, as the original does) ---------------


@command(
    "disable-global-recoveries",
    "",
    "Disallow automated recoveries everywhere (manual recover still works)",
    target=NO_INSTANCE,
)
def disable_global_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import recovery as rec

    rec.disable_recoveries(ctx.backend)
    audit.audit(ctx.backend, "disable-global-recoveries", None, f"owner: {ctx.options.effective_owner()}")
    return line("OK: Orchestrator recoveries DISABLED globally", data={"RecoveriesDisabled": True})


@command("enable-global-recoveries", "", "Allow automated recoveries again", target=NO_INSTANCE)
def enable_global_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import recovery as rec

    rec.enable_recoveries(ctx.backend)
    audit.audit(ctx.backend, "enable-global-recoveries", None, f"owner: {ctx.options.effective_owner()}")
    return line("OK: Orchestrator recoveries ENABLED globally", data={"RecoveriesDisabled": False})


@command("check-global-recoveries", "", "Tell whether automated recoveries are disabled globally", target=NO_INSTANCE)
def check_global_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import recovery as rec

    disabled = rec.recoveries_disabled(ctx.backend)
    return line(
        f"OK: Global recoveries disabled: {'true' if disabled else 'false'}", data={"RecoveriesDisabled": disabled}
    )


# -- acknowledgements ---------------------------------------------------------------------------------------


def _ack_reason(ctx: Context) -> str:
    return ctx.require(ctx.options.reason, "--reason", "comment your ack")


def _acknowledged(count: int) -> Output:
    return line(f"{count} recoveries acknowledged", data={"Acknowledged": count})


@command(
    "ack-all-recoveries",
    SECTION,
    "Acknowledge all recoveries: they stop blocking new recoveries (anti-flapping)",
    target=NO_INSTANCE,
    flags=("--reason <text> (required)", "--owner <name>"),
)
def ack_all_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import recovery as rec

    reason = _ack_reason(ctx)
    owner = ctx.options.effective_owner()
    count = rec.acknowledge_all(ctx.backend, owner, reason)
    audit.audit(ctx.backend, "ack-all-recoveries", None, f"{count} acknowledged by {owner}: {reason}")
    return _acknowledged(count)


@command(
    "ack-cluster-recoveries",
    SECTION,
    "Acknowledge the recoveries of one cluster",
    target=CLUSTER,
    flags=("--reason <text> (required)", "--owner <name>"),
)
def ack_cluster_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit, clusters
    from orchestrator_cli.backend import recovery as rec

    reason = _ack_reason(ctx)
    owner = ctx.options.effective_owner()
    try:
        cluster = ctx.cluster_name()
        alias = clusters.cluster_alias(ctx.backend, cluster)
    except NotFoundError:
        if not ctx.options.alias:
            raise
        # recoveries outlive their clusters' instances (forgotten after a failover): match the name as given
        cluster = alias = ctx.options.alias
    count = rec.acknowledge_cluster(ctx.backend, cluster, alias, owner, reason)
    audit.audit(ctx.backend, "ack-cluster-recoveries", None, f"{count} acknowledged by {owner}: {reason}", cluster)
    return _acknowledged(count)


@command(
    "ack-instance-recoveries",
    SECTION,
    "Acknowledge the recoveries of one failed instance",
    flags=("--reason <text> (required)", "--owner <name>"),
)
def ack_instance_recoveries(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import recovery as rec

    reason = _ack_reason(ctx)
    owner = ctx.options.effective_owner()
    key = ctx.instance_key()
    count = rec.acknowledge_instance(ctx.backend, key, owner, reason)
    audit.audit(ctx.backend, "ack-instance-recoveries", key, f"{count} acknowledged by {owner}: {reason}")
    return _acknowledged(count)


@command(
    "audit-recovery",
    SECTION,
    "List past recoveries, newest first (optionally of one cluster or failed instance)",
    target=NO_INSTANCE,
    flags=("--alias <cluster>", "-i <failed instance>", "--pattern <recovery id or uid> (also prints its steps)"),
    details=(
        "One tab-separated line per recovery: id, uid, failed instance, analysis, successor (- if none),\n"
        "successful, acknowledged, start, end (- while running). With --pattern naming one recovery, its\n"
        "steps follow, indented: hooks with their exit code and output, topology changes, errors.\n"
        "--format json includes the steps of every recovery listed."
    ),
)
def audit_recovery(ctx: Context) -> Output:
    from orchestrator_cli.backend import recovery as rec
    from orchestrator_cli.recovery.records import recovery_json, recovery_line, step_line

    cluster = ctx.cluster_name() if ctx.options.alias else None
    key = ctx.instance_key() if ctx.instance_text else None
    ident = ctx.options.pattern or None
    records = rec.recoveries(ctx.backend, cluster_name=cluster, key=key, ident=ident)
    if ident and not records:
        raise NotFoundError(f"no recovery with id or uid {ident}")
    text: list[str] = []
    data = []
    for record in records:
        steps = rec.steps(ctx.backend, record.uid)
        text.append(recovery_line(record))
        if ident:
            text.extend(step_line(s) for s in steps)
        data.append(recovery_json(record, steps))
    return Output(lines=text, data=data)


# -- candidate choice and regrouping -------------------------------------------------------------------------


@command(
    "get-candidate-replica",
    "Classic file:pos relocation",
    "Suggest the replica of an instance that a failover would promote (backend only, nothing changes)",
    synonyms=("get-candidate-slave",),
    details=(
        "Eligible replicas are ranked by promotion rule (prefer > neutral > prefer_not; never must_not or\n"
        "PromotionIgnoreHostnameFilters), then by executed position. Replicas refused for promotion and why\n"
        "are shown on a terminal and in --format json."
    ),
)
def get_candidate_replica(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.recovery.manual import suggest_candidate

    choice = suggest_candidate(ctx.topology_env(), ctx.instance_key(), note=lambda text: note(ctx, text))
    assert choice.candidate is not None  # suggest_candidate raises otherwise
    data = {
        "Candidate": str(choice.candidate.key),
        "Ranked": [str(r.key) for r in choice.ranked],
        "Refused": {str(k): why for k, why in choice.refused.items()},
    }
    return line(choice.candidate.key, data=data)


def _regroup(ctx: Context, gtid_only: bool) -> tuple[RegroupResult, dict[str, object]]:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.recovery.manual import regroup

    key = ctx.instance_key()
    ctx.known_instance(key)
    report = regroup(ctx.topology_env(), key, gtid_only=gtid_only, note=lambda text: note(ctx, text))
    result = report.result
    data: dict[str, object] = {
        "Candidate": str(result.candidate),
        "Moved": [str(k) for k in result.moved],
        "Lost": [str(k) for k in result.lost],
        "CaughtUpFrom": str(result.caught_up_from) if result.caught_up_from else None,
        "Steps": report.steps,
    }
    return result, data


@command(
    "regroup-replicas",
    "Smart relocation",
    "Make the best replica of an instance (possibly dead, not contacted) the master of its siblings",
    access="L",
    synonyms=("regroup-slaves",),
    details=(
        "Prints the chosen candidate, then `<candidate> lost: N, trivial: N, pseudo-gtid: N`: trivial counts\n"
        "siblings repointed by file:pos at equal coordinates, pseudo-gtid the others moved (by GTID here;\n"
        "Pseudo-GTID itself is not used). The candidate is left replicating from the instance."
    ),
)
def regroup_replicas(ctx: Context) -> Output:
    result, data = _regroup(ctx, gtid_only=False)
    candidate = str(result.candidate)
    others = len(result.moved) - len(result.moved_equal)
    summary = f"{candidate} lost: {len(result.lost)}, trivial: {len(result.moved_equal)}, pseudo-gtid: {others}"
    return Output(lines=[candidate, summary], data=data)


@command(
    "regroup-replicas-gtid",
    "GTID relocation",
    "Regroup the replicas of an instance using GTID only",
    access="L",
    synonyms=("regroup-slaves-gtid",),
    details="Prints the chosen candidate, then `<candidate> lost: N, moved: N`.",
)
def regroup_replicas_gtid(ctx: Context) -> Output:
    result, data = _regroup(ctx, gtid_only=True)
    candidate = str(result.candidate)
    return Output(lines=[candidate, f"{candidate} lost: {len(result.lost)}, moved: {len(result.moved)}"], data=data)


# -- recovery ------------------------------------------------------------------------------------------------


def _refuse_noop(ctx: Context) -> None:
    """Recoveries register themselves, downtime and detach instances and run hooks: no dry run."""
    from orchestrator_cli.errors import UsageError

    if ctx.options.noop:
        raise UsageError(
            f"{ctx.options.command} has no dry run (--noop); get-candidate-replica shows the replica a failover"
            " would promote"
        )


def _recover(ctx: Context, skip_hooks: bool) -> Output:
    from orchestrator_cli.commands.progress import note, notice
    from orchestrator_cli.recovery.manual import recover_instance
    from orchestrator_cli.recovery.records import outcome_json

    _refuse_noop(ctx)
    key = ctx.instance_key()
    ctx.known_instance(key)
    candidate = ctx.destination_key(required=False)
    done = recover_instance(
        ctx.topology_env(), key, candidate=candidate, skip_hooks=skip_hooks, note=lambda text: note(ctx, text)
    )
    if done.outcome is None:  # nothing to recover: no handler, no recovery record
        notice(ctx, done.nothing_done)
        return nothing(data={"FailedInstance": str(key), "Analysis": done.analysis, "Attempted": False})
    if done.nothing_done:  # considered, not attempted
        notice(ctx, done.nothing_done)
        return nothing(data=outcome_json(done.outcome))
    return line(done.outcome.successor, data=outcome_json(done.outcome))


@command(
    "recover",
    SECTION,
    "Recover a failed instance (dead master, co-master or intermediate master) now, running the hooks",
    access="L",
    destination="optional",
    details=(
        "Probes the instance and its replicas first, so the analysis acted on is current. Prints the\n"
        "promoted (or adopting) instance. When there is nothing to recover (no problem, or a code with no\n"
        "recovery action) nothing is done: nothing on stdout, one line on stderr saying why, exit 0. A\n"
        "downtimed instance is refused (end the downtime first); a failure within RecoveryPeriodBlockSeconds\n"
        "of a previous recovery of its cluster is refused until acknowledged (ack-*-recoveries). -d names a\n"
        "candidate."
    ),
    examples=("orchestrator -c recover -i db1:3306", "orchestrator -c recover -i db1:3306 -d db2:3306"),
)
def recover(ctx: Context) -> Output:
    return _recover(ctx, skip_hooks=False)


@command(
    "recover-lite",
    SECTION,
    "Like recover, without running any external hook processes",
    access="L",
    destination="optional",
)
def recover_lite(ctx: Context) -> Output:
    return _recover(ctx, skip_hooks=True)


# -- planned master changes ----------------------------------------------------------------------------------


@command(
    "force-master-failover",
    SECTION,
    "Fail over the cluster's master as if it were dead; orchestrator picks the successor",
    target=CLUSTER,
    access="L",
    details="The master, when it still answers, is made read-only first (unlike the original).",
)
def force_master_failover(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.recovery.planned import force_failover
    from orchestrator_cli.recovery.records import outcome_json

    _refuse_noop(ctx)
    outcome = force_failover(ctx.topology_env(), ctx.cluster_name(), note=lambda text: note(ctx, text))
    return line(outcome.successor, data=outcome_json(outcome))


@command(
    "force-master-takeover",
    SECTION,
    "Promote a direct replica of the cluster's writable master (-d), as if the master were dead",
    target=CLUSTER,
    destination="required",
    access="L",
    details="The master, when it still answers, is made read-only first (unlike the original).",
)
def force_master_takeover(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.errors import UsageError
    from orchestrator_cli.recovery.planned import force_takeover
    from orchestrator_cli.recovery.records import outcome_json

    _refuse_noop(ctx)
    destination = ctx.destination_key(required=False)
    if destination is None:
        raise UsageError(f"Cannot deduce destination {ctx.options.destination!r}. Please provide with -d")
    outcome = force_takeover(ctx.topology_env(), ctx.cluster_name(), destination, note=lambda text: note(ctx, text))
    return line(outcome.successor, data=outcome_json(outcome))


def _graceful(ctx: Context, auto: bool) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.recovery.planned import graceful_takeover
    from orchestrator_cli.recovery.records import outcome_json

    _refuse_noop(ctx)
    result = graceful_takeover(
        ctx.topology_env(),
        ctx.cluster_name(),
        ctx.destination_key(required=False),
        auto=auto,
        note=lambda text: note(ctx, text),
    )
    data = {
        **outcome_json(result.outcome),
        "SuccessorBinlogCoordinates": result.coordinates,
        "OldMaster": str(result.old_master),
        "OldMasterReplicating": result.old_master_replicating,
    }
    return Output(lines=[str(result.successor), result.coordinates], data=data)


_GRACEFUL_DETAILS = (
    "Sets the master read-only, waits until every replica executed everything it wrote, moves the\n"
    "other replicas below the designated one, promotes it, then points the old master at it (GTID when\n"
    "available; credentials from ReplicationCredentialsQuery, run on the designated replica). Refused,\n"
    "with nothing changed, when the old master could get no replication credentials. Prints the new\n"
    "master and its binlog coordinates at promotion."
)


@command(
    "graceful-master-takeover",
    SECTION,
    "Planned switchover to a replica (-d, required when the master has several replicas)",
    target=CLUSTER,
    destination="optional",
    access="L",
    details=_GRACEFUL_DETAILS
    + "\nThe old master's replication is left stopped (check it, then start-replica -i <old master>).",
)
def graceful_master_takeover(ctx: Context) -> Output:
    return _graceful(ctx, auto=False)


@command(
    "graceful-master-takeover-auto",
    SECTION,
    "Planned switchover; orchestrator picks the replica unless -d names one",
    target=CLUSTER,
    destination="optional",
    access="L",
    details=_GRACEFUL_DETAILS
    + "\nThe old master's replication is started; the command fails when it does not come up.",
)
def graceful_master_takeover_auto(ctx: Context) -> Output:
    return _graceful(ctx, auto=True)


# -- continuous mode -----------------------------------------------------------------------------------------


@command(
    "continuous",
    "Meta",
    "Run discovery, failure analysis and automated recovery in the foreground until stopped",
    target=NO_INSTANCE,
    access="L",
    multi_instance=False,
    flags=("--grab-election", "--duration <90s|30m|3h|2d|1w> (stop after this long; default: run until signalled)"),
    details=(
        "Only the node holding the active_node election works; several processes may share a backend.\n"
        "Automated recovery acts on clusters selected by RecoverMasterClusterFilters /\n"
        "RecoverIntermediateMasterClusterFilters, never on downtimed instances, not while recoveries are\n"
        "disabled globally, and not within RecoveryPeriodBlockSeconds of a previous recovery of the\n"
        "cluster unless acknowledged. SIGTERM or SIGINT stops it cleanly. SIGHUP re-reads the config\n"
        "files: topology credentials, discovery, analysis and recovery settings apply at once; the\n"
        "backend database's location and credentials need a restart (logged when changed)."
    ),
)
def continuous(ctx: Context) -> Output:
    from orchestrator_cli.commands.progress import note
    from orchestrator_cli.daemon.continuous import ContinuousMode
    from orchestrator_cli.errors import UsageError
    from orchestrator_cli.model.durations import parse_duration
    from orchestrator_cli.recovery.records import outcome_json

    _refuse_noop(ctx)
    duration = None
    if ctx.options.duration:
        try:
            duration = float(parse_duration(ctx.options.duration))
        except ValueError as e:
            raise UsageError(str(e)) from e
    mode = ContinuousMode(
        ctx.config,
        owner=ctx.options.effective_owner(),
        grab_election=ctx.options.grab_election,
        duration=duration,
        note=lambda text: note(ctx, text),
    )
    from orchestrator_cli.config import load_config

    mode.run(reload_config=lambda: load_config(ctx.options.config or None))
    return nothing(data={"Recoveries": [outcome_json(o) for o in mode.recoveries]})


@command(
    "internal-suggest-promoted-replacement",
    "Internal",
    "Check the replacement rules: which instance should take over from a just-promoted replica",
    destination="required",
    details="-i is the dead master, -d the promoted replica (both must be known). Prints the instance "
    "that should end up as master: the promoted one unless a better-placed candidate replicates from it.",
)
def internal_suggest_promoted_replacement(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances
    from orchestrator_cli.recovery.replacement import suggest_replacement

    dead = ctx.instance_key(local_default=False)
    promoted = ctx.destination_key()
    assert promoted is not None
    from orchestrator_cli.backend.instance_rows import instance_from_row, instances_from_rows

    cluster = instance_from_row(ctx.known_instance(promoted)).cluster_name
    members = instances_from_rows(instances.cluster_instances(ctx.backend, cluster))
    return line(suggest_replacement(members, promoted, dead, ctx.config))
