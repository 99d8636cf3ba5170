"""How many probes continuous discovery runs at once: up to `DiscoveryMaxConcurrency`, fewer while
the process is short of CPU.

A probe mostly waits on its server, so while the process has CPU to spare, more probes at once
mean more probes a second (servers on other hosts, 20 ms a statement: 32 probes at once made about
80 a second). Once the process is short of CPU (its share of the machine, or the GIL: the MySQL
driver's protocol code is Python), more probes at once add nothing: with P probes a second and W
at once, each takes W / P seconds (Little's law). At DiscoveryMaxConcurrency=300 and 50 probes a
second that was 6 s (measured), past InstancePollSeconds + ReasonableInstanceCheckSeconds:
healthy servers would be judged hung, written down as unreachable, and their replicas re-probed
as observers, which costs the CPU that was short in the first place.

What tells that the process is short of CPU is how late a thread runs once it could: every answer
a probe reads wakes its thread, which then waits for the CPU (the GIL, the machine) before it can
read the next. The discovery thread measures that wait several times a second (`observe`: how much
a 1 ms sleep overran). It does not depend on how quick the servers are: slow servers, or a network
far away, make probes slow without making the process short of anything, and probing fewer at
once would not make them quicker (a limit that followed the probes' own time shrank to nothing on
a daemon whose servers slowed down because another daemon loaded them, while it sat at 8% CPU).

Something else shared can be short too: the network, or, in bench/fleet_sim, the one process that
plays every server. So the probes' own answer times (`observe_probe`, answered probes only) are a
guard: when their median passes half the time after which a probe counts as hung, more at once is
not allowed either (and fewer are tried), whatever the CPU says.

Neither signal sees a process whose threads get the CPU promptly but spend it on each other: past
a point, more probes at once bring no more answers a second, only longer probes, more CPU per probe
(the GIL changing hands between more threads) and more backend connections held at once. Measured
with bench/continuous_fleet.py at 3,000 simulated instances: the limit climbed past 128 for about 89
probes a second at 100% of a core, 1.8 s a probe and 131 backend connections, where a fixed 32 made
92 a second at 48%, 0.25 s a probe and 35 connections. So a step up is a trial: once the probes
started by it have had time to answer (twice the median answer time), the answer rate must have
grown by `GAIN_SHARE` of the step (a tenth for a step of a quarter), or the limit goes back to where
it was and stays there for `HOLD_PERIODS` periods before it tries again (servers that slow down may
make more at once worth it later). With this, in alternating runs on a loaded machine: 0.26-0.28 s a
probe instead of 1.6-1.7 s, 49-59% of a core instead of 71-77%, for as many probes a second.

Once a second (`update`), from the medians of the period:

* a woken thread's wait above `LAG_LIMIT`, or probes answered in more than half the hung
  threshold: the limit shrinks by a fifth, never below `minimum` (a probe reads about twenty
  answers: 20 ms each adds about what the probe costs unqueued at 20 ms a statement);
* otherwise, a step up under trial that did not raise the answer rate is undone;
* otherwise, if the limit was reached with servers waiting, it grows by a quarter (at least one).
  Periods with too few answers to judge by grow without a trial, as before.

It starts at `start`, not at the maximum: a first pass over thousands of seeds would otherwise start
them all at once. From 32 it reaches 300 in about ten seconds. Pure: the caller measures and calls.

>>> limit = ConcurrencyLimit(maximum=300)
>>> limit.value
32
>>> for _ in range(5):
...     limit.observe(0.0002)
>>> limit.update(saturated=True)
40
>>> for _ in range(5):
...     limit.observe(0.080)  # a woken thread waits 80 ms for the CPU
>>> limit.update(saturated=True)
32
"""

from __future__ import annotations

START = 32
LAG_LIMIT = 0.020  # seconds a woken thread may wait for the CPU before fewer probes run at once
MIN_SAMPLES = 3  # fewer measurements in a period say nothing
GAIN_SHARE = 0.4  # a step up is kept when the answer rate grew by 40% of the step (a tenth for a quarter)
HOLD_PERIODS = 10  # periods an undone step up waits before the next trial


class ConcurrencyLimit:
    """The number of probes that may run at once (see the module's notes). Not thread-safe: the
    scheduler calls it under its lock or from its one discovery thread."""

    def __init__(self, maximum: int, *, hung_after: float = 6.0, minimum: int = 4, start: int = START) -> None:
        self.maximum = max(1, maximum)
        self.hung_after = hung_after  # seconds after which a running probe counts as hung
        self.minimum = max(1, min(minimum, self.maximum))
        self.value = max(self.minimum, min(start, self.maximum))
        self._lags: list[float] = []  # measured since the last update
        self._answers: list[float] = []  # seconds the probes answered since the last update took
        self._trial: tuple[int, float] | None = None  # the limit before a step up, and the answer rate then
        self._trial_wait = 0.0  # seconds the step up under trial still needs before it is judged
        self._hold = 0  # periods before the next step up

    def observe(self, lag: float) -> None:
        """A thread that could run again ran `lag` seconds late."""
        self._lags.append(lag)

    def observe_probe(self, seconds: float) -> None:
        """A probe's server answered it in `seconds`."""
        self._answers.append(seconds)

    def update(self, *, saturated: bool, elapsed: float = 1.0) -> int:
        """The limit for the next period. `saturated`: every probe slot was busy at some moment of
        the period while servers were due (a larger limit would have started more). `elapsed`: the
        period's length in seconds (for the answer rate)."""
        lags, self._lags = sorted(self._lags), []
        answers, self._answers = sorted(self._answers), []
        judged = len(answers) >= MIN_SAMPLES
        slow = judged and answers[len(answers) // 2] > self.hung_after / 2
        if len(lags) < MIN_SAMPLES and not slow:
            return self.value
        if slow or lags[len(lags) // 2] > LAG_LIMIT:
            self.value = max(self.minimum, int(self.value * 0.8))
            self._trial = None
            return self.value
        rate = len(answers) / max(elapsed, 1e-3)
        if self._trial is not None:
            self._trial_wait -= elapsed
            if self._trial_wait > 0:
                return self.value  # the probes the step up started have not all answered yet
            before, before_rate = self._trial
            self._trial = None
            if judged and rate < before_rate * (1 + (self.value / before - 1) * GAIN_SHARE):
                self.value, self._hold = before, HOLD_PERIODS
                return self.value
        if self._hold:
            self._hold -= 1
            return self.value
        if saturated and self.value < self.maximum:
            if judged:
                self._trial = (self.value, rate)
                self._trial_wait = 2 * answers[len(answers) // 2]
            self.value = min(self.maximum, max(self.value + 1, int(self.value * 1.25)))
        return self.value
