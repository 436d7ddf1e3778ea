"""Robust NEWS2 inputs: a streamed signal counts as the median of its recent valid samples.

NEWS2 was designed for observation sets a nurse charts. A monitor streams unvalidated samples every
second or minute, and one of them (a movement, a partial minute while a probe came off) is not an
observation. So a *streamed* signal counts for NEWS2 as the median of its valid samples in the last
``news2.window_s``, and only once the window holds ``news2.min_samples`` of them: one outlying
sample among normal ones never moves the median; a sustained change moves it once it is the
majority of the window. An *intermittent* measurement (an NIBP cycle, a thermometer, a charted
value, a nurse's spot value) is an observation in its own right and counts alone, as on a chart,
while it is current.

A signal is streamed when its staleness horizon (:func:`alerting.technical.horizon`: the configured
or device profile's ``expire_after``, stretched to 2.5 observed sampling intervals) leaves room for
``min_samples`` expected intervals in the window: a 1 Hz or once-a-minute heart rate is streamed, an
NIBP cycle (4 h horizon), hourly charted data or a once-every-5-minutes wearable are intermittent.
Only usable samples enter (valid quality, plausible, not contradicted by a cross-check: the artefact
guards of the limit alarms), at most one per ``window_s / POINTS`` (a 1 Hz stream gives 60 evenly
spaced samples of a 5-minute window: as robust as 300, at a fifth of the work and memory). When the median falls between two samples the worse of them counts;
two samples at one time resolve to the worse (:func:`alerting.severity.worse`) and are counted.

>>> w = ScoreWindow("resp_rate")
>>> for minute, rr in enumerate([10, 11, 9, 8.1, 12, 10]):
...     _ = w.add(minute * 60_000, rr, 300_000)
>>> w.robust(5 * 60_000, 300_000, 3, 150_000)  # RR 8.1 in one minute among 9-12 does not count
10
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

from .severity import worse

ADDED, DUPLICATE, SKIPPED = 0, 1, 2
POINTS = 60  # a window keeps at most one sample per window_s / POINTS (1 Hz: one per 5 s of a 5-min window)


class ScoreWindow:
    """The recent valid samples of one signal of one patient."""

    __slots__ = (
        "kept_t",
        "last_t",
        "last_v",
        "measured_t",
        "measured_v",
        "ordered",
        "signal",
        "stale",
        "times",
        "values",
    )

    def __init__(self, signal: str) -> None:
        self.signal = signal
        self.times: deque[int] = deque()
        self.values: deque[float] = deque()
        self.ordered: list[float] = []  # the window's values, sorted
        self.last_t = -1  # the latest valid sample (it may have left the window, or not been kept)
        self.kept_t = -(1 << 62)  # the latest sample the window kept
        self.last_v = 0.0
        self.measured_t = -1  # the latest nurse measurement (a spot value counts alone)
        self.measured_v = 0.0
        self.stale = False  # the engine found no data for a whole staleness horizon

    def add(self, t: int, value: float, window_ms: int) -> int:
        """A usable sample: :data:`ADDED`, :data:`DUPLICATE` (a second value at the latest sample's time:
        the worse one is kept) or :data:`SKIPPED` (within ``window_ms / POINTS`` of the last sample the
        window kept, or late): a skipped sample changes nothing but the latest value."""
        was_stale, self.stale = self.stale, False
        if t == self.last_t:
            keep = worse(self.signal, self.last_v, value)
            if keep != self.last_v:
                if self.times and self.times[-1] == t:  # the window holds it: replace it
                    old = self.values[-1]
                    self.values[-1] = keep
                    del self.ordered[bisect_left(self.ordered, old)]
                    insort(self.ordered, keep)
                self.last_v = keep
            return DUPLICATE
        if t < self.last_t:  # late sample of this signal: older than what the window already judged
            return SKIPPED
        self.last_t, self.last_v = t, value
        if t - self.kept_t < window_ms // POINTS and not was_stale:
            return SKIPPED
        self.kept_t = t
        times, values, ordered = self.times, self.values, self.ordered
        times.append(t)
        values.append(value)
        insort(ordered, value)
        start = t - window_ms
        while times[0] <= start:
            times.popleft()
            del ordered[bisect_left(ordered, values.popleft())]
        return ADDED

    def measured(self, t: int, value: float, window_ms: int) -> None:
        """A nurse's measurement: it counts alone until the window holds enough monitor samples."""
        self.add(t, value, window_ms)
        self.measured_t, self.measured_v = t, self.last_v

    def evict(self, t: int, window_ms: int) -> None:
        """Drop samples older than the window (``(t - window, t]``)."""
        times, values, ordered = self.times, self.values, self.ordered
        start = t - window_ms
        while times and times[0] <= start:
            times.popleft()
            del ordered[bisect_left(ordered, values.popleft())]

    def robust(self, t: int, window_ms: int, min_samples: int, horizon_ms: int) -> float | None:
        """The value NEWS2 scores at ``t``, or None (not enough fresh valid samples: missing). The window
        is the one that ended with the latest sample (or refused sample, :meth:`evict`) of the signal;
        ``horizon_ms`` is the signal's staleness horizon (2.5 expected sampling intervals)."""
        m = self.middle(t, window_ms, min_samples, horizon_ms)
        if m is None:
            return None
        lo, hi = m
        return lo if lo == hi else worse(self.signal, lo, hi)

    def middle(self, t: int, window_ms: int, min_samples: int, horizon_ms: int) -> tuple[float, float] | None:
        """The two middle values of :meth:`robust` (equal unless the window holds an even count)."""
        if self.stale or self.last_t < 0:
            return None
        fresh = t - self.last_t <= horizon_ms
        if fresh and horizon_ms * 2 // 5 * min_samples > window_ms:
            return self.last_v, self.last_v  # an intermittent measurement counts alone while it is current
        ordered = self.ordered
        n = len(ordered)
        if n >= min_samples and fresh:
            if n % 2:
                return ordered[n // 2], ordered[n // 2]
            return ordered[n // 2 - 1], ordered[n // 2]
        if self.measured_t >= 0 and t - self.measured_t <= horizon_ms:
            return self.measured_v, self.measured_v  # a nurse's value counts until the window holds enough
        return None

    def count(self) -> int:
        return len(self.ordered)
