"""A metric's statistics as text, the same way in every place a person reads them (the CLI's result
lines, report.html's results table, the live-drill page).

A metric that did not happen in a replication is NaN there (``Metric.absent`` says what that means:
"no outbox filled up during the outage"). Such values are never printed as ``nan``: a figure that
does not exist is shown as "n/a", and the replications without a value are named in words
("in all 50 replications no outbox filled up during the outage"). In report.json they are ``null``,
with ``n`` (replications where it happened), ``missing`` and ``absent``.
"""

from __future__ import annotations

import math

from .scenario import Metric
from .stats import MetricSummary

NOT_AVAILABLE = "n/a"


def figure(x: float | None, spec: str = "") -> str:
    """``x`` formatted (by default with the digits its size warrants: 432,173 / 37.1 / 0.42), or
    ``"n/a"`` when it does not exist (None, NaN, infinite)."""
    if x is None or not math.isfinite(x):
        return NOT_AVAILABLE
    if spec:
        return format(x, spec)
    ax = abs(x)
    return f"{x:,.0f}" if ax >= 1000 else f"{x:.1f}" if ax >= 10 else f"{x:.2f}"


def absent_note(s: MetricSummary, metric: Metric) -> str:
    """``"in 3 of 50 replications no device lost data"``; ``""`` when every replication has a value."""
    if not s.missing:
        return ""
    total = s.n + s.missing
    share = f"all {total}" if s.n == 0 else f"{s.missing} of {total}"
    return f"in {share} replications {metric.absent}"


def metric_line(s: MetricSummary, metric: Metric, width: int = 58) -> str:
    """One result line: mean, 95 % CI of the mean, p95 and unit, then what the missing replications mean.
    A yes/no metric: the share of replications and its (Wilson) 95 % CI, no p95."""
    note = absent_note(s, metric)
    if s.n == 0:
        return f"{metric.label:<{width}} {NOT_AVAILABLE:>9} {metric.unit:<8} ({note})"
    if metric.proportion:
        text = (f"{metric.label:<{width}} {figure(s.mean, '>9.1f')} % of {s.n} replications  95% CI "
                f"[{figure(s.ci95[0], '.1f')}, {figure(s.ci95[1], '.1f')}]")
        return f"{text}  ({note})" if note else text
    ci = (f"[{figure(s.ci95[0])}, {figure(s.ci95[1])}]" if math.isfinite(s.ci95[0])
          else f"{NOT_AVAILABLE} (one value)")
    text = (f"{metric.label:<{width}} {figure(s.mean):>9} {metric.unit:<8} 95% CI {ci}  "
            f"p95 {figure(s.p95)}")
    return f"{text}  ({note})" if note else text
