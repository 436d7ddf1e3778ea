"""Alarms and alarm events: the state of one alarm and the payload published on every change.

The event payload is the one in docs/architecture.md ("Alarm event payload"); ``kind`` is
``limit``, ``technical``, ``news2``, ``anomaly`` or ``device``; ``event`` is ``raised``, ``updated``,
``escalated``, ``acknowledged``, ``silenced`` or ``cleared``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

KINDS = ("limit", "technical", "news2", "anomaly", "device")
EVENTS = ("raised", "updated", "escalated", "acknowledged", "silenced", "cleared")
STATES = ("active", "acknowledged", "silenced", "cleared")
NOT_STORED = frozenset({"worst", "ended_t", "published_value", "peak_priority", "band", "role", "grouped"})
_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(slots=True)
class Alarm:
    """One alarm from raising to clearing. ``condition`` is whether the alarm condition still holds
    (a latched high-priority alarm stays active after its condition ended, until acknowledged)."""

    id: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: str
    signal: str | None
    code: str  # condition code, e.g. "high", "critical_low", "lead_off", "news2"
    priority: str
    raised_t: int
    reason: str
    value: float | None = None
    state: str = "active"
    condition: bool = True
    updated_t: int = 0
    acknowledged_by: str | None = None
    acknowledged_t: int | None = None
    silenced_until: int | None = None
    escalation_level: int = 0
    escalated_t: int = 0
    drill: str = ""
    condition_priority: str = ""  # priority of the condition itself (escalation steps do not latch)
    # Not stored in the state DB (after a restart they start again from ``value``):
    worst: float | None = None  # the most extreme value while the alarm was open (lowest / highest / top score)
    ended_t: int | None = None  # when the condition ended (a latched alarm waits for its acknowledgement)
    published_value: float | None = None  # ``value`` as last published: a material change publishes "updated"
    peak_priority: str = ""  # the highest priority the alarm reached (raise, worsening, escalation)
    band: str | None = None  # NEWS2 alarms: the response band ("low-medium", "medium", "high")
    role: str = ""  # who the alarm is with: the role of its escalation level
    # one cause, one alarm: the conditions of the same cause shown in this alarm (their key -> their text)
    grouped: dict[tuple[str, str, str | None, str], str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """What makes an alarm condition unique for a patient: one alarm per (kind, signal, family).
        Without an admitted patient (a drill bed, a device at an empty bed) the device stands in, as
        ``device:{id}``: the same key :class:`~alerting.conditions.Patient` uses to end the condition."""
        return (self.patient or f"device:{self.device}", self.kind, self.signal, self.code.split(":")[0])

    def event(self, event: str, t: int, by: str | None = None, reason: str | None = None) -> AlarmEvent:
        """The event ``event`` of this alarm now. ``value``, ``worst`` and ``condition_reason`` always
        describe the same moment (``reason`` may be an action instead, e.g. "acknowledged by cn")."""
        self.published_value = self.value
        if _RANK.get(self.priority, 0) >= _RANK.get(self.peak_priority, -1):
            self.peak_priority = self.priority
        also = "; with " + "; ".join(self.grouped.values()) if self.grouped else ""
        return AlarmEvent(
            id=self.id, ward=self.ward, bed=self.bed, patient=self.patient, device=self.device, kind=self.kind,
            signal=self.signal, priority=self.priority, event=event, state=self.state, t=t, value=self.value,
            reason=reason or self.reason + also, by=by, escalation_level=self.escalation_level, drill=self.drill,
            code=self.code.split(":")[0], worst=self.worst if self.worst is not None else self.value,
            condition=self.condition and self.ended_t is None, ended_t=self.ended_t,
            condition_reason=self.reason + also, peak_priority=self.peak_priority,
            latched=not self.condition and self.state != "cleared",
            band=self.band, role=self.role, grouped=[
                {"signal": k[2], "code": k[3], "reason": text} for k, text in self.grouped.items()],
        )

    def to_row(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__ if f not in NOT_STORED}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alarm:
        return cls(**{f: row[f] for f in cls.__slots__ if f in row})


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm state change, as published on ``{root}/alarms/{ward}/{alarm_id}``."""

    id: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: str
    signal: str | None
    priority: str
    event: str
    state: str
    t: int
    value: float | None
    reason: str
    by: str | None = None
    escalation_level: int = 0
    drill: str = ""
    code: str = ""  # the condition family ("low", "high", "probe_off", "lead_off", "offline", "news2", ...)
    worst: float | None = None  # the most extreme value of this alarm so far (= value when never worse)
    condition: bool = True  # False: the condition ended, the alarm is latched until acknowledged
    ended_t: int | None = None  # when the condition ended (ms), else None
    condition_reason: str = ""  # why the alarm is on (``reason`` of an acknowledge/silence is the action)
    extra: dict[str, Any] = field(default_factory=dict)
    # issue 11: quiet display, peak priority, NEWS2 response band routing, one cause one alarm
    peak_priority: str = ""  # the highest priority this alarm reached so far (escalation included)
    latched: bool = False  # the condition ended; the alarm waits for an acknowledgement (show it quietly)
    band: str | None = None  # NEWS2 alarms: response band "low-medium" | "medium" | "high", else None
    role: str = ""  # the role the alarm is with (its escalation level's role), "" if unknown
    grouped: list[dict[str, Any]] = field(default_factory=list)  # conditions of the same cause in this alarm

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "v": 1, "id": self.id, "ward": self.ward, "bed": self.bed, "patient": self.patient,
            "device": self.device, "kind": self.kind, "signal": self.signal, "priority": self.priority,
            "event": self.event, "state": self.state, "t": self.t, "value": self.value, "reason": self.reason,
            "by": self.by, "escalation_level": self.escalation_level, "drill": self.drill, "code": self.code,
            "worst": self.worst, "condition": self.condition, "ended_t": self.ended_t,
            "condition_reason": self.condition_reason or self.reason,
            "peak_priority": self.peak_priority or self.priority, "latched": self.latched, "band": self.band,
            "role": self.role, "grouped": self.grouped,
        }
        d.update(self.extra)
        return d

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())
