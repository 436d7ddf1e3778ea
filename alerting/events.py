"""Alarms: the state of one alarm, and the event (:class:`device_profiles.AlarmEvent`) it publishes on
every change.

An :class:`Alarm` is the engine's own record (and the row of ``alerting_alarms``): its kind, priority and
code are the strings of the contract's enums (:class:`~device_profiles.AlarmKind`,
:class:`~device_profiles.Priority`, :class:`~device_profiles.ConditionCode`), turned into them when an
event is made. Its reason is a :class:`~alerting.reasons.Reason` (``why``: key + parameters + English);
``reason`` is the English text; the state DB keeps both (``reason_key``/``reason_params``: alerting.store).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from device_profiles.alarm_event import (
    AlarmEvent,
    AlarmEventType,
    AlarmKind,
    AlarmState,
    GroupedCondition,
    Priority,
    priority_rank,
)

from .reasons import Reason, say, then, verbatim

__all__ = ["Alarm", "AlarmEvent", "AlarmKey"]
# the contract's enum members by their strings (a dict lookup: an event is made in the engine's hot path)
_KIND = {k.value: k for k in AlarmKind}
_PRIORITY = {p.value: p for p in Priority}
_EVENT = {e.value: e for e in AlarmEventType}
_STATE = {s.value: s for s in AlarmState}
NOT_STORED = frozenset({"worst", "ended_t", "published_value", "peak_priority", "band", "role", "grouped", "why"})


class AlarmKey(NamedTuple):
    """What makes an alarm condition unique: one alarm per (patient, kind, signal, family). ``patient`` is
    the patient id, or ``device:{id}`` where nobody is admitted (a drill bed, a device at an empty bed)."""

    patient: str
    kind: str
    signal: str | None
    family: str


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
    # one cause, one alarm: the conditions of the same cause shown in this alarm (their key -> their reason)
    grouped: dict[AlarmKey, Reason] = field(default_factory=dict)
    why: Reason | None = None  # ``reason`` as a message (None: known by its text only, saved before keys)

    @property
    def key(self) -> AlarmKey:
        """The alarm's :class:`AlarmKey`: the same key :class:`~alerting.conditions.Patient` uses to end
        the condition."""
        return AlarmKey(self.patient or f"device:{self.device}", self.kind, self.signal, self.code.split(":")[0])

    def say(self, reason: Reason) -> None:
        """The alarm's reason is now ``reason`` (its text and its message together)."""
        self.reason, self.why = reason.text, reason

    def reason_now(self) -> Reason:
        return self.why if self.why is not None else verbatim(self.reason)

    def event(self, event: str, t: int, by: str | None = None, reason: Reason | str | None = None) -> AlarmEvent:
        """The event ``event`` of this alarm now. ``value``, ``worst`` and ``condition_reason`` always
        describe the same moment (``reason`` may be an action instead, e.g. "acknowledged by cn"; a plain
        text has no message key)."""
        self.published_value = self.value
        if priority_rank(self.priority) >= priority_rank(self.peak_priority):
            self.peak_priority = self.priority
        condition = self.reason_now()
        if self.grouped:
            first, *rest = self.grouped.values()
            condition = then(condition, say("reason.with", reason=first), *rest)
        told = (verbatim(reason) if isinstance(reason, str) else reason) or condition
        return AlarmEvent(
            id=self.id, ward=self.ward, bed=self.bed, patient=self.patient, device=self.device,
            kind=_KIND[self.kind], signal=self.signal, priority=_PRIORITY[self.priority],
            event=_EVENT[event], state=_STATE[self.state], t=t, value=self.value, reason=told.text, by=by,
            escalation_level=self.escalation_level, drill=self.drill, code=self.code.split(":")[0],
            worst=self.worst if self.worst is not None else self.value,
            condition=self.condition and self.ended_t is None, ended_t=self.ended_t,
            condition_reason=condition.text, peak_priority=_PRIORITY[self.peak_priority],
            latched=not self.condition and self.state != "cleared",
            band=self.band, role=self.role, grouped=[
                GroupedCondition(signal=k.signal, code=k.family, reason=r.text) for k, r in self.grouped.items()],
            reason_key=told.key, reason_params=told.json_params() if told.key else {},
            condition_key=condition.key, condition_params=condition.json_params() if condition.key else {},
        )

    def to_row(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__ if f not in NOT_STORED}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alarm:
        return cls(**{f: row[f] for f in cls.__slots__ if f in row and f not in NOT_STORED})
