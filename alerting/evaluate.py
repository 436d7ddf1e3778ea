"""``alarms evaluate``: a cohort replayed under the engine and the naive monitor, against outcomes.

:func:`run_recording` replays one recording under both monitors (the engine with a simulated nurse
who acknowledges each sounding alarm ``ack_after_s`` later, :class:`~alerting.replay.Replayer`) and
keeps per patient only what the figures need (:class:`PatientRun`), so recordings can be replayed in
worker processes. :func:`evaluate` turns the runs and the :class:`~alerting.outcomes.Outcomes` into the
figures of docs/alarm-quality.md ("Evaluating on a cohort"), each with a bootstrap 95 % interval;
:func:`evaluation_text` is the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .cohort_metrics import BoolArray, Estimate, FloatArray, IntArray, auroc, bootstrap, quotient, ratio
from .config import AlarmConfig, build_config, preset
from .lead_window import HOUR, LEAD_MAX, LEAD_MIN, AlarmTrace, in_lead_window, is_urgent_condition
from .naive import naive_events
from .outcomes import Outcomes
from .recordings import read_recording
from .replay import DAY_MS, Replayer

MONITORS = ("engine", "naive")
SCORES = {"engine": "max NEWS2", "naive": "alarm count"}
PRIORITIES = ("high", "medium", "low")


@dataclass(slots=True)
class MonitorRun:
    """One patient under one monitor: alarms raised by ``kind/peak priority``, the times alarms
    became medium/high by their condition (patient-signal kinds only), and the patient's score."""

    counts: Counter[str] = field(default_factory=Counter)
    urgent: list[int] = field(default_factory=list)
    score: float | None = None


@dataclass(slots=True)
class PatientRun:
    patient: str
    span_ms: int
    label_onset: int | None
    runs: dict[str, MonitorRun]


def traces(lines: Iterable[dict[str, Any]]) -> dict[str, list[AlarmTrace]]:
    """Each patient's alarms followed through their events (replay lines of one recording)."""
    open_: dict[tuple[str, str], AlarmTrace] = {}
    out: dict[str, list[AlarmTrace]] = {}
    for line in lines:
        key = (line["patient"], line["id"])
        tr = open_.get(key)
        if tr is None:
            if line["event"] != "raised":
                continue
            tr = open_[key] = AlarmTrace(line["kind"], line["t"], line["priority"], line.get("level", 0))
            out.setdefault(line["patient"], []).append(tr)
        tr.see(line["event"], line["t"], line["priority"], line.get("level", 0))
        if line["event"] == "cleared":
            del open_[key]
    return out


def _monitor_run(alarms: list[AlarmTrace], score: float | None) -> MonitorRun:
    run = MonitorRun(Counter(f"{a.kind}/{a.peak}" for a in alarms), score=score)
    run.urgent = sorted(a.urgent_t for a in alarms if a.urgent_t is not None and is_urgent_condition(a.kind))
    return run


_CONFIGS: dict[tuple[str, float | None, bytes], AlarmConfig] = {}


def _config(fmt: str, interval_s: float | None, layer: dict[str, Any] | None) -> AlarmConfig:
    key = (fmt, interval_s, orjson.dumps(layer))
    if key not in _CONFIGS:
        _CONFIGS[key] = build_config(preset(fmt, interval_s), *([layer] if layer is not None else []))
    return _CONFIGS[key]


def run_recording(path: Path, fmt: str = "auto", layer: dict[str, Any] | None = None,
                  ack_after_s: float | None = 300.0) -> tuple[list[PatientRun], int]:
    """Replay one recording under both monitors; the per-patient runs and the values dropped."""
    rec = read_recording(path, fmt)
    config = _config(rec.format, rec.interval_s, layer)
    step = int((rec.interval_s or 1) * 1000)
    span: dict[str, list[int]] = {}
    for r in rec.records:
        lo_hi = span.setdefault(r.patient, [r.t, r.t + step])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], r.t), max(lo_hi[1], r.t + step)
    replayer = Replayer(config, ack_after_s)
    engine = traces(replayer.run(rec.records))
    naive = traces(naive_events(rec.records, config))
    out = []
    for p, (lo, hi) in span.items():
        e, n = engine.get(p, []), naive.get(p, [])
        news2 = replayer.max_news2.get(p)
        out.append(PatientRun(p, hi - lo, rec.labels.get(p), {
            "engine": _monitor_run(e, None if news2 is None else float(news2)),
            "naive": _monitor_run(n, float(len(n)))}))
    return out, rec.dropped


def _est(e: Estimate, digits: int = 3) -> dict[str, Any]:
    return e.to_json(digits)


def evaluate(patients: list[PatientRun], outcomes: Outcomes | None, resamples: int = 1000,
             seed: int = 11) -> dict[str, Any]:
    """The figures of each monitor over the cohort, with bootstrap 95 % intervals (see the module doc)."""
    n = len(patients)
    days: FloatArray = np.array([p.span_ms / DAY_MS for p in patients], dtype=np.float64)
    known: BoolArray = np.zeros(n, dtype=np.bool_)
    event: BoolArray = np.zeros(n, dtype=np.bool_)
    onset: FloatArray = np.full(n, np.nan)
    reference: FloatArray = np.full(n, np.nan)
    not_evaluable = 0
    if outcomes is not None:
        for i, p in enumerate(patients):
            if not outcomes.has_outcome(p.patient):
                continue
            if p.patient in outcomes.events:
                t = outcomes.events[p.patient]
                if t is not None and t < LEAD_MIN:  # its lead window lies before the recording began
                    not_evaluable += 1
                    continue
                event[i] = True
                onset[i] = np.nan if t is None else t
            known[i] = True
            reference[i] = outcomes.reference.get(p.patient, np.nan)
    stats: dict[str, Any] = {}
    arrays: dict[str, dict[str, Any]] = {}
    for m in MONITORS:
        runs = [p.runs[m] for p in patients]
        total = np.array([sum(r.counts.values()) for r in runs], dtype=np.float64)
        phys = np.array([sum(c for k, c in r.counts.items() if is_urgent_condition(k.split("/")[0]))
                         for r in runs], dtype=np.float64)
        urgent_n = np.array([len(r.urgent) for r in runs], dtype=np.float64)
        score = np.array([np.nan if r.score is None else r.score for r in runs], dtype=np.float64)
        detected = np.zeros(n, dtype=np.bool_)
        lead = np.full(n, np.nan)
        for i, r in enumerate(runs):
            if not event[i]:
                continue
            if np.isnan(onset[i]):
                detected[i] = bool(r.urgent)
            else:
                hit = in_lead_window(r.urgent, int(onset[i]))
                if hit is not None:
                    detected[i], lead[i] = True, (onset[i] - hit) / HOUR
        arrays[m] = {"total": total, "phys": phys, "detected": detected, "score": score}
        stats |= _monitor_stats(m, days, total, phys, urgent_n, known, event, detected, lead, score)
    stats["ratio/alarms"] = lambda idx: quotient(float(arrays["engine"]["total"][idx].sum()),
                                                 float(arrays["naive"]["total"][idx].sum()))
    stats["ratio/physiological"] = lambda idx: quotient(float(arrays["engine"]["phys"][idx].sum()),
                                                        float(arrays["naive"]["phys"][idx].sum()))
    if outcomes is not None and outcomes.reference_name:
        stats["reference/auroc"] = lambda idx: auroc(np.where(known[idx], reference[idx], np.nan), event[idx])
    est = bootstrap(stats, n, resamples, seed) if n else {}
    return _report(patients, outcomes, est, arrays, days, known, event, reference, not_evaluable, resamples, seed)


def _monitor_stats(m: str, days: FloatArray, total: FloatArray, phys: FloatArray, urgent_n: FloatArray,
                   known: BoolArray, event: BoolArray, detected: BoolArray, lead: FloatArray,
                   score: FloatArray) -> dict[str, Any]:
    def sensitivity(idx: IntArray) -> float:
        e = event[idx]
        return float(detected[idx][e].mean()) if e.any() else float("nan")

    def median_lead(idx: IntArray) -> float:
        x = lead[idx]
        x = x[~np.isnan(x)]
        return float(np.median(x)) if len(x) else float("nan")

    def per_tp(counts: FloatArray) -> Any:
        def f(idx: IntArray) -> float:
            tp = float((detected[idx] & event[idx]).sum())
            return float(counts[idx][known[idx]].sum()) / tp if tp else float("nan")
        return f

    return {
        f"{m}/alarms": lambda idx: ratio(total[idx], days[idx]),
        f"{m}/physiological": lambda idx: ratio(phys[idx], days[idx]),
        f"{m}/sensitivity": sensitivity,
        f"{m}/median_lead_h": median_lead,
        f"{m}/alarms_per_tp": per_tp(phys),
        f"{m}/urgent_per_tp": per_tp(urgent_n),
        f"{m}/auroc": lambda idx: auroc(np.where(known[idx], score[idx], np.nan), event[idx]),
    }


def _unreplayed(patients: list[PatientRun], outcomes: Outcomes | None) -> dict[str, int] | None:
    """Patients of an outcomes file with no recorded vital sign (never replayed): how many, how many events."""
    if outcomes is None or outcomes.known is None:
        return None
    missing = outcomes.known - {p.patient for p in patients}
    return {"patients": len(missing), "events": sum(1 for p in missing if p in outcomes.events)}


def _report(patients: list[PatientRun], outcomes: Outcomes | None, est: dict[str, Estimate],
            arrays: dict[str, dict[str, Any]], days: FloatArray, known: BoolArray, event: BoolArray,
            reference: FloatArray, not_evaluable: int, resamples: int, seed: int) -> dict[str, Any]:
    total_days = float(days.sum()) or float("nan")
    has_onsets = outcomes is not None and any(t is not None for t in outcomes.events.values())
    out: dict[str, Any] = {
        "cohort": {"patients": len(patients), "patient_days": round(float(days.sum()), 2),
                   "outcome": outcomes.name if outcomes else None,
                   "with_outcome": int(known.sum()), "events": int(event.sum()),
                   "events_not_evaluable": not_evaluable,
                   "outcomes_without_recording": _unreplayed(patients, outcomes),
                   "reference_score": outcomes.reference_name if outcomes else None},
        "method": {"lead_window_h": [LEAD_MIN / HOUR, LEAD_MAX / HOUR] if has_onsets else "any time during the stay",
                   "priority": "peak (highest reached, escalation included)",
                   "physiological": "every kind but technical",
                   "bootstrap": {"resamples": resamples, "seed": seed, "interval": "percentile 95 %"}},
        "monitors": {},
    }
    for m in MONITORS:
        counts: Counter[str] = Counter()
        for p in patients:
            counts.update(p.runs[m].counts)
        by_kind: Counter[str] = Counter()
        by_peak: Counter[str] = Counter()
        for k, c in counts.items():
            kind, prio = k.split("/")
            by_kind[kind] += c
            by_peak[prio] += c
        detected = arrays[m]["detected"]
        score = arrays[m]["score"]
        mon: dict[str, Any] = {
            "alarms": int(sum(counts.values())),
            "alarms_per_patient_day": _est(est[f"{m}/alarms"]),
            "physiological_per_patient_day": _est(est[f"{m}/physiological"]),
            "by_kind": {k: round(c / total_days, 3) for k, c in sorted(by_kind.items())},
            "by_peak_priority": {k: round(by_peak.get(k, 0) / total_days, 3) for k in PRIORITIES},
            "by_kind_peak_priority": {k: round(c / total_days, 3) for k, c in sorted(counts.items())},
        }
        if outcomes is not None:
            mon |= {
                "events_alarmed": {**_est(est[f"{m}/sensitivity"]), "alarmed": int((detected & event).sum()),
                                   "events": int(event.sum())},
                "median_lead_h": _est(est[f"{m}/median_lead_h"], 2) if has_onsets else None,
                "physiological_alarms_per_true_positive": _est(est[f"{m}/alarms_per_tp"], 2),
                "medium_high_alarms_per_true_positive": _est(est[f"{m}/urgent_per_tp"], 2),
                "auroc": {**_est(est[f"{m}/auroc"]), "score": SCORES[m],
                          "patients": int((known & ~np.isnan(score)).sum())},
            }
        out["monitors"][m] = mon
    out["engine_to_naive"] = {"alarms_per_patient_day": _est(est["ratio/alarms"]),
                              "physiological_per_patient_day": _est(est["ratio/physiological"])}
    if "reference/auroc" in est and outcomes is not None:
        out["reference_auroc"] = {**_est(est["reference/auroc"]), "score": outcomes.reference_name,
                                  "patients": int((known & ~np.isnan(reference)).sum())}
    return out
