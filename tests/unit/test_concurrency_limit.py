"""The number of probes continuous discovery runs at once (`discovery.concurrency`): it grows while
probes stay as quick as they get, and shrinks when they queue for the process's CPU."""

from __future__ import annotations

import doctest

from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.discovery import concurrency
from orchestrator_cli.discovery.concurrency import ConcurrencyLimit


def test_doctests() -> None:
    assert doctest.testmod(concurrency).failed == 0


def period(limit: ConcurrencyLimit, now: float, seconds: float, *, saturated: bool = True, count: int = 20) -> int:
    for _ in range(count):
        limit.observe(seconds)
    return limit.update(now, saturated=saturated)


def test_a_latency_bound_fleet_reaches_the_configured_maximum() -> None:
    """Servers far away, the process idle: every probe takes its network time, whatever the limit."""
    limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
    values = [period(limit, float(t), 0.4) for t in range(1, 30)]
    assert values[-1] == 300
    assert values == sorted(values)


def test_the_limit_grows_only_when_it_was_reached() -> None:
    limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
    assert period(limit, 1.0, 0.4, saturated=False) == 32


def test_a_process_short_of_cpu_probes_fewer_at_once() -> None:
    """Little's law: with the throughput fixed by the CPU, latency grows with the limit. The limit
    settles where probes stay far below the hung threshold (within a quarter of it, give or take one
    step of growth), yet with enough at once to use all the CPU allows."""
    limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
    throughput = 50.0  # probes a second the CPU allows
    unqueued = 0.4
    settled = []
    for t in range(1, 121):
        latency = max(unqueued, limit.value / throughput)
        period(limit, float(t), latency)
        if t > 60:
            settled.append((limit.value, latency))
    assert all(latency <= concurrency.HUNG_FRACTION * 6.0 * 1.25 for _, latency in settled)
    assert all(value >= throughput * unqueued for value, _ in settled)


def test_slow_servers_alone_do_not_cut_the_limit() -> None:
    """Probes that take 2 s each across a long network (a third of the hung threshold), at every
    limit: probing fewer at once would not make them quicker."""
    limit = ConcurrencyLimit(maximum=100, hung_after=6.0)
    for t in range(1, 20):
        period(limit, float(t), 2.0)
    assert limit.value == 100


def test_too_few_answers_change_nothing() -> None:
    limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
    assert period(limit, 1.0, 5.0, count=concurrency.MIN_SAMPLES - 1) == 32


@given(
    maximum=st.integers(1, 1000),
    latencies=st.lists(st.lists(st.floats(0.001, 60.0), max_size=30), max_size=40),
    saturated=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_the_limit_stays_within_its_bounds(maximum: int, latencies: list[list[float]], saturated: list[bool]) -> None:
    limit = ConcurrencyLimit(maximum=maximum, hung_after=6.0)
    for n, samples in enumerate(latencies):
        for s in samples:
            limit.observe(s)
        value = limit.update(float(n), saturated=saturated[n])
        assert min(limit.minimum, maximum) <= value <= maximum
