"""Which of two readings of one signal is the worse: duplicates at one time and undecided medians.

Two values charted for one signal at the same time (36.3 and 34.0 °C in one minute) are one reading
too many; keeping the first (or the last) silently hides the one that matters. The worse one is kept:
the higher NEWS2 sub-score (scale 1; the chart is the clinical order of badness), then the farther
from the middle of the normal range in half-widths of that range. The normal range is the NEWS2
zero band for NEWS2 parameters and the textbook adult normal range for the others (diastolic 60-80
and mean 70-100 mmHg, end-tidal CO2 35-45 mmHg).

>>> worse("temperature", 36.3, 34.0)
34.0
>>> worse("heart_rate", 118, 45)  # 118 scores 2, 45 scores 1
118
>>> worse("nibp_mean", 65, 110)  # no NEWS2 row: the farther from 70-100
110
"""

from __future__ import annotations

from collections.abc import Callable

from .news2 import score_pulse, score_resp_rate, score_sbp, score_spo2, score_temperature

SUBSCORE: dict[str, Callable[[float], int]] = {
    "resp_rate": score_resp_rate, "spo2": score_spo2, "nibp_sys": score_sbp, "heart_rate": score_pulse,
    "pulse_rate": score_pulse, "temperature": score_temperature,
}
# (low, high) of the normal range: NEWS2's zero band, else the textbook adult normal range
NORMAL: dict[str, tuple[float, float]] = {
    "resp_rate": (12, 20), "spo2": (96, 100), "nibp_sys": (111, 219), "heart_rate": (51, 90),
    "pulse_rate": (51, 90), "temperature": (36.1, 38.0), "nibp_dia": (60, 80), "nibp_mean": (70, 100),
    "etco2": (35, 45),
}


def severity(signal: str, value: float) -> tuple[int, float]:
    """(NEWS2 sub-score or 0, distance from the middle of the normal range in half-widths)."""
    sub = SUBSCORE.get(signal)
    band = NORMAL.get(signal)
    dist = 0.0 if band is None else abs(value - (band[0] + band[1]) / 2) / ((band[1] - band[0]) / 2)
    return (sub(value) if sub is not None else 0, dist)


def worse(signal: str, a: float, b: float) -> float:
    """The worse of two readings of ``signal`` (``a`` when they are equally bad)."""
    sub = SUBSCORE.get(signal)
    if sub is not None:
        sa, sb = sub(a), sub(b)
        if sa != sb:
            return b if sb > sa else a
    band = NORMAL.get(signal)
    if band is None:
        return a
    mid = (band[0] + band[1]) / 2
    return b if abs(b - mid) > abs(a - mid) else a
