"""The number of probes continuous discovery runs at once (`discovery.concurrency`): it grows while
the process has CPU to spare and slots are all busy, and shrinks when woken threads wait for the CPU."""

from __future__ import annotations

import doctest
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.discovery import concurrency
from orchestrator_cli.discovery.concurrency import LAG_LIMIT, ConcurrencyLimit


def test_doctests() -> None:
    assert doctest.testmod(concurrency).failed == 0


def period(limit: ConcurrencyLimit, lag: float, *, saturated: bool = True, count: int = 5) -> int:
    for _ in range(count):
        limit.observe(lag)
    return limit.update(saturated=saturated)


def test_a_process_with_cpu_to_spare_reaches_the_configured_maximum() -> None:
    limit = ConcurrencyLimit(maximum=300)
    values = [period(limit, 0.0001) for _ in range(30)]
    assert values[-1] == 300
    assert values == sorted(values)


def test_the_limit_grows_only_when_it_was_reached() -> None:
    limit = ConcurrencyLimit(maximum=300)
    assert period(limit, 0.0001, saturated=False) == 32


def test_a_process_short_of_cpu_settles_where_threads_wait_little() -> None:
    """A model: the CPU serves `capacity` probes' worth of work at once; beyond that, each probe
    more makes every woken thread wait longer. The limit settles around the capacity, well below
    the configured maximum, and never far above it."""
    limit = ConcurrencyLimit(maximum=300)
    capacity = 60
    settled = []
    for n in range(120):
        lag = max(0.0, (limit.value - capacity) * 0.002)
        period(limit, lag)
        if n >= 60:
            settled.append(limit.value)
    assert all(capacity * 0.8 - 1 <= v <= capacity + LAG_LIMIT / 0.002 + capacity * 0.25 for v in settled), settled


def test_it_never_shrinks_below_its_minimum() -> None:
    limit = ConcurrencyLimit(maximum=300)
    for _ in range(50):
        period(limit, 1.0)
    assert limit.value == limit.minimum == 4


def test_too_few_measurements_change_nothing() -> None:
    limit = ConcurrencyLimit(maximum=300)
    assert period(limit, 5.0, count=concurrency.MIN_SAMPLES - 1) == 32


def test_probes_answered_in_half_the_hung_threshold_cut_the_limit_whatever_the_cpu() -> None:
    """Something shared but the CPU (the network, one process playing every server) slows every
    probe down: fewer at once, before healthy servers look hung."""
    limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
    for _ in range(5):
        limit.observe_probe(3.5)
    assert period(limit, 0.0001) == 25
    for _ in range(5):
        limit.observe_probe(2.0)  # slow, yet well within the threshold: a far network
    assert period(limit, 0.0001) == 31


@given(
    maximum=st.integers(1, 1000),
    periods=st.lists(st.tuples(st.lists(st.floats(0.0, 10.0), max_size=12), st.booleans()), max_size=40),
)
def test_the_limit_stays_within_its_bounds(maximum: int, periods: list[tuple[list[float], bool]]) -> None:
    limit = ConcurrencyLimit(maximum=maximum)
    for lags, saturated in periods:
        for lag in lags:
            limit.observe(lag)
            limit.observe_probe(lag)
        assert limit.minimum <= limit.update(saturated=saturated) <= maximum


def answered_period(limit: ConcurrencyLimit, rate_of: Callable[[int], float], probe_seconds: float) -> int:
    """One second in which the process's threads wake on time and `rate_of(limit)` probes answer,
    each in `probe_seconds`, every slot busy."""
    for _ in range(5):
        limit.observe(0.0001)
    for _ in range(round(rate_of(limit.value))):
        limit.observe_probe(probe_seconds)
    return limit.update(saturated=True, elapsed=1.0)


def test_a_limit_that_brings_no_more_answers_stops_growing() -> None:
    """A process whose CPU answers at most 90 probes a second, whatever the number at once (threads
    still wake on time: the GIL changes hands, between more of them): the limit stays near where the
    answers stopped growing, instead of climbing to the maximum with ever longer probes."""
    limit = ConcurrencyLimit(maximum=300)
    values = [answered_period(limit, lambda v: min(v * 2.5, 90.0), probe_seconds=0.3) for _ in range(120)]
    settled = values[20:]
    assert max(settled) <= 50, values  # 36 at once give the 90; 40 is the step that reaches it, 50 a trial
    assert min(settled) >= 32, values
    assert settled.count(40) >= len(settled) * 3 // 4, values


def test_a_limit_that_brings_more_answers_reaches_the_maximum() -> None:
    """Servers far away (latency-bound): every probe more at once is more answers a second."""
    limit = ConcurrencyLimit(maximum=300)
    values = [answered_period(limit, lambda v: v * 2.5, probe_seconds=0.4) for _ in range(60)]
    assert values[-1] == 300, values


def test_a_step_up_is_judged_once_its_probes_had_time_to_answer() -> None:
    """Probes that take 3 s: one period after a step up none of its probes has answered yet, so the
    rate cannot have grown; the step is judged later, and kept when the rate grew by then."""
    limit = ConcurrencyLimit(maximum=300, hung_after=20.0)
    grown = answered_period(limit, lambda v: 30.0, probe_seconds=3.0)
    assert grown == 40
    assert answered_period(limit, lambda v: 30.0, probe_seconds=3.0) == 40  # too early to judge
    for _ in range(4):
        assert answered_period(limit, lambda v: v * 1.0, probe_seconds=3.0) == 40
    assert answered_period(limit, lambda v: v * 1.0, probe_seconds=3.0) == 50  # kept (40 a second), then up
