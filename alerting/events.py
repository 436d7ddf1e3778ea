"""Alarms: the state of one alarm, and the event (:class:`device_profiles.AlarmEvent`) it publishes on
every change.

An :class:`Alarm` is the engine's own record (and the row of ``alerting_alarms``): its kind, priorities and
state are the contract's enums (:class:`~device_profiles.AlarmKind`, :class:`~device_profiles.Priority`,
:class:`~device_profiles.AlarmState`), as its events carry them; the state DB stores their strings and
:meth:`Alarm.from_row` turns them back into members. Its ``code`` stays a string: a
:class:`~device_profiles.ConditionCode` (``"low:critical"`` for a critical limit), ``device-…`` or ``dev-…``.
Its reason is a :class:`~alerting.reasons.Reason` (``why``: key + parameters + English);
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
)

from .reasons import Reason, say, then, verbatim

__all__ = ["RANK", "Alarm", "AlarmEvent", "AlarmKey"]
# a priority's rank (None: no priority yet, below every one), keyed by the members themselves: a lookup
# that hits on identity, for the lifecycle's hot path (``Priority.rank`` is a property over string keys)
RANK: dict[Priority | None, int] = {None: -1, **{p: p.rank for p in Priority}}
_ACTIVE, _CLEARED = AlarmState.ACTIVE, AlarmState.CLEARED
NOT_STORED = frozenset({"worst", "ended_t", "published_value", "peak_priority", "band", "role", "grouped", "why"})


class AlarmKey(NamedTuple):
    """What makes an alarm condition unique: one alarm per (patient, kind, signal, family). ``patient`` is
    the patient id, or ``device:{id}`` where nobody is admitted (a drill bed, a device at an empty bed)."""

    patient: str
    kind: AlarmKind
    signal: str | None
    family: str  # the condition family: ``code`` without a ``:critical`` suffix


@dataclass(slots=True)
class Alarm:
    """One alarm from raising to clearing. ``condition`` is whether the alarm condition still holds
    (a latched high-priority alarm stays active after its condition ended, until acknowledged)."""

    id: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: AlarmKind
    signal: str | None
    code: str  # condition code, e.g. "high", "low:critical", "lead_off", "news2", "device-…", "dev-…"
    priority: Priority
    raised_t: int
    reason: str
    value: float | None = None
    state: AlarmState = _ACTIVE
    condition: bool = True
    updated_t: int = 0
    acknowledged_by: str | None = None
    acknowledged_t: int | None = None
    silenced_until: int | None = None
    escalation_level: int = 0
    escalated_t: int = 0
    drill: str = ""
    # priority of the condition itself (escalation steps do not latch); None until raised (stored as "")
    condition_priority: Priority | None = None
    # Not stored in the state DB (after a restart they start again from ``value``):
    worst: float | None = None  # the most extreme value while the alarm was open (lowest / highest / top score)
    ended_t: int | None = None  # when the condition ended (a latched alarm waits for its acknowledgement)
    published_value: float | None = None  # ``value`` as last published: a material change publishes "updated"
    peak_priority: Priority | None = None  # the highest priority the alarm reached (raise, worsening, escalation)
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

    def event(self, event: AlarmEventType, t: int, by: str | None = None,
              reason: Reason | str | None = None) -> AlarmEvent:
        """The event ``event`` of this alarm now. ``value``, ``worst`` and ``condition_reason`` always
        describe the same moment (``reason`` may be an action instead, e.g. "acknowledged by cn"; a plain
        text has no message key)."""
        self.published_value = self.value
        priority = self.priority
        if RANK[priority] >= RANK[self.peak_priority]:
            self.peak_priority = priority
        condition = self.reason_now()
        if self.grouped:
            first, *rest = self.grouped.values()
            condition = then(condition, say("reason.with", reason=first), *rest)
        told = (verbatim(reason) if isinstance(reason, str) else reason) or condition
        return AlarmEvent(
            id=self.id, ward=self.ward, bed=self.bed, patient=self.patient, device=self.device,
            kind=self.kind, signal=self.signal, priority=priority, event=event, state=self.state, t=t,
            value=self.value, reason=told.text, by=by,
            escalation_level=self.escalation_level, drill=self.drill, code=self.code.split(":")[0],
            worst=self.worst if self.worst is not None else self.value,
            condition=self.condition and self.ended_t is None, ended_t=self.ended_t,
            condition_reason=condition.text, peak_priority=self.peak_priority,
            latched=not self.condition and self.state != _CLEARED,
            band=self.band, role=self.role, grouped=[
                GroupedCondition(signal=k.signal, code=k.family, reason=r.text) for k, r in self.grouped.items()],
            reason_key=told.key, reason_params=told.json_params() if told.key else {},
            condition_key=condition.key, condition_params=condition.json_params() if condition.key else {},
        )

    def to_row(self) -> dict[str, Any]:
        """The stored fields (the enums' members are strings already; ``condition_priority`` None is ``""``)."""
        row = {f: getattr(self, f) for f in self.__slots__ if f not in NOT_STORED}
        if row["condition_priority"] is None:
            row["condition_priority"] = ""
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alarm:
        """An alarm from its stored fields: the strings of kind, priorities and state become the contract's
        enum members again (``ValueError`` for a string that is none of them)."""
        fields = {f: row[f] for f in cls.__slots__ if f in row and f not in NOT_STORED}
        fields["kind"], fields["priority"] = AlarmKind(fields["kind"]), Priority(fields["priority"])
        if "state" in fields:
            fields["state"] = AlarmState(fields["state"])
        if "condition_priority" in fields:
            cp = fields["condition_priority"]
            fields["condition_priority"] = Priority(cp) if cp else None
        return cls(**fields)
