"""In-memory ward state for fast snapshots: per bed the latest value and time of each signal, the
device status and battery, spot observations, NEWS2 and the active alarms. Pure and synchronous
(messages in, changed beds out); time is passed in, so tests control it.

Live drills (``drill`` set): drill devices sit on virtual drill beds (``BedState.drill``, tile marked
DRILL) and drill alarms are listed with their ``drill`` tag; drill data never lands on a bed that
holds a patient, and a drill bed disappears when its drill's bindings end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device_profiles import (
    NUMERIC_SIGNALS,
    SIGNALS,
    AlarmEvent,
    AlarmEventType,
    DeviceStatusMessage,
    DrillStateMessage,
    News2Message,
    urgency,
)
from device_profiles.ws_frames import DrillState, ScreenAlarm, screen_alarm

KEY_SIGNALS = ("heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "temperature")
SPOT_FIELDS = ("consciousness", "supplemental_o2", "spo2_scale")
HOME_WARD = "home"  # the virtual ward of home patients (wearables assigned to a patient)


@dataclass(slots=True)
class Reading:
    value: float
    t: int
    quality: str = "valid"


@dataclass(slots=True)
class BedState:
    ward: str
    bed: str
    patient: str = ""
    device: str = ""
    values: dict[str, Reading] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    spot: dict[str, Any] = field(default_factory=dict)
    alarms: dict[str, ScreenAlarm] = field(default_factory=dict)
    expire: dict[str, float] = field(default_factory=dict)
    updated: int = 0
    news2_published: dict[str, Any] | None = None  # alerting's retained NEWS2 of this bed's patient (frames.News2)
    drill: str = ""  # live-drill id: a virtual drill bed, never a patient's
    limits: dict[str, dict[str, float]] = field(default_factory=dict)  # the patient's own alarm limits per signal

    def expire_after(self, signal: str) -> float:
        return self.expire.get(signal, SIGNALS[signal].expire_after_s)

    def tile(self, now: int) -> dict[str, Any]:
        vitals: dict[str, Any] = {}
        for name, r in self.values.items():
            s = SIGNALS[name]
            age = max(0.0, (now - r.t) / 1000)
            vitals[name] = {"value": round(r.value, s.precision), "t": r.t, "age_s": round(age, 1),
                            "stale": age > self.expire_after(name), "unit": s.unit, "label": s.display or name,
                            "quality": r.quality, "expire_after_s": self.expire_after(name)}
        alarms = sorted(self.alarms.values(), key=alarm_sort_key)
        return {"ward": self.ward, "bed": self.bed, "patient": self.patient, "device": self.device,
                "online": self.status.get("online"), "battery": self.status.get("battery"),
                "status_t": self.status.get("t"), "vitals": vitals,
                # alerting's score only (one owner of NEWS2): none published = none shown ("NEWS2 —")
                "news2": self.news2_published,
                "spot": dict(self.spot), "alarms": alarms, "updated": self.updated, "drill": self.drill,
                "limits": self.limits}


def alarm_ended(a: Mapping[str, Any]) -> bool:
    """Whether the alarm's condition is over (a latched alarm waiting for its acknowledgement, or an
    escalated one whose condition ended): such an alarm is listed quietly, below every active one.
    Reads alerting's ``condition``, ``ended_t``, ``latched`` and, if alerting sends it, ``ended``."""
    return (a.get("condition") is False or a.get("ended") is True or a.get("latched") is True or a.get("ended_t") is not None
            or a.get("state") == "cleared")


def alarm_sort_key(a: Mapping[str, Any]) -> tuple[int, int, int, int, int, str]:
    """Real patients' alarms first, live-drill alarms after them; within each: alarms whose condition
    still holds before ended (latched) ones, then priority (high, medium, low: ``urgency``), unacknowledged
    before acknowledged, newest *raised* first (``raised_t``: an update of an alarm never moves it; the
    ``alarmCompare`` of alarms.js is the same order)."""
    return (1 if a.get("drill") else 0, 1 if alarm_ended(a) else 0, urgency(str(a.get("priority"))),
            0 if a.get("state") == "active" else 1, -int(a.get("raised_t") or a.get("t") or 0), str(a.get("id")))


class WardState:
    def __init__(self) -> None:
        self.wards: dict[str, dict[str, BedState]] = {}
        self.device_bed: dict[str, tuple[str, str]] = {}
        self.alarm_bed: dict[str, tuple[str, str]] = {}
        self.alarms: dict[str, dict[str, ScreenAlarm]] = {}  # ward -> id -> alarm as the screens get it
        self.drills: dict[str, DrillStateMessage] = {}  # ward -> retained ``{root}/drill/{ward}`` state (active)
        self.limits: dict[str, dict[str, dict[str, float]]] = {}  # patient -> signal -> own limits (tile marker)

    def bed(self, ward: str, bed: str) -> BedState:
        beds = self.wards.setdefault(ward, {})
        b = beds.get(bed)
        if b is None:
            b = beds[bed] = BedState(ward, bed)
        return b

    def set_assignments(self, devices: dict[str, tuple[str, str]], patients: dict[tuple[str, str], str],
                        drill_beds: dict[tuple[str, str], str] | None = None) -> set[tuple[str, str]]:
        """Current device bindings and bed occupancy (from the ADT tables) and the beds bound to a
        live drill (``drill_beds``: (ward, bed) -> drill id); returns changed beds. Drill beds whose
        drill ended are removed (they are in the result but no longer in :attr:`wards`)."""
        changed: set[tuple[str, str]] = set()
        drill_beds = drill_beds or {}
        for ward, beds in self.wards.items():
            for name in [n for n, b in beds.items() if b.drill and (ward, n) not in drill_beds]:
                for aid in beds.pop(name).alarms:
                    self.alarms.get(ward, {}).pop(aid, None)
                changed.add((ward, name))
        for (ward, bed) in set(devices.values()) | set(patients):
            self.bed(ward, bed)
        device_of = {wb: d for d, wb in devices.items()}
        for ward, beds in self.wards.items():
            for name, b in beds.items():
                patient = patients.get((ward, name), "")
                device = device_of.get((ward, name), "")
                drill = "" if patient else drill_beds.get((ward, name), "")
                if drill != b.drill:
                    b.drill = drill
                    changed.add((ward, name))
                if (patient, device) != (b.patient, b.device):
                    if patient != b.patient:
                        b.values.clear()
                        b.spot.clear()
                        b.news2_published = None
                    elif not patient:  # nobody admitted: the score was the device's
                        b.news2_published = None
                    b.patient, b.device = patient, device
                    b.limits = self.limits.get(patient, {}) if patient else {}
                    changed.add((ward, name))
        self.device_bed = dict(devices)
        return changed

    def observe(self, msg: dict[str, Any]) -> BedState | None:
        """An attributed observation (``{root}/wards/{ward}/obs``); ``None`` when unassigned."""
        ward, bed = msg.get("ward") or "", msg.get("bed") or ""
        if not ward or not bed:
            return None
        b = self._drill_bed(ward, bed, msg.get("drill")) if msg.get("drill") else self.bed(ward, bed)
        if b is None:
            return None
        if msg.get("patient") is not None and str(msg.get("patient") or "") != b.patient:
            b.patient = str(msg.get("patient") or "")
            b.limits = self.limits.get(b.patient, {}) if b.patient else {}
        b.device = str(msg.get("device") or b.device)
        self.device_bed[b.device] = (ward, bed)
        for s in msg.get("samples") or ():
            t = int(s["t"])
            q = s.get("q") or {}
            for name, v in s.items():
                if name in NUMERIC_SIGNALS:
                    old = b.values.get(name)
                    if old is None or t >= old.t:
                        b.values[name] = Reading(float(v), t, str(q.get(name, "valid")))
            b.updated = max(b.updated, t)
        return b

    def _drill_bed(self, ward: str, bed: str, drill: Any) -> BedState | None:
        """The drill bed for drill data, or ``None`` (a patient's bed, or not a bed of that drill)."""
        b = self.wards.get(ward, {}).get(bed)
        if b is None:
            active = self.drills.get(ward)
            if active is None or active.drill != drill:
                return None  # late data of an ended drill must not bring its bed back
            b = self.bed(ward, bed)
            b.drill = str(drill)
        return b if b.drill == drill and not b.patient else None

    def status(self, msg: DeviceStatusMessage) -> BedState | None:
        """A device status as ingest attributes it (``{root}/wards/{ward}/status``); ``None`` when unassigned."""
        if not msg.ward or not msg.bed:
            return None
        b = self._drill_bed(msg.ward, msg.bed, msg.drill) if msg.drill else self.bed(msg.ward, msg.bed)
        if b is None:
            return None
        b.status = {k: v for k, v in (("online", msg.online), ("battery", msg.battery),
                                      ("signal_quality", msg.signal_quality), ("technical", msg.technical),
                                      ("t", msg.t)) if v is not None}
        if msg.expire_after is not None:
            b.expire = {k: float(v) for k, v in msg.expire_after.items() if k in SIGNALS}
        return b

    def spot(self, ward: str, msg: dict[str, Any]) -> BedState | None:
        bed = msg.get("bed") or ""
        if not bed:
            return None
        b = self.bed(ward, bed)
        for k in SPOT_FIELDS:
            if msg.get(k) is not None:
                b.spot[k] = msg[k]
        b.spot["t"] = msg.get("t")
        t = int(msg.get("t") or 0)
        for name in NUMERIC_SIGNALS:
            if isinstance(msg.get(name), int | float):
                b.values[name] = Reading(float(msg[name]), t, "valid")
        return b

    def news2(self, msg: News2Message) -> BedState | None:
        """Alerting's NEWS2 of a patient (``{root}/news2/{ward}/{patient}``, retained): the same score the
        NEWS2 alarms use, including spot observations restored from the state DB. At a bed nobody is
        admitted to (a live drill's bed, a monitor at an empty bed) alerting scores the device
        (``{root}/news2/{ward}/{device}``, ``patient`` empty): taken for the bed that device feeds."""
        ward, bed, patient, device = msg.ward, msg.bed, msg.patient, msg.device
        if not ward or not bed:
            return None
        if patient:
            b = self.bed(ward, bed)
            if b.patient and b.patient != patient:
                return None
        else:
            known = self.wards.get(ward, {}).get(bed)  # never makes a bed (an ended drill's stays gone)
            if known is None or known.patient or not device or known.device != device:
                return None
            b = known
        b.news2_published = {"total": msg.total, "risk": msg.risk.value, "complete": msg.complete,
                             "missing": list(msg.missing)}
        return b

    def alarm_event(self, ev: AlarmEvent) -> tuple[ScreenAlarm, BedState | None]:
        """An alarm event from alerting (validated, typed): the alarm as the screens get it
        (:meth:`keep_condition`) and the bed it changed (see :meth:`alarm`)."""
        screen = self.keep_condition(screen_alarm(ev))
        return screen, self.alarm(screen)

    def keep_condition(self, event: ScreenAlarm) -> ScreenAlarm:
        """An acknowledged / silenced event's ``reason`` is the action ("acknowledged by cn"); a screen
        must keep showing why the alarm is on ("SpO2 84 % below 90 for 15 s"): the action goes to
        ``action``, the alarm's last condition stays ``reason`` (with its message key and parameters)."""
        if event.get("event") not in (AlarmEventType.ACKNOWLEDGED, AlarmEventType.SILENCED):
            return event
        out: ScreenAlarm
        if event.get("condition_reason"):  # alerting sends why the alarm is on, matching the event's value
            out = {**event, "reason": event["condition_reason"], "action": event.get("reason")}
            out.pop("reason_key", None)
            out.pop("reason_params", None)
            if event.get("condition_key"):
                out["reason_key"], out["reason_params"] = event["condition_key"], event.get("condition_params", {})
            return out
        prev = self.alarms.get(str(event.get("ward") or ""), {}).get(str(event.get("id")))
        if prev is None or not prev.get("reason"):
            return event
        # an older event: keep the previous reason (its key too) with the value and worst value it was written for
        out = {**event, "reason": prev["reason"], "action": event.get("reason")}
        out.pop("reason_key", None)
        out.pop("reason_params", None)
        for k in ("value", "worst", "reason_key", "reason_params"):
            if k in prev:
                out[k] = prev[k]
        return out

    def alarm(self, event: ScreenAlarm) -> BedState | None:
        """An alarm state change; cleared alarms leave the bed and the ward list. Sets ``raised_t`` on
        ``event`` (in place, so the frame sent on carries it) when alerting did not."""
        aid, ward, bed = str(event.get("id")), str(event.get("ward") or ""), str(event.get("bed") or "")
        ward_alarms = self.alarms.setdefault(ward, {})
        if event.get("drill"):  # listed (marked by its drill tag) and shown on its drill bed only
            b = self.wards.get(ward, {}).get(bed)
            b = b if b is not None and b.drill == event.get("drill") else None
        else:
            b = self.bed(ward, bed) if ward and bed else None
        if not event.get("raised_t"):  # when it was raised: the list's order, which updates never change
            prev = ward_alarms.get(aid)
            event["raised_t"] = prev["raised_t"] if prev is not None and prev.get("raised_t") else event["t"]
        if event.get("state") == "cleared":
            ward_alarms.pop(aid, None)
            if b is not None:
                b.alarms.pop(aid, None)
        else:
            ward_alarms[aid] = event
            if b is not None:
                b.alarms[aid] = event
        return b

    def set_limits(self, limits: dict[str, dict[str, dict[str, float]]]) -> list[BedState]:
        """Every patient's own alarm limits (patient -> signal -> fields; from alerting's overrides), so a
        tile marks custom limits; returns the beds whose marker changed."""
        self.limits = limits
        changed = []
        for beds in self.wards.values():
            for b in beds.values():
                now = limits.get(b.patient, {}) if b.patient and not b.drill else {}
                if now != b.limits:
                    b.limits = now
                    changed.append(b)
        return changed

    def live_beds(self, ward: str) -> int:
        """The ward's real beds on the platform (a live drill's virtual beds do not count)."""
        return sum(1 for b in self.wards.get(ward, {}).values() if not b.drill)

    def wards_with_beds(self) -> list[str]:
        """Wards with at least one real bed, sorted (for errors naming the wards that exist)."""
        return sorted(w for w in self.wards if self.live_beds(w))

    def ward_alarms(self, ward: str) -> list[ScreenAlarm]:
        return sorted(self.alarms.get(ward, {}).values(), key=alarm_sort_key)

    def set_drill(self, ward: str, msg: DrillStateMessage | None) -> DrillState | None:
        """The retained live-drill state of a ward (``{root}/drill/{ward}``; ``None``/inactive = none): the
        ``drill`` frame the screens get (the DRILL banner)."""
        if msg is None or not msg.active:
            self.drills.pop(ward, None)
            return None
        self.drills[ward] = msg
        return drill_frame(msg)

    def snapshot(self, ward: str, now: int) -> dict[str, Any]:
        beds = sorted(self.wards.get(ward, {}).values(), key=lambda b: (len(b.bed), b.bed))
        return {"type": "snapshot", "ward": ward, "now": now, "beds": [b.tile(now) for b in beds],
                "alarms": self.ward_alarms(ward), "drill": drill_frame(self.drills[ward]) if ward in self.drills else None}


def drill_frame(msg: DrillStateMessage) -> DrillState:
    """An active drill's state as the screens get it (``drill`` frames and the snapshot's ``drill``)."""
    assert msg.started is not None and msg.ends is not None  # DrillStateMessage: always given while active
    return DrillState(drill=msg.drill, active=msg.active, started=msg.started, ends=msg.ends, beds=list(msg.beds),
                      scenarios=None if msg.scenarios is None else list(msg.scenarios))
