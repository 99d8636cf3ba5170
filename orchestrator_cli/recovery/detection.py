"""Reading the current failure analysis from the backend, and keeping it fresh before acting on it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from orchestrator_cli.analysis import Analysis, analysable, listed_analysis
from orchestrator_cli.analysis.facts import config_bool
from orchestrator_cli.backend import analysis as backend_analysis
from orchestrator_cli.backend.connection import Backend


def current_analysis(
    backend: Backend,
    config: Mapping[str, Any],
    *,
    include_downtimed: bool = False,
    include_noproblem: bool = False,
    cluster_name: str | None = None,
    unreachable: Collection[str] = (),
) -> list[Analysis]:
    """The analysis entries of every cluster (or one), as `replication-analysis` lists them.

    `unreachable`: keys whose probe just failed. Their last check counts as invalid even when the
    backend's second-resolution timestamps cannot tell the failed check from the last good one (a
    server killed within the second of its last successful probe).
    """
    reduce = config_bool(config, "ReduceReplicationAnalysisCount", True)
    facts = backend_analysis.analysis_aggregates(backend, unreachable, reduce=reduce)
    return listed_analysis(
        analysable(facts, config),
        config,
        include_noproblem=include_noproblem,
        include_downtimed=include_downtimed,
        cluster_name=cluster_name,
    )


def analysis_of(
    backend: Backend, config: Mapping[str, Any], key: str, unreachable: Collection[str] = ()
) -> Analysis | None:
    """The entry of one instance (downtimed and problem-free entries included), or None."""
    entries = current_analysis(backend, config, include_downtimed=True, include_noproblem=True, unreachable=unreachable)
    for entry in entries:
        if entry.key == key:
            return entry
    return None
