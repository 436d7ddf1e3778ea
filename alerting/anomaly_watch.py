"""Anomaly advisories per patient: window means of the valid values go through the patient's own
protected detector; an anomalous window that moves some signal away from the normal range
(:func:`worsening`) in ``anomaly.confirm_windows`` consecutive windows raises a low-priority advisory explaining which signals deviate from the
patient's baseline, ``anomaly.clear_after`` other windows clear it. An advisory about signals an open
alarm already reports joins that alarm (one cause, one alarm)."""

from __future__ import annotations

from .anomaly import Verdict, make_detector
from .conditions import ANOMALY, LOW, Conditions, Patient
from .config import AlarmConfig
from .events import AlarmEvent
from .reasons import Reason, Term, say, then
from .severity import severity

BASELINE = say("reason.baseline")


def explained(verdict: Verdict) -> Reason:
    """"unusual for this patient: <each deviation>" (:meth:`Verdict.explain` as a reason)."""
    parts = [say("reason.deviationAbove" if d.z > 0 else "reason.deviationBelow",
                 signal=Term(f"reason.sig.{d.signal}", d.signal), v=f"{d.value:.1f}", z=f"{abs(d.z):.1f}",
                 baseline=f"{d.baseline:.1f}", spread=f"{d.spread:.1f}") for d in verdict.deviations]
    return say("reason.unusual", what=then(*parts) if parts else say("reason.multivariate"))


def worsening(verdict: Verdict, threshold: float) -> bool:
    """Whether an anomalous window is a deterioration worth an advisory: some signal deviates *away*
    from the normal range (:func:`alerting.severity.severity`: a higher NEWS2 sub-score, or farther
    from the middle of the normal range, than the patient's baseline). A patient moving back towards
    normal (a fever settling, a tachycardia easing) is unusual for them but no advisory. A deviation
    the baseline explainer cannot name (a multivariate pattern) is kept."""
    if not verdict.deviations:
        return True
    unusual = [d for d in verdict.deviations if abs(d.z) >= threshold] or verdict.deviations
    return any(severity(d.signal, d.value) > severity(d.signal, d.baseline) for d in unusual)


class AnomalyWatch:
    def __init__(self, config: AlarmConfig, conditions: Conditions) -> None:
        self.config = config.anomaly
        self.enabled = config.anomaly.enabled
        self.conditions = conditions

    def add(self, p: Patient, t: int, values: dict[str, float], unusable: set[str],
            quality: dict[str, str] | None) -> list[AlarmEvent]:
        cfg = self.config
        events: list[AlarmEvent] = []
        if p.window_start >= 0 and t - p.window_start >= cfg.window_s * 1000:
            events += self._close(p, t)
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

    def _close(self, p: Patient, t: int) -> list[AlarmEvent]:
        cfg = self.config
        x = {k: sum(v) / len(v) for k, v in p.window.items() if v}
        p.window = {}
        p.window_start = -1
        if not x:
            return []
        if p.detector is None:
            p.detector = make_detector(cfg.detector, cfg.threshold, cfg.warmup)
        verdict = p.detector.process_one(x)
        if verdict.anomalous and worsening(verdict, cfg.threshold):
            p.normal_windows = 0
            return self.conditions.set(p, ANOMALY, None, "anomaly", True, t, 0, LOW,
                                       explained(verdict), round(verdict.score, 2),
                                       samples=cfg.confirm_windows, explains=tuple(d.signal for d in verdict.deviations))
        p.normal_windows += 1
        key = p.alarm_key(ANOMALY, None, "anomaly")
        cond = self.conditions
        if key in cond.pending and key not in cond.lifecycle.by_key and key not in cond.members:
            del cond.pending[key]  # not confirmed by the next window: no advisory
        if p.normal_windows >= cfg.clear_after:
            return self.conditions.end_if_open(p, ANOMALY, None, "anomaly", t, BASELINE)
        return []
