"""Reader for PhysioNet/CinC Challenge 2019 patient files (``pNNNNNN.psv``), used by the ``replay`` scenario.

Format: pipe-separated, one row per ICU hour, ``NaN`` for a missing value; vital columns ``HR``,
``O2Sat``, ``Temp``, ``SBP``, ``MAP``, ``DBP``, ``Resp``. Reyna et al., "Early Prediction of Sepsis
From Clinical Data: The PhysioNet/Computing in Cardiology Challenge 2019", Crit Care Med 2020
(data: ODC-By 1.0). Missing values are carried forward (then backward) from the nearest hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .errors import ScenarioError
from .physiology import Baseline

COLUMNS = {"HR": "hr", "O2Sat": "spo2", "Temp": "temp", "SBP": "sbp", "DBP": "dbp", "Resp": "rr"}


@dataclass(frozen=True, slots=True)
class Recording:
    name: str
    hours: list[Baseline]  # one baseline per recorded hour
    sepsis_hour: int | None  # first hour with SepsisLabel = 1

    def at(self, hour: float) -> Baseline:
        """Linear interpolation between hourly rows; the last row holds after the end."""
        h = min(max(hour, 0.0), len(self.hours) - 1.0)
        i = int(h)
        j = min(i + 1, len(self.hours) - 1)
        f = h - i
        a, b = self.hours[i], self.hours[j]
        return Baseline(*(x + (y - x) * f for x, y in zip(_vals(a), _vals(b), strict=True)))


def _vals(b: Baseline) -> tuple[float, ...]:
    return (b.hr, b.sbp, b.dbp, b.rr, b.spo2, b.temp, b.pi)


def read_psv(path: str | Path) -> Recording:
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise ScenarioError(f"cannot read recording {p}: {exc}") from exc
    if not lines:
        raise ScenarioError(f"{p}: empty file")
    header = lines[0].split("|")
    missing = [c for c in (*COLUMNS, "SepsisLabel") if c not in header]
    if missing:
        raise ScenarioError(f"{p}: not a PhysioNet 2019 file, missing columns {missing}")
    idx = {c: header.index(c) for c in (*COLUMNS, "SepsisLabel")}
    cols: dict[str, list[float]] = {v: [] for v in COLUMNS.values()}
    sepsis: int | None = None
    for n, line in enumerate(lines[1:]):
        parts = line.split("|")
        if len(parts) != len(header):
            raise ScenarioError(f"{p}:{n + 2}: {len(parts)} fields, expected {len(header)}")
        for col, key in COLUMNS.items():
            try:
                cols[key].append(float(parts[idx[col]]))
            except ValueError:
                raise ScenarioError(f"{p}:{n + 2}: {col}={parts[idx[col]]!r} is not a number") from None
        if sepsis is None and parts[idx["SepsisLabel"]] == "1":
            sepsis = n
    defaults = Baseline()
    for key, values in cols.items():
        _fill(values, getattr(defaults, key))
    hours = [Baseline(hr=cols["hr"][i], sbp=cols["sbp"][i], dbp=cols["dbp"][i], rr=cols["rr"][i],
                      spo2=min(100.0, cols["spo2"][i]), temp=cols["temp"][i]) for i in range(len(lines) - 1)]
    if not hours:
        raise ScenarioError(f"{p}: no rows")
    return Recording(p.stem, hours, sepsis)


def _fill(values: list[float], default: float) -> None:
    """Carry forward, then backward; a column with no value at all gets ``default``."""
    last = math.nan
    for i, v in enumerate(values):
        if math.isnan(v):
            values[i] = last
        else:
            last = v
    nxt = math.nan
    for i in range(len(values) - 1, -1, -1):
        if math.isnan(values[i]):
            values[i] = nxt if not math.isnan(nxt) else default
        else:
            nxt = values[i]
