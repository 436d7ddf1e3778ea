"""``alarm-load``: nurse response time vs alarm rate on the ward's current census.

The occupied beds raise alarms by acuity and ask for care work; the shift's nurses answer them
(queueing model with alarm fatigue: :mod:`digital_twin.nursing`). A warm-up of
``fatigue_window_min`` lets fatigue build up before the measured ``hours`` start; alarms raised in
the measured window are followed until answered or resolved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np
import simpy
from pydantic import BaseModel, Field

from ..model import Shift, WardModel
from ..nursing import (
    NO_ACTIONABLE,
    NO_ALARM,
    NO_ANSWER,
    NurseStation,
    NursingParams,
    alarm_stats,
    nurses_on,
    walk_times,
)
from ..scenario import Metric, ScenarioParams
from ..stats import MetricSummary
from .wording import interval, minutes, seconds

REFERENCES: tuple[str, ...] = (
    "Drew et al. 2014, PLoS One 9:e110274 (UCSF, 77 ICU beds, 31 days): 2,558,760 alarms, 381,560 of them audible "
    "= 187 audible alarms per bed per day (7.8/h, this drill's alarms_per_bed_hour for a high-acuity bed); "
    "88.8 % of the annotated arrhythmia alarms were false positives.",
    "Sendelbach & Funk 2013, AACN Adv Crit Care 24:378 and Cvach 2012, Biomed Instrum Technol 46:268: 72-99 % "
    "of clinical alarms are false or non-actionable (actionable fractions here: 13 % high, 5 % medium, 1 % low "
    "acuity).",
    "Bonafide et al. 2015, J Hosp Med 10:345 (children's hospital, video-recorded): the large majority of alarms "
    "were non-actionable, median nurse response was several times longer on the medical ward (about 10 min) "
    "than in the PICU, and response time grew with the number of non-actionable alarms the patient had in the "
    "preceding 120 min - the exposure window and dose-response this drill's fatigue factor models (the gain "
    "per alarm, 5 %, capped at x3, is an assumption).",
    "The Joint Commission 2013, Sentinel Event Alert 50: 98 alarm-related events in 2009-2012, 80 of them "
    "deaths; alarm fatigue named the most common contributing factor.",
    "Bohannon 1997, Age Ageing 26:15: comfortable gait speed of adults 127-146 cm/s (walk_speed_mps 1.2 "
    "allows for carrying equipment).",
    "docs/alarm-quality.md (this repository, 2026-11-22): SmartWard's default alarm settings raised 56 % fewer "
    "alarms than a naive threshold monitor on a MIMIC-III record (18 vs 41) - measure your own with "
    "smartward alarms replay and set alarms_per_bed_hour accordingly.",
)


class _Setting(ScenarioParams):
    hours: float = Field(12.0, gt=0, le=72, description="length of the simulated period (one shift)")
    shift: Shift = Field("night", description="whose roster answers the alarms: day or night")
    nurses: int | None = Field(None, ge=1, le=100, description="nurses answering alarms (default: the roster's "
                               "nurses and charge nurse on the shift)")


class AlarmLoadParams(NursingParams, _Setting):
    """The drill's own settings (listed first), then the nursing model's."""


class AlarmLoad:
    name: ClassVar[str] = "alarm-load"
    title: ClassVar[str] = "Alarm load: nurse response time vs alarm rate"
    Params: ClassVar[type[BaseModel]] = AlarmLoadParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "response_p50_s": Metric("s", "alarm response time, median (onset to nurse at the bedside)", absent=NO_ANSWER),
        "response_p95_s": Metric("s", "alarm response time, 95th percentile", absent=NO_ANSWER),
        "actionable_p95_s": Metric("s", "response time to actionable alarms, 95th percentile", absent=NO_ACTIONABLE),
        "unanswered_pct": Metric("%", "alarms never answered (resolved first or period ended)", absent=NO_ALARM),
        "alarms_per_nurse_hour": Metric("alarms/nurse/h", "alarms per nurse per hour"),
        "nonactionable_min_per_nurse": Metric("min/nurse", "nurse time on non-actionable alarms over the period"),
        "nurse_busy_pct": Metric("%", "nurse time spent on alarms and care work"),
    }
    references: ClassVar[Sequence[str]] = REFERENCES

    def check(self, ward: WardModel, params: AlarmLoadParams) -> None:
        """Someone must answer alarms, and every bed must be reachable from the station."""
        nurses_on(ward, params.shift, params.nurses)
        walk_times(ward, params.walk_speed_mps)

    def run_once(self, ward: WardModel, params: AlarmLoadParams, rng: np.random.Generator) -> dict[str, float]:
        nurses = nurses_on(ward, params.shift, params.nurses)
        env = simpy.Environment()
        station = NurseStation(env, rng, params, nurses, walk_times(ward, params.walk_speed_mps))
        for bed in ward.occupied_beds():
            station.admit(bed.id, bed.acuity)
        warm, period = params.fatigue_window_min * 60.0, params.hours * 3600.0
        env.run(until=warm)
        care0 = station.care_busy_s
        env.run(until=warm + period)
        care = station.care_busy_s - care0
        for bed in ward.occupied_beds():  # no new alarms; follow the raised ones to their end
            station.discharge(bed.id)
        env.run(until=warm + period + 3600.0)
        st = alarm_stats(station.alarms, warm, warm + period)
        alarm_busy = sum(r.busy_s for r in station.alarms if warm <= r.t < warm + period)
        return {
            "response_p50_s": st.response_p50_s,
            "response_p95_s": st.response_p95_s,
            "actionable_p95_s": st.actionable_p95_s,
            "unanswered_pct": st.unanswered_pct,
            "alarms_per_nurse_hour": st.alarms / nurses / params.hours,
            "nonactionable_min_per_nurse": st.nonactionable_busy_s / 60.0 / nurses,
            "nurse_busy_pct": min(100.0, 100.0 * (alarm_busy + care) / (nurses * period)),
        }

    def summarize(self, ward: WardModel, params: AlarmLoadParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        nurses = nurses_on(ward, params.shift, params.nurses)
        patients = len(ward.occupied_beds())
        roster = "the given staffing" if params.nurses is not None else f"the {params.shift} roster"
        if patients == 0:
            return [f"No bed of ward {ward.id} is occupied: there are no alarms to answer."]
        per_nurse = metrics["alarms_per_nurse_hour"].mean
        p50, p95 = metrics["response_p50_s"], metrics["response_p95_s"]
        out = [
            f"With {roster} ({nurses} nurses for {patients} patients), each nurse hears {per_nurse:.1f} alarms per "
            f"hour; answered alarms are reached in {seconds(p50.mean)} (median), 95 % within {seconds(p95.mean)}.",
        ]
        act = metrics["actionable_p95_s"]
        if act.n:
            out.append(f"Alarms that need action are reached within {seconds(act.mean)} in 95 % of cases "
                       f"({interval(act, seconds)}).")
        un = metrics["unanswered_pct"]
        non = metrics["nonactionable_min_per_nurse"]
        never = (f"{un.mean:.0f} % of alarms are never answered (most resolve by themselves first)" if un.n
                 else "No alarm was raised in the period")
        out.append(f"{never}, and non-actionable alarms cost each nurse {minutes(non.mean)} over the "
                   f"{params.hours:g}-hour period.")
        busy = metrics["nurse_busy_pct"].mean
        if busy >= 85 or (act.n and act.mean > 300):
            out.append(f"Nurses are busy {busy:.0f} % of the time: the ward is near saturation. Compare one more nurse "
                       f"(twin compare alarm-load --a nurses={nurses} --b nurses={nurses + 1}) and fewer "
                       "non-actionable alarms (alarm delays and adjusted limits, docs/alarm-configuration.md).")
        elif math.isfinite(busy):
            out.append(f"Nurses are busy {busy:.0f} % of the time with alarms and care work; there is headroom. "
                       "Sweep alarms_per_bed_hour to see where response times break down.")
        return out
