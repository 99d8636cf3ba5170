"""The thread-pool helper shared by the regroup, bulk moves below a new master and recovery waits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.mysql import flavor as fl


def parallel(items: Sequence[Any], fn: Callable[[Any], Any], limit: int) -> list[tuple[Any, Any, Exception | None]]:
    """Run fn over items with at most `limit` at a time; (item, result, error) in input order.

    Only orchestrator and flavor errors are collected per item; anything else propagates.
    """
    if not items:
        return []

    def run(item: Any) -> tuple[Any, Any, Exception | None]:
        try:
            return item, fn(item), None
        except (OrchestratorError, fl.FlavorError) as e:
            return item, None, e

    with ThreadPoolExecutor(max_workers=max(1, min(limit, len(items))), thread_name_prefix="regroup") as pool:
        return list(pool.map(run, items))
