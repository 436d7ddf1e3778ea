"""Replay and what-if: run the real engine over recordings as fast as it can.

``replay(recording, config)`` feeds every record to a fresh :class:`~alerting.engine.Engine` with
the recording's own time (so delays, staleness and escalation happen in recording time) and yields
the alarm events as replay lines (``t`` in ms since the recording's first sample, ``patient``,
``kind``, ``signal``, ``priority``, ``event``, ``reason``). :class:`ReplaySummary` counts alarms per
patient-day by kind and priority, so two configurations can be compared on the same recording.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from device_profiles import Attribution

from .config import AlarmConfig
from .engine import Engine
from .events import AlarmEvent
from .recordings import Record, Recording
from .spot import SpotObservation

REPLAY_EVENTS = frozenset({"raised", "escalated", "acknowledged", "cleared"})
DAY_MS = 86_400_000
T_BASE = 946_684_800_000  # recordings start at 2000-01-01 for the engine (spot observations need a real t)


def replay_line(e: AlarmEvent, patient: str) -> dict[str, Any]:
    return {"t": e.t - T_BASE, "patient": patient, "kind": e.kind, "signal": e.signal, "priority": e.priority,
            "event": e.event, "reason": e.reason}


def replay(records: Iterable[Record], config: AlarmConfig) -> Iterator[dict[str, Any]]:
    engine = Engine(config)
    for r in records:
        t = r.t + T_BASE
        who = Attribution(ward="replay", bed="", patient=r.patient)
        events: list[AlarmEvent] = []
        if r.spot:
            events += engine.spot(SpotObservation(patient=r.patient, t=t, by="recording", **r.spot))
        if r.values:
            events += engine.observe_sample(who, r.patient, t, r.values, r.quality)
        for e in events:
            if e.event in REPLAY_EVENTS:
                yield replay_line(e, e.patient or e.device)


@dataclass
class ReplaySummary:
    """Alarms raised per patient-day, by kind and by priority (escalations are not new alarms)."""

    by_kind: Counter[str] = field(default_factory=Counter)
    by_priority: Counter[str] = field(default_factory=Counter)
    by_kind_priority: Counter[tuple[str, str]] = field(default_factory=Counter)
    span_ms: dict[str, list[int]] = field(default_factory=dict)
    first_urgent: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    patient_alarms: Counter[str] = field(default_factory=Counter)

    def add_recording(self, rec: Recording) -> None:
        step = int((rec.interval_s or 1) * 1000)
        for r in rec.records:
            lo_hi = self.span_ms.setdefault(r.patient, [r.t, r.t + step])
            lo_hi[0] = min(lo_hi[0], r.t)
            lo_hi[1] = max(lo_hi[1], r.t + step)
        self.labels.update(rec.labels)

    def add(self, line: dict[str, Any]) -> None:
        if line["event"] == "raised":
            self.by_kind[line["kind"]] += 1
            self.by_priority[line["priority"]] += 1
            self.by_kind_priority[(line["kind"], line["priority"])] += 1
            self.patient_alarms[line["patient"]] += 1
        if line["event"] in ("raised", "escalated") and line["priority"] in ("medium", "high") \
                and line["kind"] != "anomaly":
            self.first_urgent.setdefault(line["patient"], line["t"])

    @property
    def patient_days(self) -> float:
        return sum(hi - lo for lo, hi in self.span_ms.values()) / DAY_MS

    def to_json(self) -> dict[str, Any]:
        days = self.patient_days or float("nan")
        return {
            "patients": len(self.span_ms), "patient_days": round(self.patient_days, 4),
            "alarms": sum(self.by_kind.values()),
            "per_patient_day": round(sum(self.by_kind.values()) / days, 2),
            "by_kind": {k: round(n / days, 2) for k, n in sorted(self.by_kind.items())},
            "by_priority": {k: round(n / days, 2) for k, n in sorted(self.by_priority.items())},
            "by_kind_priority": {f"{k}/{p}": round(n / days, 2) for (k, p), n in sorted(self.by_kind_priority.items())},
            "label_onset": {p: {"onset_t": t, "first_medium_or_high_t": self.first_urgent.get(p),
                                "in_time": self.first_urgent.get(p, t + 1) <= t}
                            for p, t in sorted(self.labels.items())},
        }

    def text(self) -> str:
        j = self.to_json()
        lines = [f"{j['patients']} patient(s), {j['patient_days']:.2f} patient-days, {j['alarms']} alarms raised "
                 f"= {j['per_patient_day']} per patient-day"]
        lines.append("  by kind:     " + ", ".join(f"{k} {v}" for k, v in j["by_kind"].items()))
        lines.append("  by priority: " + ", ".join(f"{k} {v}" for k, v in j["by_priority"].items()))
        for p, o in j["label_onset"].items():
            first = o["first_medium_or_high_t"]
            lines.append(f"  {p}: label on at {o['onset_t'] / 3.6e6:.1f} h, "
                         + (f"first medium/high alarm at {first / 3.6e6:.1f} h" if first is not None
                            else "no medium/high alarm")
                         + (" (in time)" if o["in_time"] else " (LATE)"))
        return "\n".join(lines)
