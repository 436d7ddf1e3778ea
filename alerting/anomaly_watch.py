"""Anomaly advisories per patient: window means of the valid values go through the patient's own
protected detector; an anomalous window raises a low-priority advisory explaining which signals
deviate from the patient's baseline, ``anomaly.clear_after`` normal windows clear it."""

from __future__ import annotations

from .anomaly import make_detector
from .conditions import Conditions, Patient
from .config import AlarmConfig
from .events import AlarmEvent


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
        if verdict.anomalous:
            p.normal_windows = 0
            return self.conditions.set(p, "anomaly", None, "anomaly", True, t, 0, "low",
                                       f"unusual for this patient: {verdict.explain()}", round(verdict.score, 2))
        p.normal_windows += 1
        if p.normal_windows >= cfg.clear_after:
            return self.conditions.end_if_open(p, "anomaly", None, "anomaly", t, "back to this patient's baseline")
        return []
