"""Technical alarm conditions, kept apart from physiological ones.

Cross-checks between signals decide what a zero means: heart rate 0 while the pulse oximeter
still counts a valid pulse is an ECG lead-off (not asystole); SpO2 0 (or a pulse of 0 from the
oximeter) is a probe problem (not a desaturation). Impedance respiration uses the ECG electrodes,
so a respiratory rate of 0 during an ECG lead-off is not apnoea. Values flagged ``invalid`` or
``artifact`` and physically implausible values (a pulse of 277/min) are never judged against limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .reasons import Reason, say

BAD_QUALITY = frozenset({"invalid", "artifact"})
_SPO2_ZERO, _PULSE_ZERO, _HR_INVALID, _HR_ZERO = (
    say(f"reason.what.{k}") for k in ("spo2Zero", "pulseZero", "hrInvalid", "hrZero"))
# the texts that depend on nothing but which zero it was, made once
_PROBE_OFF = {w.key: say("reason.probeOff", what=w) for w in (_SPO2_ZERO, _PULSE_ZERO)}
_PROBE_AND_LEADS_OFF = {w.key: say("reason.probeAndLeadsOff", what=w) for w in (_SPO2_ZERO, _PULSE_ZERO)}
_LEADS_WERE_OFF = {w.key: say("reason.leadOffLeads", what=w) for w in (_HR_INVALID, _HR_ZERO)}
_UNCONFIRMED = {w.key: say("reason.unconfirmedZero", what=w) for w in (_HR_INVALID, _HR_ZERO)}


@dataclass(slots=True)
class Reading:
    t: int
    value: float
    usable: bool  # may be judged against limits, NEWS2 and the anomaly detector
    horizon: int = 0  # ms after which it is stale (0: the configured ``expire_after``); see :func:`horizon`


def horizon(base_ms: int, gap_ms: int | None, last_gap_ms: int | None) -> int:
    """How long a value stays current, following the device's sampling interval: ``base_ms`` (alarms.yaml
    ``expire_after_s``, else the device profile's ``expire_after``, else the catalogue), stretched to
    2.5 sample intervals when the device samples more slowly (a once-a-minute stream is not "no data"
    between two samples). The interval is the shorter of the last two gaps, so one dropout does not
    stretch it; before a second sample shows the interval, the base horizon counts as the interval."""
    if gap_ms is None:
        return 5 * base_ms // 2
    interval = gap_ms if last_gap_ms is None else min(gap_ms, last_gap_ms)
    return max(base_ms, 5 * interval // 2)


@dataclass(slots=True)
class Conditions:
    """Technical conditions found in one sample: code -> (signal, priority key, reason); plus the
    signals that must not be judged as physiology and the codes seen to be absent."""

    active: dict[str, tuple[str | None, str, Reason]] = field(default_factory=dict)
    ended: list[str] = field(default_factory=list)
    unusable: set[str] = field(default_factory=set)


def cross_check(values: dict[str, float], last: dict[str, Reading], t: int, fresh_ms: int,
                lead_off_open: bool, quality: dict[str, str] | None = None,
                plausible: Callable[[str, float], bool] | None = None) -> Conditions:
    """Zeros and contradictions in one sample, given the latest readings of the same patient.

    A known ECG lead-off stays a lead-off while the heart rate reads 0, even when the pulse oximeter
    drops out too (that is then "no cardiac monitoring at all", a louder probe-off), so one bad
    oximeter minute does not flip lead-off into an unconfirmed zero and back."""
    c = Conditions()

    def fresh_pulse() -> float | None:
        # a valid pulse is one the limits may judge: not 0 nor beside SpO2 0 (probe off: ``unusable``) and
        # not flagged invalid/artifact (an oximeter's doubtful pulse confirms nothing); below 0 never arrives
        if "pulse_rate" in values:
            v = values["pulse_rate"]
            bad = (quality is not None and quality.get("pulse_rate") in BAD_QUALITY) or (
                plausible is not None and not plausible("pulse_rate", v))  # 277/min is an artefact, not a pulse
            return v if "pulse_rate" not in c.unusable and not bad else None
        r = last.get("pulse_rate")
        return r.value if r is not None and r.usable and t - r.t <= fresh_ms else None

    spo2 = values.get("spo2")
    pr = values.get("pulse_rate")
    if spo2 == 0 or pr == 0:
        c.unusable.update(s for s in ("spo2", "pulse_rate") if s in values)
        zero = (_SPO2_ZERO if spo2 == 0 else _PULSE_ZERO).key
        if values.get("heart_rate") == 0 or lead_off_open:
            c.active["probe_off"] = ("spo2", "unconfirmed_zero_priority", _PROBE_AND_LEADS_OFF[zero])
        else:
            c.active["probe_off"] = ("spo2", "probe_off_priority", _PROBE_OFF[zero])
    elif spo2 is not None or pr is not None:
        c.ended.append("probe_off")

    hr = values.get("heart_rate")
    # a monitor that sends no heart rate but flags it invalid (leads off) says the same as an HR of 0
    hr_invalid = hr is None and quality is not None and quality.get("heart_rate") in BAD_QUALITY
    if hr == 0 or hr_invalid:
        c.unusable.add("heart_rate")
        pulse = fresh_pulse()
        what = _HR_INVALID if hr_invalid else _HR_ZERO
        if pulse is not None or lead_off_open:
            c.active["lead_off"] = ("heart_rate", "lead_off_priority",
                                    say("reason.leadOffPulse", what=what, pr=f"{pulse:.0f}") if pulse is not None
                                    else _LEADS_WERE_OFF[what.key])
            c.ended.append("unconfirmed_zero")
        else:
            c.active["unconfirmed_zero"] = ("heart_rate", "unconfirmed_zero_priority", _UNCONFIRMED[what.key])
            c.ended.append("lead_off")
        if values.get("resp_rate") == 0:
            c.unusable.add("resp_rate")
    elif hr is not None:
        c.ended += ["lead_off", "unconfirmed_zero"]
    return c
