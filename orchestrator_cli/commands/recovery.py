"""Recovery commands: failure analysis, recoveries and takeovers, acknowledgements, the global switch.

Each command is thin: it resolves its arguments, calls `recovery/` (or the backend for the pure
bookkeeping commands) and shapes the original's output.
"""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line
from orchestrator_cli.commands.registry import CLUSTER, NO_INSTANCE, command
from orchestrator_cli.errors import NotFoundError

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
    rows = rec.recoveries(ctx.backend, cluster_name=cluster, key=key, ident=ident)
    if ident and not rows:
        raise NotFoundError(f"no recovery with id or uid {ident}")
    text: list[str] = []
    data = []
    for row in rows:
        steps = rec.steps(ctx.backend, str(row["uid"]))
        text.append(recovery_line(row))
        if ident:
            text.extend(step_line(s) for s in steps)
        data.append(recovery_json(row, steps))
    return Output(lines=text, data=data)
