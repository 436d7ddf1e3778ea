"""Physiological limit evaluation with hysteresis and per-patient overrides.

``evaluate`` says which limit condition (if any) a value is in. While an alarm for that side is
open the value has to come back inside by ``hysteresis`` before the condition ends, so a value
hovering at the limit does not raise and clear every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_profiles import SIGNALS

from .config import AlarmConfig, LimitRule, PatientOverride


@dataclass(frozen=True, slots=True)
class LimitHit:
    side: str  # "low" | "high"
    critical: bool
    priority: str
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


def _fmt(signal: str) -> tuple[str, str, str]:
    """(label, unit, number format) of ``signal`` for alarm texts."""
    s = SIGNALS[signal]
    unit = UNIT_TEXT.get(s.unit, s.unit)
    return s.display or signal, unit, f"{{:.{s.precision}f}}"


def _worst_text(signal: str, side: str, value: float, worst: float | None) -> str:
    """" (lowest 84 %)" when the alarm's worst value differs from the current one, else ""."""
    _, unit, fmt = _fmt(signal)
    if worst is None or fmt.format(worst) == fmt.format(value):
        return ""
    return f" ({'lowest' if side == 'low' else 'highest'} {fmt.format(worst)} {unit})"


def describe(signal: str, value: float, hit: LimitHit, held_s: float, worst: float | None = None) -> str:
    """The reason of a limit alarm: it starts with the current value ("SpO2 90 % ...", as the alarm's
    ``value``) and names the alarm's worst value when that differs ("(lowest 84 %)")."""
    label, unit, fmt = _fmt(signal)
    crit = " critical limit" if hit.critical else ""
    held = f" for {held_s:.0f} s" if held_s >= 1 else ""
    beyond = value < hit.limit if hit.side == "low" else value > hit.limit
    where = "below" if hit.side == "low" else "above"
    lowest = _worst_text(signal, hit.side, value, worst)
    if not beyond:  # inside the hysteresis band: the value is back at the limit, the alarm not yet over
        back = "above" if hit.side == "low" else "below"
        return (f"{label} {fmt.format(value)} {unit}{lowest}: back {back} the{crit} {fmt.format(hit.limit)} {unit} "
                f"limit, not yet clear of it (hysteresis){held}")
    return f"{label} {fmt.format(value)} {unit} {where}{crit} {fmt.format(hit.limit)} {unit}{held}{lowest}"


def describe_end(signal: str, value: float, side: str, worst: float | None) -> str:
    """Why a limit condition ended: "SpO2 99 % back within limits (lowest 84 %)"."""
    label, unit, fmt = _fmt(signal)
    return f"{label} {fmt.format(value)} {unit} back within limits{_worst_text(signal, side, value, worst)}"
