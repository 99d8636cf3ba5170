"""Cluster-hint resolution and ClusterInfo for routes (the CLI's `--alias`/`-i` rules, on one hint)."""

from __future__ import annotations

from typing import Any

from orchestrator_cli.errors import NotFoundError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.invoke import Service, with_context


def cluster_name(svc: Service, hint: str) -> str:
    """`{clusterHint}` as the client sends it (`${alias:-$instance}`): a cluster name or alias, else an
    instance key whose cluster is meant — resolved exactly as the CLI resolves `--alias` then `-i`. A hint
    that is no key (no `:port`) and names nothing is refused as the CLI refuses an unknown `--alias`."""
    try:
        return with_context(svc, "which-cluster", lambda ctx: ctx.cluster_name(), alias=hint, instance=hint)
    except NotFoundError:
        if ":" in hint:
            raise
        raise NotFoundError(f"unknown cluster: {hint}") from None


def _automated(svc: Service, name: str, alias: str) -> tuple[bool, bool]:
    from orchestrator_cli.analysis.facts import cluster_matches_filters, config_list

    master = cluster_matches_filters(name, alias, config_list(svc.config, "RecoverMasterClusterFilters"))
    intermediate = cluster_matches_filters(
        name, alias, config_list(svc.config, "RecoverIntermediateMasterClusterFilters")
    )
    return master, intermediate


def clusters_info(svc: Service) -> list[dict[str, Any]]:
    """Every cluster's ClusterInfo; `HeuristicLag` as `cluster-info` computes it, all from one read of the members."""
    from orchestrator_cli.backend import clusters
    from orchestrator_cli.backend.instance_rows import instances_from_rows
    from orchestrator_cli.topology import osc

    counts = clusters.instance_counts(svc.backend)
    members = clusters.members_by_cluster(svc.backend)
    domains = {name: clusters.cluster_domain(svc.backend, name) for name in counts} if len(counts) <= 200 else {}
    result = []
    for entry in clusters.clusters_info(svc.backend):
        name, alias = str(entry["cluster_name"]), str(entry["alias"])
        master, intermediate = _automated(svc, name, alias)
        lag = osc.heuristic_lag(instances_from_rows(members.get(name, [])), svc.config)
        result.append(
            shapes.cluster_info_json(
                name, alias, domains.get(name, ""), counts.get(name, 0), int(lag), master, intermediate
            )
        )
    return result


def cluster_info(svc: Service, name: str) -> dict[str, Any]:
    from orchestrator_cli.backend import clusters, instances
    from orchestrator_cli.backend.instance_rows import instances_from_rows
    from orchestrator_cli.topology import osc

    rows = instances.cluster_instances(svc.backend, name)
    alias = clusters.cluster_alias(svc.backend, name)
    master, intermediate = _automated(svc, name, alias)
    lag = osc.heuristic_lag(instances_from_rows(rows), svc.config)
    return shapes.cluster_info_json(
        name, alias, clusters.cluster_domain(svc.backend, name), len(rows), int(lag), master, intermediate
    )
