"""Bulk moves report progress per replica (a terminal shows it; cron passes no callback)."""

from __future__ import annotations

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.relocate import Moved, each

KEYS = [InstanceKey("h", p) for p in (1, 2, 3)]
MASTER = InstanceKey("m", 9)


def _move(key: InstanceKey) -> Moved:
    if key.port == 2:
        raise TopologyError(f"{key}: refused")
    return Moved(key, MASTER, "gtid")


def test_each_reports_every_replica_then_completion_and_keeps_going_after_a_failure() -> None:
    seen: list[tuple[int, int, str]] = []
    result = each(KEYS, _move, lambda done, total, current: seen.append((done, total, current)))
    assert seen == [(0, 3, "h:1"), (1, 3, "h:2"), (2, 3, "h:3"), (3, 3, "")]
    assert [m.instance for m in result.moved] == [KEYS[0], KEYS[2]]
    assert result.failed == {KEYS[1]: "h:2: refused"}


def test_each_without_a_callback_is_silent() -> None:
    assert len(each(KEYS[:1], _move).moved) == 1
