"""Prometheus metrics at `/metrics` (the original pushes to Graphite; this is our addition).

Events come from the domain's hook points (`orchestrator_cli.observe`), counted by the observer
registered here; state is read at scrape time by a collector (leadership from the running
continuous mode, instances by freshness from the backend). Each app gets its own registry, so two
services in one process (tests) never share counters.

Metric names:

* ``orchestrator_discovery_probes_total``, ``orchestrator_discovery_probe_failures_total``,
  ``orchestrator_discovery_probe_duration_seconds`` (histogram): probes of topology servers;
* ``orchestrator_instances{freshness}``: backend instances by the age of their last check;
* ``orchestrator_analysis_entries{code}``: entries of this node's last analysis pass (only the
  leader analyses; a follower reports none);
* ``orchestrator_recoveries_total{type,outcome}``: automated and manual recoveries that ran;
* ``orchestrator_hook_failures_total{hook}``: failed hook commands, by hook list;
* ``orchestrator_backend_query_duration_seconds{statement}`` (histogram): backend statements;
* ``orchestrator_leader``: 1 while this process holds the election, else 0;
* ``orchestrator_continuous_running``: 1 while this process runs continuous mode.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from orchestrator_cli import observe
from orchestrator_cli.errors import OrchestratorError

log = logging.getLogger("orchestrator.http.metrics")

PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
_VERBS = frozenset({"select", "insert", "update", "delete", "replace", "begin", "commit", "create", "alter", "drop"})


def statement_kind(sql: str) -> str:
    """The label of a backend statement: its verb, or ``other``.

    >>> statement_kind("  SELECT 1"), statement_kind("insert ignore into t"), statement_kind("PRAGMA x")
    ('select', 'insert', 'other')
    """
    verb = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
    return verb if verb in _VERBS else "other"


class PrometheusObserver:
    """Counts what the domain reports through `orchestrator_cli.observe`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.probes = Counter(
            "orchestrator_discovery_probes", "Discovery probes of topology servers", registry=registry
        )
        self.probe_failures = Counter(
            "orchestrator_discovery_probe_failures", "Discovery probes that failed", registry=registry
        )
        self.probe_seconds = Histogram(
            "orchestrator_discovery_probe_duration_seconds",
            "Time of one discovery probe, its backend write included",
            buckets=PROBE_BUCKETS,
            registry=registry,
        )
        self.recoveries = Counter(
            "orchestrator_recoveries",
            "Recoveries run, by type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.hook_failures = Counter(
            "orchestrator_hook_failures", "Hook commands that failed, by hook list", ["hook"], registry=registry
        )
        self.backend_seconds = Histogram(
            "orchestrator_backend_query_duration_seconds",
            "Time of one backend statement, by statement kind",
            ["statement"],
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        self._lock = threading.Lock()
        self._analysis: dict[str, int] = {}

    def probe_finished(self, key: str, seconds: float, ok: bool) -> None:
        self.probes.inc()
        self.probe_seconds.observe(seconds)
        if not ok:
            self.probe_failures.inc()

    def analysis_entries(self, codes: Iterable[str]) -> None:
        counts = dict(Tally(codes))
        with self._lock:
            self._analysis = counts

    def analysis_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._analysis)

    def recovery_finished(self, kind: str, outcome: str) -> None:
        self.recoveries.labels(type=kind, outcome=outcome).inc()

    def hook_failed(self, hook_list: str) -> None:
        self.hook_failures.labels(hook=hook_list).inc()

    def backend_query(self, sql: str, seconds: float) -> None:
        self.backend_seconds.labels(statement=statement_kind(sql)).observe(seconds)


class StateCollector(Collector):
    """What is read at scrape time: leadership, and the backend's instances by freshness."""

    def __init__(
        self,
        observer: PrometheusObserver,
        continuous: Callable[[], Any],
        freshness: Callable[[], Mapping[str, int]],
    ) -> None:
        self.observer = observer
        self.continuous = continuous
        self.freshness = freshness

    def collect(self) -> Iterator[GaugeMetricFamily]:
        mode = self.continuous()
        leader = bool(mode is not None and getattr(mode, "leader", False))
        yield GaugeMetricFamily("orchestrator_leader", "1 while this process holds the election", value=int(leader))
        yield GaugeMetricFamily(
            "orchestrator_continuous_running", "1 while this process runs continuous mode", value=int(mode is not None)
        )
        analysis = GaugeMetricFamily(
            "orchestrator_analysis_entries", "Entries of this node's last analysis pass, by code", labels=["code"]
        )
        if leader:
            for code, count in sorted(self.observer.analysis_counts().items()):
                analysis.add_metric([code], count)
        yield analysis
        instances = GaugeMetricFamily(
            "orchestrator_instances", "Backend instances by the age of their last check", labels=["freshness"]
        )
        try:
            for freshness, count in self.freshness().items():
                instances.add_metric([freshness], count)
        except OrchestratorError as e:  # a scrape must answer even when the backend does not
            log.warning("metrics: cannot read instances from the backend: %s", e)
        yield instances


def backend_freshness(app: FastAPI) -> Callable[[], Mapping[str, int]]:
    """Instances by freshness, on the service's shared backend (`app.state.backend`) or, without one,
    on a connection of the scrape's own."""

    def read() -> Mapping[str, int]:
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.backend.freshness import instances_by_freshness

        shared = getattr(app.state, "backend", None)
        if shared is not None:
            return instances_by_freshness(shared)
        backend = Backend(app.state.config)
        try:
            return instances_by_freshness(backend)
        finally:
            backend.close()

    return read


def install(app: FastAPI, *, freshness: Callable[[], Mapping[str, int]] | None = None) -> PrometheusObserver:
    """Register the observer, the state collector and `GET /metrics` on `app`.

    The service calls `uninstall` when it stops, which takes the observer out of `orchestrator_cli.observe`.
    """
    registry = CollectorRegistry()
    for default in (ProcessCollector, PlatformCollector, GCCollector):
        default(registry=registry)
    observer = PrometheusObserver(registry)
    registry.register(
        StateCollector(
            observer,
            continuous=lambda: getattr(app.state, "continuous", None),
            freshness=freshness or backend_freshness(app),
        )
    )
    observe.add(observer)
    app.state.metrics_registry = registry
    app.state.metrics_observer = observer
    router = APIRouter()

    @router.get("/metrics", include_in_schema=True, summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    return observer


def uninstall(app: FastAPI) -> None:
    observer = getattr(app.state, "metrics_observer", None)
    if observer is not None:
        observe.remove(observer)
