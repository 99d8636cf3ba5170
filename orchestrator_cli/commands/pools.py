"""Pools: named groups of instances submitted by external tooling."""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, lines, nothing
from orchestrator_cli.commands.registry import CLUSTER, NO_INSTANCE, command
from orchestrator_cli.model.keys import split_keys

SECTION = "Pools"


@command(
    "submit-pool-instances",
    SECTION,
    "Replace a pool's members with the -i list",
    target=NO_INSTANCE,
    multi_instance=False,
    flags=("--pool <name> (required)", "-i host:port,host:port,..."),
)
def submit_pool_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit, pools

    pool = ctx.require(ctx.options.pool, "--pool")
    keys = [ctx.parse_key(t) for t in split_keys(ctx.instance_text)]
    pools.submit(ctx.backend, pool, keys)
    audit.audit(ctx.backend, "submit-pool-instances", None, f"pool: {pool}, instances: {','.join(map(str, keys))}")
    return nothing(data={"Pool": pool, "Instances": [str(k) for k in keys]})


@command(
    "cluster-pool-instances",
    SECTION,
    "List pool memberships: cluster<TAB>alias<TAB>pool<TAB>host:port",
    target=NO_INSTANCE,
)
def cluster_pool_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import pools

    members = pools.all_pools(ctx.backend)
    return lines(
        [f"{m.cluster_name}\t{m.cluster_alias}\t{m.pool}\t{m.key}" for m in members],
        data=[
            {"ClusterName": m.cluster_name, "ClusterAlias": m.cluster_alias, "Pool": m.pool, "Key": str(m.key)}
            for m in members
        ],
    )


@command(
    "which-heuristic-cluster-pool-instances",
    SECTION,
    "List a cluster's pooled instances that should be healthy (unreachable and downtimed ones excluded)",
    target=CLUSTER,
    flags=("--pool <name> (optional)",),
)
def which_heuristic_cluster_pool_instances(ctx: Context) -> Output:
    from orchestrator_cli.backend import instances, pools
    from orchestrator_cli.backend.instance_rows import instances_from_rows

    cluster = ctx.cluster_name()
    members = {m.key for m in pools.all_pools(ctx.backend) if not ctx.options.pool or m.pool == ctx.options.pool}
    keys = [
        str(i.key)
        for i in instances_from_rows(instances.cluster_instances(ctx.backend, cluster))
        if i.key in members and i.last_check_valid and not i.is_downtimed
    ]
    return lines(keys, data=keys)
