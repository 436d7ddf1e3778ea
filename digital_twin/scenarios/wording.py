"""Plain-language wording of figures in the drills' summaries ("1 h 25 min", "3 monitors")."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..stats import MetricSummary


def minutes(m: float) -> str:
    """``95.2`` -> ``"1 h 35 min"``; seconds below two minutes; ``"n/a"`` for NaN."""
    if not math.isfinite(m):
        return "n/a" if math.isnan(m) else "indefinitely"
    if m < 2:
        return f"{m * 60:.0f} s"
    if m < 90:
        return f"{m:.0f} min"
    h, rest = divmod(round(m), 60)
    if h >= 48:
        return f"{m / 1440:.1f} days"
    return f"{h} h {rest} min" if rest else f"{h} h"


def seconds(s: float) -> str:
    """``42.3`` -> ``"42 s"``; ``150`` -> ``"2.5 min"``."""
    if not math.isfinite(s):
        return "n/a"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def interval(s: MetricSummary, fmt: Callable[[float], str]) -> str:
    """``"95 % CI of the mean 12-15"``; with fewer than two values there is none, and it says so."""
    lo, hi = s.ci95
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"no confidence interval from {count(s.n, 'replication')}"
    return f"95 % CI of the mean {fmt(lo)}-{fmt(hi)}"


def count(n: float, noun: str, plural: str | None = None) -> str:
    """``count(1, "device")`` -> ``"1 device"``; ``count(3, "device")`` -> ``"3 devices"``."""
    k = round(n)
    return f"{k} {noun if k == 1 else (plural or noun + 's')}"


def listing(items: Sequence[str], limit: int = 8) -> str:
    """``["7", "12", "19"]`` -> ``"7, 12 and 19"`` (at most ``limit`` names, then "and N more")."""
    items = list(items)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
