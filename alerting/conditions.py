"""Per-patient state and alarm conditions: the bridge from "this condition holds" to the lifecycle.

A condition is keyed ``(patient, kind, signal, family)``; it must hold ``delay_s`` (since it was first
seen, or since a nurse cleared its alarm) before :class:`~alerting.lifecycle.Lifecycle` raises it,
and ending it ends (or un-latches) the alarm. ``watch`` remembers which (patient, signal) pairs have
technical conditions pending or open, so the hot path skips the end checks for everyone else.

One cause, one alarm: a limit condition that would raise while an alarm of the same cause holds joins
that alarm instead (its text appears in the alarm's reason and ``grouped``): systolic, mean and
diastolic NIBP of one cycle; heart rate and pulse rate on the same side; a NEWS2 alarm takes the limit
conditions of the parameters its score counts (a raised NEWS2 alarm also takes over such open limit
alarms nobody has acted on yet). Critical limit conditions are never grouped. When the alarm they
joined ends (or a NEWS2 score falls below its band) the conditions that still hold are raised on
their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_profiles import Attribution
from device_profiles.alarm_event import AlarmEventType, AlarmKind, AlarmState, Priority

from .anomaly import Protected
from .events import Alarm, AlarmEvent, AlarmKey
from .lifecycle import Lifecycle
from .news2 import News2Result
from .reasons import HELD, Reason, say, verbatim
from .technical import Reading

# the members the hot path passes and compares, bound once (a module global, not an attribute lookup per call)
LIMIT, TECHNICAL, NEWS2, ANOMALY = AlarmKind.LIMIT, AlarmKind.TECHNICAL, AlarmKind.NEWS2, AlarmKind.ANOMALY
LOW = Priority.LOW
ACTIVE, CLEARED = AlarmState.ACTIVE, AlarmState.CLEARED
RAISED, UPDATED = AlarmEventType.RAISED, AlarmEventType.UPDATED
TECHNICAL_SIGNAL_CODES = ("quality", "artefact", "stale")
# Limit conditions of one measurement or one physiological event (same side): they join one alarm.
PARTNERS: dict[str, tuple[str, ...]] = {
    "heart_rate": ("pulse_rate",), "pulse_rate": ("heart_rate",),
    "nibp_sys": ("nibp_mean", "nibp_dia"), "nibp_mean": ("nibp_sys", "nibp_dia"), "nibp_dia": ("nibp_sys", "nibp_mean"),
}
# The NEWS2 parameter (News2Result.scores key) a limit signal contributes to.
NEWS2_PARAMETER = {"resp_rate": "resp_rate", "spo2": "spo2", "nibp_sys": "sbp", "heart_rate": "heart_rate",
                   "pulse_rate": "heart_rate", "temperature": "temperature"}


@dataclass(slots=True)
class Patient:
    """What the engine remembers about one patient (or one device at a bed with nobody admitted)."""

    key: str
    who: Attribution
    device: str
    last: dict[str, Reading] = field(default_factory=dict)
    spot: dict[str, tuple[int, Any]] = field(default_factory=dict)  # consciousness, supplemental_o2, scale
    news2: News2Result | None = None
    news2_dirty: bool = False
    news2_low_since: int = -1
    news2_obs: int = 0  # new observations of NEWS2 parameters that score (confirm a band: confirm_samples)
    news2_obs_seen: int = 0  # news2_obs at the last scoring
    news2_inputs: int = 0  # new observations of any NEWS2 parameter (confirm that a band has ended)
    news2_low_inputs: int = 0  # news2_inputs when the score fell below the band of its open alarm
    param_scores: dict[str, int | None] = field(default_factory=dict)  # NEWS2 score of each latest value
    window_start: int = -1
    window: dict[str, list[float]] = field(default_factory=dict)
    detector: Protected | None = None
    normal_windows: int = 0
    # expired signals whose "no data" alarm waits: (last value's time, last time a cause explained it)
    stale_since: dict[str, tuple[int, int]] = field(default_factory=dict)
    # sampling: the last gap between two samples of a signal and the staleness horizon it gives (ms)
    gaps: dict[str, int] = field(default_factory=dict)
    horizon: dict[str, int] = field(default_factory=dict)
    # this patient's alarm keys, made once (the hot path looks them up instead of building them)
    keys: dict[tuple[AlarmKind, str | None, str], AlarmKey] = field(default_factory=dict)
    limit_keys: dict[str, tuple[AlarmKey, AlarmKey]] = field(default_factory=dict)
    news2_key: AlarmKey = field(init=False)  # looked at for every sample: made with the patient
    lead_off_key: AlarmKey = field(init=False)

    def __post_init__(self) -> None:
        self.news2_key = self.alarm_key(NEWS2, None, "news2")
        self.lead_off_key = self.alarm_key(TECHNICAL, "heart_rate", "lead_off")

    def alarm_key(self, kind: AlarmKind, signal: str | None, code: str) -> AlarmKey:
        """The :class:`AlarmKey` of this patient's condition ``code`` (its family: "low:critical" -> "low")."""
        k = self.keys.get((kind, signal, code))
        if k is None:
            k = self.keys[(kind, signal, code)] = AlarmKey(self.key, kind, signal, code.split(":")[0])
        return k

    def limits_of(self, signal: str) -> tuple[AlarmKey, AlarmKey]:
        """The keys of ``signal``'s low and high limit conditions."""
        ks = self.limit_keys.get(signal)
        if ks is None:
            ks = self.limit_keys[signal] = (self.alarm_key(LIMIT, signal, "low"), self.alarm_key(LIMIT, signal, "high"))
        return ks


class Conditions:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.pending: dict[AlarmKey, int] = {}
        self.watch: set[tuple[str, str]] = set()
        self.members: dict[AlarmKey, tuple[AlarmKey, Alarm]] = {}  # grouped condition -> (its alarm's key, its proto)
        self.orphans: dict[AlarmKey, Alarm] = {}  # grouped conditions whose alarm ended: raised by flush()
        self.seen: dict[AlarmKey, int] = {}  # pending conditions that need confirming samples: samples seen
        self.ending: dict[AlarmKey, int] = {}  # open limit conditions seen back inside: samples (confirm_samples)
        lifecycle.on_end = self._promote

    def active(self, key: AlarmKey) -> bool:
        """Pending or open."""
        return key in self.pending or key in self.lifecycle.by_key

    def set(self, p: Patient, kind: AlarmKind, signal: str | None, code: str, on: bool, t: int, delay_s: float,
            priority: Priority = LOW, reason: Reason | None = None, value: float | None = None,
            end_reason: Reason | None = None, samples: int = 1, fresh: bool = True,
            explains: tuple[str, ...] = ()) -> list[AlarmEvent]:
        """The condition holds (``on``) or not at ``t``; a ``held`` parameter :data:`~alerting.reasons.HELD`
        of ``reason`` becomes " for N s" (``end_reason`` defaults to "condition ended").
        ``value`` is the alarm's current value (when ``on``) or the value that ended the condition.
        Persistence: the condition must hold ``delay_s`` *and* be seen at ``samples`` consecutive calls
        that bring a new observation (``fresh``) since it began (the first call counts as one).
        ``explains``: the signals an anomaly advisory is about (it joins an open alarm explaining them)."""
        key = p.keys.get((kind, signal, code)) or p.alarm_key(kind, signal, code)
        if not on:
            self.pending.pop(key, None)
            if self.orphans:
                self.orphans.pop(key, None)
            if key in self.members:
                return self._leave(key, t)
            if key not in self.lifecycle.by_key:
                return []
            return self.lifecycle.end_condition(key, t, end_reason or say("reason.conditionEnded"), value)
        if kind == TECHNICAL and signal is not None:
            self.watch.add((p.key, signal))
        new = key not in self.pending
        since = self.pending.setdefault(key, t)
        cleared = self.lifecycle.cleared_at.get(key)
        if cleared is not None and since < cleared:
            since = self.pending[key] = cleared
            new = True
        held = t - since
        if samples > 1 or key in self.seen:
            n = self.seen[key] = 1 if new else self.seen.get(key, 1) + (1 if fresh else 0)
            if n < samples and key not in self.lifecycle.by_key and key not in self.members:
                return []  # not yet confirmed by the next sample: one sample is not a condition
        if held < delay_s * 1000:
            return []
        if reason is None:
            reason = verbatim("")
        elif reason.params.get("held") is HELD:
            reason = say(reason.key, **{**reason.params,
                                        "held": say("reason.held", s=f"{held / 1000:.0f}") if held >= 1000 else ""})
        proto = Alarm("", p.who.ward, p.who.bed, p.who.patient, p.device, kind, signal, code, priority, t,
                      reason.text, value, drill=p.who.drill, why=reason)
        if self.orphans:
            self.orphans.pop(key, None)  # judged again now: joins another alarm or stands alone
        if kind == LIMIT and key not in self.lifecycle.by_key and not code.endswith(":critical"):
            leader = self._leader(p, key)
            if leader is not None:
                return self._join(leader, key, proto, t)
        elif kind == ANOMALY and explains and key not in self.lifecycle.by_key:
            leader = self._explaining(p, explains)
            if leader is not None:
                return self._join(leader, key, proto, t)
        # critical now, or its alarm is gone: on its own
        events = self._leave(key, t) if key in self.members else []
        events += self.lifecycle.assert_condition(proto, t, key)
        if kind == NEWS2 and events and events[-1].event == RAISED:
            events += self._absorb(p, self.lifecycle.by_key[key], t)
        return events

    # -- one cause, one alarm ---------------------------------------------------------------------
    def _leader(self, p: Patient, key: AlarmKey) -> Alarm | None:
        """The open alarm (its condition holding) whose cause explains the limit condition ``key``."""
        by_key = self.lifecycle.by_key
        signal, side = key.signal, key.family
        n = by_key.get(p.news2_key)
        param = NEWS2_PARAMETER.get(signal or "")
        if n is not None and n.condition and n.ended_t is None and param is not None and (
                (p.param_scores.get(signal or "") or 0) > 0 or (p.news2 is not None and p.news2.scores.get(param, 0) > 0)):
            return n
        for other in PARTNERS.get(signal or "", ()):
            k = p.alarm_key(LIMIT, other, side)
            a = by_key.get(k)
            if a is None and k in self.members:  # the partner of one measurement is grouped: join its alarm
                a = by_key.get(self.members[k][0])
            if a is not None and a.condition and a.ended_t is None:
                return a
        return None

    def _explaining(self, p: Patient, signals: tuple[str, ...]) -> Alarm | None:
        """The open physiological alarm that already tells the nurse about every signal an anomaly
        advisory is about (a limit alarm of the signal or its partner, a condition grouped into an
        alarm, or a NEWS2 alarm whose score counts the signal), or None. NEWS2 first."""
        by_key = self.lifecycle.by_key
        n = by_key.get(p.news2_key)
        if n is not None and (not n.condition or n.ended_t is not None):
            n = None
        found: Alarm | None = None
        for s in signals:
            param = NEWS2_PARAMETER.get(s)
            if n is not None and param is not None and (
                    (p.param_scores.get(s) or 0) > 0 or (p.news2 is not None and p.news2.scores.get(param, 0) > 0)):
                found = found or n
                continue
            hit: Alarm | None = None
            for sig in (s, *PARTNERS.get(s, ())):
                for k in p.limits_of(sig):
                    a = by_key.get(k)
                    if a is None and k in self.members:
                        a = by_key.get(self.members[k][0])
                    if a is not None and a.condition and a.ended_t is None:
                        hit = a
                        break
                if hit is not None:
                    break
            if hit is None:
                return None
            found = found or hit
        return found

    def _join(self, leader: Alarm, key: AlarmKey, proto: Alarm, t: int) -> list[AlarmEvent]:
        old = self.members.get(key)
        self.members[key] = (leader.key, proto)
        new = key not in leader.grouped
        leader.grouped[key] = proto.reason_now()
        if old is not None and old[0] != leader.key:
            self._leave_alarm(old[0], key)
        if new:
            leader.updated_t = t
            return [leader.event(UPDATED, t)]
        return []

    def _leave_alarm(self, leader_key: AlarmKey, key: AlarmKey) -> Alarm | None:
        a = self.lifecycle.by_key.get(leader_key)
        if a is not None and a.grouped.pop(key, None) is not None:
            return a
        return None

    def _leave(self, key: AlarmKey, t: int) -> list[AlarmEvent]:
        """The grouped condition ``key`` ended (or goes on its own): its alarm no longer shows it."""
        leader_key, _ = self.members.pop(key)
        a = self._leave_alarm(leader_key, key)
        if a is None or a.state == CLEARED:
            return []
        a.updated_t = t
        return [a.event(UPDATED, t)]

    def _promote(self, leader: Alarm, t: int) -> list[AlarmEvent]:
        """``leader``'s condition ended or it was cleared: its grouped conditions are on their own. Those
        that still hold at the next :meth:`flush` (after the rest of this sample was judged: the next
        NIBP values of the same cycle may end them) are raised then - they held their delay already."""
        for key in list(leader.grouped):
            del leader.grouped[key]
            entry = self.members.pop(key, None)
            if entry is not None:
                self.orphans[key] = entry[1]
        return []

    def flush(self, t: int) -> list[AlarmEvent]:
        """Raise the grouped conditions whose alarm ended and that still hold (see :meth:`_promote`)."""
        events: list[AlarmEvent] = []
        orphans, self.orphans = self.orphans, {}
        for key, proto in orphans.items():
            if key in self.pending and key not in self.lifecycle.by_key:
                proto.raised_t = t
                events += self.lifecycle.assert_condition(proto, t)
        return events

    def _absorb(self, p: Patient, news2: Alarm, t: int) -> list[AlarmEvent]:
        """A NEWS2 alarm was raised: it takes over the open limit alarms its score explains that nobody
        has acted on yet (active, not escalated, not critical), and the conditions grouped into them."""
        events: list[AlarmEvent] = []
        for a in [a for k, a in self.lifecycle.by_key.items() if k.patient == p.key and k.kind == LIMIT]:
            if (a.state != ACTIVE or a.escalation_level or not a.condition or a.code.endswith(":critical")
                    or self._leader(p, a.key) is not news2):
                continue
            proto = Alarm("", a.ward, a.bed, a.patient, a.device, a.kind, a.signal, a.code,
                          a.condition_priority or a.priority, t, a.reason, a.value, drill=a.drill, why=a.why)
            moved = dict(a.grouped)
            a.grouped.clear()
            events += self.lifecycle.clear(a, t, say("reason.joinedNews2", reason=news2.reason_now()))
            self.members[a.key] = (news2.key, proto)
            news2.grouped[a.key] = a.reason_now()
            for k, text in moved.items():
                if k in self.members:
                    self.members[k] = (news2.key, self.members[k][1])
                    news2.grouped[k] = text
        if events:
            news2.updated_t = t
            events.append(news2.event(UPDATED, t))
        return events

    def end_if_open(self, p: Patient, kind: AlarmKind, signal: str | None, code: str, t: int,
                    reason: Reason, value: float | None = None) -> list[AlarmEvent]:
        if self.active(p.keys.get((kind, signal, code)) or p.alarm_key(kind, signal, code)):
            return self.set(p, kind, signal, code, False, t, 0, value=value, end_reason=reason)
        return []

    def unwatch_if_idle(self, p: Patient, signal: str) -> None:
        if not any(self.active(p.alarm_key(TECHNICAL, signal, c)) for c in TECHNICAL_SIGNAL_CODES):
            self.watch.discard((p.key, signal))
