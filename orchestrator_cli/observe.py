"""Instrumentation hook points: domain code reports what happened, observers (if any) count it.

Discovery, analysis and recovery call these functions with one line each; the list of observers is
empty unless the HTTP service registered its Prometheus observer (`http/metrics.py`). This module
imports nothing beyond the standard library's logging and typing, so the CLI's cron path pays for a
few function calls over an empty list and nothing else.

An observer is any object with some of the methods below; a missing method is skipped, and an
observer that raises is logged and never breaks the operation that reported to it.

>>> seen = []
>>> class Probes:
...     def probe_finished(self, key, seconds, ok):
...         seen.append((key, ok))
>>> observer = Probes()
>>> add(observer)
>>> probe_finished("db1:3306", 0.01, True)
>>> hook_failed("PostFailoverProcesses")  # Probes has no hook_failed: skipped
>>> remove(observer)
>>> probe_finished("db2:3306", 0.01, False)
>>> seen
[('db1:3306', True)]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("orchestrator.observe")

observers: list[Any] = []


def add(observer: Any) -> None:
    if observer not in observers:
        observers.append(observer)


def remove(observer: Any) -> None:
    if observer in observers:
        observers.remove(observer)


def _tell(method: str, *args: Any) -> None:
    for observer in list(observers):
        fn = getattr(observer, method, None)
        if fn is None:
            continue
        try:
            fn(*args)
        except Exception:  # an observer's bug must never fail a probe or a recovery
            log.exception("observer %r failed in %s", observer, method)


def probe_finished(key: str, seconds: float, ok: bool) -> None:
    """One discovery probe of `key` (the probe and its backend write) took `seconds`; ok=False: it failed."""
    if observers:
        _tell("probe_finished", key, seconds, ok)


def analysis_entries(codes: Iterable[str]) -> None:
    """One analysis pass found entries with these codes (one code per analysed instance)."""
    if observers:
        _tell("analysis_entries", list(codes))


def recovery_finished(kind: str, outcome: str) -> None:
    """A recovery of `kind` (master, intermediate-master, ...) ended: successful, failed or aborted."""
    if observers:
        _tell("recovery_finished", kind, outcome)


def backend_query(sql: str, seconds: float) -> None:
    """One statement to the backend took `seconds` (failed statements included)."""
    if observers:
        _tell("backend_query", sql, seconds)


def hook_failed(hook_list: str) -> None:
    """One command of the hook list `hook_list` (a `*Processes` config key) failed or timed out."""
    if observers:
        _tell("hook_failed", hook_list)
