"""Streaming anomaly detection per patient (river), with protected learning and explanations.

A detector sees one multivariate point per window (means of the valid values of each signal) and
follows the river protocol (``learn_one(x)``, ``score_one(x) -> float``). :class:`Protected` wraps
any detector: it learns only from points it does not flag (so a deterioration never becomes the
new normal), never alerts during warm-up, and explains each alert against the patient's own
baseline (per-signal exponentially weighted mean and spread, :class:`Baseline`). A deviation that
persists for ``rebaseline_after`` windows is accepted as a new level (after it has been reported),
so a level shift alerts once instead of forever. Between half the threshold and the threshold a
signal is neither flagged nor learnt, so a slow trend cannot drag the baseline along with it.

Scores are deviations in robust standard units (z), so one threshold fits every detector.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from river import stats

if TYPE_CHECKING:  # river.anomaly pulls in scipy (about 1 s of start-up); loaded when a SAD detector is made
    from river import anomaly as river_anomaly

# Smallest spread assumed per signal (units of the catalogue), so a very steady patient's baseline
# does not turn a 1/min change into a "20 SD" alert.
SPREAD_FLOOR: dict[str, float] = {
    "heart_rate": 3.0, "pulse_rate": 3.0, "spo2": 1.0, "resp_rate": 1.5, "nibp_sys": 6.0, "nibp_dia": 4.0,
    "nibp_mean": 5.0, "temperature": 0.2, "etco2": 2.0, "perfusion_index": 0.3,
}


@dataclass(frozen=True, slots=True)
class Deviation:
    signal: str
    value: float
    baseline: float
    spread: float

    @property
    def z(self) -> float:
        return (self.value - self.baseline) / self.spread


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float
    anomalous: bool
    warming_up: bool
    deviations: tuple[Deviation, ...]  # largest first, only signals beyond half the threshold

    def explain(self) -> str:
        parts = [f"{d.signal} {d.value:.1f} is {abs(d.z):.1f} SD {'above' if d.z > 0 else 'below'} "
                 f"this patient's baseline {d.baseline:.1f} ± {d.spread:.1f}" for d in self.deviations]
        return "; ".join(parts) if parts else "multivariate pattern unlike this patient's baseline"


class Detector(Protocol):
    def learn_one(self, x: dict[str, float]) -> None: ...

    def score_one(self, x: dict[str, float]) -> float: ...


class Baseline:
    """Per-signal baseline: exponentially weighted mean (river ``stats.EWMean``) and a spread taken
    from successive differences (EW mean of squared steps / 2), which measures the noise and not a
    slow drift, so a trend does not inflate its own yardstick."""

    def __init__(self, fading_factor: float = 0.05) -> None:
        self.fading_factor = fading_factor
        self._mean: dict[str, stats.EWMean] = {}
        self._step2: dict[str, stats.EWMean] = {}
        self._prev: dict[str, float] = {}
        self.n: dict[str, int] = {}

    def learn_one(self, x: dict[str, float]) -> None:
        for k, v in x.items():
            if k not in self._mean:
                self._mean[k] = stats.EWMean(self.fading_factor)
                self._step2[k] = stats.EWMean(self.fading_factor)
                self.n[k] = 0
            else:
                self._step2[k].update((v - self._prev[k]) ** 2)
            self._mean[k].update(v)
            self._prev[k] = v
            self.n[k] += 1

    def deviation(self, k: str, v: float) -> Deviation | None:
        m = self._mean.get(k)
        if m is None:
            return None
        spread = max(math.sqrt(max(self._step2[k].get(), 0.0) / 2), SPREAD_FLOOR.get(k, 1e-3))
        return Deviation(k, v, m.get(), spread)


class BaselineDetector:
    """Largest robust z of any signal against its own EW baseline (multivariate by max)."""

    def __init__(self, fading_factor: float = 0.05) -> None:
        self.baseline = Baseline(fading_factor)

    def learn_one(self, x: dict[str, float]) -> None:
        self.baseline.learn_one(x)

    def score_one(self, x: dict[str, float]) -> float:
        zs = [abs(d.z) for k, v in x.items() if (d := self.baseline.deviation(k, v)) is not None]
        return max(zs, default=0.0)


class SadDetector:
    """river's ``StandardAbsoluteDeviation`` per signal (mean and variance of the whole history), max
    over signals, with the spread floored like :class:`BaselineDetector`."""

    def __init__(self) -> None:
        self._sad: dict[str, river_anomaly.StandardAbsoluteDeviation] = {}

    def learn_one(self, x: dict[str, float]) -> None:
        for k, v in x.items():
            if k not in self._sad:
                from river.anomaly import StandardAbsoluteDeviation  # lazily: see the imports above

                self._sad[k] = StandardAbsoluteDeviation()
            self._sad[k].learn_one(None, v)  # type: ignore[no-untyped-call]

    def score_one(self, x: dict[str, float]) -> float:
        best = 0.0
        for k, v in x.items():
            sad = self._sad.get(k)
            if sad is None:
                continue
            sd = math.sqrt(max(sad.variance.get(), 0.0))
            mean = sad.sub_stat.get() or 0.0
            best = max(best, abs(v - mean) / max(sd, SPREAD_FLOOR.get(k, 1e-3)))
        return best


DETECTORS: dict[str, Callable[[], Detector]] = {"baseline": BaselineDetector, "sad": SadDetector}


class Protected:
    """Warm-up, protected learning, re-baselining after a persistent shift, and explanations."""

    def __init__(self, detector: Detector, threshold: float = 6.0, warmup: int = 30,
                 rebaseline_after: int = 10, learn_limit: float | None = None) -> None:
        self.detector = detector
        self.threshold = threshold
        # After warm-up a signal is learnt only while it is within learn_limit SD of its baseline, so a
        # slow trend cannot drag the baseline along until it never looks unusual.
        self.learn_limit = threshold / 2 if learn_limit is None else learn_limit
        self.warmup = warmup
        self.rebaseline_after = rebaseline_after
        self.explainer = Baseline()
        self.seen = 0
        self._run: list[dict[str, float]] = []  # consecutive flagged points

    # river protocol, so the wrapped detector plugs into river tooling and benchmarks as is
    def score_one(self, x: dict[str, float]) -> float:
        """Deviation score of ``x`` (0 during warm-up), without learning."""
        x = {k: v for k, v in x.items() if v is not None and math.isfinite(v)}
        return 0.0 if self.seen < self.warmup or not x else self.detector.score_one(x)

    def learn_one(self, x: dict[str, float]) -> None:
        """Learn ``x`` unless it is anomalous (protected learning, see :meth:`process_one`)."""
        self.process_one(x)

    def process_one(self, x: dict[str, float]) -> Verdict:
        x = {k: v for k, v in x.items() if v is not None and math.isfinite(v)}
        if not x:
            return Verdict(0.0, False, self.seen < self.warmup, ())
        score = self.detector.score_one(x)
        warming = self.seen < self.warmup
        anomalous = not warming and score >= self.threshold
        devs = [d for k, v in x.items() if (d := self.explainer.deviation(k, v)) is not None]
        devs = sorted((d for d in devs if abs(d.z) >= self.threshold / 2), key=lambda d: -abs(d.z))
        if anomalous:
            self._run.append(x)
            if len(self._run) >= self.rebaseline_after:  # a new level: learn it, the shift was reported
                for p in self._run:
                    self._learn(p)
                self._run.clear()
        else:
            self._run.clear()
            if not warming:
                x = {k: v for k, v in x.items()
                     if (d := self.explainer.deviation(k, v)) is None or abs(d.z) < self.learn_limit}
            self._learn(x)
        return Verdict(score, anomalous, warming, tuple(devs))

    def _learn(self, x: dict[str, float]) -> None:
        if x:
            self.detector.learn_one(x)
            self.explainer.learn_one(x)
        self.seen += 1


def make_detector(name: str, threshold: float, warmup: int) -> Protected:
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise KeyError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}") from None
    return Protected(factory(), threshold=threshold, warmup=warmup)
