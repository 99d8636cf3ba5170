"""Reading the current failure analysis from the backend, and keeping it fresh before acting on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator_cli.analysis import Analysis, replication_analysis
from orchestrator_cli.backend import analysis as backend_analysis
from orchestrator_cli.backend.connection import Backend


def current_analysis(
    backend: Backend,
    config: Mapping[str, Any],
    *,
    include_downtimed: bool = False,
    include_noproblem: bool = False,
    cluster_name: str | None = None,
) -> list[Analysis]:
    """The analysis entries of every cluster (or one), as `replication-analysis` lists them."""
    rows = backend_analysis.analysis_rows(backend)
    return replication_analysis(
        rows,
        config,
        include_noproblem=include_noproblem,
        include_downtimed=include_downtimed,
        cluster_name=cluster_name,
    )


def analysis_of(backend: Backend, config: Mapping[str, Any], key: str) -> Analysis | None:
    """The entry of one instance (downtimed and problem-free entries included), or None."""
    for entry in current_analysis(backend, config, include_downtimed=True, include_noproblem=True):
        if entry.key == key:
            return entry
    return None
