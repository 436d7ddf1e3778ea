"""The alerting engine: observations in, alarm events out. Pure, synchronous, time injected.

The same engine runs inside :class:`~alerting.service.AlertingService` (MQTT, state DB) and in
``smartward alarms replay`` (a recording, as fast as it can). Per observation it does a handful of
dict lookups: technical cross-checks, limits with delay and hysteresis, NEWS2 (rescored only when a
parameter's band changed, :mod:`alerting.news2_watch`) and anomaly windows (one detector point per
``anomaly.window_s``, :mod:`alerting.anomaly_watch`), so it keeps up with tens of thousands of
observations per second on one core.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from device_profiles import SIGNALS, AttributedObservation, Attribution, DeviceAlarm, DeviceStatusMessage
from device_profiles.alarm_event import AlarmKind, Priority

from .anomaly_watch import AnomalyWatch
from .conditions import LIMIT, TECHNICAL, Conditions, Patient
from .config import AlarmConfig, EscalationPolicy, LimitRule, PatientOverride
from .events import Alarm, AlarmEvent
from .lifecycle import Lifecycle, worse
from .limits import effective_rule, end_reason, evaluate, implausible, limit_reason
from .news2_watch import SPOT_PARAMETERS, News2Watch, scale2_spo2_rule
from .reasons import HELD, Reason, Term, label, say
from .spot import AlarmCommand, SpotObservation
from .technical import BAD_QUALITY, Reading, cross_check, horizon

LABELS = {name: s.display or name for name, s in SIGNALS.items()}
# the reasons that never change, made once
SIGNAL_BACK, QUALITY_VALID, PLAUSIBLE, DATA_AGAIN, DRILL_ENDED = (
    say(k) for k in ("reason.signalBack", "reason.qualityValid", "reason.plausible", "reason.dataAgain",
                     "reason.drillEnded"))
_QUALITY: dict[tuple[str, str], Reason] = {}  # (signal, quality) -> "RR quality artifact{held}"


def _quality(name: str, q: str) -> Reason:
    r = _QUALITY.get((name, q))
    if r is None:
        word = say(f"quality.{q}") if f"quality.{q}" in _QUALITY_KEYS else Term(f"quality.{q}", q)
        r = _QUALITY[(name, q)] = say("reason.quality", label=label(name), quality=word, held=HELD)
    return r


_QUALITY_KEYS = frozenset({"quality.invalid", "quality.artifact", "quality.questionable"})


class Engine:
    """One ward (or many): feed it with :meth:`observe`, :meth:`status`, :meth:`device_alarm`,
    :meth:`spot`, :meth:`command`, and call :meth:`tick` as time passes; each returns the events caused."""

    def __init__(self, config: AlarmConfig, new_id: Callable[[], str] | None = None) -> None:
        counter = itertools.count(1)
        self.config = config
        self.lifecycle = Lifecycle(config, new_id or (lambda: f"a{next(counter):06d}"))
        self.conditions = Conditions(self.lifecycle)
        self.patients: dict[str, Patient] = {}
        self.overrides: dict[tuple[str, str], PatientOverride] = {
            (p, s): o for p, sigs in config.patients.items() for s, o in sigs.items()}
        self._rules: dict[tuple[str, str], LimitRule | None] = {}
        self._expire_ms = {s: int(config.expire_after(s) * 1000) for s in SIGNALS}
        self._device_expire: dict[str, dict[str, int]] = {}  # device profile expire_after (from its status)
        self._fed_by: dict[str, str] = {}  # device -> the patient key its last sample was attributed to
        self._feeds: dict[str, set[str]] = {}  # patient key -> the devices whose data it gets
        self.news2 = News2Watch(config, self.conditions, self._expire_ms)
        self.anomaly = AnomalyWatch(config, self.conditions)
        self._ignore_unassigned = config.unassigned == "ignore"
        self._next_scan = 0
        self.observations = 0
        self.ended_drills: set[str] = set()  # live drills that ended: their late data is ignored

    # -- configuration ----------------------------------------------------------------------------
    def set_override(self, patient: str, signal: str, override: PatientOverride | None) -> None:
        if override is None:
            self.overrides.pop((patient, signal), None)
        else:
            self.overrides[(patient, signal)] = override
        self._rules.pop((patient, signal), None)

    def set_policy(self, ward: str, policy: EscalationPolicy) -> None:
        self.config = self.config.model_copy(update={"wards": {**self.config.wards, ward: policy}})
        self.lifecycle.config = self.config

    def restore(self, alarms: Iterable[Alarm]) -> None:
        self.lifecycle.restore(alarms)

    def _rule(self, patient: str, signal: str) -> LimitRule | None:
        k = (patient, signal)
        try:
            return self._rules[k]
        except KeyError:
            rule = effective_rule(self.config, signal, self.overrides.get(k))
            q = self.patients.get(patient) if signal == "spo2" else None
            if rule is not None and q is not None and q.spot.get("spo2_scale", (0, 1))[1] == 2:
                rule = scale2_spo2_rule(rule, self.overrides.get(k), self.config.news2.scale2_spo2_shift)
            self._rules[k] = rule = rule if rule is not None and rule.enabled else None
            return rule

    def _patient(self, who: Attribution, device: str) -> Patient:
        key = who.patient or f"device:{device}"
        p = self.patients.get(key)
        if p is None:
            p = self.patients[key] = Patient(key, who, device)
        elif p.who != who or p.device != device:
            p.who, p.device = who, device
        return p

    @property
    def ignores_unassigned(self) -> bool:
        """Data of a device bound to no bed raises nothing (``unassigned: ignore`` in alarms.yaml)."""
        return self._ignore_unassigned

    # -- observations -----------------------------------------------------------------------------
    def observe(self, obs: AttributedObservation) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for s in obs.obs.samples:
            events += self.observe_sample(obs.who, obs.obs.device, s.t, s.values, s.quality)
        return events

    def observe_sample(self, who: Attribution, device: str, t: int, values: dict[str, float],
                       quality: dict[str, str] | None = None) -> list[AlarmEvent]:
        self.observations += 1
        if (not who.ward and self._ignore_unassigned) or (who.drill and who.drill in self.ended_drills):
            return []
        events: list[AlarmEvent] = []
        key = who.patient or f"device:{device}"
        previous = self._fed_by.get(device)
        if previous != key:
            if previous is not None:  # ADT moved the device's data to another patient or bed
                events += self._hand_over(previous, device, t)
            self._fed_by[device] = key
            self._feeds.setdefault(key, set()).add(device)
        p = self._patient(who, device)
        cond = self.conditions
        tech = self.config.technical
        if t >= self._next_scan:
            events += self.tick(t)
        lead_off_open = p.lead_off_key in self.lifecycle.by_key
        checks = cross_check(values, p.last, t, self._expire_ms["pulse_rate"], lead_off_open, quality,
                             lambda name, v: (r := self._rule(p.key, name)) is None or not implausible(r, v))
        for code, (sig, prio_field, reason) in checks.active.items():
            events += cond.set(p, TECHNICAL, sig, code, True, t, tech.delay_s, getattr(tech, prio_field), reason)
        for code in checks.ended:
            sig = "spo2" if code == "probe_off" else "heart_rate"
            events += cond.set(p, TECHNICAL, sig, code, False, t, 0, end_reason=SIGNAL_BACK)
        dev_expire = self._device_expire.get(device)
        judge: list[tuple[str, float, LimitRule]] = []  # usable values with a limit rule, judged after NEWS2
        for name, value in values.items():
            q = quality.get(name, "valid") if quality else "valid"
            rule = self._rule(p.key, name)
            usable = name not in checks.unusable
            watched = (p.key, name) in cond.watch
            if q in BAD_QUALITY and not usable:
                pass  # already a technical alarm of the cross-check (probe off, lead off): one cause, one alarm
            elif q in BAD_QUALITY:
                usable = False
                events += cond.set(p, TECHNICAL, name, "quality", True, t, tech.delay_s, tech.quality_priority,
                                   _quality(name, q))
            elif watched:
                events += cond.end_if_open(p, TECHNICAL, name, "quality", t, QUALITY_VALID)
            if usable and rule is not None and implausible(rule, value):
                usable = False
                events += cond.set(p, TECHNICAL, name, "artefact", True, t, tech.delay_s, tech.quality_priority,
                                   say("reason.implausible", label=label(name), v=f"{value:g}"))
            elif usable and watched:
                events += cond.end_if_open(p, TECHNICAL, name, "artefact", t, PLAUSIBLE)
            prev = p.last.get(name)
            gap = t - prev.t if prev is not None else 0
            h = p.horizon.get(name)
            if h is None or (gap > 0 and gap != p.gaps.get(name)):  # the sampling interval shows or changed
                base = dev_expire.get(name, 0) if dev_expire else 0
                h = p.horizon[name] = horizon(base or self._expire_ms[name], gap or None, p.gaps.get(name))
                if gap > 0:
                    p.gaps[name] = gap
            p.last[name] = Reading(t, value, usable, h)
            self.news2.value(p, name, value, usable, t)
            if usable and rule is not None:
                judge.append((name, value, rule))
            if watched:
                events += cond.end_if_open(p, TECHNICAL, name, "stale", t, DATA_AGAIN)
                cond.unwatch_if_idle(p, name)
        # NEWS2 first, then the limits: a limit condition its NEWS2 alarm explains joins that alarm at
        # once, instead of being raised and taken over by it in the same instant (one cause, one alarm)
        if self.news2.due(p):
            events += self.news2.update(p, t)
        for name, value, rule in judge:
            events += self._limit(p, name, value, rule, t)
        if self.anomaly.enabled:
            events += self.anomaly.add(p, t, values, checks.unusable, quality)
        return events

    def _hand_over(self, previous: str, device: str, t: int) -> list[AlarmEvent]:
        """``device``'s data now belongs to someone else (a discharge, an admission, a transfer, the device
        moved): the patient (or device-only bed) it fed lost no data, the data moved. So no "no data"
        alarm is raised for it, and its open conditions end (their alarms stay latched until
        acknowledged, as any ended alarm). Only when that device was its only feed: a patient with a second
        device keeps being judged on it, and one whose only SpO2 source left does get its "no data" alarm."""
        feeds = self._feeds.get(previous, set())
        feeds.discard(device)
        old = self.patients.get(previous)
        if old is None or feeds:
            return []
        cond = self.conditions
        why = say("reason.handedOver", device=device)
        events: list[AlarmEvent] = []
        for name in list(old.last):
            del old.last[name]
            self.news2.expired(old, name)
            for side in ("low", "high"):
                events += cond.end_if_open(old, LIMIT, name, side, t, why)
        old.stale_since.clear()
        for k in [k for k in (*cond.pending, *self.lifecycle.by_key) if k.patient == old.key and k.kind == TECHNICAL]:
            events += cond.end_if_open(old, TECHNICAL, k.signal, k.family, t, why)
        return events

    def _limit(self, p: Patient, name: str, value: float, rule: LimitRule, t: int) -> list[AlarmEvent]:
        cond = self.conditions
        by_key = self.lifecycle.by_key
        low, high = p.limit_keys.get(name) or p.limits_of(name)
        members = cond.members  # grouped into another alarm of the same cause: hysteresis as if open
        hit = evaluate(rule, value, (low in by_key or low in members, high in by_key or high in members))
        events: list[AlarmEvent] = []
        for side in ("low", "high"):
            if hit is None or hit.side != side:
                k = low if side == "low" else high
                a = by_key.get(k)
                if rule.confirm_samples > 1 and ((a is not None and a.condition) or k in members):
                    # ending is confirmed like onset: one value back inside among values outside is not the end
                    n = cond.ending[k] = cond.ending.get(k, 0) + 1
                    if n < rule.confirm_samples:
                        continue
                    del cond.ending[k]
                if a is not None:
                    events += cond.end_if_open(p, LIMIT, name, side, t,
                                               end_reason(name, value, side, worse(a, a.value)), value)
                elif k in members:
                    events += cond.end_if_open(p, LIMIT, name, side, t, end_reason(name, value, side, None), value)
                else:
                    cond.pending.pop(k, None)
        if hit is not None:
            key = low if hit.side == "low" else high
            if cond.ending:
                cond.ending.pop(key, None)
            a = by_key.get(key)
            reason = limit_reason(name, value, hit, (t - cond.pending.get(key, t)) / 1000,
                              worse(a, value) if a is not None else None)
            events += cond.set(p, LIMIT, name, hit.code, True, t, rule.delay_s, hit.priority, reason, value,
                               samples=1 if hit.critical else rule.confirm_samples)
        return events

    # -- time -------------------------------------------------------------------------------------
    def tick(self, t: int) -> list[AlarmEvent]:
        """Expire stale data (technical 'no data', NEWS2 inputs), silences and escalations."""
        self._next_scan = t + 1000
        events = self.lifecycle.tick(t)
        tech = self.config.technical
        cond = self.conditions
        for p in list(self.patients.values()):
            for name, r in list(p.last.items()):
                if t - r.t <= (r.horizon or self._expire_ms[name]):
                    continue
                del p.last[name]
                self.news2.expired(p, name)
                for side in ("low", "high"):
                    events += cond.end_if_open(p, LIMIT, name, side, t, say("reason.noCurrent", label=label(name)))
                if tech.stale_alarm:
                    p.stale_since[name] = (r.t, r.t)
            for name, (since, cause_seen) in list(p.stale_since.items()):
                if name in p.last:  # data again
                    del p.stale_since[name]
                elif self._explained(p, name):  # one cause, one alarm: not while offline / probe off / lead off
                    p.stale_since[name] = (since, t)
                elif t - cause_seen > p.horizon.get(name, self._expire_ms[name]):  # a whole expiry after the cause
                    del p.stale_since[name]
                    events += cond.set(p, TECHNICAL, name, "stale", True, t, 0, tech.stale_priority,
                                       say("reason.stale", label=label(name), s=f"{(t - since) / 1000:.0f}"))
            self.news2.spot_expiring(p, t)
            if self.news2.due(p):
                events += self.news2.update(p, t)
        if cond.orphans:  # one cause, one alarm: grouped conditions whose alarm ended stand alone now
            events += cond.flush(t)
        return events

    def _explained(self, p: Patient, name: str) -> bool:
        """Whether an open technical condition already tells why ``name`` has no data: the device is
        offline, the SpO2 probe is off (SpO2, pulse rate, perfusion index), or the ECG leads are off
        (heart rate, and impedance respiration, which uses the ECG electrodes)."""
        active, key = self.conditions.active, p.alarm_key
        if active(key(TECHNICAL, None, "offline")):
            return True
        if name in ("spo2", "pulse_rate", "perfusion_index") and active(key(TECHNICAL, "spo2", "probe_off")):
            return True
        return name in ("heart_rate", "resp_rate") and (active(key(TECHNICAL, "heart_rate", "lead_off"))
                                                        or active(key(TECHNICAL, "heart_rate", "unconfirmed_zero")))

    # -- device status and device alarms ----------------------------------------------------------
    def status(self, msg: DeviceStatusMessage) -> list[AlarmEvent]:
        """A device status (``{root}/wards/{ward}/status``, as ingest attributed it): online, battery,
        device technical flags, the profile's staleness horizons."""
        device, who, t = msg.device, msg.who, msg.t
        if (not who.ward and self._ignore_unassigned) or (who.drill and who.drill in self.ended_drills):
            return []
        p = self._patient(who, device)
        tech = self.config.technical
        cond = self.conditions
        events: list[AlarmEvent] = []
        expire = msg.expire_after  # the device profile's per-signal horizon (alarms.yaml wins)
        if expire is not None:
            explicit = self.config.technical.expire_after_s
            new = {k: int(float(v) * 1000) for k, v in expire.items()
                   if k in self._expire_ms and k not in explicit and v > 0}
            if new != self._device_expire.get(device, {}):
                self._device_expire[device] = new
                for q in self.patients.values():
                    if q.device == device:
                        q.horizon.clear()
        if not msg.online:
            events += cond.set(p, TECHNICAL, None, "offline", True, t, 0, tech.offline_priority,
                               say("reason.offline", device=device))
        else:
            events += cond.end_if_open(p, TECHNICAL, None, "offline", t, say("reason.online", device=device))
        battery = msg.battery
        if battery is not None:
            events += cond.set(p, TECHNICAL, None, "battery", battery < tech.low_battery_percent, t, 0,
                               tech.battery_priority, say("reason.battery", device=device, n=f"{battery:.0f}"),
                               float(battery), end_reason=say("reason.batteryNow", n=f"{battery:.0f}"))
        flags = msg.technical
        if flags is not None:
            for raw, on in flags.items():
                code = raw[:40]
                events += cond.set(p, TECHNICAL, None, f"device-{code}", on, t, 0, tech.quality_priority,
                                   say("reason.reports", device=device, code=code),
                                   end_reason=say("reason.resolved", code=code))
        return events

    def device_alarm(self, alarm: DeviceAlarm, who: Attribution) -> list[AlarmEvent]:
        """An alarm the device raised itself (e.g. HL7 ORU^R40), attributed by ingest: it follows
        the same lifecycle (kind ``device`` or ``technical``, the device's priority)."""
        if (not who.ward and self._ignore_unassigned) or (who.drill and who.drill in self.ended_drills):
            return []
        p = self._patient(who, alarm.device)
        kind = TECHNICAL if alarm.kind == "technical" else AlarmKind.DEVICE
        code = "dev-" + alarm.code.replace(":", "_")[:48]
        signal = alarm.signal if alarm.signal in SIGNALS else None
        if alarm.state != "active":  # a clear may not repeat the signal: find the open one by its code
            for k in (*self.lifecycle.by_key, *self.conditions.pending):
                if k.patient == p.key and k.kind == kind and k.family == code:
                    signal = k.signal
                    break
        return self.conditions.set(p, kind, signal, code, alarm.state == "active", alarm.t, 0, Priority(alarm.priority),
                                   say("reason.deviceSays", device=alarm.device, text=alarm.text), alarm.value,
                                   end_reason=say("reason.deviceCleared", device=alarm.device, code=alarm.code))

    # -- people -----------------------------------------------------------------------------------
    def spot(self, obs: SpotObservation) -> list[AlarmEvent]:
        """A nurse's spot observation: ACVPU, air/oxygen, SpO2 scale and manual values."""
        prev = self.patients.get(obs.patient)
        who = prev.who if prev is not None and not obs.ward else Attribution(obs.ward, obs.bed, obs.patient)
        p = self._patient(who, prev.device if prev is not None else "")
        events: list[AlarmEvent] = []
        for name, value in obs.values().items():
            p.news2_dirty = True
            if name in SPOT_PARAMETERS:
                p.spot[name] = (obs.t, value)
                if name in ("consciousness", "supplemental_o2"):
                    p.news2_inputs += 1
                    if value and value != "A":
                        p.news2_obs += 1  # a charted observation that scores confirms a NEWS2 band
                if name == "spo2_scale":  # scale 2 moves the SpO2 limits with it
                    self._rules.pop((p.key, "spo2"), None)
                continue
            p.last[name] = Reading(obs.t, float(value), True)
            self.news2.measured(p, name, float(value), obs.t)
            rule = self._rule(p.key, name)
            if rule is not None:
                events += self._limit(p, name, float(value), rule, obs.t)
        if self.news2.due(p):
            events += self.news2.update(p, obs.t)
        return events

    def remember_spot(self, obs: SpotObservation) -> None:
        """Take a stored spot observation back after a restart, without evaluating anything."""
        who = Attribution(obs.ward, obs.bed, obs.patient)
        p = self._patient(who, self.patients[obs.patient].device if obs.patient in self.patients else "")
        for name, value in obs.values().items():
            if name in SPOT_PARAMETERS:
                p.spot[name] = (obs.t, value)
                self._rules.pop((p.key, "spo2"), None)
            else:
                p.last[name] = Reading(obs.t, float(value), True)
                self.news2.measured(p, name, float(value), obs.t)
        p.news2_dirty = True

    def end_drill(self, drill: str, t: int) -> list[AlarmEvent]:
        """A live drill ended: clear its open alarms, forget its simulated patients and ignore
        its late data, so no drill alarm (e.g. 'no data') outlives the drill."""
        self.ended_drills.add(drill)
        events: list[AlarmEvent] = []
        for a in [a for a in self.lifecycle.by_id.values() if a.drill == drill]:
            events += self.lifecycle.clear(a, t, DRILL_ENDED)
        gone = {k for k, p in self.patients.items() if p.who.drill == drill}
        for k in gone:
            del self.patients[k]
            self.news2.forget(k)
        for key in [k for k in self.conditions.pending if k.patient in gone]:
            del self.conditions.pending[key]
        for counts in (self.conditions.seen, self.conditions.ending):
            for key in [k for k in counts if k.patient in gone]:
                del counts[key]
        self.conditions.watch = {w for w in self.conditions.watch if w[0] not in gone}
        self.conditions.members = {k: m for k, m in self.conditions.members.items() if k.patient not in gone}
        return events

    def command(self, cmd: AlarmCommand, t: int) -> list[AlarmEvent]:
        return self.lifecycle.command(cmd.id, cmd.action, cmd.by, cmd.t or t, cmd.minutes)
