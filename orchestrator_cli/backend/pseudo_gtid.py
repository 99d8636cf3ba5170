"""`cluster_injected_pseudo_gtid`: when the leader last wrote a Pseudo-GTID entry into a cluster."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend

INJECTED_FRESH_MINUTES = 60  # an instance counts as using Pseudo-GTID while its cluster got one this recently


def record_injection(backend: Backend, cluster_name: str) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert("cluster_injected_pseudo_gtid", {"cluster_name": "?", "time_injected": d.now()}, ["cluster_name"]),
        (cluster_name,),
    )


def recently_injected(backend: Backend) -> set[str]:
    d = backend.dialect
    rows = backend.query(
        f"SELECT cluster_name FROM cluster_injected_pseudo_gtid WHERE time_injected >= {d.seconds_ago('?')}",
        (INJECTED_FRESH_MINUTES * 60,),
    )
    return {str(r["cluster_name"]) for r in rows}
