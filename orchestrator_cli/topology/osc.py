"""Replica recommendations for online schema change tools (pt-osc throttling, gh-ost inspection)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey


class Member(Protocol):
    """What the replica selection reads of a member: an `Instance`, or the narrower `OscMember`."""

    @property
    def key(self) -> InstanceKey: ...
    @property
    def master_key(self) -> InstanceKey | None: ...
    @property
    def is_replica(self) -> bool: ...
    @property
    def replication_running(self) -> bool: ...
    @property
    def last_check_valid(self) -> bool: ...
    @property
    def is_downtimed(self) -> bool: ...
    @property
    def replication_depth(self) -> int: ...
    @property
    def lag(self) -> int | None: ...


M = TypeVar("M", bound=Member)


def _eligible(members: Sequence[M], config: Mapping[str, Any]) -> list[M]:
    ignore = [re.compile(p) for p in config.get("OSCIgnoreHostnameFilters") or []]
    return [
        v
        for v in members
        if v.is_replica
        and v.last_check_valid
        and v.replication_running
        and not v.is_downtimed
        and not any(r.search(v.key.hostname) for r in ignore)
    ]


def osc_replicas(members: Sequence[M], config: Mapping[str, Any]) -> list[M]:
    """A sample that represents the whole tree for throttling: up to two first-level intermediate
    masters (most replicas first), up to two of their replicas, and up to two first-level leaves."""
    views = _eligible(members, config)
    children: dict[InstanceKey | None, list[M]] = {}
    for v in views:
        children.setdefault(v.master_key, []).append(v)
    first_level = [v for v in views if v.replication_depth == 1]
    intermediates = sorted(
        (v for v in first_level if children.get(v.key)), key=lambda v: (-len(children[v.key]), v.key)
    )[:2]
    second_level = sorted((c for im in intermediates for c in children[im.key]), key=lambda v: v.key)[:2]
    leaves = sorted((v for v in first_level if not children.get(v.key)), key=lambda v: v.key)[:2]
    return [*intermediates, *second_level, *leaves]


def gh_ost_replicas(members: Sequence[Instance], config: Mapping[str, Any]) -> list[Instance]:
    """Direct replicas gh-ost can work on: they log their changes (log_bin + log_slave_updates), least lag first."""
    views = [v for v in _eligible(members, config) if v.replication_depth == 1 and v.log_bin and v.log_slave_updates]
    return sorted(views, key=lambda v: (v.lag if v.lag is not None else 1 << 30, v.key))


def heuristic_lag(members: Sequence[Member], config: Mapping[str, Any]) -> int:
    """The worst lag among the OSC replicas, in seconds (0 when there are none)."""
    return max((v.lag or 0 for v in osc_replicas(members, config)), default=0)
