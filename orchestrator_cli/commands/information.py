"""Information commands: read the backend only, print keys or the original's formats."""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, lines, nothing
from orchestrator_cli.commands.registry import CLUSTER, NO_INSTANCE, command
from orchestrator_cli.errors import NotFoundError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:  # the snapshot types (and typing itself) stay off the start-up path
    from collections.abc import Mapping, Sequence
    from typing import Any

    from orchestrator_cli.model.instance import Instance
    from orchestrator_cli.model.keys import InstanceKey

SECTION = "Information"


def _keys(rows: Sequence[Mapping[str, Any]]) -> Output:
    from orchestrator_cli.backend.instance_rows import keys_of

    keys = [str(k) for k in keys_of(rows)]
    return lines(keys, data=keys)


def _snapshot(ctx: Context, key: InstanceKey) -> Instance:
    """The backend's snapshot of a known instance (NotFoundError for an unknown one)."""
    from orchestrator_cli.backend.instance_rows import instance_from_row

    return instance_from_row(ctx.known_instance(key))


def _reasonable_lag(ctx: Context) -> int:
    return int(ctx.config["ReasonableMaintenanceReplicationLagSeconds"])


@command(
    "find",
    SECTION,
    "Find instances whose host:port matches a regular expression",
    target=NO_INSTANCE,
    flags=("--pattern <regex> (required)",),
)
def find(ctx: Context) -> Output:
    import re

    from orchestrator_cli.backend import instances

    pattern = ctx.require(ctx.options.pattern, "--pattern", "a regular expression on host:port")
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise UsageError(f"invalid --pattern {pattern!r}: {e}") from e
    keys = instances.all_keys(ctx.backend)
    matching = [k for k in keys if regex.search(k)]
    return lines(matching, data=matching)


@command(
    "search",
    SECTION,
    "Search instances by host name, cluster, version, alias, server id or port",
    target=NO_INSTANCE,
    flags=("--pattern <text> (required)",),
)
def search(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    text = ctx.require(ctx.options.pattern or ctx.instance_text, "--pattern", "the text to search for")
    return _keys(instances.search(ctx.backend, text))


@command("clusters", SECTION, "List the names of all known clusters", target=NO_INSTANCE)
def clusters(ctx: Context) -> Output:
    from orchestrator_cli.backend import clusters as cl

    names = cl.cluster_names(ctx.backend)
    return lines(names, data=names)


@command("clusters-alias", SECTION, "List clusters with their aliases (name<TAB>alias)", target=NO_INSTANCE)
def clusters_alias(ctx: Context) -> Output:
    from orchestrator_cli.backend import clusters as cl

    aliases = cl.cluster_aliases(ctx.backend)
    return lines(
        [f"{name}\t{alias}" for name, alias in aliases.items()],
        data=[{"ClusterName": name, "ClusterAlias": alias} for name, alias in aliases.items()],
    )


@command("all-clusters-masters", SECTION, "List the writeable master of each cluster", target=NO_INSTANCE)
def all_clusters_masters(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    return _keys(instances.masters(ctx.backend))


def _topology(ctx: Context, style: str) -> Output:
    from orchestrator_cli.backend import tree_rows
    from orchestrator_cli.commands import topology_view as tv

    if ctx.options.pattern:
        raise UsageError("--pattern (history snapshots) is not supported by topology; omit it")
    cluster = ctx.cluster_name()
    members = tree_rows.cluster_members(ctx.backend, cluster)
    if not members:
        raise NotFoundError(f"no instances found for cluster {cluster}")
    nodes = tv.build_tree(members)
    lag = _reasonable_lag(ctx)
    if style == "tabulated":
        text = tv.render_tabulated(nodes, lag)
    elif style == "tags":
        from orchestrator_cli.backend import tags as tag_store

        all_tags = {k: [t.display() for t in v] for k, v in tag_store.read_cluster(ctx.backend, cluster).items()}
        text = tv.render_plain(nodes, lag, all_tags)
    else:
        all_tags = None
        text = tv.render_plain(nodes, lag)
    return Output(
        lines=text,
        data=tv.as_json(nodes, lag),
        rich=lambda: tv.rich_tree(nodes, lag, f"cluster {cluster}", all_tags),
    )


@command("topology", SECTION, "Show the replication tree of a cluster", target=CLUSTER)
def topology(ctx: Context) -> Output:
    return _topology(ctx, "plain")


@command("topology-tabulated", SECTION, "Show the replication tree of a cluster in |-separated columns", target=CLUSTER)
def topology_tabulated(ctx: Context) -> Output:
    return _topology(ctx, "tabulated")


@command("topology-tags", SECTION, "Show the replication tree of a cluster with each instance's tags", target=CLUSTER)
def topology_tags(ctx: Context) -> Output:
    return _topology(ctx, "tags")


@command("all-instances", SECTION, "List all known instances", target=NO_INSTANCE)
def all_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    keys = instances.all_keys(ctx.backend)
    return lines(keys, data=keys)


@command("which-instance", SECTION, "Print the canonical key of a known instance")
def which_instance(ctx: Context) -> Output:
    key = ctx.instance_key()
    ctx.known_instance(key)
    return line(key)


@command("which-cluster", SECTION, "Print the name of the cluster an instance or alias belongs to", target=CLUSTER)
def which_cluster(ctx: Context) -> Output:
    return line(ctx.cluster_name())


@command("which-cluster-alias", SECTION, "Print the alias of a cluster", target=CLUSTER)
def which_cluster_alias(ctx: Context) -> Output:
    from orchestrator_cli.backend import clusters as cl

    return line(cl.cluster_alias(ctx.backend, ctx.cluster_name()))


@command("which-cluster-domain", SECTION, "Print the domain (DetectClusterDomainQuery) of a cluster", target=CLUSTER)
def which_cluster_domain(ctx: Context) -> Output:
    from orchestrator_cli.backend import clusters as cl

    return line(cl.cluster_domain(ctx.backend, ctx.cluster_name()))


@command(
    "which-cluster-master",
    SECTION,
    "Print the master of a cluster (a writeable co-master first; a single master even if read-only)",
    target=CLUSTER,
)
def which_cluster_master(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    cluster = ctx.cluster_name()
    row = instances.cluster_master(ctx.backend, cluster)
    if row is None:
        raise NotFoundError(f"no master found for cluster {cluster}")
    return line(instances.keys_of([row])[0])


@command("which-cluster-instances", SECTION, "List the instances of a cluster", target=CLUSTER)
def which_cluster_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    return _keys(instances.cluster_instances(ctx.backend, ctx.cluster_name()))


@command("which-master", SECTION, "Print the master of an instance (nothing for a master)")
def which_master(ctx: Context) -> Output:
    master = _snapshot(ctx, ctx.instance_key()).master_key
    return nothing(data="") if master is None else line(master)


@command("which-replicas", SECTION, "List the direct replicas of an instance", synonyms=("which-slaves",))
def which_replicas(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    return _keys(instances.replicas_of(ctx.backend, ctx.instance_key()))


@command(
    "which-downtimed-instances",
    SECTION,
    "List downtimed instances (of a cluster, or of all clusters)",
    target=NO_INSTANCE,
)
def which_downtimed_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    cluster = ctx.cluster_name() if (ctx.options.alias or ctx.instance_text) else None
    return _keys(instances.downtimed(ctx.backend, cluster))


@command("which-lost-in-recovery", SECTION, "List instances downtimed as lost in a recovery", target=NO_INSTANCE)
def which_lost_in_recovery(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    return _keys(instances.lost_in_recovery(ctx.backend))


@command("instance-status", SECTION, "Print an instance's status tokens: [lag,status,version,ro|rw,binlog,extras]")
def instance_status(ctx: Context) -> Output:
    tokens = _snapshot(ctx, ctx.instance_key()).description_tokens(_reasonable_lag(ctx))
    return line(f"[{','.join(tokens)}]", data=tokens)


@command("bulk-instances", "", "List all known instances, sorted", target=NO_INSTANCE)
def bulk_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances

    keys = sorted(str(k) for k in instances.keys_of(instances.all_instances(ctx.backend)))
    return lines(keys, data=keys)


# -- Replication information: answers as a key or nothing, so shell `if [ -n "$(...)" ]` works ------
REPLICATION_INFO = "Replication information"


@command("is-replicating", REPLICATION_INFO, "Print the instance if both replication threads run, else nothing")
def is_replicating(ctx: Context) -> Output:
    key = ctx.instance_key()
    return line(key, data=True) if _snapshot(ctx, key).replication_running else nothing(data=False)


@command("is-replication-stopped", REPLICATION_INFO, "Print the instance if it is a replica with both threads stopped")
def is_replication_stopped(ctx: Context) -> Output:
    key = ctx.instance_key()
    return line(key, data=True) if _snapshot(ctx, key).replication_stopped else nothing(data=False)


@command(
    "can-replicate-from",
    REPLICATION_INFO,
    "Print the destination if the instance could replicate from it",
    destination="required",
)
def can_replicate_from(ctx: Context) -> Output:
    from orchestrator_cli.topology.rules import can_replicate_from as rule

    replica = _snapshot(ctx, ctx.instance_key())
    dest_key = ctx.destination_key()
    assert dest_key is not None
    source = _snapshot(ctx, dest_key)
    reason = rule(replica, source, ctx.config)
    if reason:
        return nothing(data={"CanReplicate": False, "Reason": reason})
    return line(dest_key, data={"CanReplicate": True, "Reason": ""})


@command(
    "which-cluster-osc-replicas",
    SECTION,
    "List replicas that represent a cluster for pt-osc throttling",
    target=CLUSTER,
    synonyms=("which-cluster-osc-slaves",),
)
def which_cluster_osc_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology import osc

    return _views(osc.osc_replicas(_cluster_rows(ctx), ctx.config))


def _cluster_rows(ctx: Context) -> list[Instance]:
    from orchestrator_cli.backend import instances
    from orchestrator_cli.backend.instance_rows import instances_from_rows

    return instances_from_rows(instances.cluster_instances(ctx.backend, ctx.cluster_name()))


def _views(views: list[Instance]) -> Output:
    keys = [str(v.key) for v in views]
    return lines(keys, data=keys)


@command(
    "which-cluster-gh-ost-replicas",
    SECTION,
    "List direct replicas gh-ost can inspect (logging their changes, least lag first)",
    target=CLUSTER,
    synonyms=("which-cluster-gh-ost-slaves",),
)
def which_cluster_gh_ost_replicas(ctx: Context) -> Output:
    from orchestrator_cli.topology import osc

    return _views(osc.gh_ost_replicas(_cluster_rows(ctx), ctx.config))


@command(
    "get-cluster-heuristic-lag",
    SECTION,
    "Print the worst replication lag, in seconds, among a cluster's pt-osc replicas",
    target=CLUSTER,
)
def get_cluster_heuristic_lag(ctx: Context) -> Output:
    from orchestrator_cli.topology import osc

    lag = osc.heuristic_lag(_cluster_rows(ctx), ctx.config)
    return line(lag, data=lag)


@command(
    "submit-masters-to-kv-stores",
    "Key-value",
    "Publish each cluster's master as key-value pairs (prefix KVClusterMasterPrefix)",
    target=NO_INSTANCE,
    details="Writes the internal kv_store table; with --alias or -i only that cluster. Consul and ZooKeeper "
    "are not contacted: read the pairs from kv_store or from this command's output.",
)
def submit_masters_to_kv_stores(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit, instances, kv
    from orchestrator_cli.backend import clusters as cl
    from orchestrator_cli.backend.instance_rows import instances_from_rows
    from orchestrator_cli.topology.kv import master_pairs, prefix

    only = ctx.cluster_name() if (ctx.options.alias or ctx.instance_text) else None
    aliases = cl.cluster_aliases(ctx.backend)
    pairs: list[tuple[str, str]] = []
    for master in instances_from_rows(instances.masters(ctx.backend)):
        cluster = master.cluster_name
        if only is None or cluster == only:
            pairs += master_pairs(prefix(ctx.config), aliases.get(cluster) or cluster, master.key)
    kv.put(ctx.backend, pairs)
    audit.audit(ctx.backend, "submit-masters-to-kv-stores", None, f"{len(pairs)} pairs")
    return lines([f"{k}:{v}" for k, v in pairs], data=dict(pairs))


@command(
    "which-heuristic-domain-instance",
    SECTION,
    "Print the writer last stored for a cluster's domain (see set-heuristic-domain-instance)",
    target=CLUSTER,
)
def which_heuristic_domain_instance(ctx: Context) -> Output:
    from orchestrator_cli.backend import attributes

    _, domain = ctx.cluster_and_domain()
    writer = attributes.get_general(ctx.backend, domain)
    if writer is None:
        raise NotFoundError(f"no instance stored for domain {domain}")
    return line(writer)
