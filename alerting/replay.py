"""Replay and what-if: run the real engine over recordings as fast as it can.

``replay(recording, config)`` feeds every record to a fresh :class:`~alerting.engine.Engine` with
the recording's own time (so delays, staleness and escalation happen in recording time) and yields
the alarm events as replay lines (``t`` in ms since the recording's first sample, ``patient``,
``id``, ``kind``, ``signal``, ``priority``, ``level`` (escalation level), ``event``, ``reason``).

``ack_after_s`` simulates a nurse: every alarm that sounds (raised, or made active again by a worse
condition) is acknowledged that many seconds later with a real ``acknowledge`` command, unless it
cleared before; while an alarm waits for its nurse the engine also ticks when an escalation step
falls due, as a live ward's does, so escalation happens on time between sparse (hourly) records. Without it nobody acknowledges (latched alarms stay).

:class:`ReplaySummary` counts alarms per patient-day by kind and by *peak* priority (the highest an
alarm reached, escalation included), and for labelled patients whether a medium/high alarm came in
the lead window before the label (:mod:`alerting.lead_window`).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from device_profiles import Attribution
from device_profiles.alarm_event import AlarmKind, AlarmState

from .config import AlarmConfig
from .engine import Engine
from .events import AlarmEvent
from .lead_window import AlarmTrace, in_lead_window, is_urgent_condition, peak
from .recordings import Record, Recording
from .spot import AlarmCommand, SpotObservation

REPLAY_EVENTS = frozenset({"raised", "escalated", "acknowledged", "cleared"})
DAY_MS = 86_400_000
T_BASE = 946_684_800_000  # recordings start at 2000-01-01 for the engine (spot observations need a real t)
ACK_BY = "replay-nurse"


def replay_line(e: AlarmEvent, patient: str) -> dict[str, Any]:
    return {"t": e.t - T_BASE, "patient": patient, "id": e.id, "kind": e.kind.value, "signal": e.signal,
            "priority": e.priority.value, "level": e.escalation_level, "event": e.event.value, "reason": e.reason}


class Replayer:
    """One engine over a recording's records, with an optional simulated nurse (``ack_after_s``).
    ``max_news2`` holds the highest NEWS2 total the engine computed per patient (a floor when
    incomplete), for score discrimination."""

    def __init__(self, config: AlarmConfig, ack_after_s: float | None = None) -> None:
        self.engine = Engine(config)
        self.ack_ms = None if ack_after_s is None else round(ack_after_s * 1000)
        self.now = 0
        self._due: list[tuple[int, str]] = []  # (acknowledge at, alarm id)
        self._waiting: set[str] = set()
        self.max_news2: dict[str, int] = {}

    def run(self, records: Iterable[Record]) -> Iterator[dict[str, Any]]:
        engine = self.engine
        for r in records:
            t = r.t + T_BASE
            if self._due:
                yield from self._until(t)
            self.now = t
            who = Attribution(ward="replay", bed="", patient=r.patient)
            events: list[AlarmEvent] = []
            if r.spot:
                events += engine.spot(SpotObservation(patient=r.patient, t=t, by="recording", **r.spot))
            if r.values:
                events += engine.observe_sample(who, r.patient, t, r.values, r.quality)
            if events:
                yield from self._emit(events)
            p = engine.patients.get(r.patient)
            if p is not None and p.news2 is not None and p.news2.total > self.max_news2.get(r.patient, -1):
                self.max_news2[r.patient] = p.news2.total

    def _emit(self, events: list[AlarmEvent]) -> Iterator[dict[str, Any]]:
        for e in events:
            if self.ack_ms is not None and e.state == AlarmState.ACTIVE and e.id not in self._waiting:
                self._waiting.add(e.id)
                heapq.heappush(self._due, (e.t + self.ack_ms, e.id))
            if e.event in REPLAY_EVENTS:
                yield replay_line(e, e.patient or e.device)

    def _until(self, t: int) -> Iterator[dict[str, Any]]:
        """Time passes up to ``t``: while an alarm waits for its acknowledgement the engine ticks when
        an escalation step falls due (as a live ward's engine, which ticks every second, would see
        it); each due acknowledgement is sent (before a tick or record of the same instant: the nurse
        answered within ``ack_after``)."""
        engine = self.engine
        while self._due:
            ack_t, alarm_id = self._due[0]
            step = self._next_step()
            if step is not None and step < min(ack_t, t):
                self.now = step
                yield from self._emit(engine.tick(step))
                continue
            if ack_t > t:
                return
            heapq.heappop(self._due)
            self._waiting.discard(alarm_id)
            self.now = max(self.now, ack_t)
            a = engine.lifecycle.by_id.get(alarm_id)
            if a is not None and a.state == AlarmState.ACTIVE:
                yield from self._emit(engine.command(
                    AlarmCommand(id=alarm_id, action="acknowledge", by=ACK_BY, minutes=None, t=ack_t), ack_t))

    def _next_step(self) -> int | None:
        """The next time after ``now`` an open alarm may escalate or a silence ends (a superset:
        :meth:`Lifecycle.tick` decides; a tick that changes nothing is harmless)."""
        lc = self.engine.lifecycle
        best: int | None = None
        for a in lc.by_id.values():
            if a.state == AlarmState.SILENCED and a.silenced_until is not None:
                due = a.silenced_until
            elif a.state == AlarmState.ACTIVE and a.condition and a.kind != AlarmKind.ANOMALY:
                levels = lc.config.policy(a.ward).levels
                if a.escalation_level + 1 >= len(levels):
                    continue
                wait = levels[a.escalation_level + 1].after_s - levels[a.escalation_level].after_s
                due = a.escalated_t + round(wait * 1000)
            else:
                continue
            if due > self.now and (best is None or due < best):
                best = due
        return best


def replay(records: Iterable[Record], config: AlarmConfig, ack_after_s: float | None = None) -> Iterator[dict[str, Any]]:
    return Replayer(config, ack_after_s).run(records)


@dataclass
class ReplaySummary:
    """Alarms raised per patient-day, by kind and by peak priority (escalations are not new alarms)."""

    open_alarms: dict[str, AlarmTrace] = field(default_factory=dict)  # "patient/alarm id" -> its trace so far
    closed: list[AlarmTrace] = field(default_factory=list)
    span_ms: dict[str, list[int]] = field(default_factory=dict)
    first_urgent: dict[str, int] = field(default_factory=dict)
    urgent: dict[str, list[int]] = field(default_factory=dict)  # patient -> times alarms became medium/high
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
        patient = line["patient"]
        key = f"{patient}/{line['id']}"
        tr = self.open_alarms.get(key)
        if tr is None:
            if line["event"] != "raised":
                return
            tr = self.open_alarms[key] = AlarmTrace(line["kind"], line["t"], line["priority"], line.get("level", 0))
            self.patient_alarms[patient] += 1
        became = tr.see(line["event"], line["t"], line["priority"], line.get("level", 0))
        if became is not None and is_urgent_condition(tr.kind):
            self.urgent.setdefault(patient, []).append(became)
            self.first_urgent[patient] = min(became, self.first_urgent.get(patient, became))
        if line["event"] == "cleared":
            self.closed.append(self.open_alarms.pop(key))

    def _done(self) -> list[AlarmTrace]:
        return self.closed + list(self.open_alarms.values())

    @property
    def patient_days(self) -> float:
        return sum(hi - lo for lo, hi in self.span_ms.values()) / DAY_MS

    def to_json(self) -> dict[str, Any]:
        days = self.patient_days or float("nan")
        done = self._done()
        by_kind = Counter(tr.kind for tr in done)
        by_priority = Counter(tr.peak for tr in done)
        by_kind_priority = Counter((tr.kind, tr.peak) for tr in done)
        label_onset: dict[str, Any] = {}
        for p, t in sorted(self.labels.items()):
            hit = in_lead_window(self.urgent.get(p, []), t)
            label_onset[p] = {"onset_t": t, "first_medium_or_high_t": self.first_urgent.get(p),
                              "lead_window_t": hit, "in_time": hit is not None}
        return {
            "patients": len(self.span_ms), "patient_days": round(self.patient_days, 4),
            "alarms": len(done), "priority": "peak",
            "per_patient_day": round(len(done) / days, 2),
            "by_kind": {k: round(n / days, 2) for k, n in sorted(by_kind.items())},
            "by_priority": {k: round(n / days, 2) for k, n in sorted(by_priority.items())},
            "by_kind_priority": {f"{k}/{p}": round(n / days, 2) for (k, p), n in sorted(by_kind_priority.items())},
            "label_onset": label_onset,
        }

    def text(self) -> str:
        j = self.to_json()
        lines = [f"{j['patients']} patient(s), {j['patient_days']:.2f} patient-days, {j['alarms']} alarms raised "
                 f"= {j['per_patient_day']} per patient-day"]
        lines.append("  by kind:          " + ", ".join(f"{k} {v}" for k, v in j["by_kind"].items()))
        lines.append("  by peak priority: " + ", ".join(f"{k} {v}" for k, v in j["by_priority"].items()))
        for p, o in j["label_onset"].items():
            first = o["lead_window_t"] if o["lead_window_t"] is not None else o["first_medium_or_high_t"]
            lines.append(f"  {p}: label on at {o['onset_t'] / 3.6e6:.1f} h, "
                         + (f"medium/high alarm at {first / 3.6e6:.1f} h" if first is not None
                            else "no medium/high alarm")
                         + (" (in time: 1-12 h before)" if o["in_time"] else " (not in the 1-12 h lead window)"))
        return "\n".join(lines)


__all__ = ["ACK_BY", "T_BASE", "ReplaySummary", "Replayer", "peak", "replay", "replay_line"]
