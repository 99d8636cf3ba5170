"""Instrumentation hook points: domain code reports what happened, observers (if any) count it.

Discovery, analysis and recovery call these functions with one line each; the list of observers is
empty unless the HTTP service registered its Prometheus observer (`http/metrics.py`). Importing this
module imports nothing (weakref and logging load only when an observer is added or fails), so the
CLI's cron path pays for a few calls that find an empty list, and nothing else.

An observer is any object with some of the methods below; a missing method is skipped, and an
observer that raises is logged and never breaks the operation that reported to it. Observers are held
weakly: one whose owner (the service's app) is gone stops being called without being removed.

>>> seen = []
>>> class Probes:
...     def probe_finished(self, key, seconds, ok):
...         seen.append((key, ok))
>>> observer = Probes()
>>> add(observer)
>>> probe_finished("db1:3306", 0.01, True)
>>> hook_failed("PostFailoverProcesses")  # Probes has no hook_failed: skipped
>>> registered() == [observer]
True
>>> remove(observer)
>>> probe_finished("db2:3306", 0.01, False)
>>> seen, registered()
([('db1:3306', True)], [])
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    import weakref
    from collections.abc import Iterable
    from typing import Any

observers: list[weakref.ref[Any]] = []


def _forget(ref: weakref.ref[Any]) -> None:
    if ref in observers:
        observers.remove(ref)


def add(observer: Any) -> None:
    import weakref

    if observer not in registered():
        observers.append(weakref.ref(observer, _forget))


def remove(observer: Any) -> None:
    for ref in list(observers):
        if ref() is observer:
            observers.remove(ref)


def registered() -> list[Any]:
    """The observers still alive, in the order they were added."""
    return [o for o in (ref() for ref in list(observers)) if o is not None]


def _tell(method: str, *args: Any) -> None:
    for observer in registered():
        fn = getattr(observer, method, None)
        if fn is None:
            continue
        try:
            fn(*args)
        except Exception:  # an observer's bug must never fail a probe or a recovery
            import logging

            logging.getLogger("orchestrator.observe").exception("observer %r failed in %s", observer, method)


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
