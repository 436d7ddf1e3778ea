"""Per-patient alarm limits set at the bedside: what a clinician may set, and a patient's limits as
the station shows them (ward default, the patient's own, the effective rule alerting applies).

Tightening a patient's limits is never unsafe (the alarm only comes earlier); widening them is
bounded by :data:`BOUNDS`, per signal the lowest a low / critical-low limit and the highest a high /
critical-high limit may be set at the bedside. Beyond them a value is dangerous for any adult on a
general ward, whatever their baseline, so the alarm must sound; a patient who really needs wider
limits (e.g. cyanotic heart disease living at SpO2 78 %) gets them in the alarm configuration file
(``patients:`` in alarms.yaml), which is reviewed like any other configuration change.

The override must also leave a rule alerting can run with the ward's hysteresis: ordered
``critical_low <= low < high <= critical_high`` (with the ward's values for the fields not given), and
``high - low > 2 * hysteresis``: an open low alarm ends only at ``low + hysteresis`` and an open high
alarm at ``high - hysteresis``, so with a narrower band no value lets both stay quiet.

Pure and synchronous; the route (:mod:`dashboard_api.routes.limits`) stores, audits and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerting import AlarmConfig, LimitRule, PatientOverride
from alerting.limits import UNIT_TEXT, effective_rule
from alerting.news2_watch import scale2_spo2_rule
from device_profiles import NUMERIC_SIGNALS, SIGNALS

LimitField = Literal["critical_low", "low", "high", "critical_high"]
FIELDS: tuple[LimitField, ...] = ("critical_low", "low", "high", "critical_high")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Bounds:
    """The widest a patient's limits of one signal may be set at the bedside (canonical unit)."""

    critical_low: float  # critical_low >= this; no limit of the signal below it
    low: float  # low >= this
    high: float  # high <= this
    critical_high: float  # critical_high <= this; no limit of the signal above it


BOUNDS: dict[str, Bounds] = {
    # Resuscitation Council UK: a rate below 40 or above 150 with adverse features is peri-arrest; the
    # bedside may widen the ward's 45-120 for an athlete or a rate-controlled AF, not past these.
    "heart_rate": Bounds(30, 35, 150, 180),
    "pulse_rate": Bounds(30, 35, 150, 180),
    # low >= 84 %: NEWS2 SpO2 scale 2 scores 3 (emergency response) at <= 83 %, so the alarm comes with the
    # first value in that band even for a patient with a prescribed 88-92 % target; it is where alerting's
    # scale-2 shift puts the ward default (90 - 6). critical low >= 80 %: no target range on a general
    # ward goes below 88 % (BTS 2017), so below 80 % is severe hypoxaemia for every patient.
    "spo2": Bounds(80, 84, 100, 100),
    # NEWS2 scores 3 at <= 8 and >= 25 /min whatever the limits; these bound the limit alarms beside it
    "resp_rate": Bounds(5, 6, 35, 45),
    # a known low baseline (heart failure on treatment) may move the low limits down, not into shock
    "nibp_sys": Bounds(60, 70, 200, 240),
    "nibp_dia": Bounds(30, 35, 120, 140),
    "nibp_mean": Bounds(45, 50, 140, 160),  # MAP < 50 mmHg: organ perfusion fails whatever the baseline
    "temperature": Bounds(34.0, 35.0, 39.0, 41.0),
    "etco2": Bounds(10, 15, 60, 70),
}


class LimitsError(ValueError):
    """A requested override is not allowed; ``field`` names what is wrong (the answer's 422 says it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class LimitsIn(BaseModel):
    """A patient's own limits of one signal. The fields given replace the ward's (the rest stay the ward
    default); a PUT replaces the patient's previous override of that signal as a whole."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    critical_low: float | None = None
    low: float | None = None
    high: float | None = None
    critical_high: float | None = None
    reason: str = Field("", max_length=MAX_REASON, description="why this patient needs these limits (audited)")


class Limits(BaseModel):
    critical_low: float | None = None
    low: float | None = None
    high: float | None = None
    critical_high: float | None = None


class SignalLimits(BaseModel):
    """One signal of ``GET /patients/{patient}/limits``."""

    signal: str
    label: str
    unit: str  # as a nurse reads it ("mmHg", "°C")
    decimals: int
    hysteresis: float
    default: Limits  # the ward's (the alarm configuration's) limits
    override: Limits | None  # the patient's own fields, or None
    effective: Limits  # what alerting applies now (SpO2 scale 2 included)
    source: Literal["ward", "patient", "file"]  # file: the alarm configuration's ``patients:`` entry
    set_by: str | None = None
    set_t: int | None = None
    bounds: Limits  # the widest each field may be set at the bedside


def unit_text(signal: str) -> str:
    u = SIGNALS[signal].unit
    return UNIT_TEXT.get(u, u)


def limit_rule(config: AlarmConfig, signal: str) -> LimitRule:
    """The ward's enabled limit rule of ``signal``; :class:`LimitsError` (``signal``) when there is none."""
    if signal not in NUMERIC_SIGNALS:
        raise LimitsError("signal", f"unknown signal {signal!r}; known: {', '.join(sorted(NUMERIC_SIGNALS))}")
    rule = config.limit(signal)
    if rule is None or not rule.enabled or signal not in BOUNDS:
        raise LimitsError("signal", f"{signal} has no alarm limits in the alarm configuration; "
                                    f"signals with limits: {', '.join(settable(config))}")
    return rule


def settable(config: AlarmConfig) -> list[str]:
    """Signals whose limits a patient may have set at the bedside, in the configuration's order."""
    return [s for s, r in config.limits.items() if r.enabled and s in BOUNDS]


def _fmt(signal: str, v: float) -> str:
    return f"{v:.{SIGNALS[signal].precision}f} {unit_text(signal)}"


def check(config: AlarmConfig, signal: str, body: LimitsIn) -> PatientOverride:
    """The override ``body`` asks for, or :class:`LimitsError` naming the first field that is not allowed."""
    rule = limit_rule(config, signal)
    if not body.reason.strip():
        raise LimitsError("reason", "give the clinical reason for this patient's own limits (it is audited)")
    given: dict[str, float] = {f: v for f in FIELDS if (v := getattr(body, f)) is not None}
    if not given:
        raise LimitsError("body", "give at least one limit (critical_low, low, high or critical_high); "
                                 "to go back to the ward's limits, reset them (DELETE)")
    b, label, precision = BOUNDS[signal], SIGNALS[signal].display or signal, SIGNALS[signal].precision
    for f, v in given.items():
        if round(v, precision) != v:
            raise LimitsError(f, f"{label} limits have {precision} decimal(s): {v:g} is not one")
    for f, floor in (("critical_low", b.critical_low), ("low", b.low)):
        if f in given and given[f] < floor:
            raise LimitsError(f, f"{label} {f.replace('_', ' ')} may not be set below {_fmt(signal, floor)} at the "
                                 "bedside (a lower limit needs the alarm configuration file)")
    for f, ceiling in (("high", b.high), ("critical_high", b.critical_high)):
        if f in given and given[f] > ceiling:
            raise LimitsError(f, f"{label} {f.replace('_', ' ')} may not be set above {_fmt(signal, ceiling)} at the "
                                 "bedside (a higher limit needs the alarm configuration file)")
    for f, v in given.items():
        if not b.critical_low <= v <= b.critical_high:
            raise LimitsError(f, f"{_fmt(signal, v)} is outside what {label} limits can be "
                                 f"({_fmt(signal, b.critical_low)} to {_fmt(signal, b.critical_high)})")
    merged: dict[str, float | None] = {f: given.get(f, getattr(rule, f)) for f in FIELDS}
    _ordered(signal, label, merged, given)
    lo, hi = merged["low"], merged["high"]
    if lo is not None and hi is not None and hi - lo <= 2 * rule.hysteresis:
        f = "high" if "high" in given else "low"
        raise LimitsError(f, f"{label} high ({_fmt(signal, hi)}) must be more than twice the hysteresis "
                             f"({_fmt(signal, rule.hysteresis)}) above low ({_fmt(signal, lo)}): with a narrower "
                             "band an alarm on one side could not end without the other starting")
    return PatientOverride.model_validate(given)


def _ordered(signal: str, label: str, merged: dict[str, float | None], given: dict[str, float]) -> None:
    """critical_low <= low < high <= critical_high, naming a field the request gave (and the ward's value)."""
    pairs = (("critical_low", "low", False), ("low", "high", True), ("high", "critical_high", False),
             ("critical_low", "high", True), ("low", "critical_high", True), ("critical_low", "critical_high", True))
    for a, b, strict in pairs:
        va, vb = merged[a], merged[b]
        if va is None or vb is None or (va < vb if strict else va <= vb) or (a not in given and b not in given):
            continue
        f = a if a in given else b
        other = b if f == a else a
        whose = "" if other in given else " (the ward's)"
        rel = ("" if strict else "at or ") + ("below" if f == a else "above")
        raise LimitsError(f, f"{label} {f.replace('_', ' ')} {_fmt(signal, given[f])} must be {rel} "
                             f"{other.replace('_', ' ')} {_fmt(signal, merged[other] or 0)}{whose}: "
                             "change both, or choose another value")


def _limits(rule: LimitRule | PatientOverride | None) -> Limits:
    return Limits(**{f: getattr(rule, f) for f in FIELDS}) if rule is not None else Limits()


def view(config: AlarmConfig, signal: str, stored: PatientOverride | None, set_by: str | None,
         set_t: int | None, in_file: PatientOverride | None, spo2_scale: int | None) -> SignalLimits:
    """What the bedside view shows of one signal: the ward's, the patient's own (stored, else the alarm
    file's ``patients:`` entry) and the effective limits, the latter as alerting's engine derives them."""
    rule = limit_rule(config, signal)
    own = stored if stored is not None else in_file
    effective = effective_rule(config, signal, own) or rule
    if signal == "spo2" and spo2_scale == 2:
        effective = scale2_spo2_rule(effective, own, config.news2.scale2_spo2_shift)
    b = BOUNDS[signal]
    fields = own.model_dump(exclude_none=True) if own is not None else {}
    return SignalLimits(
        signal=signal, label=SIGNALS[signal].display or signal, unit=unit_text(signal),
        decimals=SIGNALS[signal].precision, hysteresis=rule.hysteresis, default=_limits(rule),
        override=Limits(**{f: v for f, v in fields.items() if f in FIELDS}) if own is not None else None,
        effective=_limits(effective),
        source="patient" if stored is not None else "file" if in_file is not None else "ward",
        set_by=set_by if stored is not None else None, set_t=set_t if stored is not None else None,
        bounds=Limits(critical_low=b.critical_low, low=b.low, high=b.high, critical_high=b.critical_high))


def tile_limits(override: PatientOverride) -> dict[str, float]:
    """The fields of an override as a station tile carries them (its custom-limits marker)."""
    return {f: v for f, v in override.model_dump(exclude_none=True).items() if f in FIELDS}
