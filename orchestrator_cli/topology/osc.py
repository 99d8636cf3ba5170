"""Replica recommendations for online schema change tools (pt-osc throttling, gh-ost inspection)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator_cli.model.instance import InstanceView


def _eligible(rows: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> list[InstanceView]:
    ignore = [re.compile(p) for p in config.get("OSCIgnoreHostnameFilters") or []]
    views = [InstanceView(r) for r in rows]
    return [
        v
        for v in views
        if v.is_replica
        and v.valid
        and v.replication_running
        and not int(v["is_downtimed"] or 0)
        and not any(r.search(v.key.hostname) for r in ignore)
    ]


def osc_replicas(rows: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> list[InstanceView]:
    """A sample that represents the whole tree for throttling: up to two first-level intermediate
    masters (most replicas first), up to two of their replicas, and up to two first-level leaves."""
    views = _eligible(rows, config)
    children: dict[Any, list[InstanceView]] = {}
    for v in views:
        children.setdefault(v.master_key, []).append(v)
    first_level = [v for v in views if int(v["replication_depth"] or 0) == 1]
    intermediates = sorted(
        (v for v in first_level if children.get(v.key)), key=lambda v: (-len(children[v.key]), v.key)
    )[:2]
    second_level = sorted((c for im in intermediates for c in children[im.key]), key=lambda v: v.key)[:2]
    leaves = sorted((v for v in first_level if not children.get(v.key)), key=lambda v: v.key)[:2]
    return [*intermediates, *second_level, *leaves]


def gh_ost_replicas(rows: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> list[InstanceView]:
    """Direct replicas gh-ost can work on: they log their changes (log_bin + log_slave_updates), least lag first."""
    views = [
        v
        for v in _eligible(rows, config)
        if int(v["replication_depth"] or 0) == 1 and int(v["log_bin"] or 0) and int(v["log_slave_updates"] or 0)
    ]
    return sorted(views, key=lambda v: (v.lag if v.lag is not None else 1 << 30, v.key))


def heuristic_lag(rows: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> int:
    """The worst lag among the OSC replicas, in seconds (0 when there are none)."""
    return max((v.lag or 0 for v in osc_replicas(rows, config)), default=0)
