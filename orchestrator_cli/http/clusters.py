"""Cluster-hint resolution and ClusterInfo for routes (the CLI's `--alias`/`-i` rules, on one hint)."""

from __future__ import annotations

from collections.abc import Mapping
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


def _heuristic_lags(members: Mapping[str, list[dict[str, Any]]], config: Mapping[str, Any]) -> dict[str, int]:
    """Cluster name -> `HeuristicLag`, as `cluster-info` computes it (`topology.osc.heuristic_lag`)."""
    from orchestrator_cli.backend.instance_rows import osc_member_from_row
    from orchestrator_cli.topology import osc

    return {
        name: int(osc.heuristic_lag([osc_member_from_row(r) for r in rows], config)) for name, rows in members.items()
    }


def _cluster_infos(svc: Service, cluster: str | None) -> list[dict[str, Any]]:
    """ClusterInfo of every cluster (or of `cluster`) from two backend statements, however many clusters."""
    from orchestrator_cli.backend import cluster_summary

    summaries = cluster_summary.summaries(svc.backend, cluster)
    lags = _heuristic_lags(cluster_summary.osc_member_rows(svc.backend, cluster), svc.config)
    result = []
    for c in summaries:
        master, intermediate = _automated(svc, c.name, c.alias)
        result.append(
            shapes.cluster_info_json(c.name, c.alias, c.domain, c.count, lags.get(c.name, 0), master, intermediate)
        )
    return result


def clusters_info(svc: Service) -> list[dict[str, Any]]:
    """Every cluster's ClusterInfo, in cluster name order."""
    return _cluster_infos(svc, None)


def cluster_info(svc: Service, name: str) -> dict[str, Any]:
    """One cluster's ClusterInfo; a name without members (e.g. known only by an alias override) has none
    of their figures: its own name as alias, no instances, no lag."""
    infos = _cluster_infos(svc, name)
    if infos:
        return infos[0]
    from orchestrator_cli.backend import clusters

    master, intermediate = _automated(svc, name, name)
    return shapes.cluster_info_json(name, name, clusters.cluster_domain(svc.backend, name), 0, 0, master, intermediate)
