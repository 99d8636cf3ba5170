"""The process's hostname resolve cache: `hostname_resolve` read once per expiry period, not per probe.

`MySQLHostnameResolveMethod` makes a probe learn the name a server calls itself (`probed name ->
resolved name`); every probe needs the mappings known so far, to name a replica's master as its own
probe named it. The original keeps them in an in-memory cache with a time to live of
`ExpiryHostnameResolvesMinutes` (at least one minute), loads the whole `hostname_resolve` table into
it when continuous discovery starts, and writes a mapping to the table only when the cache does not
already hold it. Here:

* `mapping()` reads the table when first asked and again once the period has passed since the last
  read, so a mapping another process wrote (or a reset that emptied the table) is seen after expiry;
  in between, probes read the cached dictionary.
* `should_write()` is true for a mapping the cache does not hold, or holds since longer than the
  period (by the row's own `resolved_timestamp` for rows read from the table): the row is refreshed
  before the retention job (which deletes resolves older than twice the period) could remove it, and
  a server probed every few seconds writes its mapping once per period instead of once per probe.
* A resolved name matching `RejectHostnameResolvePattern` is never cached or written (spec §1.11);
  `rejected()` tells the probe to keep the name it probed.

One cache per backend database, shared by every thread of the process (`for_backend`);
`reset-hostname-resolve-cache` empties it with the table (`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator_cli.backend import hostnames
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.discovery.resolve import MIN_EXPIRY_SECONDS, expiry_seconds, rejected

__all__ = ["MIN_EXPIRY_SECONDS", "ResolveCache", "expiry_seconds", "for_backend", "forget", "rejected"]


class ResolveCache:
    """`hostname -> resolved hostname`, read from the backend once per expiry period; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._resolved: Mapping[str, str] = {}  # replaced, never changed in place: handed out as is
        self._fresh_until: dict[str, float] = {}  # when the mapping's backend row needs refreshing
        self._read_at: float | None = None  # when the table was last read (None: never)
        self.reads = 0  # table reads so far (what the tests and bench count)

    def mapping(self, backend: Backend, config: Mapping[str, Any]) -> Mapping[str, str]:
        """Every mapping known, the table re-read when the expiry period has passed (read-only)."""
        period = expiry_seconds(config)
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= period:
                self._reload(backend, config, now, period)
            return self._resolved

    def _reload(self, backend: Backend, config: Mapping[str, Any], now: float, period: float) -> None:
        resolved: dict[str, str] = {}
        fresh_until: dict[str, float] = {}
        for hostname, name, age in hostnames.resolves_with_age(backend):
            if name and not rejected(config, name):
                resolved[hostname] = name
                fresh_until[hostname] = now + period - max(0, age)
        self._resolved, self._fresh_until, self._read_at = resolved, fresh_until, now
        self.reads += 1

    def should_write(self, hostname: str, resolved: str, config: Mapping[str, Any]) -> bool:
        """Whether a mapping a probe just learned is news to the backend (see the module's notes)."""
        if rejected(config, resolved):
            return False
        with self._lock:
            return self._resolved.get(hostname) != resolved or self._fresh_until.get(hostname, 0.0) <= self._clock()

    def learned(self, hostname: str, resolved: str, config: Mapping[str, Any]) -> None:
        """A mapping just written to the backend: cached, fresh for one expiry period."""
        if rejected(config, resolved):
            return
        with self._lock:
            self._resolved = {**self._resolved, hostname: resolved}
            self._fresh_until[hostname] = self._clock() + expiry_seconds(config)

    def clear(self) -> None:
        """Forget everything; the next `mapping()` reads the table."""
        with self._lock:
            self._resolved, self._fresh_until, self._read_at = {}, {}, None


_caches: dict[tuple[str, str], ResolveCache] = {}
_caches_lock = threading.Lock()


def _identity(backend: Backend) -> tuple[str, str]:
    database = "" if backend.is_sqlite else str(backend.config.get("MySQLOrchestratorDatabase", ""))
    return backend.description, database


def for_backend(backend: Backend) -> ResolveCache:
    """This process's cache of `backend`'s database (one per database, whichever `Backend` object)."""
    identity = _identity(backend)
    with _caches_lock:
        cache = _caches.get(identity)
        if cache is None:
            cache = _caches[identity] = ResolveCache()
        return cache


def forget(backend: Backend) -> None:
    """Empty this process's cache of `backend`'s database (after the table was emptied)."""
    with _caches_lock:
        cache = _caches.get(_identity(backend))
    if cache is not None:
        cache.clear()
