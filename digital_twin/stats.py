"""Summary statistics of Monte Carlo replications and the comparison of two runs.

Confidence intervals are Student-t intervals of the mean (replications are independent and
identically distributed by construction). A yes/no metric (a proportion: 0 or 100 per replication)
gets a Wilson score interval instead, which stays within [0, 100] %, and no median or 95th
percentile (NaN: they are 0 or 100 and say nothing about a share). A comparison uses Welch's t interval for the difference of
two means with the Welch-Satterthwaite degrees of freedom. NaN values mean "did not happen" in that
replication: they are counted (``missing``) and left out of the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _t975(df: float) -> float:
    """Two-sided 95 % quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.special import stdtrit  # scipy ships with wfdb, a dependency; imported lazily

    return float(stdtrit(df, 0.975))


def _r(x: float) -> float:
    """Round for reports: 6 significant digits, so equal runs give byte-identical JSON."""
    if not math.isfinite(x):
        return x
    return float(f"{x:.6g}")


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric over all replications."""

    mean: float
    p50: float
    p95: float
    ci95: tuple[float, float]
    sd: float
    n: int  # replications where the metric happened (finite)
    missing: int  # replications where it did not (NaN)
    unit: str = ""
    label: str = ""

    @property
    def ci_half_width(self) -> float:
        return (self.ci95[1] - self.ci95[0]) / 2


Z975 = 1.959963984540054  # two-sided 95 % quantile of the standard normal


def wilson(successes: int, n: int, z: float = Z975) -> tuple[float, float]:
    """The Wilson score 95 % interval of a proportion ``successes / n``, as fractions in [0, 1]."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(values: Sequence[float] | np.ndarray, unit: str = "", label: str = "", *,
              proportion: bool = False) -> MetricSummary:
    """Mean, median, 95th percentile and the 95 % CI of the mean; for a yes/no metric (``proportion``:
    values 0 or 100, "yes" = 100) the share of replications with "yes", its Wilson interval (in %) and
    no median or 95th percentile (NaN)."""
    arr = np.asarray(values, dtype=float)
    ok = arr[np.isfinite(arr)]
    n, missing = int(ok.size), int(arr.size - ok.size)
    nan = float("nan")
    if n == 0:
        return MetricSummary(nan, nan, nan, (nan, nan), nan, 0, missing, unit, label)
    if proportion:
        yes = int(np.count_nonzero(ok >= 50.0))
        lo, hi = wilson(yes, n)
        sd = float(ok.std(ddof=1)) if n > 1 else 0.0
        return MetricSummary(mean=_r(100.0 * yes / n), p50=nan, p95=nan, ci95=(_r(100.0 * lo), _r(100.0 * hi)), sd=_r(sd),
                       n=n, missing=missing, unit=unit, label=label)
    mean = float(ok.mean())
    sd = float(ok.std(ddof=1)) if n > 1 else 0.0
    half = _t975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    return MetricSummary(
        mean=_r(mean), p50=_r(float(np.percentile(ok, 50))), p95=_r(float(np.percentile(ok, 95))),
        ci95=(_r(mean - half), _r(mean + half)), sd=_r(sd), n=n, missing=missing, unit=unit, label=label,
    )


@dataclass(frozen=True, slots=True)
class Difference:
    """``b - a`` of two means with a Welch 95 % confidence interval."""

    diff: float
    ci95: tuple[float, float]
    df: float
    relative: float  # diff / mean(a), NaN when mean(a) is 0

    @property
    def significant(self) -> bool:
        lo, hi = self.ci95
        return math.isfinite(lo) and (lo > 0 or hi < 0)


def welch(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> Difference:
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    nan = float("nan")
    if xa.size < 2 or xb.size < 2:
        d = float(xb.mean() - xa.mean()) if xa.size and xb.size else nan
        return Difference(_r(d), (nan, nan), nan, nan)
    ma, mb = float(xa.mean()), float(xb.mean())
    va, vb = float(xa.var(ddof=1)) / xa.size, float(xb.var(ddof=1)) / xb.size
    diff = mb - ma
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(_r(diff), (_r(diff), _r(diff)), math.inf, _r(diff / ma) if ma else nan)
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = _t975(df) * se
    return Difference(_r(diff), (_r(diff - half), _r(diff + half)), _r(df), _r(diff / ma) if ma else nan)
