"""How many probes continuous discovery runs at once: up to `DiscoveryMaxConcurrency`, fewer while
more would only make each probe slower.

A probe mostly waits on its server, so while the process has CPU to spare, more probes at once
mean more probes a second (servers on other hosts, 20 ms a statement: 32 probes at once made about
80 a second). Once the process is short of CPU (its own share of the machine, or the GIL: the MySQL
driver's protocol code is Python), more probes at once add nothing: with P probes a second and W
at once, each takes W / P seconds (Little's law). At DiscoveryMaxConcurrency=300 and 50 probes a
second that is 6 s, past InstancePollSeconds + ReasonableInstanceCheckSeconds: healthy servers
would be judged hung, written down as unreachable, and their replicas re-probed as observers,
which costs the CPU that was short in the first place.

So the number of probes at once is a limit that moves, once a second (`update`), from how long the
probes that ended meanwhile took to get their answers (`observe`; failed probes are not counted: a
refused connection is quick and a timeout is the server's):

* while the median stays within `SLOWDOWN` times the quickest median of the last minute (what a
  probe costs when nothing queues), and the limit was reached with servers waiting, it grows by a
  quarter (or at least one);
* when the median is slower than that, or both slower than the quickest (by a fifth: noise aside)
  and than a quarter of the time after which a probe counts as hung, it shrinks by a fifth, never
  below `minimum`. (Probes slow by themselves, across a long network, are not cut: probing fewer
  at once would not make them quicker.)

Starting at `start` (not at the maximum: a first pass over thousands of seeds would otherwise start
them all at once), the limit reaches 300 in about ten seconds while latency allows. Pure: times are
the caller's (monotonic seconds).

>>> limit = ConcurrencyLimit(maximum=300, hung_after=6.0)
>>> limit.value
32
>>> for _ in range(12):
...     limit.observe(0.4)
>>> limit.update(now=1.0, saturated=True)
40
>>> for _ in range(12):
...     limit.observe(2.0)  # five times slower: the process is short of CPU
>>> limit.update(now=2.0, saturated=True)
32
"""

from __future__ import annotations

from collections import deque

START = 32
SLOWDOWN = 2.0  # a median this many times the quickest recent one: probes queue for CPU, not servers
HUNG_FRACTION = 0.25  # and never let the median approach the hung threshold by queueing
NOISE = 1.2  # a median within this of the quickest: nothing queues
BASELINE_SECONDS = 60.0  # the quickest median over this long is what an unqueued probe costs
MIN_SAMPLES = 5  # fewer answers in a period say nothing about the process


class ConcurrencyLimit:
    """The number of probes that may run at once (see the module's notes). Not thread-safe: the
    scheduler calls it under its lock."""

    def __init__(self, maximum: int, hung_after: float, *, minimum: int = 4, start: int = START) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.hung_after = hung_after
        self.value = max(self.minimum, min(start, self.maximum))
        self._samples: list[float] = []  # answer times of the probes ended since the last update
        self._medians: deque[tuple[float, float]] = deque()  # (when, median) of the recent periods

    def observe(self, seconds: float) -> None:
        """A probe got its answers in `seconds`."""
        self._samples.append(seconds)

    def update(self, now: float, *, saturated: bool) -> int:
        """The limit for the next period. `saturated`: every probe slot was busy at some moment of
        the period while servers were due (a larger limit would have started more)."""
        samples, self._samples = self._samples, []
        if len(samples) < MIN_SAMPLES:
            return self.value
        samples.sort()
        median = samples[len(samples) // 2]
        while self._medians and self._medians[0][0] < now - BASELINE_SECONDS:
            self._medians.popleft()
        self._medians.append((now, median))
        quickest = min(m for _, m in self._medians)
        queued = median > SLOWDOWN * quickest
        # near the hung threshold even a smaller slowdown of its own is too much (a fleet whose probes
        # are slow anyway, across a long network, is not slowed down by probing more at once)
        nearly_hung = median > HUNG_FRACTION * self.hung_after and median > NOISE * quickest
        if queued or nearly_hung:
            self.value = max(self.minimum, int(self.value * 0.8))
        elif saturated:
            self.value = min(self.maximum, max(self.value + 1, int(self.value * 1.25)))
        return self.value
