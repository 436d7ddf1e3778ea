"""NEWS2 kept current for every patient from monitor data plus nurse spot values.

Monitor values enter through :class:`~alerting.news2_window.ScoreWindow`: a streamed signal counts
as the median of its valid samples in the last ``news2.window_s`` once there are ``min_samples`` of
them, an intermittent measurement (NIBP cycle, charted or spot value) counts alone while current.
Samples the artefact guards refused (quality, implausible, cross-checks) never enter. Heart rate
falls back to the pulse rate while the ECG gives no robust value. The score is recomputed only when
a parameter's band changed, a spot value arrived, a value expired, or a condition is waiting (delay
before raising, ``clear_after_s`` before clearing). The response band drives the alarm (low-medium
and medium -> medium priority, high -> high); an incomplete set alarms on the score it already
guarantees (``alarm_on_incomplete``) and says what is missing.

Consciousness ``C`` scores 3 (new confusion) when the nurse confirmed it is new (spot
``new_confusion: true``); confirmed not new (the patient's known baseline) it scores as alert; not
confirmed, it counts as new (``unconfirmed_confusion: new``, the default: the RCP's "considered new
until confirmed otherwise") or, where the ward wants confirmation first, as missing (``missing``:
the result asks for it). In the wards of
``news2.suspend_sedated`` a patient marked ventilated or sedated has NEWS2 suspended: the result says
so and no NEWS2 alarm stands (limit and technical alarms go on).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .conditions import NEWS2, Conditions, Patient
from .config import AlarmConfig, LimitRule, PatientOverride
from .events import AlarmEvent
from .news2 import (
    News2Input,
    News2Result,
    Risk,
    score,
    score_pulse,
    score_resp_rate,
    score_sbp,
    score_spo2,
    score_temperature,
)
from .news2_window import DUPLICATE, SKIPPED, ScoreWindow
from .reasons import Reason, Term, memo, say, term, then

PARAM_SCORES = {"resp_rate": score_resp_rate, "nibp_sys": score_sbp, "heart_rate": score_pulse,
                "pulse_rate": score_pulse, "temperature": score_temperature}
NEWS2_SIGNALS = frozenset({"resp_rate", "spo2", "nibp_sys", "heart_rate", "pulse_rate", "temperature"})
# Parameters whose NEWS2 score rises step by step to 3 (the hysteresis of a single red parameter applies
# to them; supplemental O2 (2) and consciousness (3) are yes/no)
GRADED = frozenset({"resp_rate", "spo2", "sbp", "heart_rate", "temperature"})
SPOT_PARAMETERS = frozenset({"consciousness", "new_confusion", "supplemental_o2", "spo2_scale", "sedated",
                             "ventilated"})


# the keys of the RCP chart's phrases (alerting.news2 RESPONSE, OBSERVATION_FREQUENCY)
_RESPONSE = {"zero": "reason.response.zero", Risk.LOW: "reason.response.low", Risk.LOW_MEDIUM: "reason.response.lowMedium",
             Risk.MEDIUM: "reason.response.medium", Risk.HIGH: "reason.response.high"}
_FREQUENCY = {"zero": "reason.freq.12h", Risk.LOW: "reason.freq.4to6h", Risk.LOW_MEDIUM: "reason.freq.1h",
              Risk.MEDIUM: "reason.freq.1h", Risk.HIGH: "reason.freq.continuous"}


_MISSING: dict[tuple[str, ...], list[str | Reason | Term]] = {}
_MAIN: dict[tuple[int, Risk, bool, tuple[str, ...], bool], Reason] = {}  # see News2Watch._main
_RAISED: dict[tuple[int, Risk, bool, tuple[str, ...], bool], Reason] = {}


def _missing(r: News2Result) -> list[str | Reason | Term]:
    """The missing parameters as terms (the same few lists over and over: made once each)."""
    key = tuple(r.missing)
    out = _MISSING.get(key)
    if out is None:
        out = _MISSING[key] = [term(f"reason.param.{m}") for m in r.missing]
    return out


def score_reason(r: News2Result, unconfirmed_c: bool = False) -> Reason:
    """"NEWS2 7", or "NEWS2 at least 5 (incomplete, missing ...)": the start of every NEWS2 alarm reason."""
    if r.complete:
        return say("reason.news2Total", total=str(r.total))
    note = unconfirmed_c and "consciousness" in r.missing
    return say("reason.news2FloorNote" if note else "reason.news2Floor", total=str(r.total), missing=_missing(r))


def response_reason(r: News2Result) -> Reason:
    """:attr:`News2Result.response` (of a score that is not suspended) as a reason."""
    if not r.complete:
        if r.risk is Risk.LOW:
            return say("reason.notLow", missing=_missing(r))
        return then(term(_RESPONSE[r.risk]), say("reason.obtain", missing=_missing(r)))
    return term(_RESPONSE["zero" if r.total == 0 and r.risk is Risk.LOW else r.risk])


def frequency_reason(r: News2Result) -> Reason:
    """:attr:`News2Result.frequency` (of a score that is not suspended) as a reason."""
    if not r.complete and r.risk is Risk.LOW:
        return say("reason.obtainNow", missing=_missing(r))
    return term(_FREQUENCY["zero" if r.total == 0 and r.risk is Risk.LOW else r.risk])


class News2Watch:
    def __init__(self, config: AlarmConfig, conditions: Conditions, expire_ms: dict[str, int]) -> None:
        self.config = config.news2
        self.enabled = config.news2.enabled
        self.conditions = conditions
        self.expire_ms = expire_ms
        self.window_ms = int(config.news2.window_s * 1000)
        self.min_samples = config.news2.min_samples
        self.windows: dict[str, dict[str, ScoreWindow]] = {}  # patient key -> signal -> recent valid samples
        self.duplicates = 0  # samples of one signal at one time (the worse one counted)
        self.changed: list[tuple[Patient, int]] = []  # patients whose NEWS2 result changed (drain())
        self.track_changes = False

    def drain(self) -> list[tuple[Patient, int]]:
        self.track_changes = True
        out, self.changed = self.changed, []
        return out

    def _window(self, p: Patient, name: str) -> ScoreWindow:
        ws = self.windows.get(p.key)
        if ws is None:
            ws = self.windows[p.key] = {}
        w = ws.get(name)
        if w is None:
            w = ws[name] = ScoreWindow(name)
        return w

    def _horizon(self, p: Patient, name: str) -> int:
        return p.horizon.get(name) or self.expire_ms[name]

    def _robust(self, p: Patient, name: str, t: int) -> float | None:
        ws = self.windows.get(p.key)
        w = ws.get(name) if ws is not None else None
        return None if w is None else w.robust(t, self.window_ms, self.min_samples, self._horizon(p, name))

    def _rescore_param(self, p: Patient, name: str, w: ScoreWindow, t: int) -> None:
        m = w.middle(t, self.window_ms, self.min_samples, p.horizon.get(name) or self.expire_ms[name])
        if m is None:
            sc: int | None = None
        else:
            lo, hi = m
            if name == "spo2":
                spot = p.spot
                scale = int(spot["spo2_scale"][1]) if "spo2_scale" in spot else 1
                o2 = bool(spot["supplemental_o2"][1]) if "supplemental_o2" in spot else False
                sc = score_spo2(lo, scale, o2)
                if hi != lo:
                    sc = max(sc, score_spo2(hi, scale, o2))
            else:
                f = PARAM_SCORES[name]
                sc = f(lo) if hi == lo else max(f(lo), f(hi))  # the worse of the two middle values
        if p.param_scores.get(name, -1) != sc:
            p.param_scores[name] = sc
            p.news2_dirty = True

    def value(self, p: Patient, name: str, value: float, usable: bool, t: int) -> None:
        """A new monitor value (``usable``: passed the artefact guards): rescore if the band changed."""
        if name not in NEWS2_SIGNALS:
            return
        ws = self.windows.get(p.key)
        w = ws.get(name) if ws is not None else None
        if w is None:
            w = self._window(p, name)
        if usable:
            added = w.add(t, value, self.window_ms)
            if added == SKIPPED:
                return  # the window is as it was
            if added == DUPLICATE:
                self.duplicates += 1
        else:
            w.evict(t, self.window_ms)
        self._rescore_param(p, name, w, t)
        if usable:
            p.news2_inputs += 1
            if p.param_scores.get(name):
                p.news2_obs += 1  # a new observation of a parameter that scores: confirms a band

    def measured(self, p: Patient, name: str, value: float, t: int) -> None:
        """A nurse's manual value: an observation that counts alone."""
        if name in NEWS2_SIGNALS:
            w = self._window(p, name)
            w.measured(t, value, self.window_ms)
            self._rescore_param(p, name, w, t)
            p.news2_dirty = True
            p.news2_inputs += 1
            if p.param_scores.get(name):
                p.news2_obs += 1

    def expired(self, p: Patient, name: str) -> None:
        if name in NEWS2_SIGNALS:
            ws = self.windows.get(p.key)
            if ws is not None and name in ws:
                ws[name].stale = True
            p.param_scores.pop(name, None)
            p.news2_dirty = True

    def forget(self, patient_key: str) -> None:
        self.windows.pop(patient_key, None)

    def spot_expiring(self, p: Patient, t: int) -> None:
        for name, (ts, _) in p.spot.items():
            hold = self.config.hold_s.get(name)
            if hold is not None and ts + hold * 1000 <= t < ts + hold * 1000 + 1000:
                p.news2_dirty = True

    def due(self, p: Patient) -> bool:
        if not self.enabled:
            return False
        return p.news2_dirty or p.news2_low_since >= 0 or p.news2_key in self.conditions.pending

    def _held(self, p: Patient, name: str, t: int) -> Any:
        v = p.spot.get(name)
        if v is None:
            return None
        hold = self.config.hold_s.get(name)
        return v[1] if hold is None or t - v[0] <= hold * 1000 else None

    def _consciousness(self, p: Patient, t: int) -> str | None:
        level = self._held(p, "consciousness", t)
        if level != "C":
            return level  # type: ignore[no-any-return]
        new = p.spot.get("new_confusion")
        confirmed = new[1] if new is not None and new[0] == p.spot["consciousness"][0] else None
        if confirmed is None:
            return "C" if self.config.unconfirmed_confusion == "new" else None
        return "C" if confirmed else "A"  # confusion known not to be new: the patient's baseline

    def suspended(self, p: Patient, t: int) -> str:
        """Why NEWS2 is suspended for this patient (ward setting and spot values), or ""."""
        r = self._suspended_reason(p, t)
        return "" if r is None else r.text

    def _suspended_reason(self, p: Patient, t: int) -> Reason | None:
        wards = self.config.suspend_sedated
        if not wards or not ("*" in wards or p.who.ward in wards):
            return None
        why = [name for name in ("ventilated", "sedated") if self._held(p, name, t)]
        if not why:
            return None
        return say("reason.suspendedWhy", what=say(f"reason.suspended.{why[0] if len(why) == 1 else 'both'}"))

    def inputs(self, p: Patient, t: int) -> News2Input:
        hr = self._robust(p, "heart_rate", t)
        return News2Input(
            resp_rate=self._robust(p, "resp_rate", t), spo2=self._robust(p, "spo2", t),
            spo2_scale=int(p.spot.get("spo2_scale", (0, 1))[1]),
            supplemental_o2=self._held(p, "supplemental_o2", t), sbp=self._robust(p, "nibp_sys", t),
            heart_rate=hr if hr is not None else self._robust(p, "pulse_rate", t),
            consciousness=self._consciousness(p, t), temperature=self._robust(p, "temperature", t),
        )

    def _within_hysteresis(self, p: Patient, r: News2Result) -> bool:
        """Whether a score below the alarm bands still holds the open NEWS2 alarm (``news2.hysteresis``):
        the total within that many points of 5, or a graded parameter within that many points of 3 (RR 22
        after RR 26 holds it; supplemental O2, a fixed 2, does not), as a limit alarm's hysteresis."""
        h = self.config.hysteresis
        if not h or not (r.complete or self.config.alarm_on_incomplete):
            return False
        a = self.conditions.lifecycle.by_key.get(p.news2_key)
        if a is None or not a.condition or a.ended_t is not None:
            return False  # no alarm, latched after its end, or already fading below the band
        return r.total >= 5 - h or max((v for k, v in r.scores.items() if k in GRADED), default=0) >= 3 - h

    def _clears_after(self) -> Reason:
        n, s = self.config.confirm_samples, f"{self.config.clear_after_s:g}"
        if n <= 1:
            return say("reason.after.s", s=s)
        return say("reason.after.sAndObs", s=s, n=str(n)) if self.config.clear_after_s else say("reason.after.obs",
                                                                                                n=str(n))

    @staticmethod
    def _main(r: News2Result, unconfirmed: bool) -> Reason:
        """"NEWS2 7: high risk": the head of every NEWS2 alarm reason (a score repeats score after score: made
        once per score, missing parameters and confusion note)."""
        key = (r.total, r.risk, r.complete, tuple(r.missing), unconfirmed)
        got = _MAIN.get(key)
        return got if got is not None else memo(_MAIN, key, lambda: say(
            "reason.news2", head=score_reason(r, unconfirmed), risk=term(f"news2.risk.{r.risk.value}")))

    @staticmethod
    def _raised(r: News2Result, unconfirmed: bool) -> Reason:
        """"NEWS2 7: high risk, urgent or emergency response; observations continuous monitoring of vital
        signs": the reason of a NEWS2 alarm in its band (made once per score, as :meth:`_main`)."""
        key = (r.total, r.risk, r.complete, tuple(r.missing), unconfirmed)
        got = _RAISED.get(key)
        return got if got is not None else memo(_RAISED, key, lambda: then(
            say("reason.news2Tail", main=News2Watch._main(r, unconfirmed), tail=response_reason(r)),
            say("reason.observations", freq=frequency_reason(r))))

    def update(self, p: Patient, t: int) -> list[AlarmEvent]:
        p.news2_dirty = False
        obs = self.inputs(p, t)
        r = score(obs)
        unconfirmed = obs.consciousness is None and self._held(p, "consciousness", t) == "C"
        suspended = self._suspended_reason(p, t)
        if suspended is not None:
            r = replace(r, suspended=suspended.text)
        if self.track_changes and r != p.news2:
            self.changed.append((p, t))
        p.news2 = r
        cond = self.conditions
        key = p.news2_key
        if suspended is not None:
            cond.pending.pop(key, None)
            p.news2_low_since = -1
            return cond.end_if_open(p, NEWS2, None, "news2", t, say("reason.news2Suspended", why=suspended),
                                    float(r.total))
        priority = r.alarm_priority if (r.complete or self.config.alarm_on_incomplete) else None
        held = priority is None and self._within_hysteresis(p, r)
        if held:
            priority = cond.lifecycle.by_key[key].condition_priority  # still the alarm's
        if priority is None:
            cond.pending.pop(key, None)
            if key not in cond.lifecycle.by_key:
                p.news2_low_since = -1
                return []
            main = self._main(r, unconfirmed)
            if p.news2_low_since < 0:
                p.news2_low_since = t
                p.news2_low_inputs = p.news2_inputs
            if t - p.news2_low_since < self.config.clear_after_s * 1000 or (
                    p.news2_inputs - p.news2_low_inputs < self.config.confirm_samples - 1):
                # due() keeps looking until the clearing time has passed; meanwhile the alarm shows the score
                below = say("reason.belowBand", after=self._clears_after())
                return cond.lifecycle.note(key, t, float(r.total), say("reason.news2Tail", main=main, tail=below))
            return cond.end_if_open(p, NEWS2, None, "news2", t, main, float(r.total))
        p.news2_low_since = -1
        if held:
            h = self.config.hysteresis
            reason = say("reason.news2Tail", main=self._main(r, unconfirmed),
                         tail=say("reason.holdsMany" if h > 1 else "reason.holdsOne", n=str(h)))
        else:
            reason = self._raised(r, unconfirmed)
        fresh = p.news2_obs != p.news2_obs_seen
        p.news2_obs_seen = p.news2_obs
        # persistence in observations (charted data): a band seen once is confirmed by the next scoring
        # observation; the high band (emergency) is never held back, as a critical limit is not
        samples = 1 if r.total >= 7 else self.config.confirm_samples
        return cond.set(p, NEWS2, None, "news2", True, t, self.config.delay_s, priority, reason, float(r.total),
                        samples=samples, fresh=fresh)



def scale2_spo2_rule(rule: LimitRule, override: PatientOverride | None, shift: float) -> LimitRule:
    """The SpO2 limit rule of a patient on NEWS2 SpO2 scale 2 (target 88-92 % instead of 94-98 %): the
    ward's low and critical-low limits move down by ``news2.scale2_spo2_shift``; a limit the patient's
    own override sets stays as the clinician set it."""
    fixed = override.model_dump(exclude_none=True) if override is not None else {}
    moved = {f: v - shift for f in ("low", "critical_low") if (v := getattr(rule, f)) is not None and f not in fixed}
    return rule.model_copy(update=moved) if moved else rule
