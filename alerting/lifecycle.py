"""Alarm lifecycle and escalation: raised -> acknowledged -> silenced for N min -> cleared.

* High priority latches (per the ward's policy): when its condition ends unacknowledged it stays
  active until someone acknowledges it.
* Unacknowledged alarms of the policy's priorities escalate level by level (primary nurse ->
  charge nurse -> clinician -> rapid response after configurable seconds), each step one priority
  louder for limit and device alarms (technical alarms keep their priority; anomaly advisories never
  escalate). This is also the re-alarm: an alarm nobody acknowledged is announced again to the next level.
* NEWS2 alarms follow the RCP 2017 response band of their score (``news2_bands`` of the ward's
  policy): the band sets the priority (never stepped up) and the last role reached (low-medium: ward
  nurses, urgent ward-based response; medium: urgent clinician review; high: emergency response team).
* Escalation stops when the condition has ended (a latched alarm, or a NEWS2 score below its band
  waiting ``clear_after_s``): such an alarm is published with ``condition`` False and is never
  announced again as an active alarm to the next level.
* A silence expires after N minutes: if the condition still holds the alarm sounds again.

Pure and synchronous: time is passed in (ms); every call returns the events it caused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from device_profiles.alarm_event import AlarmEventType, AlarmKind, AlarmState

from .config import AlarmConfig
from .errors import InputError
from .events import RANK, Alarm, AlarmEvent, AlarmKey
from .reasons import Reason, Term, say, then

ACTIONS = ("acknowledge", "silence", "escalate", "clear")
# the members the transitions use, bound once (a module global, not an attribute lookup per call)
LIMIT, NEWS2, DEVICE, ANOMALY = AlarmKind.LIMIT, AlarmKind.NEWS2, AlarmKind.DEVICE, AlarmKind.ANOMALY
ACTIVE, ACKNOWLEDGED, SILENCED, CLEARED = (
    AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED, AlarmState.SILENCED, AlarmState.CLEARED)
RAISED, UPDATED, ESCALATED = AlarmEventType.RAISED, AlarmEventType.UPDATED, AlarmEventType.ESCALATED
# Severity steps up and high priority latches only for physiological alarms; technical alarms escalate
# to the next role at their own priority, anomaly advisories never escalate (never louder than rules).
PHYSIOLOGICAL = frozenset({LIMIT, NEWS2, DEVICE})


# A change of the current value at least this big publishes an "updated" event (a new worst value
# always does; a NEWS2 score does on every change). Smaller wobble only shows in the next event.
MATERIAL_STEP = {"spo2": 2.0, "heart_rate": 5.0, "pulse_rate": 5.0, "resp_rate": 3.0, "nibp_sys": 5.0,
                 "nibp_dia": 5.0, "nibp_mean": 5.0, "temperature": 0.3, "etco2": 3.0}


def clock(t: int) -> str:
    """``t`` (ms) as the ward's wall-clock HH:MM (the server's local time zone)."""
    return time.strftime("%H:%M", time.localtime(t / 1000))


def _lower_is_worse(a: Alarm) -> bool:
    return a.kind == LIMIT and a.code.startswith("low")


def worse(a: Alarm, value: float | None) -> float | None:
    """The alarm's worst value including ``value`` (lowest for a low limit, else highest)."""
    prev = a.worst if a.worst is not None else a.value
    if value is None or prev is None:
        return prev if value is None else value
    return min(prev, value) if _lower_is_worse(a) else max(prev, value)


def material_change(a: Alarm, value: float | None) -> bool:
    """Whether ``value`` differs enough from the last published value to publish an update."""
    old = a.published_value
    kind = a.kind
    if value is None or old is None or (kind != LIMIT and kind != NEWS2):
        return False
    if value == old:
        return False
    if kind == NEWS2:
        return True
    prev_worst = a.worst if a.worst is not None else old
    if (value < prev_worst) if _lower_is_worse(a) else (value > prev_worst):
        return True
    step = MATERIAL_STEP.get(a.signal or "")
    return abs(value - old) >= (step if step is not None else 0.05 * abs(old))


def news2_band(total: float | None) -> str | None:
    """The RCP 2017 response band of an alarming NEWS2 score: >= 7 high, 5-6 medium, else (a single
    parameter scoring 3) low-medium."""
    if total is None:
        return None
    return "high" if total >= 7 else "medium" if total >= 5 else "low-medium"


class Lifecycle:
    """The open (not cleared) alarms of an engine and their transitions."""

    def __init__(self, config: AlarmConfig, new_id: Callable[[], str]) -> None:
        self.config = config
        self.new_id = new_id
        self.by_id: dict[str, Alarm] = {}
        self.by_key: dict[AlarmKey, Alarm] = {}
        self.cleared_at: dict[AlarmKey, int] = {}  # manual clears: the condition must persist anew
        self.just_cleared: dict[str, Alarm] = {}  # cleared since the caller last drained it (to store)
        # called when an alarm's condition ends or it is cleared: the conditions grouped into it that
        # still hold are raised on their own (one cause, one alarm - never a cause lost). The engine's
        # Conditions sets it; a Lifecycle alone has nothing grouped to hand on.
        self.on_end: Callable[[Alarm, int], list[AlarmEvent]] = lambda a, t: []

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Take over open alarms from the state store after a restart."""
        for a in alarms:
            if a.state != CLEARED:
                a.published_value = a.value
                levels = self.config.policy(a.ward).levels
                a.role = levels[min(a.escalation_level, len(levels) - 1)].role
                if a.kind == NEWS2:
                    a.band = news2_band(a.value)
                self.by_id[a.id] = a
                self.by_key[a.key] = a

    def get(self, key: AlarmKey) -> Alarm | None:
        return self.by_key.get(key)

    def alarms_of(self, events: Iterable[AlarmEvent]) -> list[Alarm]:
        """The alarms behind ``events`` (open or just cleared), each once; drains ``just_cleared``."""
        seen: dict[str, Alarm] = {}
        for e in events:
            a = self.by_id.get(e.id) or self.just_cleared.get(e.id)
            if a is not None:
                seen[a.id] = a
        self.just_cleared.clear()
        return list(seen.values())

    # -- conditions -------------------------------------------------------------------------------
    def assert_condition(self, proto: Alarm, t: int, key: AlarmKey | None = None) -> list[AlarmEvent]:
        """The condition of ``proto`` holds (after its delay): raise, or update the open alarm (``key``:
        ``proto.key``, when the caller has it)."""
        key = key or proto.key
        a = self.by_key.get(key)
        if proto.kind == NEWS2:  # the ward's route of the score's response band sets the priority
            band = news2_band(proto.value)
            route = self.config.policy(proto.ward).news2_bands.get(band)  # type: ignore[call-overload]
            if route is not None:
                proto.priority = route.priority
            if a is not None and band is not None:
                a.band = band
            proto.band = band
        if a is None:
            proto.id = self.new_id()
            proto.role = self.config.policy(proto.ward).levels[0].role
            proto.condition_priority = proto.priority
            proto.updated_t = proto.escalated_t = t
            self.by_id[proto.id] = proto
            self.by_key[key] = proto
            return [proto.event(RAISED, t)]
        material = material_change(a, proto.value) or not a.condition
        a.value, a.reason, a.why = proto.value, proto.reason, proto.why  # every event: value and reason agree
        a.worst = worse(a, proto.value)
        a.condition, a.ended_t = True, None
        rank = RANK[proto.priority]
        if rank > RANK[a.condition_priority or a.priority]:
            a.condition_priority = proto.priority
        if rank > RANK[a.priority]:
            a.priority, a.code, a.updated_t = proto.priority, proto.code, t
            if a.state == ACKNOWLEDGED:  # a worse condition needs a new acknowledgement
                a.state, a.escalated_t = ACTIVE, t
            return [a.event(ESCALATED, t, reason=proto.reason_now())]
        if material:  # the text follows the patient: NEWS2 8 -> 10 is published, not kept at 8
            a.updated_t = t
            return [a.event(UPDATED, t)]
        return []

    def note(self, key: AlarmKey, t: int, value: float | None, reason: Reason) -> list[AlarmEvent]:
        """The open alarm ``key`` is still on but its condition is fading (a NEWS2 score below the alarm
        band, waiting ``clear_after_s``): show the current value and why; "updated" if material."""
        a = self.by_key.get(key)
        if a is None or not a.condition:
            return []
        first = a.ended_t is None  # the first note says: the condition is over
        if first:
            a.ended_t = t
        material = material_change(a, value) or first
        a.value, a.worst = value, worse(a, value)
        a.say(reason)
        if material:
            a.updated_t = t
            events = [a.event(UPDATED, t)]
            return events + self.on_end(a, t) if first else events
        return []

    def end_condition(self, key: AlarmKey, t: int, reason: Reason, value: float | None = None) -> list[AlarmEvent]:
        """The condition of the open alarm ``key`` ended at ``t`` (``value``: the value that ended it).
        A latching alarm stays on and says so: "<reason>; condition ended at HH:MM, latched until
        acknowledged" (from then on every event of it, e.g. an escalation, says the same)."""
        a = self.by_key.get(key)
        if a is None or not a.condition:
            return []
        a.condition = False
        a.updated_t = t
        latching = a.kind in PHYSIOLOGICAL and (a.condition_priority or a.priority) in self.config.policy(a.ward).latching
        if latching and (a.state == ACTIVE or a.state == SILENCED):  # acknowledged: nothing left to wait for
            a.ended_t = a.ended_t if a.ended_t is not None else t  # a NEWS2 score ended below its band earlier
            a.value = value
            a.say(then(reason, say("reason.latched", at=clock(a.ended_t))))
            events = [a.event(UPDATED, t)]
            return events + self.on_end(a, t)
        return self._clear(a, t, None, reason)

    def clear(self, a: Alarm, t: int, reason: Reason) -> list[AlarmEvent]:
        """Clear an open alarm whatever its condition: a live drill ended, or the alarm becomes part of
        another alarm of the same cause (that NEWS2 alarm has taken its grouped conditions first; an ended
        drill's are dropped with its patients, so the hand-over of :meth:`_clear` raises none)."""
        return self._clear(a, t, None, reason)

    def _clear(self, a: Alarm, t: int, by: str | None, reason: Reason) -> list[AlarmEvent]:
        a.state = CLEARED
        a.updated_t = t
        self.just_cleared[a.id] = a
        self.by_id.pop(a.id, None)
        if self.by_key.get(a.key) is a:
            del self.by_key[a.key]
        events = [a.event(AlarmEventType.CLEARED, t, by=by, reason=reason)]
        return events + self.on_end(a, t) if a.grouped else events

    # -- commands ---------------------------------------------------------------------------------
    def command(self, alarm_id: str, action: str, by: str, t: int, minutes: float | None = None) -> list[AlarmEvent]:
        a = self.by_id.get(alarm_id)
        if a is None:
            raise InputError("id", f"no open alarm {alarm_id!r} (unknown or already cleared)")
        if action == "acknowledge":
            if a.state == ACKNOWLEDGED:
                return []
            a.state, a.acknowledged_by, a.acknowledged_t, a.silenced_until, a.updated_t = ACKNOWLEDGED, by, t, None, t
            events = [a.event(AlarmEventType.ACKNOWLEDGED, t, by=by, reason=say("reason.acknowledgedBy", by=by))]
            if not a.condition:
                events += self._clear(a, t, by, say("reason.ackAfterEnd"))
            return events
        if action == "silence":
            if minutes is None or not 0 < minutes <= 120:
                raise InputError("minutes", f"{minutes!r}: silence needs minutes between 0 and 120")
            a.state, a.silenced_until, a.updated_t = SILENCED, t + int(minutes * 60_000), t
            return [a.event(AlarmEventType.SILENCED, t, by=by, reason=say("reason.silencedBy", min=f"{minutes:g}", by=by))]
        if action == "escalate":
            return self._escalate(a, t, by, say("reason.escalatedBy", by=by))
        if action == "clear":
            self.cleared_at[a.key] = t
            return self._clear(a, t, by, say("reason.clearedBy", by=by))
        raise InputError("action", f"{action!r} is not one of {', '.join(ACTIONS)}")

    # -- time -------------------------------------------------------------------------------------
    def tick(self, t: int) -> list[AlarmEvent]:
        """Expire silences and escalate unacknowledged alarms whose next level is due."""
        events: list[AlarmEvent] = []
        for a in list(self.by_id.values()):
            if a.state == SILENCED and a.silenced_until is not None and t >= a.silenced_until:
                a.silenced_until = None
                a.state, a.escalated_t, a.updated_t = ACTIVE, t, t
                events.append(a.event(RAISED, t, reason=say("reason.silenceExpired", reason=a.reason_now())))
            if a.state != ACTIVE or a.kind == ANOMALY or not a.condition or a.ended_t is not None:
                continue  # escalation stops when the condition has ended (latched, or a NEWS2 score fading)
            policy = self.config.policy(a.ward)
            if a.priority not in policy.applies_to:
                continue
            nxt = a.escalation_level + 1
            if nxt > policy.ceiling(a.band):  # the NEWS2 band's role is the last one (else the ladder's)
                continue
            wait = policy.levels[nxt].after_s - policy.levels[a.escalation_level].after_s
            if t - a.escalated_t >= wait * 1000:
                secs = (t - a.raised_t) / 1000
                events += self._escalate(a, t, None, say("reason.unacknowledged", s=f"{secs:.0f}"))
        return events

    def _escalate(self, a: Alarm, t: int, by: str | None, why: Reason) -> list[AlarmEvent]:
        policy = self.config.policy(a.ward)
        if a.escalation_level + 1 >= len(policy.levels):
            return []
        a.escalation_level += 1
        a.escalated_t = a.updated_t = t
        if a.state == ACKNOWLEDGED:
            a.state = ACTIVE
        if policy.step_up_severity and a.kind in PHYSIOLOGICAL and a.kind != NEWS2:  # NEWS2: the band's
            a.priority = a.priority.louder()
        role = a.role = policy.levels[a.escalation_level].role
        return [a.event(ESCALATED, t, by=by,
                        reason=say("reason.escalated", why=why, role=Term(f"reason.role.{role}", role),
                                   reason=a.reason_now()))]
