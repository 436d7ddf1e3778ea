"""Cohort figures for ``alarms evaluate``: AUROC, percentile bootstrap, and the per-patient arrays.

Every figure is a function of per-patient arrays, so one bootstrap (resampling *patients* with
replacement, seeded) gives confidence intervals for all of them, paired between the two monitors.

>>> auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
0.75
>>> auroc(np.array([1.0, 1.0]), np.array([False, True]))
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def auroc(score: FloatArray, label: BoolArray) -> float:
    """Area under the ROC curve (Mann-Whitney U with mid-ranks for ties); NaN without both classes.
    Patients whose score is NaN are left out."""
    keep = ~np.isnan(score)
    s, y = score[keep], label[keep]
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def ratio(num: FloatArray, den: FloatArray) -> float:
    d = float(den.sum())
    return float(num.sum()) / d if d else float("nan")


def quotient(a: float, b: float) -> float:
    """``a / b``, NaN when ``b`` is 0 (a resample without any naive alarm has no ratio)."""
    return a / b if b else float("nan")


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float
    low: float
    high: float

    def to_json(self, digits: int = 3) -> dict[str, float | list[float] | None]:
        def r(x: float) -> float | None:
            return None if np.isnan(x) else round(x, digits)
        return {"value": r(self.value), "ci95": [r(self.low), r(self.high)]}  # type: ignore[list-item]


Statistic = Callable[[IntArray], float]


def bootstrap(stats: dict[str, Statistic], n: int, resamples: int = 1000, seed: int = 11) -> dict[str, Estimate]:
    """Point estimates on all ``n`` patients and percentile 95 % intervals over ``resamples`` resamples
    of the patients (the same resamples for every statistic: differences and ratios stay paired)."""
    everyone = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(resamples) for name in stats}
    for b in range(resamples):
        idx = rng.integers(0, n, n, dtype=np.int64)
        for name, f in stats.items():
            draws[name][b] = f(idx)
    out: dict[str, Estimate] = {}
    for name, f in stats.items():
        d = draws[name][~np.isnan(draws[name])]
        lo, hi = (np.percentile(d, [2.5, 97.5]) if len(d) else (float("nan"), float("nan")))
        out[name] = Estimate(f(everyone), float(lo), float(hi))
    return out
