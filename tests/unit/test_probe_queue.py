"""Which server continuous discovery probes next (discovery/probe_queue.py, and the scheduler's use
of it): the stalest first, requested ones before, none twice at once, none early while others are
overdue; simulated on an explicit clock, so nothing here depends on timing."""

from __future__ import annotations

import doctest
import heapq
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.discovery import probe_queue
from orchestrator_cli.discovery.probe_queue import K, ProbeQueue
from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
from orchestrator_cli.discovery.sharing import DiscoveryShare, owner_of
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import Unresponsive


def test_doctests() -> None:
    assert doctest.testmod(probe_queue).failed == 0


def drain(queue: ProbeQueue[K], now: float) -> list[K]:
    taken = []
    while (key := queue.take(now)) is not None:
        taken.append(key)
    return taken


def test_the_stalest_due_key_first_and_nothing_before_it_is_due() -> None:
    queue: ProbeQueue[str] = ProbeQueue()
    for key, due in {"a": 30.0, "b": 10.0, "c": 20.0, "d": 50.0}.items():
        queue.put(key, due)
    assert queue.next_due() == 10.0
    assert drain(queue, now=40.0) == ["b", "c", "a"]
    assert queue.take(now=49.9) is None and "d" in queue
    assert queue.next_due() == 50.0


def test_requested_keys_go_first_in_the_order_asked_and_leave_the_schedule() -> None:
    queue: ProbeQueue[str] = ProbeQueue()
    queue.put("due", 0.0)
    queue.put("later", 100.0)
    queue.urge("later")  # already waiting: moved ahead of everything due
    queue.urge("new")
    queue.urge("later")  # asked again: keeps its place
    assert queue.requested("later") and queue.next_due() == float("-inf")
    assert queue.stalest_due() == 0.0  # of the keys merely due
    assert drain(queue, now=1.0) == ["later", "new", "due"]
    assert len(queue) == 0 and queue.next_due() is None


def test_moving_and_removing_keys() -> None:
    queue: ProbeQueue[str] = ProbeQueue()
    queue.put("a", 5.0)
    queue.put("b", 6.0)
    queue.put("a", 7.0)  # moved later: b first
    assert queue.due("a") == 7.0
    queue.remove("b")
    queue.remove("missing")
    assert "b" not in queue and drain(queue, now=10.0) == ["a"]


def test_stale_entries_are_compacted() -> None:
    """Keys moved over and over do not grow the heap without bound."""
    queue: ProbeQueue[int] = ProbeQueue()
    for round_ in range(200):
        for key in range(10):
            queue.put(key, float(round_ * 10 + key))
    assert len(queue) == 10
    assert len(queue._heap) <= 2 * 10 + 64 + 1  # noqa: SLF001 (the bound is the point)
    assert drain(queue, now=10_000.0) == list(range(10))


# -- the queue as the scheduler uses it: simulated workers -------------------------------------------


def simulate(
    servers: int, workers: int, probe_seconds: float, poll: float, seconds: float
) -> Iterator[tuple[float, str, float]]:
    """Workers that take a key when free and put it back InstancePollSeconds after its probe started
    (`DiscoveryScheduler._start` and `_probe`). Yields (start, key, its due time) per probe; also
    checks at every take that no waiting key is staler, and that no key runs twice at once."""
    queue: ProbeQueue[str] = ProbeQueue()
    for n in range(servers):
        queue.put(f"db{n}", 0.0)
    running: set[str] = set()
    put_back: dict[str, float] = {}  # a running key -> its next due time
    ends: list[tuple[float, int, str]] = []  # (end, worker, key)
    free = list(range(workers))
    now = 0.0
    while now < seconds:
        while free:
            waiting = {k: queue.due(k) for k in queue}
            key = queue.take(now)
            if key is None:
                break
            due = waiting[key]
            assert due is not None and due <= now
            assert all(d is not None and d >= due for d in waiting.values()), "a staler key was waiting"
            assert key not in running, "probed twice at once"
            running.add(key)
            heapq.heappush(ends, (now + probe_seconds, free.pop(), key))
            yield now, key, due
            put_back[key] = now + poll
        upcoming = [ends[0][0]] if ends else []
        next_due = queue.next_due()
        if next_due is not None and free:
            upcoming.append(max(next_due, now))
        if not upcoming:
            return
        now = min(upcoming)
        while ends and ends[0][0] <= now:
            _, worker, key = heapq.heappop(ends)
            running.discard(key)
            free.append(worker)
            queue.put(key, put_back.pop(key))


def intervals(probes: list[tuple[float, str, float]], after: float) -> dict[str, list[float]]:
    starts: dict[str, list[float]] = {}
    for start, key, _ in probes:
        starts.setdefault(key, []).append(start)
    return {k: [b - a for a, b in zip(v, v[1:], strict=False) if a >= after] for k, v in starts.items()}


@settings(max_examples=60, deadline=None)
@given(
    servers=st.integers(min_value=20, max_value=300),
    workers=st.integers(min_value=1, max_value=16),
    probe_ms=st.integers(min_value=5, max_value=400),
)
def test_overloaded_workers_probe_every_server_once_per_round(servers: int, workers: int, probe_ms: int) -> None:
    """With P = workers / probe time probes a second and N servers due every InstancePollSeconds, each
    server is probed again every max(poll, N / P) seconds (to within a probe's duration), none early:
    the count probed within any window of T seconds is min(N, P x T), and the same in every round."""
    poll = 5.0
    probe_seconds = probe_ms / 1000
    rate = workers / probe_seconds
    period = max(poll, servers / rate)
    probes = list(simulate(servers, workers, probe_seconds, poll, seconds=6 * period))
    gaps = intervals(probes, after=2 * period)  # after the first rounds
    seen = [g for v in gaps.values() for g in v]
    assert seen, "every server probed again"
    assert len(gaps) == servers
    assert min(seen) >= period - probe_seconds - 1e-9, "a server probed early"
    assert max(seen) <= period + probe_seconds + 1e-9, "a server left waiting longer than a round"


@settings(max_examples=30, deadline=None)
@given(servers=st.integers(min_value=1, max_value=200), workers=st.integers(min_value=1, max_value=8))
def test_workers_that_keep_up_probe_every_server_on_its_poll(servers: int, workers: int) -> None:
    poll, probe_seconds = 5.0, 0.01
    if servers / (workers / probe_seconds) > poll / 2:
        return  # not the case under test
    probes = list(simulate(servers, workers, probe_seconds, poll, seconds=30.0))
    for start, _, due in probes:
        assert start - due <= probe_seconds * servers / workers + 1e-9  # late by at most the queue ahead of it
    gaps = [g for v in intervals(probes, after=0.0).values() for g in v]
    assert gaps and min(gaps) >= poll - 1e-9


# -- the scheduler's decisions over the backend's rows (no probe runs) -----------------------------------


@pytest.fixture
def scheduler() -> Iterator[DiscoveryScheduler]:
    """A scheduler that is never ticked: its queue is filled by hand and read, no probe runs."""
    s = DiscoveryScheduler({"InstancePollSeconds": 5}, Unresponsive())
    yield s
    s.close()
    s.join()


def key(port: int) -> InstanceKey:
    return InstanceKey("db", port)


def queued_order(s: DiscoveryScheduler, now: float) -> list[InstanceKey]:
    taken = []
    while (k := s._probes.queue.take(now)) is not None:  # noqa: SLF001
        taken.append(k)
    return taken


def test_backend_keys_are_queued_by_the_age_of_their_last_check(scheduler: DiscoveryScheduler) -> None:
    """Keys this process never probed are due InstancePollSeconds after the backend's last check:
    the stalest first; never-checked keys (and seeds) at once; fresh ones not yet."""
    s = scheduler
    ages = {key(1): 6, key(2): 30, key(3): None, key(4): 2, key(5): 12}
    due_now = s._queue_known(ages, now=100.0, everything=False)  # noqa: SLF001
    assert due_now == {key(1), key(2), key(3), key(5)}
    assert queued_order(s, now=100.0) == [key(2), key(5), key(1), key(3)]
    assert queued_order(s, now=103.0) == [key(4)]


def test_a_key_probed_elsewhere_since_is_not_probed_again_this_cycle(scheduler: DiscoveryScheduler) -> None:
    s = scheduler
    s._queue_known({key(1): 20, key(2): 20}, now=100.0, everything=False)  # noqa: SLF001
    # a second later the backend says key 1 was checked a moment ago (the leader's take-over, say)
    s._queue_known({key(1): 0, key(2): 21}, now=101.0, everything=False)  # noqa: SLF001
    assert s._probes.queue.due(key(1)) == pytest.approx(106.0)  # noqa: SLF001
    assert queued_order(s, now=101.0) == [key(2)]


def test_shared_discovery_queues_this_nodes_share_and_the_leaders_extras(scheduler: DiscoveryScheduler) -> None:
    s = scheduler
    s.share = DiscoveryShare("me")
    s.share.set_nodes(["me", "other"])
    keys = [key(p) for p in range(1, 41)]
    mine = {k for k in keys if owner_of(str(k), ["me", "other"]) == "me"}
    assert 0 < len(mine) < len(keys)
    theirs = [k for k in keys if k not in mine]
    ages = dict.fromkeys(keys, 30)
    # first scan as leader: every due key, whoever owns it (the first pass)
    first = s._queue_known(ages, now=100.0, everything=True)  # noqa: SLF001
    assert first == set(keys)
    s._first_wave = set()  # the first pass is over  # noqa: SLF001
    s._leading = False  # noqa: SLF001
    s._queue_known(ages, now=101.0, everything=False)  # noqa: SLF001
    assert set(queued_order(s, now=101.0)) == mine
    s._leading = True  # noqa: SLF001
    s.leader_keys = frozenset({theirs[0]})
    s._overdue = {theirs[1]}  # noqa: SLF001
    s._queue_known(ages, now=102.0, everything=False)  # noqa: SLF001
    assert set(queued_order(s, now=102.0)) == mine | {theirs[0], theirs[1]}
    # a leader whose own share waits more than a poll takes over nobody's overdue servers
    s._queue_known(ages, now=103.0, everything=False)  # noqa: SLF001  (its share queued again, due at 78)
    assert not s._backlogged  # noqa: SLF001  (its queue was empty when it looked)
    s._queue_known(ages, now=104.0, everything=False)  # noqa: SLF001
    assert s._backlogged  # noqa: SLF001
    assert set(queued_order(s, now=104.0)) == mine | {theirs[0]}  # leader_keys still


def test_requested_keys_are_not_dropped_by_a_scan(scheduler: DiscoveryScheduler) -> None:
    """The leader asks for another node's observers: a scan in between must not drop the request."""
    s = scheduler
    s.share = DiscoveryShare("me")
    s.share.set_nodes(["me", "other"])
    theirs = next(key(p) for p in range(1, 100) if owner_of(str(key(p)), ["me", "other"]) == "other")
    s._first_wave = set()  # noqa: SLF001
    with s._lock:  # noqa: SLF001  (request() without starting the probe)
        s._probes.queue.urge(theirs)  # noqa: SLF001
    s._queue_known({theirs: 1}, now=100.0, everything=False)  # noqa: SLF001
    assert s._probes.queue.requested(theirs)  # noqa: SLF001


def test_a_paused_scheduler_forgets_its_queue(scheduler: DiscoveryScheduler) -> None:
    s = scheduler
    s._queue_known({key(1): 30, key(2): 1}, now=100.0, everything=False)  # noqa: SLF001
    assert s.queued() == 2
    s.pause()
    assert s.queued() == 0
    s.request([key(3)])  # waits for the next tick: nothing starts while paused
    assert s.queued() == 1 and not s.in_flight(key(3))


def test_the_leaders_first_pass_leaves_what_their_owners_refreshed_since(scheduler: DiscoveryScheduler) -> None:
    """A leader's first pass probes every instance whose check is due, whoever owns it; but one that
    its (live) owner checked after the pass began is not stale: the leader leaves it to the owner,
    and the pass no longer waits for it. Its own share, and what nobody refreshed, it still probes."""
    s = scheduler
    s.share = DiscoveryShare("me")
    s.share.set_nodes(["me", "other"])
    keys = [key(p) for p in range(1, 41)]
    mine = [k for k in keys if owner_of(str(k), ["me", "other"]) == "me"]
    theirs = [k for k in keys if k not in mine]
    first = s._queue_known(dict.fromkeys(keys, 30), now=100.0, everything=True)  # noqa: SLF001
    s._first_wave, s._first_wave_at = set(first), 100.0  # noqa: SLF001  (as tick() does)
    refreshed, stale = theirs[0], theirs[1]
    ages = {**dict.fromkeys(keys, 31), refreshed: 1, mine[0]: 1}
    s._queue_known(ages, now=105.0, everything=False)  # noqa: SLF001
    assert refreshed not in s._first_wave  # noqa: SLF001
    assert {stale, mine[0]} <= s._first_wave  # noqa: SLF001
    queued = set(queued_order(s, now=200.0))
    assert refreshed not in queued
    assert {stale, *mine} <= queued
