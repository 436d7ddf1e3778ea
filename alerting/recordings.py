"""Readers for recordings replayed through the engine: PhysioNet 2019 (``.psv``), PhysioNet 2012
(``Time,Parameter,Value``), WFDB numerics records (``wfdb`` package) and JSON Lines.

Each reader yields :class:`Record` s in time order with ``t`` in ms since the recording's start;
missing values (``NaN``) are absent, never zero. Values outside the catalogue's physical range are
dropped and counted (as ingest would reject them). Spot-type values a chart carries (FiO2 -> air or
oxygen, GCS -> ACVPU, MechVent -> ventilated) become nurse spot values. Two values of one signal at
one time keep the worse (:func:`alerting.severity.worse`) and are counted (``duplicates``), never
silently the first.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from device_profiles import NUMERIC_SIGNALS, QUALITIES, SIGNALS

from .errors import InputError
from .severity import worse

FORMATS = ("physionet2019", "physionet2012", "wfdb", "jsonl")
SPOT_KEYS = frozenset({"consciousness", "new_confusion", "supplemental_o2", "spo2_scale", "sedated", "ventilated"})

PHYSIONET2019 = {"HR": "heart_rate", "O2Sat": "spo2", "Temp": "temperature", "SBP": "nibp_sys",
                 "MAP": "nibp_mean", "DBP": "nibp_dia", "Resp": "resp_rate", "EtCO2": "etco2"}
# Invasive arterial pressures have no catalogue signal of their own: they count as blood pressure
# (a non-invasive value at the same time wins).
NI_PREFERRED = frozenset({"nibp_sys", "nibp_dia", "nibp_mean"})
PHYSIONET2012 = {"HR": "heart_rate", "Temp": "temperature", "RespRate": "resp_rate",
                 "NISysABP": "nibp_sys", "NIDiasABP": "nibp_dia", "NIMAP": "nibp_mean",
                 "SysABP": "nibp_sys", "DiasABP": "nibp_dia", "MAP": "nibp_mean"}
WFDB_NAMES = {"hr": "heart_rate", "pulse": "pulse_rate", "resp": "resp_rate", "spo2": "spo2", "%spo2": "spo2",
              "nbpsys": "nibp_sys", "nbpdias": "nibp_dia", "nbpmean": "nibp_mean", "nbp sys": "nibp_sys",
              "nbp dias": "nibp_dia", "nbp mean": "nibp_mean", "temp": "temperature", "perf": "perfusion_index",
              "etco2": "etco2", "pulse (spo2)": "pulse_rate", "hr (ecg)": "heart_rate"}
# Invasive arterial pressure counts as blood pressure only when the record has no NIBP of that kind.
WFDB_FALLBACK = {"abpsys": "nibp_sys", "abp sys": "nibp_sys", "abpdias": "nibp_dia", "abp dias": "nibp_dia",
                 "abpmean": "nibp_mean", "abp mean": "nibp_mean"}


@dataclass(slots=True)
class Record:
    patient: str
    t: int  # ms since the recording's first row
    values: dict[str, float]
    quality: dict[str, str] | None = None
    spot: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Recording:
    path: Path
    format: str
    records: list[Record]
    interval_s: float | None = None
    dropped: int = 0
    duplicates: int = 0  # values of one signal at one time beyond the first (the worse one is kept)
    labels: dict[str, int] = field(default_factory=dict)  # patient -> t of a label onset (SepsisLabel)


def detect_format(path: Path) -> str:
    if path.suffix == ".psv":
        return "physionet2019"
    if path.suffix in (".hea", ".dat") or path.with_suffix(".hea").exists() or Path(f"{path}.hea").exists():
        return "wfdb"
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    with path.open("r", encoding="utf-8", errors="replace") as f:
        head = f.readline().strip()
    if head.replace(" ", "") == "Time,Parameter,Value":
        return "physionet2012"
    if head.startswith("{"):
        return "jsonl"
    raise InputError("format", f"{path}: cannot tell the format; pass --format (one of {', '.join(FORMATS)})")


def _physical(name: str, v: float) -> bool:
    s = SIGNALS[name]
    return math.isfinite(v) and s.low <= v <= s.high


def _fio2_on_oxygen(v: float) -> bool:
    frac = v / 100 if v > 1 else v
    return frac > 0.21 + 1e-9


def read_physionet2019(path: Path) -> Recording:
    rec = Recording(path, "physionet2019", [], interval_s=3600.0)
    patient = path.stem
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="|"))
    if rows and "ICULOS" not in rows[0]:
        raise InputError("ICULOS", f"{path}: not a PhysioNet 2019 file (no ICULOS column)")
    t0: float | None = None
    for i, row in enumerate(rows, start=2):
        try:
            hour = float(row["ICULOS"])
        except (TypeError, ValueError):
            raise InputError(f"line {i}: ICULOS", f"{row.get('ICULOS')!r} is not a number") from None
        t0 = hour if t0 is None else t0
        t = round((hour - t0) * 3_600_000)
        values: dict[str, float] = {}
        for col, name in PHYSIONET2019.items():
            raw = row.get(col)
            v = _float(raw)
            if v is None:
                continue
            if _physical(name, v):
                values[name] = v
            else:
                rec.dropped += 1
        spot: dict[str, Any] = {}
        fio2 = _float(row.get("FiO2"))
        if fio2 is not None and fio2 > 0:
            spot["supplemental_o2"] = _fio2_on_oxygen(fio2)
        if row.get("SepsisLabel") == "1" and patient not in rec.labels:
            rec.labels[patient] = t
        if values or spot:
            rec.records.append(Record(patient, t, values, None, spot))
    return rec


def _float(raw: str | None) -> float | None:
    if raw is None or raw.strip() in ("", "NaN", "nan"):
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _gcs_to_acvpu(gcs: float) -> str:
    """Approximate ACVPU from GCS (documented in docs/alarm-configuration.md)."""
    if gcs >= 15:
        return "A"
    if gcs >= 13:
        return "C"
    if gcs >= 9:
        return "V"
    if gcs >= 4:
        return "P"
    return "U"


def read_physionet2012(path: Path) -> Recording:
    rec = Recording(path, "physionet2012", [], interval_s=3600.0)
    patient = path.stem
    by_t: dict[int, Record] = {}
    invasive: set[tuple[int, str]] = set()  # (t, signal) whose value is an invasive pressure
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        for i, row in enumerate(reader, start=1):
            if i == 1 or len(row) != 3:
                continue
            tm, param, raw = (c.strip() for c in row)
            if param == "RecordID" and raw:
                patient = raw.split(".")[0]
                continue
            hh, _, mm = tm.partition(":")
            try:
                t = (int(hh) * 60 + int(mm)) * 60_000
            except ValueError:
                raise InputError(f"line {i}: Time", f"{tm!r} is not HH:MM") from None
            v = _float(raw)
            if v is None:
                continue
            r = by_t.get(t)
            if r is None:
                r = by_t[t] = Record(patient, t, {})
            name = PHYSIONET2012.get(param)
            if name is not None:
                if not _physical(name, v):
                    rec.dropped += 1
                    continue
                ni = param.startswith("NI") or name not in NI_PREFERRED
                inv = (t, name) in invasive
                prev = r.values.get(name)
                if prev is None or (ni and inv):  # a non-invasive pressure wins over an invasive one
                    r.values[name] = v
                    if ni:
                        invasive.discard((t, name))
                    else:
                        invasive.add((t, name))
                elif ni != inv:  # the same signal from the same kind of source twice at one time
                    rec.duplicates += 1
                    r.values[name] = worse(name, prev, v)
            elif param == "FiO2" and v > 0:
                r.spot["supplemental_o2"] = _fio2_on_oxygen(v)
            elif param == "MechVent" and v > 0:
                r.spot["supplemental_o2"] = True
                r.spot["ventilated"] = True
            elif param == "GCS" and 3 <= v <= 15:
                r.spot["consciousness"] = _gcs_to_acvpu(v)
    for r in by_t.values():
        r.patient = patient
    rec.records = [r for _, r in sorted(by_t.items()) if r.values or r.spot]
    return rec


def read_wfdb(path: Path) -> Recording:
    with warnings.catch_warnings():  # wfdb's import trips a pandas deprecation warning; not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import wfdb

    base = path.with_suffix("") if path.suffix in (".hea", ".dat") else path
    try:
        record = wfdb.rdrecord(str(base))
    except (OSError, ValueError) as exc:
        raise InputError("input", f"{base}: cannot read WFDB record: {exc}") from None
    fs = float(record.fs)
    names = [WFDB_NAMES.get(str(n).strip().lower()) for n in record.sig_name]
    names = [name or (fb if (fb := WFDB_FALLBACK.get(str(n).strip().lower())) not in names else None)
             for n, name in zip(record.sig_name, names, strict=True)]
    rec = Recording(path, "wfdb", [], interval_s=1 / fs)
    signal = record.p_signal
    patient = base.name
    for i in range(signal.shape[0]):
        values: dict[str, float] = {}
        for j, name in enumerate(names):
            if name is None:
                continue
            v = float(signal[i, j])
            if math.isnan(v):
                continue
            if _physical(name, v):
                values[name] = v
            else:
                rec.dropped += 1
        if values:
            rec.records.append(Record(patient, round(i * 1000 / fs), values))
    return rec


def read_jsonl(path: Path) -> Recording:
    """Lines of ``{"t": ms, "patient"?: id, <signal>: value, "q"?: {...}, "consciousness"?: …}`` or
    attributed observation payloads (``{"device", "samples": [...], "patient", …}``)."""
    rec = Recording(path, "jsonl", [])
    t0: int | None = None
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"line {n}", f"not valid JSON ({exc})") from None
            if not isinstance(msg, dict):
                raise InputError(f"line {n}", "expected a JSON object")
            patient = str(msg.get("patient") or msg.get("device") or path.stem)
            samples = msg["samples"] if isinstance(msg.get("samples"), list) else [msg]
            for k, s in enumerate(samples):
                where = f"line {n}" + (f" samples[{k}]" if "samples" in msg else "")
                r = _json_record(s, patient, where)
                t0 = r.t if t0 is None else min(t0, r.t)
                rec.records.append(r)
    base = t0 or 0
    for r in rec.records:
        r.t -= base
    rec.records.sort(key=lambda r: r.t)
    return rec


_JSON_IGNORED = frozenset({"t", "q", "patient", "device", "ward", "bed", "v", "seq", "drill", "samples"})


def _json_record(s: Any, patient: str, where: str) -> Record:
    if not isinstance(s, dict) or type(s.get("t")) is not int:
        raise InputError(f"{where}: t", "each sample needs an integer t (ms)")
    values: dict[str, float] = {}
    spot: dict[str, Any] = {}
    for k, v in s.items():
        if k in _JSON_IGNORED:
            continue
        if k in SPOT_KEYS:
            spot[k] = v
        elif k in NUMERIC_SIGNALS and type(v) in (int, float) and _physical(k, float(v)):
            values[k] = float(v)
        else:
            raise InputError(f"{where}: {k}", f"{v!r} is not a known signal with a value in its physical range")
    q = s.get("q")
    if q is not None and (not isinstance(q, dict) or any(x not in QUALITIES for x in q.values())):
        raise InputError(f"{where}: q", f"quality must map signals to one of {sorted(QUALITIES)}")
    return Record(patient, s["t"], values, q, spot)


READERS = {"physionet2019": read_physionet2019, "physionet2012": read_physionet2012, "wfdb": read_wfdb,
           "jsonl": read_jsonl}


def read_recording(path: str | Path, fmt: str = "auto") -> Recording:
    p = Path(path)
    if fmt == "auto":
        fmt = detect_format(p)
    if fmt not in READERS:
        raise InputError("format", f"{fmt!r} is not one of auto, {', '.join(FORMATS)}")
    if fmt != "wfdb" and not p.is_file():
        raise InputError("input", f"{p}: no such file")
    return READERS[fmt](p)


def expand_inputs(path: str | Path) -> Iterator[Path]:
    """A file, a WFDB record path, or a directory of recordings (sorted)."""
    p = Path(path)
    if p.is_dir():
        for child in sorted(p.iterdir()):
            if child.suffix in (".psv", ".hea", ".jsonl", ".txt"):
                yield child
        return
    yield p
