"""``surge``: mass-casualty admissions to the ward - occupancy, boarding, alarm load, response times.

SimPy model (seconds; every random draw from the replication's rng):

- Casualties bound for this ward: Poisson(``casualties``). Each reaches the hospital at an
  exponential time with median ``arrival_median_min`` (CDC: about half of all casualties arrive
  within the first hour) and comes up to the ward after ED/theatre care, lognormal with median
  ``ward_delay_median_min``. Acuity drawn from ``mix_high`` / ``mix_medium`` / rest low.
- Beds: the ward's beds plus ``surge_beds`` (corridor or day-room beds opened by the incident plan).
  A patient who finds no free bed *boards* (waits elsewhere) until one frees; first come, first served.
- Current inpatients leave at exponential times with mean ``los_days`` (routine discharges); with
  reverse triage, ``reverse_triage_pct`` % of the low-acuity ones are discharged early, lognormal
  with median ``reverse_triage_median_min``. Elective admissions are assumed cancelled.
- Nurses of ``shift`` (or ``nurses``), plus ``call_in_nurses`` arriving after ``call_in_minutes``,
  answer the alarms and care work of every occupied bed (:mod:`digital_twin.nursing`).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import simpy
from pydantic import BaseModel, Field, model_validator

from ..model import Acuity, Shift, WardModel
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
from .alarm_load import REFERENCES as ALARM_REFERENCES
from .wording import count, minutes, seconds


class _Setting(ScenarioParams):
    hours: float = Field(24.0, gt=0, le=24 * 7, description="simulated time from the incident")
    casualties: float = Field(12.0, ge=0, le=500, description="expected casualties admitted to this ward")
    arrival_median_min: float = Field(60.0, gt=0, description="median time from incident to hospital arrival")
    ward_delay_median_min: float = Field(180.0, ge=0, description="median ED/theatre time before the ward")
    mix_high: float = Field(0.3, ge=0, le=1, description="share of high-acuity casualties")
    mix_medium: float = Field(0.4, ge=0, le=1, description="share of medium-acuity casualties (rest: low)")
    surge_beds: int = Field(0, ge=0, le=200, description="extra beds opened by the incident plan")
    los_days: float = Field(4.6, gt=0, description="mean length of stay of current inpatients, days")
    reverse_triage_pct: float = Field(0.0, ge=0, le=100, description="% of low-acuity inpatients discharged early")
    reverse_triage_median_min: float = Field(180.0, gt=0, description="median time to discharge them")
    shift: Shift = Field("night", description="roster on duty when the incident starts")
    nurses: int | None = Field(None, ge=1, le=100, description="nurses on duty (default: the roster's)")
    call_in_nurses: int = Field(0, ge=0, le=100, description="extra nurses called in by the incident plan")
    call_in_minutes: float = Field(60.0, ge=0, description="when the called-in nurses arrive")


class SurgeParams(NursingParams, _Setting):
    """The drill's own settings (listed first), then the nursing model's."""

    @model_validator(mode="after")
    def _mix(self) -> SurgeParams:
        if self.mix_high + self.mix_medium > 1.0 + 1e-9:
            raise ValueError(f"mix_high + mix_medium must be at most 1 (got {self.mix_high + self.mix_medium:g})")
        return self


class Surge:
    name: ClassVar[str] = "surge"
    title: ClassVar[str] = "Surge: mass-casualty admissions, occupancy and alarm load"
    Params: ClassVar[type[BaseModel]] = SurgeParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "peak_occupancy_pct": Metric("%", "peak occupancy (of the ward's regular beds)"),
        "time_to_full_h": Metric("h", "time from the incident until every regular bed is taken", lower_is_better=False,
                                 absent="the ward never filled up"),
        "hours_full": Metric("h", "time with every regular bed taken"),
        "occupancy_end_pct": Metric("%", "occupancy at the end of the period"),
        "patients_boarded": Metric("patients", "casualties who waited for a bed (boarded)"),
        "boarding_hours": Metric("patient-h", "time casualties spent waiting for a bed"),
        "alarms_per_nurse_hour_peak": Metric("alarms/nurse/h", "alarms per nurse in the busiest hour"),
        "alarms_per_nurse_hour": Metric("alarms/nurse/h", "alarms per nurse per hour, whole period"),
        "response_p50_s": Metric("s", "alarm response time, median", absent=NO_ANSWER),
        "response_p95_s": Metric("s", "alarm response time, 95th percentile", absent=NO_ANSWER),
        "actionable_p95_s": Metric("s", "response time to actionable alarms, 95th percentile", absent=NO_ACTIONABLE),
        "unanswered_pct": Metric("%", "alarms nobody reached", absent=NO_ALARM),
    }
    references: ClassVar[Sequence[str]] = (
        "CDC, 'Mass Casualties Predictor' / 'In a Moment's Notice: Surge Capacity for Terrorist Bombings' (2007): "
        "about half of all casualties arrive at the closest hospitals within the first hour, so the first hour's "
        "count roughly doubled predicts the total (arrival_median_min = 60).",
        "Frykberg 2002, J Trauma 53:201 (terrorist bombings): most survivors are not critically injured; a "
        "minority (of the order of 10-25 %) need critical care, the rest ward or outpatient care - the acuity "
        "mix (30 % high, 40 % medium among ward admissions) is an assumption to adjust to your trauma network.",
        "Kelen et al. 2006, Lancet 368:1984: 'reverse triage' - early discharge of inpatients at low risk - "
        "creates substantial surge capacity within hours (reverse_triage_pct).",
        "Mean hospital length of stay 4.6 days (HCUP, US community hospitals, 2018) for routine discharges.",
        *ALARM_REFERENCES,
    )

    def check(self, ward: WardModel, params: SurgeParams) -> None:
        """Someone must answer alarms, and every bed must be reachable from the station."""
        nurses_on(ward, params.shift, params.nurses)
        walk_times(ward, params.walk_speed_mps)

    def run_once(self, ward: WardModel, params: SurgeParams, rng: np.random.Generator) -> dict[str, float]:
        env = simpy.Environment()
        horizon = params.hours * 3600.0
        on_duty = nurses_on(ward, params.shift, params.nurses)
        walk = walk_times(ward, params.walk_speed_mps)
        extra = [f"surge-{i + 1}" for i in range(params.surge_beds)]
        mean_walk = float(np.mean(list(walk.values()))) if walk else 0.0
        walk.update({b: mean_walk for b in extra})
        station = NurseStation(env, rng, params, on_duty + params.call_in_nurses, walk)
        if params.call_in_nurses:
            station.hold(params.call_in_nurses, params.call_in_minutes * 60.0)
        free: simpy.Store = simpy.Store(env)
        census = _Census(env, len(ward.beds))
        for bed in ward.beds:
            if not bed.occupied:
                free.items.append(bed.id)
        free.items.extend(extra)
        for bed in ward.occupied_beds():
            census.change(+1)
            station.admit(bed.id, bed.acuity)
            stay = float(rng.exponential(params.los_days * 86400.0))
            if bed.acuity == "low" and rng.random() < params.reverse_triage_pct / 100.0:
                stay = min(stay, _lognormal(rng, params.reverse_triage_median_min * 60.0, 0.5))
            env.process(_stay(env, station, free, census, bed.id, stay))
        waits: list[float] = []
        n = int(rng.poisson(params.casualties))
        for _ in range(n):
            arrive = float(rng.exponential(params.arrival_median_min * 60.0 / math.log(2)))
            ready = arrive + _lognormal(rng, params.ward_delay_median_min * 60.0, 0.6)
            acuity = _acuity(rng, params)
            stay = float(rng.exponential(params.los_days * 86400.0))
            env.process(_casualty(env, station, free, census, ready, acuity, stay, waits, horizon))
        env.run(until=horizon)
        alarms_by_hour = np.zeros(max(1, math.ceil(params.hours)))
        for r in station.alarms:
            if r.t < horizon:
                alarms_by_hour[int(r.t // 3600.0)] += 1
        staff_by_hour = np.array([on_duty + (params.call_in_nurses if h * 3600.0 >= params.call_in_minutes * 60.0
                                             else 0) for h in range(alarms_by_hour.size)], dtype=float)
        st = alarm_stats(station.alarms, 0.0, horizon)
        nurse_hours = float(staff_by_hour.sum()) if params.hours >= 1 else on_duty * params.hours
        return {
            "peak_occupancy_pct": 100.0 * census.peak / len(ward.beds),
            "time_to_full_h": census.first_full / 3600.0,
            "hours_full": census.full_s(horizon) / 3600.0,
            "occupancy_end_pct": 100.0 * census.occupied / len(ward.beds),
            "patients_boarded": float(sum(1 for w in waits if w > 0)),
            "boarding_hours": sum(waits) / 3600.0,
            "alarms_per_nurse_hour_peak": float((alarms_by_hour / staff_by_hour).max()),
            "alarms_per_nurse_hour": st.alarms / nurse_hours,
            "response_p50_s": st.response_p50_s,
            "response_p95_s": st.response_p95_s,
            "actionable_p95_s": st.actionable_p95_s,
            "unanswered_pct": st.unanswered_pct,
        }

    def summarize(self, ward: WardModel, params: SurgeParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        beds = len(ward.beds)
        free = beds - len(ward.occupied_beds())
        peak, full = metrics["peak_occupancy_pct"], metrics["hours_full"]
        boarded, board_h = metrics["patients_boarded"], metrics["boarding_hours"]
        out = [f"With {free} free of {beds} beds and about {params.casualties:g} casualties for this ward, occupancy "
               f"peaks at {peak.mean:.0f} % and every bed is taken for {full.mean:.1f} h of the first "
               f"{params.hours:g} h."]
        to_full = metrics["time_to_full_h"]
        if free and to_full.n:
            out.append(f"In {100.0 * to_full.n / (to_full.n + to_full.missing):.0f} % of runs the ward fills up, "
                       f"typically {minutes(to_full.p50 * 60)} after the incident: decide on surge beds and early "
                       "discharges before then.")
        if boarded.mean >= 0.05:
            levers = []
            if params.reverse_triage_pct < 50:
                levers.append("discharge low-risk inpatients early (reverse_triage_pct=50)")
            levers.append(f"open {'more ' if params.surge_beds else ''}surge beds (surge_beds)")
            out.append(f"On average {boarded.mean:.1f} casualties (95th percentile {boarded.p95:.0f}) wait for a bed, "
                       f"{board_h.mean:.1f} patient-hours in all: {' or '.join(levers)} to take them.")
        else:
            out.append("Casualties practically never wait for a bed: the free beds and discharges absorb the surge.")
        nurses = nurses_on(ward, params.shift, params.nurses)
        staff = f"{count(nurses, 'nurse')} on the {params.shift} shift"
        if params.call_in_nurses:
            staff += f" plus {params.call_in_nurses} called in after {minutes(params.call_in_minutes)}"
        p50, p95, act = metrics["response_p50_s"], metrics["response_p95_s"], metrics["actionable_p95_s"]
        out.append(f"With {staff}, alarm load peaks at {metrics['alarms_per_nurse_hour_peak'].mean:.1f} alarms per "
                   f"nurse per hour; alarms are reached in {seconds(p50.mean)} (median), 95 % within "
                   f"{seconds(p95.mean)}; alarms needing action within {seconds(act.mean)} (95th percentile).")
        more = params.call_in_nurses + 2
        out.append(f"To see what calling in staff buys, run: smartward twin compare surge --a call_in_nurses="
                   f"{params.call_in_nurses} --b call_in_nurses={more} (difference in response times with its "
                   "95 % confidence interval).")
        return out


class _Census:
    """Occupied regular-plus-surge beds over time: peak and time with every regular bed taken."""

    def __init__(self, env: simpy.Environment, regular: int) -> None:
        self.env, self.regular = env, regular
        self.occupied = self.peak = 0
        self._full_since: float | None = None
        self._full = 0.0
        self.first_full = math.nan  # when every regular bed was first taken (NaN: never)

    def change(self, delta: int) -> None:
        self.occupied += delta
        self.peak = max(self.peak, self.occupied)
        is_full = self.occupied >= self.regular
        if is_full and self._full_since is None:
            self._full_since = self.env.now
            if math.isnan(self.first_full):
                self.first_full = self.env.now
        elif not is_full and self._full_since is not None:
            self._full += self.env.now - self._full_since
            self._full_since = None

    def full_s(self, horizon: float) -> float:
        return self._full + (horizon - self._full_since if self._full_since is not None else 0.0)


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * math.exp(sigma * rng.standard_normal()))


def _acuity(rng: np.random.Generator, p: SurgeParams) -> Acuity:
    u = rng.random()
    return "high" if u < p.mix_high else "medium" if u < p.mix_high + p.mix_medium else "low"


def _stay(env: simpy.Environment, station: NurseStation, free: simpy.Store, census: _Census, bed: str,
          stay_s: float) -> Generator[Any, Any, None]:
    yield env.timeout(stay_s)
    station.discharge(bed)
    census.change(-1)
    yield free.put(bed)


def _casualty(env: simpy.Environment, station: NurseStation, free: simpy.Store, census: _Census, ready_s: float,
              acuity: Acuity, stay_s: float, waits: list[float], horizon: float) -> Generator[Any, Any, None]:
    yield env.timeout(ready_s)
    if ready_s >= horizon:
        return
    req = free.get()
    got = yield req | env.timeout(horizon - env.now)
    if req not in got:  # still boarding at the end of the period
        req.cancel()
        waits.append(horizon - ready_s)
        return
    waits.append(env.now - ready_s)
    bed = str(got[req])
    census.change(+1)
    station.admit(bed, acuity)
    yield from _stay(env, station, free, census, bed, stay_s)
