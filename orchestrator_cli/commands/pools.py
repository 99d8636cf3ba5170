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

    rows = pools.all_pools(ctx.backend)
    return lines(
        [f"{r['cluster_name']}\t{r['cluster_alias']}\t{r['pool']}\t{r['hostname']}:{r['port']}" for r in rows],
        data=[
            {
                "ClusterName": r["cluster_name"],
                "ClusterAlias": r["cluster_alias"],
                "Pool": r["pool"],
                "Key": f"{r['hostname']}:{r['port']}",
            }
            for r in rows
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
    from orchestrator_cli.model.instance import InstanceView

    cluster = ctx.cluster_name()
    members = {
        (r["hostname"], int(r["port"]))
        for r in pools.all_pools(ctx.backend)
        if not ctx.options.pool or r["pool"] == ctx.options.pool
    }
    keys = []
    for row in instances.cluster_instances(ctx.backend, cluster):
        view = InstanceView(row)
        if (row["hostname"], int(row["port"])) in members and view.valid and not int(row["is_downtimed"] or 0):
            keys.append(str(view.key))
    return lines(keys, data=keys)
