"""The replacement suggestion after a promotion (spec §3.7.7): is there a better-placed candidate
directly below the promoted replica that should take over from it?

Pure over backend snapshots, so `internal-suggest-promoted-replacement` can check the rules without servers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.rules import can_replicate_from

CANDIDATE_RULES = ("must", "prefer")


def suggest_replacement(
    members: Sequence[Instance],
    promoted: InstanceKey,
    dead_master: InstanceKey,
    config: Mapping[str, Any],
    explicit: InstanceKey | None = None,
) -> InstanceKey:
    """The instance that should end up as master: `promoted` itself unless a better one is below it."""
    views = {v.key: v for v in members}
    p, x = views.get(promoted), views.get(dead_master)
    if p is None:
        return promoted
    if explicit is not None:
        choice = views.get(explicit)
        return explicit if choice is not None and choice.master_key == promoted else promoted

    def rule(v: Instance) -> str:
        return v.promotion_rule or "neutral"

    def same_place(v: Instance, ref: Instance | None) -> bool:
        return (
            ref is not None and v.data_center == ref.data_center and v.physical_environment == ref.physical_environment
        )

    def geo_ok(v: Instance) -> bool:
        if x is None:
            return True
        if config.get("PreventCrossDataCenterMasterFailover") and v.data_center != x.data_center:
            return False
        return not (config.get("PreventCrossRegionMasterFailover") and v.region != x.region)

    banned_hosts = [re.compile(pattern) for pattern in config.get("PromotionIgnoreHostnameFilters") or []]

    def can_take_over(y: Instance) -> bool:
        return (
            y.last_check_valid
            and y.log_bin
            and y.log_slave_updates
            and not y.binlog_server
            and rule(y) != "must_not"
            and not any(b.search(y.key.hostname) for b in banned_hosts)
            and y.master_key == promoted
            and can_replicate_from(p, y, config) is None
        )

    ordered = sorted((v for k, v in views.items() if k != dead_master), key=lambda v: v.key)
    candidates = [v for v in ordered if rule(v) in CANDIDATE_RULES]
    neutrals = [v for v in ordered if rule(v) == "neutral"]

    def search(pool: Sequence[Instance], where: Callable[[Instance], bool]) -> Instance | None:
        found = None
        for y in pool:
            if can_take_over(y) and where(y):
                found = y  # the last match wins, as in the original's loops
        return found

    in_pool = rule(p) in CANDIDATE_RULES
    if in_pool and same_place(p, x):
        return promoted
    choice = search(candidates, lambda y: same_place(y, x))
    if choice is None and in_pool and geo_ok(p):
        return promoted
    choice = choice or search(candidates, lambda y: same_place(y, p)) or search(candidates, geo_ok)
    if choice is None and (not geo_ok(p) or rule(p) == "prefer_not"):
        choice = (
            search(neutrals, lambda y: same_place(y, x)) or search(neutrals, lambda y: same_place(y, p))
            or search(neutrals, geo_ok)
        )  # fmt: skip
    return promoted if choice is None else choice.key
