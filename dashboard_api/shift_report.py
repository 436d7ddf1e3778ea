"""The shift report's content, per bed: the patient, the alarms of the period (who acknowledged them,
when), the NEWS2 trajectory and the nurse spot observations. Pure: rows in, report out, time passed in.

NEWS2 over time is stored nowhere: alerting scores every patient continuously but publishes only the
current score (retained on ``{root}/news2/{ward}/{patient}``) and keeps only the alarms a score raised.
The trajectory is therefore *recomputed* here, with alerting's scorer (:func:`alerting.score_news2`,
the score's one owner) and alerting's default NEWS2 settings (:class:`alerting.News2Config`: the 5-minute
median window, how long a spot value counts), from what is stored: the vitals store's 1-minute means
and the spot observations. At each point of time a streamed signal (HR, SpO2, RR) counts as the median
of the minute means of the window before it, an intermittent one (NIBP, temperature) as its latest
value while current, a nurse's manual value while its hold lasts. A parameter with no value is
*missing*: the point is incomplete and says which; a point with no physiological value at all has no
score ("no data"). Nothing missing is ever shown as normal. Ward-specific alerting settings (another
window, confusion rules, suspension while sedated) are not known here: the report says the trajectory
is recomputed, and the score alerting published last is shown beside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from alerting import News2Config, News2Input, SpotObservation, score_news2
from device_profiles import SIGNALS
from ingest import VitalsRow

MINUTE = 60_000
NEWS2_SIGNALS = ("resp_rate", "spo2", "nibp_sys", "heart_rate", "pulse_rate", "temperature")
STREAMED_MAX_S = 120.0  # a signal whose staleness horizon is at most this is streamed (HR, SpO2, RR)
MAX_POINTS = 24  # columns of the printed NEWS2 chart
PRIORITIES = ("high", "medium", "low")
SOURCE = ("recomputed from stored vitals (1-minute means) and nurse spot observations with alerting's "
          "NEWS2 scorer and its default settings; NEWS2 over time is not stored")


def step_for(span_ms: int) -> int:
    """The NEWS2 chart's step: whole 5 minutes, at most :data:`MAX_POINTS` points over the span."""
    five = 5 * MINUTE
    return max(five, -(-span_ms // MAX_POINTS // five) * five)


def point_times(since_ms: int, until_ms: int, step_ms: int) -> list[int]:
    """The chart's times: each multiple of ``step_ms`` in ``(since, until]``, and always ``until``
    itself (the end of the period), so the last column holds what was observed last. When ``until``
    is within a minute after a multiple, it takes that column's place (no two columns a minute
    apart, and no observation of that minute left out of the chart)."""
    first = (since_ms // step_ms + 1) * step_ms
    out = list(range(first, until_ms + 1, step_ms))
    if out and until_ms - out[-1] <= MINUTE:
        out[-1] = until_ms
    else:
        out.append(until_ms)
    return out


@dataclass(frozen=True, slots=True)
class _Series:
    """One signal's minute means, oldest first."""

    t: list[int]
    v: list[float]

    def window(self, lo: int, hi: int) -> list[float]:
        return [v for t, v in zip(self.t, self.v, strict=True) if lo <= t < hi]

    def latest(self, lo: int, hi: int) -> tuple[int, float] | None:
        found = None
        for t, v in zip(self.t, self.v, strict=True):
            if lo <= t < hi:
                found = (t, v)
        return found


def _series(rows: Iterable[VitalsRow]) -> dict[str, _Series]:
    out: dict[str, _Series] = {}
    for r in sorted(rows, key=lambda r: r.t):
        for s, v in r.values.items():
            if s in NEWS2_SIGNALS:
                ser = out.setdefault(s, _Series([], []))
                ser.t.append(r.t)
                ser.v.append(v)
    return out


class News2Trajectory:
    """NEWS2 at given times from one patient's minute means and spot observations (see the module)."""

    def __init__(self, rows: Iterable[VitalsRow], spots: Sequence[SpotObservation],
                 config: News2Config | None = None) -> None:
        self.series = _series(rows)
        self.spots = sorted(spots, key=lambda s: s.t)
        self.config = config or News2Config()
        self.window_ms = int(self.config.window_s * 1000)

    def _monitor(self, signal: str, t: int) -> tuple[int, float] | None:
        ser = self.series.get(signal)
        if ser is None:
            return None
        horizon = SIGNALS[signal].expire_after_s
        if horizon <= STREAMED_MAX_S:
            # a minute mean counts for the window after its minute began (the minute lies in the window)
            values = ser.window(t - self.window_ms - MINUTE, t)
            latest = ser.latest(t - self.window_ms - MINUTE, t)
            return (latest[0], statistics.median(values)) if latest is not None and values else None
        return ser.latest(t - int(horizon * 1000) - MINUTE, t)

    def _spot(self, name: str, t: int, hold_s: float | None) -> tuple[int, Any] | None:
        """The latest spot value of ``name`` at ``t`` while it counts (``hold_s`` None: always)."""
        found = None
        for s in self.spots:
            if s.t > t:
                break
            v = getattr(s, name, None)  # a spot carries no pulse rate
            if v is not None and (hold_s is None or t - s.t <= hold_s * 1000):
                found = (s.t, v)
        return found

    def _value(self, signal: str, t: int) -> float | None:
        monitor = self._monitor(signal, t)
        hold = self.config.hold_s.get(signal, max(SIGNALS[signal].expire_after_s, self.config.window_s))
        manual = self._spot(signal, t, hold)
        # the newer of the two; a nurse's value taken in the monitor's minute wins
        best = max((x for x in (manual, monitor) if x is not None), key=lambda x: x[0], default=None)
        return None if best is None else float(best[1])

    def _consciousness(self, t: int) -> str | None:
        level = self._spot("consciousness", t, self.config.hold_s.get("consciousness"))
        if level is None or level[1] != "C":
            return None if level is None else str(level[1])
        confirmed = next((s.new_confusion for s in reversed(self.spots) if s.t == level[0]), None)
        if confirmed is None:
            return "C" if self.config.unconfirmed_confusion == "new" else None
        return "C" if confirmed else "A"  # the patient's known baseline

    def at(self, t: int) -> dict[str, Any]:
        """The point at ``t``: the values used, and the score (``total`` None: no physiological value)."""
        hr = self._value("heart_rate", t)
        o2 = self._spot("supplemental_o2", t, self.config.hold_s.get("supplemental_o2"))
        scale = self._spot("spo2_scale", t, self.config.hold_s.get("spo2_scale"))
        inp = News2Input(resp_rate=self._value("resp_rate", t), spo2=self._value("spo2", t),
                         spo2_scale=int(scale[1]) if scale is not None else 1,
                         supplemental_o2=bool(o2[1]) if o2 is not None else None, sbp=self._value("nibp_sys", t),
                         heart_rate=hr if hr is not None else self._value("pulse_rate", t),
                         consciousness=self._consciousness(t), temperature=self._value("temperature", t))
        values = {"resp_rate": inp.resp_rate, "spo2": inp.spo2, "supplemental_o2": inp.supplemental_o2,
                  "sbp": inp.sbp, "heart_rate": inp.heart_rate, "consciousness": inp.consciousness,
                  "temperature": inp.temperature}
        if all(values[p] is None for p in ("resp_rate", "spo2", "sbp", "heart_rate", "temperature")):
            return {"t": t, "total": None, "risk": None, "complete": False, "missing": [], "values": values}
        r = score_news2(inp)
        return {"t": t, "total": r.total, "risk": str(r.risk), "complete": r.complete, "missing": list(r.missing),
                "values": values}


def alarm_item(a: dict[str, Any]) -> dict[str, Any]:
    """An alarm of the period as the report lists it (no device-internal columns): its last ``reason``
    in English and as ``reason_key`` + ``reason_params`` (``""``/``{}``: an alarm stored before keys,
    which the page reads from its English)."""
    item = {k: a.get(k) for k in ("id", "bed", "patient", "kind", "signal", "code", "priority", "reason", "value",
                                "raised_t", "state", "acknowledged_by", "acknowledged_t", "cleared_t",
                                "escalation_level")}
    key = a.get("reason_key") or ""
    item["reason_key"], item["reason_params"] = key, (a.get("reason_params") or {}) if key else {}
    return item


def alarm_counts(items: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(PRIORITIES, 0)
    for a in items:
        p = str(a.get("priority"))
        counts[p] = counts.get(p, 0) + 1
    return counts


def spot_item(s: SpotObservation) -> dict[str, Any]:
    return {"t": s.t, "by": s.by, "patient": s.patient, "values": s.values()}


def bed_order(layout: Sequence[str], others: Iterable[str]) -> list[str]:
    """The layout's beds in screen order, then every other bed in name order ("2" before "10")."""
    rest = sorted(set(others) - set(layout), key=lambda b: (len(b), b))
    return [*layout, *rest]
