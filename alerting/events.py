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

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """What makes an alarm condition unique for a patient: one alarm per (kind, signal, family)."""
        return (self.patient or self.device, self.kind, self.signal, self.code.split(":")[0])

    def event(self, event: str, t: int, by: str | None = None, reason: str | None = None) -> AlarmEvent:
        return AlarmEvent(
            id=self.id, ward=self.ward, bed=self.bed, patient=self.patient, device=self.device, kind=self.kind,
            signal=self.signal, priority=self.priority, event=event, state=self.state, t=t, value=self.value,
            reason=reason or self.reason, by=by, escalation_level=self.escalation_level, drill=self.drill,
        )

    def to_row(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}

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
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "v": 1, "id": self.id, "ward": self.ward, "bed": self.bed, "patient": self.patient,
            "device": self.device, "kind": self.kind, "signal": self.signal, "priority": self.priority,
            "event": self.event, "state": self.state, "t": self.t, "value": self.value, "reason": self.reason,
            "by": self.by, "escalation_level": self.escalation_level, "drill": self.drill,
        }
        d.update(self.extra)
        return d

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())
