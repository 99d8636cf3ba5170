"""Instance management: discovery, forgetting, maintenance locks, downtime, promotion rules, unresolve names.

These are the cron and Puppet commands: each is a couple of backend statements plus an audit row.
"""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, nothing
from orchestrator_cli.commands.registry import CLUSTER, RAW_INSTANCE, command
from orchestrator_cli.errors import NotFoundError, UnsafeOperationError, UsageError
from orchestrator_cli.model.durations import format_duration, parse_duration
from orchestrator_cli.model.keys import InstanceKey

SECTION = "Instance management"
META = "Instance, meta"
DEFAULT_MAINTENANCE_SECONDS = 10 * 60  # the original's MaintenanceExpireMinutes


def _duration(ctx: Context) -> int:
    text = ctx.options.duration
    if not text:
        return DEFAULT_MAINTENANCE_SECONDS
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise UsageError(str(e)) from e
    if seconds <= 0:
        raise UsageError(f"--duration must be positive, got {text!r}")
    return seconds


def _audit(ctx: Context, audit_type: str, key: InstanceKey, message: str) -> None:
    from orchestrator_cli.backend import audit, instances

    audit.audit(ctx.backend, audit_type, key, message, instances.cluster_of(ctx.backend, key))


@command(
    "discover",
    SECTION,
    "Probe an instance and crawl its whole topology (masters and replicas) into the backend",
    access="L",
    examples=("orchestrator -c discover -i db1.example.com:3306",),
)
def discover(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend.instance_rows import instance_from_row
    from orchestrator_cli.commands.progress import note, progress
    from orchestrator_cli.discovery.crawl import crawl
    from orchestrator_cli.errors import TopologyError

    key = ctx.instance_key(fuzzy=False)
    with progress(ctx, "discovering") as update:
        result = crawl([key], ctx.topology, ctx.backend, ctx.config, progress=update)
    if key not in result.aliases:
        raise TopologyError(f"cannot discover {result.failed.get(key, f'{key}: not reachable')}")
    resolved = result.aliases[key]
    cluster_of = {k: instance_from_row(r.row).cluster_name for k, r in result.probed.items()}
    clusters = sorted(set(cluster_of.values()))
    audit.audit(ctx.backend, "discover", resolved, f"crawled {len(result.probed)} instances", cluster_of[resolved])
    for failed, why in sorted(result.failed.items()):
        note(ctx, f"unreachable: {failed}: {why}")
    note(ctx, f"discovered {len(result.probed)} instance(s) in {len(clusters)} cluster(s)")
    data = {
        "Key": str(resolved),
        "Discovered": sorted(str(k) for k in result.probed),
        "Unreachable": {str(k): v for k, v in result.failed.items()},
        "Clusters": clusters,
    }
    return line(resolved, data=data)


@command(
    "forget",
    SECTION,
    "Remove an instance from the backend (it is rediscovered if still replicating)",
    target=RAW_INSTANCE,
)
def forget(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    key = ctx.instance_key(local_default=False)
    cluster = instances.cluster_of(ctx.backend, key)
    if not instances.forget(ctx.backend, key):
        raise NotFoundError(f"instance {key} not found")
    from orchestrator_cli.backend import audit

    audit.audit(ctx.backend, "forget", key, "", cluster)
    return line(key)


@command(
    "begin-maintenance",
    SECTION,
    "Take an exclusive maintenance lock: no refactoring touches the instance",
    flags=("--reason <text> (required)", "--duration <90s|30m|3h|2d|1w> (default 10m)", "--owner <name>"),
)
def begin_maintenance(ctx: Context) -> Output:
    from orchestrator_cli.backend import health, maintenance

    reason = ctx.require(ctx.options.reason, "--reason")
    seconds = _duration(ctx)
    key = ctx.instance_key()
    owner = ctx.options.effective_owner()
    token = maintenance.begin(ctx.backend, key, owner, reason, seconds, node=health.identity())
    if token is None:
        held = maintenance.active(ctx.backend, key)
        why = f" (held by {held.owner}: {held.reason}, until {held.until})" if held else ""
        raise UnsafeOperationError(f"cannot begin maintenance on {key}: already in maintenance{why}")
    _audit(
        ctx,
        "begin-maintenance",
        key,
        f"maintenanceToken: {token}, owner: {owner}, reason: {reason}, duration: {format_duration(seconds)}",
    )
    return line(key, data={"Key": str(key), "MaintenanceToken": token})


@command("end-maintenance", SECTION, "Release the maintenance lock of an instance")
def end_maintenance(ctx: Context) -> Output:
    from orchestrator_cli.backend import maintenance

    key = ctx.instance_key()
    if maintenance.end(ctx.backend, key):
        _audit(ctx, "end-maintenance", key, "")
    return line(key)


@command("in-maintenance", SECTION, "Print the instance if it holds an active maintenance lock, else nothing")
def in_maintenance(ctx: Context) -> Output:
    from orchestrator_cli.backend import maintenance

    key = ctx.instance_key()
    return line(key, data=True) if maintenance.active(ctx.backend, key) else nothing(data=False)


@command(
    "begin-downtime",
    SECTION,
    "Downtime an instance: no automated recovery acts on it until it ends",
    flags=("--reason <text> (required)", "--duration <90s|30m|3h|2d|1w> (default 10m)", "--owner <name>"),
    details="Unlike the original, omitting --duration applies the 10 minute default and really writes the downtime.",
)
def begin_downtime(ctx: Context) -> Output:
    from orchestrator_cli.backend import downtime

    reason = ctx.require(ctx.options.reason, "--reason")
    seconds = _duration(ctx)
    key = ctx.instance_key()
    owner = ctx.options.effective_owner()
    downtime.begin(ctx.backend, key, owner, reason, seconds)
    _audit(ctx, "begin-downtime", key, f"owner: {owner}, reason: {reason}, duration: {format_duration(seconds)}")
    return line(key)


@command("end-downtime", SECTION, "End the downtime of an instance now")
def end_downtime(ctx: Context) -> Output:
    from orchestrator_cli.backend import downtime

    key = ctx.instance_key()
    if downtime.end(ctx.backend, key):
        _audit(ctx, "end-downtime", key, "")
    return line(key)


@command(
    "register-candidate",
    META,
    "Record the instance's promotion rule (expires: re-run it from cron)",
    flags=("--promotion-rule <prefer|neutral|prefer_not|must_not> (default prefer)",),
    examples=("orchestrator -c register-candidate -i db3:3306 --promotion-rule prefer",),
)
def register_candidate(ctx: Context) -> Output:
    from orchestrator_cli.backend import candidates

    key = ctx.instance_key()
    rule = ctx.options.promotion_rule
    candidates.register(ctx.backend, key, rule)
    _audit(ctx, "register-candidate", key, rule)
    return line(key)


@command(
    "register-hostname-unresolve",
    META,
    "Map an instance to a virtual name used in CHANGE MASTER",
    flags=("--hostname <virtual name> (required)",),
)
def register_hostname_unresolve(ctx: Context) -> Output:
    from orchestrator_cli.backend import hostnames

    name = ctx.require(ctx.options.hostname, "--hostname", "the virtual host name")
    key = ctx.instance_key()
    hostnames.register_unresolve(ctx.backend, key, name)
    _audit(ctx, "register-hostname-unresolve", key, name)
    return line(key)


@command("deregister-hostname-unresolve", META, "Remove an instance's virtual-name mapping")
def deregister_hostname_unresolve(ctx: Context) -> Output:
    from orchestrator_cli.backend import hostnames

    key = ctx.instance_key()
    if hostnames.deregister_unresolve(ctx.backend, key):
        _audit(ctx, "deregister-hostname-unresolve", key, "")
    return line(key)


@command(
    "set-heuristic-domain-instance",
    META,
    "Store the cluster's current writer under its domain name (DetectClusterDomainQuery)",
    target=CLUSTER,
)
def set_heuristic_domain_instance(ctx: Context) -> Output:
    from orchestrator_cli.backend import attributes, audit, instances
    from orchestrator_cli.backend.instance_rows import key_of

    cluster, domain = ctx.cluster_and_domain()
    master = instances.cluster_master(ctx.backend, cluster)
    if master is None:
        raise NotFoundError(f"no master found for cluster {cluster}")
    writer = key_of(master)
    attributes.set_general(ctx.backend, domain, str(writer))
    audit.audit(ctx.backend, "set-heuristic-domain-instance", writer, f"domain: {domain}", cluster)
    return line(writer)
