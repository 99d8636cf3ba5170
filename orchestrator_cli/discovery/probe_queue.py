"""Which server a free discovery worker probes next: the decision, apart from threads and I/O.

Continuous mode gives every server a due time (InstancePollSeconds after its last probe started, a
back-off after a failure, the backend's last check for one this process never probed). While the
workers keep up, every server is probed when it is due. When they cannot, the order decides who
goes stale: a first-in first-out queue of everything due (a thread pool's) held the waiting probes
as "in flight", so their servers looked hung, and nothing chose between a server overdue by a
second and one overdue by a minute. Here a worker takes a server only when it is free, and always
the one due the longest (the stalest), so with P probes a second over N servers each is probed
again about every N / P seconds, none early while others wait: at any moment the servers probed in
the last T seconds number about min(N, P x T), as many as the throughput allows, and stable.

Requested probes (the observers of a failure, the master a broken replica points at) go before
every due one, in the order asked. A server is in the queue at most once, and a taken server is out
of it until the caller puts it back (after its probe): never probed twice at once.

Not thread-safe: the scheduler calls it under its lock. Times are the caller's clock (monotonic
seconds), so the order is a pure function of the calls:

>>> q = ProbeQueue()
>>> q.put("db1", due=10.0); q.put("db2", due=4.0); q.put("db3", due=7.0)
>>> q.take(now=5.0), q.take(now=5.0)
('db2', None)
>>> q.urge("db1")
>>> q.take(now=5.0), q.take(now=8.0), q.take(now=8.0), len(q)
('db1', 'db3', None, 0)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class ProbeQueue(Generic[K]):
    """Servers waiting for a probe: requested ones in the order asked, then by due time."""

    def __init__(self) -> None:
        self._due: dict[K, float] = {}  # every waiting key -> when it is due
        # (due, order, key): an entry whose due is not the key's current one is stale and skipped
        self._heap: list[tuple[float, int, K]] = []
        self._urgent: dict[K, None] = {}  # requested keys, in the order asked (also in _due)
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._due))

    def due(self, key: K) -> float | None:
        """When `key` is due, or None when it does not wait (requested keys are due at once)."""
        return self._due.get(key)

    def requested(self, key: K) -> bool:
        return key in self._urgent

    def put(self, key: K, due: float) -> None:
        """`key` is due at `due` (a key already waiting is moved; a requested key stays requested)."""
        if self._due.get(key) == due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._order), key))
        if len(self._heap) > 2 * len(self._due) + 64:
            self._compact()

    def urge(self, key: K) -> None:
        """Probe `key` before every due key (after those requested earlier)."""
        if key not in self._urgent:
            self._urgent[key] = None
            if key not in self._due:
                self.put(key, float("-inf"))

    def remove(self, key: K) -> None:
        self._due.pop(key, None)
        self._urgent.pop(key, None)

    def take(self, now: float) -> K | None:
        """The key to probe next at `now`, taken out of the queue: the first requested one, else the
        one due the longest; None when nothing is due yet."""
        if self._urgent:
            key = next(iter(self._urgent))
            self.remove(key)
            return key
        heap = self._heap
        while heap:
            due, _, key = heap[0]
            if self._due.get(key) != due:
                heapq.heappop(heap)  # stale: removed, taken or moved since
                continue
            if due > now:
                return None
            heapq.heappop(heap)
            del self._due[key]
            return key
        return None

    def next_due(self) -> float | None:
        """The earliest due time of a waiting key (requested keys: minus infinity); None when empty."""
        if self._urgent:
            return float("-inf")
        return self.stalest_due()

    def stalest_due(self) -> float | None:
        """The earliest due time of a waiting key that was not requested; None when there is none."""
        heap = self._heap
        while heap and self._due.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)
        if not heap:
            return None
        if heap[0][2] not in self._urgent:
            return heap[0][0]
        # rare: a requested key heads the heap (requests are few, and taken first)
        return min((d for k, d in self._due.items() if k not in self._urgent), default=None)

    def _compact(self) -> None:
        """Drop the stale entries (keeping the order of equal due times)."""
        seen: set[K] = set()
        live = []
        for entry in self._heap:
            due, _, key = entry
            if self._due.get(key) == due and key not in seen:
                seen.add(key)
                live.append(entry)
        heapq.heapify(live)
        self._heap = live
