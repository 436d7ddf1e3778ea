"""NEWS2 (Royal College of Physicians, 2017) exactly per the table in DESIGN.md.

Values are rounded half up to the chart's precision (whole numbers; temperature 0.1 °C) before
banding. A parameter that is not given is *missing*: the result says so (``complete`` false,
``missing`` names them) and the total is the sum of the given parameters only, i.e. a floor of
the true score, never a reassurance. ``risk`` is the band that floor already guarantees; an
incomplete result never recommends a routine observation frequency: it asks for the missing
observations (and keeps the urgency its floor already reaches).

``consciousness`` ``C`` is the chart's *new* confusion (3); whether a nurse's "C" is new is decided
before scoring (:mod:`alerting.news2_watch`).

>>> r = score(News2Input(resp_rate=22, spo2=95, supplemental_o2=False, sbp=115,
...                      heart_rate=95, consciousness="A", temperature=38.2))
>>> (r.total, r.risk.value, r.complete)
(5, 'medium', True)
>>> score(News2Input(resp_rate=7)).missing[:2]
['spo2', 'supplemental_o2']
>>> score(News2Input(resp_rate=16)).frequency
'obtain the missing observations (spo2, supplemental_o2, sbp, heart_rate, consciousness, temperature) now'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from device_profiles.alarm_event import Priority
from device_profiles.news2_message import News2Risk

PARAMETERS: tuple[str, ...] = (
    "resp_rate", "spo2", "supplemental_o2", "sbp", "heart_rate", "consciousness", "temperature",
)
CONSCIOUSNESS_LEVELS = frozenset({"A", "C", "V", "P", "U"})


Risk = News2Risk  # the band is part of the published result: one enum, in the contracts package


# Recommended minimum observation frequency and clinical response per risk band (RCP NEWS2 chart).
OBSERVATION_FREQUENCY: dict[str, str] = {
    "zero": "minimum 12-hourly",
    Risk.LOW: "minimum 4-6-hourly",
    Risk.LOW_MEDIUM: "minimum 1-hourly",
    Risk.MEDIUM: "minimum 1-hourly",
    Risk.HIGH: "continuous monitoring of vital signs",
}
RESPONSE: dict[str, str] = {
    "zero": "continue routine NEWS monitoring",
    Risk.LOW: "inform registered nurse; ward-based response",
    Risk.LOW_MEDIUM: "urgent ward-based response",
    Risk.MEDIUM: "key threshold for urgent response",
    Risk.HIGH: "urgent or emergency response",
}
# The response band drives the alarm priority (IEC 60601-1-8): urgent -> medium, emergency -> high.
ALARM_PRIORITY: dict[Risk, Priority | None] = {
    Risk.LOW: None,
    Risk.LOW_MEDIUM: Priority.MEDIUM,
    Risk.MEDIUM: Priority.MEDIUM,
    Risk.HIGH: Priority.HIGH,
}


@dataclass(frozen=True, slots=True)
class News2Input:
    """One observation set; ``None`` means not measured. ``spo2_scale`` 2 is for hypercapnic patients."""

    resp_rate: float | None = None
    spo2: float | None = None
    spo2_scale: int = 1
    supplemental_o2: bool | None = None
    sbp: float | None = None
    heart_rate: float | None = None
    consciousness: str | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class News2Result:
    total: int
    scores: dict[str, int]
    risk: Risk
    complete: bool
    missing: list[str] = field(default_factory=list)
    suspended: str = ""  # why NEWS2 is suspended for this patient (a ward setting), or ""

    def _obtain(self) -> str:
        return f"obtain the missing observations ({', '.join(self.missing)})"

    @property
    def frequency(self) -> str:
        """Recommended minimum observation frequency; never a routine one for an incomplete low floor."""
        if self.suspended:
            return "as the unit's assessment for this patient sets (NEWS2 suspended)"
        if not self.complete and self.risk is Risk.LOW:
            return f"{self._obtain()} now"
        return OBSERVATION_FREQUENCY["zero" if self.total == 0 and self.risk is Risk.LOW else self.risk]

    @property
    def response(self) -> str:
        if self.suspended:
            return f"NEWS2 suspended: {self.suspended}"
        if not self.complete:
            if self.risk is Risk.LOW:
                return f"{self._obtain()}: an incomplete score is not a low score"
            return f"{RESPONSE[self.risk]}; {self._obtain()}"
        return RESPONSE["zero" if self.total == 0 and self.risk is Risk.LOW else self.risk]

    @property
    def alarm_priority(self) -> Priority | None:
        return ALARM_PRIORITY[self.risk]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"total": self.total, "scores": dict(self.scores), "risk": self.risk.value,
                                  "complete": self.complete, "missing": list(self.missing)}
        if self.suspended:
            out["suspended"] = self.suspended
        return out


def round_half_up(value: float, decimals: int = 0) -> Decimal:
    """Round as a chart does (``36.05`` -> ``36.1``, ``20.5`` -> ``21``), on the decimal repr of the value."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _whole(v: float) -> int:
    """``round_half_up(v)`` as an int; the float fast path is exact unless v is within 1e-9 of a half."""
    f = math.floor(v)
    frac = v - f
    if abs(frac - 0.5) > 1e-9:
        return f + 1 if frac > 0.5 else f
    return int(round_half_up(v))


def score_resp_rate(v: float) -> int:
    r = _whole(v)
    if r <= 8:
        return 3
    if r <= 11:
        return 1
    if r <= 20:
        return 0
    if r <= 24:
        return 2
    return 3


def score_spo2(v: float, scale: int = 1, on_oxygen: bool | None = False) -> int:
    """SpO2 score; on scale 2 a value ≥ 93 with unknown oxygen scores its floor (0)."""
    r = _whole(v)
    if scale == 1:
        if r <= 91:
            return 3
        if r <= 93:
            return 2
        if r <= 95:
            return 1
        return 0
    if r <= 83:
        return 3
    if r <= 85:
        return 2
    if r <= 87:
        return 1
    if r <= 92 or not on_oxygen:
        return 0
    if r <= 94:
        return 1
    if r <= 96:
        return 2
    return 3


def score_sbp(v: float) -> int:
    r = _whole(v)
    if r <= 90:
        return 3
    if r <= 100:
        return 2
    if r <= 110:
        return 1
    if r <= 219:
        return 0
    return 3


def score_pulse(v: float) -> int:
    r = _whole(v)
    if r <= 40:
        return 3
    if r <= 50:
        return 1
    if r <= 90:
        return 0
    if r <= 110:
        return 1
    if r <= 130:
        return 2
    return 3


def score_consciousness(level: str) -> int:
    return 0 if level == "A" else 3


def score_temperature(v: float) -> int:
    r = round_half_up(v, 1)
    if r <= Decimal("35.0"):
        return 3
    if r <= Decimal("36.0"):
        return 1
    if r <= Decimal("38.0"):
        return 0
    if r <= Decimal("39.0"):
        return 1
    return 2


def risk_band(total: int, any_three: bool) -> Risk:
    if total >= 7:
        return Risk.HIGH
    if total >= 5:
        return Risk.MEDIUM
    if any_three:
        return Risk.LOW_MEDIUM
    return Risk.LOW


def score(obs: News2Input) -> News2Result:
    """Score one observation set (inputs already validated, see :mod:`alerting.news2_input`)."""
    scores: dict[str, int] = {}
    if obs.resp_rate is not None:
        scores["resp_rate"] = score_resp_rate(obs.resp_rate)
    if obs.spo2 is not None:
        scores["spo2"] = score_spo2(obs.spo2, obs.spo2_scale, obs.supplemental_o2)
    if obs.supplemental_o2 is not None:
        scores["supplemental_o2"] = 2 if obs.supplemental_o2 else 0
    if obs.sbp is not None:
        scores["sbp"] = score_sbp(obs.sbp)
    if obs.heart_rate is not None:
        scores["heart_rate"] = score_pulse(obs.heart_rate)
    if obs.consciousness is not None:
        scores["consciousness"] = score_consciousness(obs.consciousness)
    if obs.temperature is not None:
        scores["temperature"] = score_temperature(obs.temperature)
    missing = [p for p in PARAMETERS if p not in scores]
    total = sum(scores.values())
    return News2Result(total, scores, risk_band(total, 3 in scores.values()), not missing, missing)
