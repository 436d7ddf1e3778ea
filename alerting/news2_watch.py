"""NEWS2 kept current for every patient from monitor data plus nurse spot values.

A parameter's value counts while it is fresh (``expire_after``; spot values for ``news2.hold_s``);
the score is recomputed only when a parameter's band changed, a spot value arrived, a value expired,
or a condition is waiting (delay before raising, ``clear_after_s`` before clearing). Heart rate falls
back to the pulse rate while the ECG is off. The response band drives the alarm (low-medium and
medium -> medium priority, high -> high); an incomplete set alarms on the score it already
guarantees (``alarm_on_incomplete``) and says what is missing.
"""

from __future__ import annotations

from typing import Any

from .conditions import Conditions, Patient
from .config import AlarmConfig
from .events import AlarmEvent
from .lifecycle import Key
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

PARAM_SCORES = {"resp_rate": score_resp_rate, "nibp_sys": score_sbp, "heart_rate": score_pulse,
                "pulse_rate": score_pulse, "temperature": score_temperature}
NEWS2_SIGNALS = frozenset({"resp_rate", "spo2", "nibp_sys", "heart_rate", "pulse_rate", "temperature"})
SPOT_PARAMETERS = frozenset({"consciousness", "supplemental_o2", "spo2_scale"})


def _score_text(r: News2Result) -> str:
    """"NEWS2 7", or "NEWS2 at least 5 (incomplete, missing ...)": the start of every NEWS2 alarm reason."""
    if r.complete:
        return f"NEWS2 {r.total}"
    return f"NEWS2 at least {r.total} (incomplete, missing {', '.join(r.missing)})"


class News2Watch:
    def __init__(self, config: AlarmConfig, conditions: Conditions, expire_ms: dict[str, int]) -> None:
        self.config = config.news2
        self.enabled = config.news2.enabled
        self.conditions = conditions
        self.expire_ms = expire_ms
        self.changed: list[tuple[Patient, int]] = []  # patients whose NEWS2 result changed (drain())
        self.track_changes = False

    def drain(self) -> list[tuple[Patient, int]]:
        self.track_changes = True
        out, self.changed = self.changed, []
        return out

    def value(self, p: Patient, name: str, value: float, usable: bool) -> None:
        """A new monitor value: mark the patient for rescoring if its band changed."""
        if name not in NEWS2_SIGNALS:
            return
        if not usable:
            sc: int | None = None
        elif name == "spo2":
            sc = score_spo2(value, int(p.spot.get("spo2_scale", (0, 1))[1]),
                            bool(p.spot.get("supplemental_o2", (0, False))[1]))
        else:
            sc = PARAM_SCORES[name](value)
        if p.param_scores.get(name, -1) != sc:
            p.param_scores[name] = sc
            p.news2_dirty = True

    def expired(self, p: Patient, name: str) -> None:
        if name in NEWS2_SIGNALS:
            p.param_scores.pop(name, None)
            p.news2_dirty = True

    def spot_expiring(self, p: Patient, t: int) -> None:
        for name, (ts, _) in p.spot.items():
            hold = self.config.hold_s.get(name)
            if hold is not None and ts + hold * 1000 <= t < ts + hold * 1000 + 1000:
                p.news2_dirty = True

    def due(self, p: Patient) -> bool:
        key: Key = (p.key, "news2", None, "news2")
        return self.enabled and (p.news2_dirty or key in self.conditions.pending or p.news2_low_since >= 0)

    def _fresh(self, p: Patient, name: str, t: int) -> float | None:
        r = p.last.get(name)
        if r is None or not r.usable or t - r.t > self.expire_ms[name]:
            return None
        return r.value

    def _held(self, p: Patient, name: str, t: int) -> Any:
        v = p.spot.get(name)
        if v is None:
            return None
        hold = self.config.hold_s.get(name)
        return v[1] if hold is None or t - v[0] <= hold * 1000 else None

    def inputs(self, p: Patient, t: int) -> News2Input:
        hr = self._fresh(p, "heart_rate", t)
        return News2Input(
            resp_rate=self._fresh(p, "resp_rate", t), spo2=self._fresh(p, "spo2", t),
            spo2_scale=int(p.spot.get("spo2_scale", (0, 1))[1]),
            supplemental_o2=self._held(p, "supplemental_o2", t), sbp=self._fresh(p, "nibp_sys", t),
            heart_rate=hr if hr is not None else self._fresh(p, "pulse_rate", t),
            consciousness=self._held(p, "consciousness", t), temperature=self._fresh(p, "temperature", t),
        )

    def update(self, p: Patient, t: int) -> list[AlarmEvent]:
        p.news2_dirty = False
        r = score(self.inputs(p, t))
        if self.track_changes and r != p.news2:
            self.changed.append((p, t))
        p.news2 = r
        cond = self.conditions
        key: Key = (p.key, "news2", None, "news2")
        priority = r.alarm_priority if (r.complete or self.config.alarm_on_incomplete) else None
        if priority is None:
            cond.pending.pop(key, None)
            if key not in cond.lifecycle.by_key:
                p.news2_low_since = -1
                return []
            if p.news2_low_since < 0:
                p.news2_low_since = t
            if t - p.news2_low_since < self.config.clear_after_s * 1000:
                # due() keeps looking until the clearing time has passed; meanwhile the alarm shows the score
                return cond.lifecycle.note(key, t, float(r.total), f"{_score_text(r)}: {r.risk.value} risk, below "
                                           f"the alarm band (clears after {self.config.clear_after_s:g} s below it)")
            return cond.end_if_open(p, "news2", None, "news2", t, f"{_score_text(r)}: {r.risk.value} risk",
                                    float(r.total))
        p.news2_low_since = -1
        band = f"{r.risk.value} risk, {r.response}; observations {r.frequency}"
        reason = f"{_score_text(r)}: {band}"
        return cond.set(p, "news2", None, "news2", True, t, self.config.delay_s, priority, reason, float(r.total))
