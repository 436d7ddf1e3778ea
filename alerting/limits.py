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


def describe(signal: str, value: float, hit: LimitHit, held_s: float) -> str:
    s = SIGNALS[signal]
    unit = "%" if s.unit == "%" else ("°C" if s.unit == "Cel" else ("mmHg" if s.unit == "mm[Hg]" else s.unit))
    label = s.display or signal
    fmt = f"{{:.{s.precision}f}}"
    crit = " critical limit" if hit.critical else ""
    held = f" for {held_s:.0f} s" if held_s >= 1 else ""
    beyond = value < hit.limit if hit.side == "low" else value > hit.limit
    if not beyond:  # inside the hysteresis band: say so instead of a false "below"
        return (f"{label} {fmt.format(value)} {unit}, not yet recovered from {'below' if hit.side == 'low' else 'above'}"
                f"{crit} {fmt.format(hit.limit)} {unit} (hysteresis){held}")
    where = "below" if hit.side == "low" else "above"
    return f"{label} {fmt.format(value)} {unit} {where}{crit} {fmt.format(hit.limit)} {unit}{held}"
