"""Physiological limit evaluation with hysteresis and per-patient overrides.

``evaluate`` says which limit condition (if any) a value is in. While an alarm for that side is
open the value has to come back inside by ``hysteresis`` before the condition ends, so a value
hovering at the limit does not raise and clear every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_profiles import SIGNALS
from device_profiles.alarm_event import Priority

from .config import AlarmConfig, LimitRule, PatientOverride
from .reasons import TEXTS, Reason, label, memo, say


@dataclass(frozen=True, slots=True)
class LimitHit:
    side: str  # "low" | "high"
    critical: bool
    priority: Priority
    limit: float

    @property
    def code(self) -> str:
        return f"{self.side}:critical" if self.critical else self.side


def effective_rule(config: AlarmConfig, signal: str, override: PatientOverride | None) -> LimitRule | None:
    base = config.limit(signal)
    if base is None:
        return None
    if override is None:
        return base
    changes = override.model_dump(exclude_none=True)
    return base.model_copy(update=changes) if changes else base


def evaluate(rule: LimitRule, value: float, open_sides: tuple[bool, bool] = (False, False)) -> LimitHit | None:
    """``open_sides`` = (low alarm open, high alarm open) selects the hysteresis band."""
    low_open, high_open = open_sides
    h = rule.hysteresis
    # Critical limits have no hysteresis: only a value really beyond them is critical (the higher
    # priority, once raised, latches in the lifecycle; the band must not make 37 "below 35").
    if rule.critical_low is not None and value < rule.critical_low:
        return LimitHit("low", True, rule.critical_priority, rule.critical_low)
    if rule.low is not None and value < rule.low + (h if low_open else 0):
        return LimitHit("low", False, rule.priority, rule.low)
    if rule.critical_high is not None and value > rule.critical_high:
        return LimitHit("high", True, rule.critical_priority, rule.critical_high)
    if rule.high is not None and value > rule.high - (h if high_open else 0):
        return LimitHit("high", False, rule.priority, rule.high)
    return None


def implausible(rule: LimitRule, value: float) -> bool:
    return (rule.plausible_low is not None and value < rule.plausible_low) or (
        rule.plausible_high is not None and value > rule.plausible_high)


UNIT_TEXT = {"Cel": "°C", "mm[Hg]": "mmHg"}  # UCUM codes the catalogue uses -> as a nurse reads them


def _fmt(signal: str) -> tuple[str, str]:
    """(unit, number format) of ``signal`` for alarm texts."""
    s = SIGNALS[signal]
    return UNIT_TEXT.get(s.unit, s.unit), f"{{:.{s.precision}f}}"


_FMT = {name: _fmt(name) for name in SIGNALS}
# the parts of limit reasons that repeat sample after sample, made once (bounded memos)
_VALUES: dict[tuple[str, str], Reason] = {}
_HELD: dict[str, Reason] = {}
_WORST: dict[tuple[str, str, str], Reason] = {}


def _worst(signal: str, side: str, value: float, worst: float | None) -> Reason | str:
    """" (lowest 84 %)" when the alarm's worst value differs from the current one, else ""."""
    unit, fmt = _FMT[signal]
    if worst is None:
        return ""
    w = fmt.format(worst)
    if w == fmt.format(value):
        return ""
    key = "reason.lowest" if side == "low" else "reason.highest"
    r = _WORST.get((key, w, unit))
    return r if r is not None else memo(_WORST, (key, w, unit), lambda: say(key, v=f"{w} {unit}"))


def _value(signal: str, value: float) -> Reason:
    """"SpO2 84 %": how every limit reason starts (as the alarm's ``value``)."""
    unit, fmt = _FMT[signal]
    v = fmt.format(value)
    r = _VALUES.get((signal, v))
    return r if r is not None else memo(_VALUES, (signal, v), lambda: say("reason.value", label=label(signal), v=v,
                                                                           unit=unit))


# the reason key of a value beyond (or back inside) a limit, by (side, critical)
_BEYOND = {("low", False): "reason.below", ("low", True): "reason.belowCritical",
           ("high", False): "reason.above", ("high", True): "reason.aboveCritical"}
_BACK = {("low", False): "reason.backAbove", ("low", True): "reason.backAboveCritical",
         ("high", False): "reason.backBelow", ("high", True): "reason.backBelowCritical"}


def describe(signal: str, value: float, hit: LimitHit, held_s: float, worst: float | None = None) -> str:
    """The reason of a limit alarm in English (:func:`limit_reason`'s text)."""
    return limit_reason(signal, value, hit, held_s, worst).text


def describe_end(signal: str, value: float, side: str, worst: float | None) -> str:
    """Why a limit condition ended, in English (:func:`end_reason`'s text)."""
    return end_reason(signal, value, side, worst).text


def limit_reason(signal: str, value: float, hit: LimitHit, held_s: float, worst: float | None = None) -> Reason:
    """The reason of a limit alarm: it starts with the current value ("SpO2 90 % ...", as the alarm's
    ``value``) and names the alarm's worst value when that differs ("(lowest 84 %)"). Made for every
    sample while the condition holds: the repeating parts come from memos, the rest is one ``format``."""
    unit, fmt = _FMT[signal]
    held: Reason | str = ""
    if held_s >= 1:
        secs = f"{held_s:.0f}"
        held = _HELD.get(secs) or memo(_HELD, secs, lambda: say("reason.held", s=secs))
    beyond = value < hit.limit if hit.side == "low" else value > hit.limit
    # inside the hysteresis band: the value is back at the limit, the alarm not yet over
    key = (_BEYOND if beyond else _BACK)[(hit.side, hit.critical)]
    limit = f"{fmt.format(hit.limit)} {unit}"
    now, worst_text = _value(signal, value), _worst(signal, hit.side, value, worst)
    text = TEXTS[key].format(value=now.text, limit=limit, held=held.text if isinstance(held, Reason) else held,
                             worst=worst_text.text if isinstance(worst_text, Reason) else worst_text)
    return Reason(key, {"value": now, "limit": limit, "held": held, "worst": worst_text}, text)


def end_reason(signal: str, value: float, side: str, worst: float | None) -> Reason:
    """Why a limit condition ended: "SpO2 99 % back within limits (lowest 84 %)"."""
    return say("reason.backWithin", value=_value(signal, value), worst=_worst(signal, side, value, worst))
