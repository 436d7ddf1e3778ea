"""The alerting engine: observations in, alarm events out. Pure, synchronous, time injected.

The same engine runs inside :class:`~alerting.service.AlertingService` (MQTT, state DB) and in
``smartward alarms replay`` (a recording, as fast as it can). Per observation it does a handful of
dict lookups; NEWS2 is rescored only when one of its inputs changed, and the anomaly detector sees
one point per window (``anomaly.window_s``), so the engine keeps up with tens of thousands of
observations per second on one core.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from device_profiles import SIGNALS, AttributedObservation, Attribution, DeviceAlarm

from .anomaly import Protected, make_detector
from .config import AlarmConfig, EscalationPolicy, LimitRule, PatientOverride
from .events import Alarm, AlarmEvent
from .lifecycle import Key, Lifecycle
from .limits import describe, effective_rule, evaluate, implausible
from .news2 import (
    News2Input,
    News2Result,
    score,
    score_pulse,
    score_resp_rate,
    score_sbp,
    score_spo2,
    score_temperature,
)
from .spot import AlarmCommand, SpotObservation
from .technical import BAD_QUALITY, Reading, cross_check

LABELS = {name: s.display or name for name, s in SIGNALS.items()}
PARAM_SCORES = {"resp_rate": score_resp_rate, "nibp_sys": score_sbp, "heart_rate": score_pulse,
                "pulse_rate": score_pulse, "temperature": score_temperature}
NEWS2_SIGNALS = frozenset({"resp_rate", "spo2", "nibp_sys", "heart_rate", "pulse_rate", "temperature"})


@dataclass(slots=True)
class Patient:
    key: str
    who: Attribution
    device: str
    last: dict[str, Reading] = field(default_factory=dict)
    spot: dict[str, tuple[int, Any]] = field(default_factory=dict)
    news2_dirty: bool = False
    news2: News2Result | None = None
    window_start: int = -1
    window: dict[str, list[float]] = field(default_factory=dict)
    detector: Protected | None = None
    normal_windows: int = 0
    news2_low_since: int = -1
    param_scores: dict[str, int | None] = field(default_factory=dict)  # NEWS2 score of each latest value


class Engine:
    """One ward (or many): feed it with :meth:`observe`, :meth:`status`, :meth:`spot`,
    :meth:`command`, and call :meth:`tick` as time passes; each returns the alarm events caused."""

    def __init__(self, config: AlarmConfig, new_id: Callable[[], str] | None = None) -> None:
        counter = itertools.count(1)
        self.config = config
        self.lifecycle = Lifecycle(config, new_id or (lambda: f"a{next(counter):06d}"))
        self.patients: dict[str, Patient] = {}
        self.overrides: dict[tuple[str, str], PatientOverride] = {
            (p, s): o for p, sigs in config.patients.items() for s, o in sigs.items()}
        self._rules: dict[tuple[str, str], LimitRule | None] = {}
        self._pending: dict[Key, int] = {}
        self._next_scan = 0
        self._expire_ms = {s: int(config.expire_after(s) * 1000) for s in SIGNALS}
        self.observations = 0
        self._ignore_unassigned = config.unassigned == "ignore"
        self._watch: set[tuple[str, str]] = set()  # (patient, signal) with a technical condition pending/open

    # -- configuration ----------------------------------------------------------------------------
    def set_override(self, patient: str, signal: str, override: PatientOverride | None) -> None:
        if override is None:
            self.overrides.pop((patient, signal), None)
        else:
            self.overrides[(patient, signal)] = override
        self._rules.pop((patient, signal), None)

    def set_policy(self, ward: str, policy: EscalationPolicy) -> None:
        wards = dict(self.config.wards)
        wards[ward] = policy
        self.config = self.config.model_copy(update={"wards": wards})
        self.lifecycle.config = self.config

    def restore(self, alarms: Iterable[Alarm]) -> None:
        self.lifecycle.restore(alarms)

    def _rule(self, patient: str, signal: str) -> LimitRule | None:
        k = (patient, signal)
        try:
            return self._rules[k]
        except KeyError:
            rule = effective_rule(self.config, signal, self.overrides.get(k))
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

    # -- conditions -------------------------------------------------------------------------------
    def _condition(self, p: Patient, kind: str, signal: str | None, code: str, on: bool, t: int, delay_s: float,
                   priority: str = "low", reason: str = "", value: float | None = None,
                   end_reason: str = "condition ended") -> list[AlarmEvent]:
        key: Key = (p.key, kind, signal, code.split(":")[0])
        if not on:
            self._pending.pop(key, None)
            return self.lifecycle.end_condition(key, t, end_reason) if key in self.lifecycle.by_key else []
        if kind == "technical" and signal is not None:
            self._watch.add((p.key, signal))
        since = self._pending.setdefault(key, t)
        cleared = self.lifecycle.cleared_at.get(key)
        if cleared is not None and since < cleared:
            since = self._pending[key] = cleared
        held = t - since
        if held < delay_s * 1000:
            return []
        if "{held}" in reason:
            reason = reason.replace("{held}", f" for {held / 1000:.0f} s" if held >= 1000 else "")
        proto = Alarm("", p.who.ward, p.who.bed, p.who.patient, p.device, kind, signal, code, priority, t,
                      reason, value, drill=p.who.drill)
        return self.lifecycle.assert_condition(proto, t)

    # -- inputs -----------------------------------------------------------------------------------
    def observe(self, obs: AttributedObservation) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for s in obs.obs.samples:
            events += self.observe_sample(obs.who, obs.obs.device, s.t, s.values, s.quality)
        return events

    def observe_sample(self, who: Attribution, device: str, t: int, values: dict[str, float],
                       quality: dict[str, str] | None = None) -> list[AlarmEvent]:
        self.observations += 1
        if not who.ward and self._ignore_unassigned:
            return []
        p = self._patient(who, device)
        tech = self.config.technical
        events: list[AlarmEvent] = []
        if t >= self._next_scan:
            events += self.tick(t)
        lead_off_open = (p.key, "technical", "heart_rate", "lead_off") in self.lifecycle.by_key
        checks = cross_check(values, p.last, t, self._expire_ms.get("pulse_rate", 30_000), lead_off_open)
        for code, (sig, prio_field, reason) in checks.active.items():
            events += self._condition(p, "technical", sig, code, True, t, tech.delay_s, getattr(tech, prio_field), reason)
        for code in checks.ended:
            sig = "spo2" if code == "probe_off" else "heart_rate"
            events += self._condition(p, "technical", sig, code, False, t, 0, end_reason="signal back")
        for name, value in values.items():
            q = quality.get(name, "valid") if quality else "valid"
            rule = self._rule(p.key, name)
            usable = name not in checks.unusable
            watched = (p.key, name) in self._watch
            if q in BAD_QUALITY:
                usable = False
                events += self._condition(p, "technical", name, "quality", True, t, tech.delay_s,
                                          tech.quality_priority, f"{LABELS[name]} quality {q}{{held}}")
            elif watched:
                events += self._end_if_open(p, "technical", name, "quality", t, "quality valid again")
            if usable and rule is not None and implausible(rule, value):
                usable = False
                events += self._condition(p, "technical", name, "artefact", True, t, tech.delay_s,
                                          tech.quality_priority,
                                          f"{LABELS[name]} {value:g} is implausible: artefact suspected")
            elif usable and watched:
                events += self._end_if_open(p, "technical", name, "artefact", t, "plausible again")
            p.last[name] = Reading(t, value, usable)
            if name in NEWS2_SIGNALS:  # rescore only when this parameter's band changed
                sc = self._param_score(p, name, value) if usable else None
                if p.param_scores.get(name, -1) != sc:
                    p.param_scores[name] = sc
                    p.news2_dirty = True
            if usable and rule is not None:
                events += self._limit(p, name, value, rule, t)
            if watched:
                events += self._end_if_open(p, "technical", name, "stale", t, "data again")
                if not any((p.key, "technical", name, c) in self._pending
                           or (p.key, "technical", name, c) in self.lifecycle.by_key
                           for c in ("quality", "artefact", "stale")):
                    self._watch.discard((p.key, name))
        if self.config.news2.enabled and (p.news2_dirty or self._news2_pending(p)):
            events += self._news2(p, t)
        if self.config.anomaly.enabled:
            events += self._anomaly(p, t, values, checks.unusable, quality)
        return events

    def _end_if_open(self, p: Patient, kind: str, signal: str | None, code: str, t: int,
                     reason: str) -> list[AlarmEvent]:
        key: Key = (p.key, kind, signal, code)
        if key in self._pending or key in self.lifecycle.by_key:
            return self._condition(p, kind, signal, code, False, t, 0, end_reason=reason)
        return []

    def _limit(self, p: Patient, name: str, value: float, rule: LimitRule, t: int) -> list[AlarmEvent]:
        by_key = self.lifecycle.by_key
        low_open = (p.key, "limit", name, "low") in by_key
        high_open = (p.key, "limit", name, "high") in by_key
        hit = evaluate(rule, value, (low_open, high_open))
        events: list[AlarmEvent] = []
        for side in ("low", "high"):
            if hit is None or hit.side != side:
                key: Key = (p.key, "limit", name, side)
                if key in self._pending or key in by_key:
                    events += self._condition(p, "limit", name, side, False, t, 0,
                                              end_reason=f"{SIGNALS[name].display or name} {value:g} back within limits")
        if hit is not None:
            since = self._pending.get((p.key, "limit", name, hit.side), t)
            reason = describe(name, value, hit, (t - since) / 1000)
            events += self._condition(p, "limit", name, hit.code, True, t, rule.delay_s, hit.priority, reason, value)
        return events

    # -- NEWS2 ------------------------------------------------------------------------------------
    def _fresh(self, p: Patient, name: str, t: int) -> float | None:
        r = p.last.get(name)
        if r is None or not r.usable or t - r.t > self._expire_ms[name]:
            return None
        return r.value

    def _held(self, p: Patient, name: str, t: int) -> Any:
        v = p.spot.get(name)
        if v is None:
            return None
        hold = self.config.news2.hold_s.get(name)
        return v[1] if hold is None or t - v[0] <= hold * 1000 else None

    def news2_input(self, p: Patient, t: int) -> News2Input:
        hr = self._fresh(p, "heart_rate", t)
        return News2Input(
            resp_rate=self._fresh(p, "resp_rate", t), spo2=self._fresh(p, "spo2", t),
            spo2_scale=int(p.spot.get("spo2_scale", (0, 1))[1]),
            supplemental_o2=self._held(p, "supplemental_o2", t), sbp=self._fresh(p, "nibp_sys", t),
            heart_rate=hr if hr is not None else self._fresh(p, "pulse_rate", t),
            consciousness=self._held(p, "consciousness", t), temperature=self._fresh(p, "temperature", t),
        )

    def _param_score(self, p: Patient, name: str, value: float) -> int:
        if name == "spo2":
            scale = int(p.spot.get("spo2_scale", (0, 1))[1])
            return score_spo2(value, scale, bool(p.spot.get("supplemental_o2", (0, False))[1]))
        return PARAM_SCORES[name](value)

    def _news2_pending(self, p: Patient) -> bool:
        """A NEWS2 condition waiting for its delay, or an open one waiting to clear, needs rescoring."""
        key: Key = (p.key, "news2", None, "news2")
        return key in self._pending or p.news2_low_since >= 0

    def _news2(self, p: Patient, t: int) -> list[AlarmEvent]:
        p.news2_dirty = False
        r = score(self.news2_input(p, t))
        p.news2 = r
        priority = r.alarm_priority if (r.complete or self.config.news2.alarm_on_incomplete) else None
        if priority is None:
            self._pending.pop((p.key, "news2", None, "news2"), None)
            if (p.key, "news2", None, "news2") not in self.lifecycle.by_key:
                p.news2_low_since = -1
                return []
            if p.news2_low_since < 0:
                p.news2_low_since = t
            if t - p.news2_low_since < self.config.news2.clear_after_s * 1000:
                p.news2_dirty = True  # look again once the clearing time has passed
                return []
            return self._end_if_open(p, "news2", None, "news2", t, f"NEWS2 {r.total}: {r.risk.value} risk")
        p.news2_low_since = -1
        reason = f"NEWS2 {r.total}: {r.risk.value} risk, {r.response}; observations {r.frequency}"
        if not r.complete:
            reason = (f"NEWS2 at least {r.total} (incomplete, missing {', '.join(r.missing)}): "
                      f"{r.risk.value} risk, {r.response}; observations {r.frequency}")
        return self._condition(p, "news2", None, "news2", True, t, self.config.news2.delay_s, priority, reason,
                               float(r.total))

    # -- anomaly advisories -----------------------------------------------------------------------
    def _anomaly(self, p: Patient, t: int, values: dict[str, float], unusable: set[str],
                 quality: dict[str, str] | None) -> list[AlarmEvent]:
        cfg = self.config.anomaly
        events: list[AlarmEvent] = []
        if p.window_start >= 0 and t - p.window_start >= cfg.window_s * 1000:
            events += self._close_window(p, t)
        if p.window_start < 0:
            p.window_start = t
        for name in cfg.signals:
            v = values.get(name)
            if v is None or name in unusable or (quality and quality.get(name, "valid") != "valid"):
                continue
            r = p.last.get(name)
            if r is not None and r.usable:
                p.window.setdefault(name, []).append(v)
        return events

    def _close_window(self, p: Patient, t: int) -> list[AlarmEvent]:
        cfg = self.config.anomaly
        x = {k: sum(v) / len(v) for k, v in p.window.items() if v}
        p.window = {}
        p.window_start = -1
        if not x:
            return []
        if p.detector is None:
            p.detector = make_detector(cfg.detector, cfg.threshold, cfg.warmup)
        verdict = p.detector.process_one(x)
        if verdict.anomalous:
            p.normal_windows = 0
            return self._condition(p, "anomaly", None, "anomaly", True, t, 0, "low",
                                   f"unusual for this patient: {verdict.explain()}", round(verdict.score, 2))
        p.normal_windows += 1
        if p.normal_windows >= cfg.clear_after:
            return self._end_if_open(p, "anomaly", None, "anomaly", t, "back to this patient's baseline")
        return []

    # -- time, status, spot values, commands ------------------------------------------------------
    def tick(self, t: int) -> list[AlarmEvent]:
        """Expire stale data (technical 'no data', NEWS2 inputs), silences and escalations."""
        self._next_scan = t + 1000
        events = self.lifecycle.tick(t)
        tech = self.config.technical
        for p in list(self.patients.values()):
            for name, r in list(p.last.items()):
                if t - r.t <= self._expire_ms[name]:
                    continue
                del p.last[name]
                if name in NEWS2_SIGNALS:
                    p.param_scores.pop(name, None)
                    p.news2_dirty = True
                label = SIGNALS[name].display or name
                for side in ("low", "high"):
                    events += self._end_if_open(p, "limit", name, side, t, f"no current {label} data")
                if tech.stale_alarm:
                    events += self._condition(
                        p, "technical", name, "stale", True, t, 0, tech.stale_priority,
                        f"no {label} data for {(t - r.t) / 1000:.0f} s (sensor off or device offline)")
            if not p.news2_dirty:
                for name, (ts, _) in p.spot.items():
                    hold = self.config.news2.hold_s.get(name)
                    if hold is not None and ts + hold * 1000 <= t < ts + hold * 1000 + 1000:
                        p.news2_dirty = True
            if self.config.news2.enabled and (p.news2_dirty or self._news2_pending(p)):
                events += self._news2(p, t)
        return events

    def status(self, msg: dict[str, Any]) -> list[AlarmEvent]:
        """A device status (``{root}/wards/{ward}/status``): online, battery, device technical flags."""
        device = str(msg.get("device") or "")
        who = Attribution(str(msg.get("ward") or ""), str(msg.get("bed") or ""), str(msg.get("patient") or ""),
                          str(msg.get("drill") or ""))
        t = int(msg["t"])
        if not who.ward and self._ignore_unassigned:
            return []
        p = self._patient(who, device)
        tech = self.config.technical
        events: list[AlarmEvent] = []
        online = msg.get("online")
        if online is False:
            events += self._condition(p, "technical", None, "offline", True, t, 0, tech.offline_priority,
                                      f"device {device} offline")
        elif online is True:
            events += self._end_if_open(p, "technical", None, "offline", t, f"device {device} online")
        battery = msg.get("battery")
        if isinstance(battery, int | float):
            low = battery < tech.low_battery_percent
            events += self._condition(p, "technical", None, "battery", low, t, 0, tech.battery_priority,
                                      f"device {device} battery {battery:.0f} %", float(battery),
                                      end_reason=f"battery {battery:.0f} %")
        flags = msg.get("technical")
        if isinstance(flags, dict):
            for code, on in flags.items():
                code = f"device-{str(code)[:40]}"
                events += self._condition(p, "technical", None, code, bool(on), t, 0, tech.quality_priority,
                                          f"device {device} reports {code[7:]}", end_reason=f"{code[7:]} resolved")
        return events

    def device_alarm(self, alarm: DeviceAlarm, who: Attribution) -> list[AlarmEvent]:
        """An alarm the device raised itself (e.g. HL7 ORU^R40), attributed by ingest: it follows
        the same lifecycle (kind ``device`` or ``technical``, the device's priority)."""
        if not who.ward and self._ignore_unassigned:
            return []
        p = self._patient(who, alarm.device)
        kind = "technical" if alarm.kind == "technical" else "device"
        code = "dev-" + alarm.code.replace(":", "_")[:48]
        signal = alarm.signal if alarm.signal in SIGNALS else None
        if alarm.state != "active":  # a clear may not repeat the signal: find the open one by its code
            for k in (*self.lifecycle.by_key, *self._pending):
                if k[0] == p.key and k[1] == kind and k[3] == code:
                    signal = k[2]
                    break
        return self._condition(p, kind, signal, code, alarm.state == "active", alarm.t, 0, alarm.priority,
                               f"device {alarm.device}: {alarm.text}", alarm.value,
                               end_reason=f"device {alarm.device}: {alarm.code} cleared")

    def spot(self, obs: SpotObservation) -> list[AlarmEvent]:
        """A nurse's spot observation: ACVPU, air/oxygen, SpO2 scale and manual values."""
        prev = self.patients.get(obs.patient)
        who = prev.who if prev is not None and not obs.ward else Attribution(obs.ward, obs.bed, obs.patient)
        p = self._patient(who, prev.device if prev is not None else "")
        events: list[AlarmEvent] = []
        for name, value in obs.values().items():
            if name in ("consciousness", "supplemental_o2", "spo2_scale"):
                p.spot[name] = (obs.t, value)
                p.news2_dirty = True
                continue
            p.last[name] = Reading(obs.t, float(value), True)
            p.news2_dirty = True
            rule = self._rule(p.key, name)
            if rule is not None:
                events += self._limit(p, name, float(value), rule, obs.t)
        if p.news2_dirty and self.config.news2.enabled:
            events += self._news2(p, obs.t)
        return events

    def command(self, cmd: AlarmCommand, t: int) -> list[AlarmEvent]:
        return self.lifecycle.command(cmd.id, cmd.action, cmd.by, cmd.t or t, cmd.minutes)
