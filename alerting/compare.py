"""What-if: the difference between two replays of the same recordings.

``compare(a, b)`` takes two :meth:`ReplaySummary.to_json` results (configuration A and B over the same
recordings) and returns what changed: alarms per patient-day overall, by kind, by priority and by
kind/priority (A, B, B - A and the relative change; priorities are peak priorities), and for labelled
patients whether the first medium/high alarm moved and whether one still comes in time (1-12 h before
the label, :mod:`alerting.lead_window`). ``compare_text`` is that table for a
clinical engineer reading a terminal.

>>> a = {"patient_days": 2.0, "alarms": 10, "per_patient_day": 5.0, "by_kind": {"limit": 5.0},
...      "by_priority": {"low": 5.0}, "by_kind_priority": {"limit/low": 5.0}, "label_onset": {}}
>>> b = dict(a, alarms=4, per_patient_day=2.0, by_kind={"limit": 2.0}, by_priority={"low": 2.0},
...          by_kind_priority={"limit/low": 2.0})
>>> compare(a, b)["per_patient_day"]
{'a': 5.0, 'b': 2.0, 'change': -3.0, 'relative': -0.6}
"""

from __future__ import annotations

from typing import Any

from .errors import AlertingError

GROUPS = ("by_kind", "by_priority", "by_kind_priority")


def _row(a: float, b: float) -> dict[str, float | None]:
    return {"a": a, "b": b, "change": round(b - a, 2), "relative": round((b - a) / a, 3) if a else None}


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B relative to A; both must describe the same recordings (same patient-days)."""
    if abs(a["patient_days"] - b["patient_days"]) > 1e-6:
        raise AlertingError(f"the two replays cover different recordings ({a['patient_days']} vs "
                            f"{b['patient_days']} patient-days)")
    out: dict[str, Any] = {"patient_days": a["patient_days"], "alarms": _row(a["alarms"], b["alarms"]),
                           "per_patient_day": _row(a["per_patient_day"], b["per_patient_day"])}
    for group in GROUPS:
        keys = sorted(set(a[group]) | set(b[group]))
        out[group] = {k: _row(a[group].get(k, 0.0), b[group].get(k, 0.0)) for k in keys}
    onset: dict[str, Any] = {}
    for patient in sorted(set(a["label_onset"]) | set(b["label_onset"])):
        oa, ob = a["label_onset"].get(patient), b["label_onset"].get(patient)
        if oa is None or ob is None:
            continue
        fa, fb = oa["first_medium_or_high_t"], ob["first_medium_or_high_t"]
        onset[patient] = {"onset_t": oa["onset_t"], "a_first_t": fa, "b_first_t": fb,
                          "a_window_t": oa.get("lead_window_t"), "b_window_t": ob.get("lead_window_t"),
                          "a_in_time": oa["in_time"], "b_in_time": ob["in_time"],
                          "later_by_ms": (fb - fa) if fa is not None and fb is not None else None}
    out["label_onset"] = onset
    out["lost_in_time_detections"] = sorted(p for p, o in onset.items() if o["a_in_time"] and not o["b_in_time"])
    out["gained_in_time_detections"] = sorted(p for p, o in onset.items() if o["b_in_time"] and not o["a_in_time"])
    return out


def _pct(rel: float | None) -> str:
    return "new" if rel is None else f"{rel * 100:+.0f} %"


def _hours(t: int | None) -> str:
    return "never" if t is None else f"{t / 3.6e6:.1f} h"


def compare_text(diff: dict[str, Any], name_a: str, name_b: str) -> str:
    """A table: alarms per patient-day under A and B, and the change."""
    width = max(28, *(len(k) + 2 for g in GROUPS for k in diff[g]))
    lines = [f"A = {name_a}", f"B = {name_b}", f"{diff['patient_days']:.2f} patient-days, alarms raised per patient-day:",
             f"  {'':<{width}}{'A':>9}{'B':>9}{'B - A':>9}{'change':>9}"]

    def row(label: str, r: dict[str, Any]) -> str:
        return f"  {label:<{width}}{r['a']:>9.2f}{r['b']:>9.2f}{r['change']:>+9.2f}{_pct(r['relative']):>9}"

    lines.append(row("all alarms", diff["per_patient_day"]))
    for group, title in (("by_priority", "priority"), ("by_kind", "kind"), ("by_kind_priority", "kind/priority")):
        lines.append(f"  by {title}:")
        lines += [row("  " + k, r) for k, r in diff[group].items()]
    if diff["label_onset"]:
        lines.append("labelled patients (in time = a medium/high alarm 1-12 h before the label onset):")
        for p, o in diff["label_onset"].items():
            verdict = ("in time under both" if o["a_in_time"] and o["b_in_time"] else
                       "LATE under B only" if o["a_in_time"] else
                       "in time under B only" if o["b_in_time"] else "LATE under both")
            a_t = o.get("a_window_t") if o.get("a_window_t") is not None else o["a_first_t"]
            b_t = o.get("b_window_t") if o.get("b_window_t") is not None else o["b_first_t"]
            lines.append(f"  {p}: onset {_hours(o['onset_t'])}; A {_hours(a_t)}, B {_hours(b_t)}: {verdict}")
    if diff["lost_in_time_detections"]:
        lines.append("WARNING: B detects later than the label for: " + ", ".join(diff["lost_in_time_detections"]))
    return "\n".join(lines)
