"""Recordings for the ``replay`` scenario: one baseline per row, each row replayed over 60 s of scenario time.

**PhysioNet/CinC Challenge 2019** patient files (``pNNNNNN.psv``, one row per ICU hour, so replayed
60x faster than real time).

Format: pipe-separated, one row per ICU hour, ``NaN`` for a missing value; vital columns ``HR``,
``O2Sat``, ``Temp``, ``SBP``, ``MAP``, ``DBP``, ``Resp``. Reyna et al., "Early Prediction of Sepsis
From Clinical Data: The PhysioNet/Computing in Cardiology Challenge 2019", Crit Care Med 2020
(data: ODC-By 1.0). Missing values are carried forward (then backward) from the nearest hour.

**WFDB numerics records** (``*.hea`` + signal file, one row per minute, e.g. the MIMIC-III waveform
database's ``…n`` numerics records with ``HR``, ``PULSE``, ``RESP``, ``SpO2``, ``NBPSys``, ``NBPDias``;
replayed in real time). Zeros (SpO2, HR, …) are dropouts, not values: they are filled like
missing values (the ``sensor-off`` scenario models dropouts explicitly). Read with the ``wfdb`` package.
"""

from __future__ import annotations

import math
import warnings
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


WFDB_COLUMNS = {"HR": "hr", "RESP": "rr", "SpO2": "spo2", "NBPSys": "sbp", "NBPDias": "dbp"}


def read_wfdb(path: str | Path) -> Recording:
    """A WFDB numerics record (``path`` with or without ``.hea``)."""
    p = Path(path)
    record = p.with_suffix("") if p.suffix == ".hea" else p
    with warnings.catch_warnings():  # wfdb trips pandas deprecation warnings; not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import wfdb

        try:
            rec = wfdb.rdrecord(str(record))
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"cannot read WFDB record {record}: {exc}") from exc
    names = list(rec.sig_name or [])
    if "HR" not in names or rec.p_signal is None:
        raise ScenarioError(f"{record}: no HR signal among {names}")
    cols: dict[str, list[float]] = {}
    for col, key in WFDB_COLUMNS.items():
        if col in names:
            i = names.index(col)
            vals = [float(v) for v in rec.p_signal[:, i]]
            cols[key] = [math.nan if v <= 0 else v for v in vals]  # 0 = dropout (probe off, leads off)
    defaults = Baseline()
    n = len(rec.p_signal)
    for key in ("hr", "rr", "spo2", "sbp", "dbp"):
        values = cols.get(key, [math.nan] * n)
        _fill(values, getattr(defaults, key))
        cols[key] = values
    rows = [Baseline(hr=cols["hr"][i], sbp=cols["sbp"][i], dbp=cols["dbp"][i], rr=cols["rr"][i],
                     spo2=min(100.0, cols["spo2"][i])) for i in range(n)]
    if not rows:
        raise ScenarioError(f"{record}: no samples")
    return Recording(record.name, rows, None)


def read_recording(path: str | Path) -> Recording:
    """``.psv`` -> PhysioNet 2019; anything else -> a WFDB record."""
    return read_psv(path) if Path(path).suffix == ".psv" else read_wfdb(path)
