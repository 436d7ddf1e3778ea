"""Nurses answering bedside alarms between their care work: the queueing model behind the
``alarm-load`` and ``surge`` drills.

Model (SimPy, times in seconds, every random draw from the replication's ``rng``):

- Every occupied, monitored bed raises alarms as a Poisson process with rate
  ``alarms_per_bed_hour * acuity factor`` (``alarms_per_bed_hour`` is the rate of a high-acuity bed).
  An alarm is actionable with probability ``actionable_<acuity>``.
- A non-actionable alarm resolves by itself after a lognormal duration (median
  ``self_resolve_median_s``); if no nurse reached the bed before that, it counts as *unanswered*.
  Actionable alarms persist until a nurse arrives.
- Recognition: before a nurse moves, a lognormal delay (median ``recognition_median_s``) multiplied by
  the alarm-fatigue factor ``min(fatigue_cap, 1 + fatigue_gain * n)``, ``n`` = the non-actionable
  alarms this bed raised in the preceding ``fatigue_window_min`` (the exposure measure of
  Bonafide 2015). Fatigue therefore both slows responses and lowers the chance of answering a
  self-resolving alarm at all.
- Nurses are a ``simpy.PriorityResource``: alarms (priority 0) before care tasks (priority 1); a nurse
  finishes the task in hand (no pre-emption). Care work: each occupied bed asks for tasks as a
  Poisson process (``care_tasks_per_hour_<acuity>``, lognormal length, median ``care_task_median_min``).
- Busy time of an answered alarm: walk there + assessment (non-actionable, median
  ``assess_median_s``) or treatment (actionable, median ``treat_median_s``) + walk back.
  Walking: shortest path on the ward graph from the ward's nurse station at ``walk_speed_mps``.
- *Response time* = alarm onset → nurse at the bedside.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field

from .errors import ScenarioError
from .model import Shift, WardModel
from .scenario import ScenarioParams

Acuity = Literal["low", "medium", "high"]
ACUITIES: tuple[Acuity, ...] = ("low", "medium", "high")


RESPONDERS = ("nurse", "charge_nurse")


class NursingParams(ScenarioParams):
    """Alarm, fatigue and nurse-work parameters shared by the alarm-load and surge drills."""

    alarms_per_bed_hour: float = Field(7.8, ge=0, description="alarms/h of a high-acuity monitored bed "
                                       "(Drew 2014: 187 audible alarms per ICU bed per day = 7.8/h)")
    factor_medium: float = Field(0.4, ge=0, description="alarm rate of a medium-acuity bed relative to high")
    factor_low: float = Field(0.15, ge=0, description="alarm rate of a low-acuity bed relative to high")
    actionable_high: float = Field(0.13, ge=0, le=1, description="fraction of a high-acuity bed's alarms needing action")
    actionable_medium: float = Field(0.05, ge=0, le=1, description="the same for medium acuity")
    actionable_low: float = Field(0.01, ge=0, le=1, description="the same for low acuity")
    self_resolve_median_s: float = Field(20.0, gt=0, description="median duration of a self-resolving alarm")
    recognition_median_s: float = Field(30.0, gt=0, description="median delay before a free nurse moves")
    recognition_sigma: float = Field(0.8, ge=0, description="lognormal sigma of the recognition delay")
    fatigue_gain: float = Field(0.05, ge=0, description="delay increase per recent non-actionable alarm of the bed")
    fatigue_window_min: float = Field(120.0, gt=0, description="exposure window (Bonafide 2015: 120 min)")
    fatigue_cap: float = Field(3.0, ge=1, description="largest fatigue multiplier")
    assess_median_s: float = Field(45.0, gt=0, description="median time to check a non-actionable alarm")
    treat_median_s: float = Field(240.0, gt=0, description="median time to act on an actionable alarm")
    walk_speed_mps: float = Field(1.2, gt=0, description="nurse walking speed (Bohannon 1997: 1.27-1.46 m/s)")
    care_tasks_per_hour_high: float = Field(1.0, ge=0, description="care tasks per high-acuity patient-hour")
    care_tasks_per_hour_medium: float = Field(0.5, ge=0, description="care tasks per medium-acuity patient-hour")
    care_tasks_per_hour_low: float = Field(0.25, ge=0, description="care tasks per low-acuity patient-hour")
    care_task_median_min: float = Field(8.0, gt=0, description="median length of a care task")

    def alarm_rate_per_s(self, acuity: Acuity) -> float:
        factor = {"high": 1.0, "medium": self.factor_medium, "low": self.factor_low}[acuity]
        return self.alarms_per_bed_hour * factor / 3600.0

    def actionable(self, acuity: Acuity) -> float:
        return {"high": self.actionable_high, "medium": self.actionable_medium, "low": self.actionable_low}[acuity]

    def care_rate_per_s(self, acuity: Acuity) -> float:
        return {"high": self.care_tasks_per_hour_high, "medium": self.care_tasks_per_hour_medium,
                "low": self.care_tasks_per_hour_low}[acuity] / 3600.0


# what a NaN alarm figure means (``Metric.absent``, for surge and alarm-load)
NO_ANSWER = "no alarm was answered"
NO_ACTIONABLE = "no actionable alarm was answered"
NO_ALARM = "no alarm was raised"


def nurses_on(ward: WardModel, shift: Shift, override: int | None = None) -> int:
    """Nurses (and the charge nurse) answering alarms on ``shift``, or ``override``; at least one."""
    n = override if override is not None else sum(1 for s in ward.staff_on(shift) if s.role in RESPONDERS)
    if n < 1:
        raise ScenarioError(f"ward {ward.id} has no nurse on the {shift} shift: set nurses=N or add staff")
    return n


def walk_times(ward: WardModel, speed_mps: float) -> dict[str, float]:
    """Seconds from the nurse station to each bed along the ward graph."""
    out: dict[str, float] = {}
    for b in ward.beds:
        metres = ward.distance(ward.station, ward.bed_node(b))
        if not math.isfinite(metres):
            raise ScenarioError(f"ward {ward.id}: bed {b.id} cannot be reached from the station {ward.station!r} "
                                "on the ward graph")
        out[b.id] = metres / speed_mps
    return out


@dataclass(slots=True)
class AlarmRecord:
    t: float
    bed: str
    actionable: bool
    response_s: float | None = None  # None: unanswered
    busy_s: float = 0.0  # nurse time spent on it


@dataclass(slots=True)
class _Bed:
    id: str
    acuity: Acuity
    walk_s: float
    active: bool = True
    recent: deque[float] = field(default_factory=deque)  # onsets of recent non-actionable alarms


class NurseStation:
    """Nurses of one ward on one SimPy environment; beds are admitted and discharged while it runs."""

    def __init__(self, env: simpy.Environment, rng: np.random.Generator, params: NursingParams,
                 nurses: int, walk_s: Mapping[str, float]) -> None:
        if nurses < 1:
            raise ScenarioError("at least one nurse is needed to answer alarms")
        self.env, self.rng, self.p = env, rng, params
        self.nurses = simpy.PriorityResource(env, capacity=nurses)
        self.walk_s = walk_s
        self.alarms: list[AlarmRecord] = []
        self.care_busy_s = 0.0
        self._beds: dict[str, _Bed] = {}

    def admit(self, bed: str, acuity: Acuity) -> None:
        """Start alarms and care work for the patient in ``bed`` (until :meth:`discharge`)."""
        b = _Bed(bed, acuity, self.walk_s.get(bed, 0.0))
        self._beds[bed] = b
        self.env.process(self._alarm_source(b))
        self.env.process(self._care_source(b))

    def discharge(self, bed: str) -> None:
        b = self._beds.pop(bed, None)
        if b is not None:
            b.active = False

    def hold(self, count: int, until_s: float) -> None:
        """Keep ``count`` nurses away (not yet arrived) until ``until_s``: for call-in staff."""
        for _ in range(count):
            self.env.process(self._absent(until_s))

    def _absent(self, until_s: float) -> Generator[Any, Any, None]:
        with self.nurses.request(priority=-1) as req:
            yield req
            yield self.env.timeout(max(0.0, until_s - self.env.now))

    def _lognormal(self, median: float, sigma: float) -> float:
        return float(median * math.exp(sigma * self.rng.standard_normal()))

    def _alarm_source(self, b: _Bed) -> Generator[Any, Any, None]:
        rate = self.p.alarm_rate_per_s(b.acuity)
        if rate <= 0:
            return
        while True:
            yield self.env.timeout(float(self.rng.exponential(1.0 / rate)))
            if not b.active:
                return
            actionable = bool(self.rng.random() < self.p.actionable(b.acuity))
            rec, delay, resolves = self._raise(b, actionable)
            if self.env.now + delay < resolves:  # else it resolves before anyone moves: unanswered
                self.env.process(self._respond(b, rec, delay, resolves))

    def _raise(self, b: _Bed, actionable: bool) -> tuple[AlarmRecord, float, float]:
        """Record an alarm now; its recognition delay (with fatigue) and when it resolves by itself."""
        p, now = self.p, self.env.now
        rec = AlarmRecord(now, b.id, actionable)
        self.alarms.append(rec)
        window = p.fatigue_window_min * 60.0
        while b.recent and b.recent[0] < now - window:
            b.recent.popleft()
        fatigue = min(p.fatigue_cap, 1.0 + p.fatigue_gain * len(b.recent))
        if not actionable:
            b.recent.append(now)
        resolves = math.inf if actionable else now + self._lognormal(p.self_resolve_median_s, 1.0)
        return rec, self._lognormal(p.recognition_median_s, p.recognition_sigma) * fatigue, resolves

    def _respond(self, b: _Bed, rec: AlarmRecord, delay: float, resolves: float) -> Generator[Any, Any, None]:
        p = self.p
        yield self.env.timeout(delay)
        req = self.nurses.request(priority=0)
        if math.isinf(resolves):
            yield req
        else:
            got = yield req | self.env.timeout(resolves - self.env.now)
            if req not in got:
                req.cancel()
                return
        try:
            start = self.env.now
            yield self.env.timeout(b.walk_s)
            rec.response_s = self.env.now - rec.t
            work = p.treat_median_s if rec.actionable else p.assess_median_s
            yield self.env.timeout(self._lognormal(work, 0.5) + b.walk_s)
            rec.busy_s = self.env.now - start
        finally:
            self.nurses.release(req)

    def _care_source(self, b: _Bed) -> Generator[Any, Any, None]:
        rate = self.p.care_rate_per_s(b.acuity)
        if rate <= 0:
            return
        while True:
            yield self.env.timeout(float(self.rng.exponential(1.0 / rate)))
            if not b.active:
                return
            self.env.process(self._care(b))

    def _care(self, b: _Bed) -> Generator[Any, Any, None]:
        with self.nurses.request(priority=1) as req:
            yield req
            start = self.env.now
            yield self.env.timeout(self._lognormal(self.p.care_task_median_min * 60.0, 0.5) + 2 * b.walk_s)
            self.care_busy_s += self.env.now - start


@dataclass(frozen=True, slots=True)
class AlarmStats:
    alarms: int
    answered: int
    response_p50_s: float
    response_p95_s: float
    actionable_p95_s: float
    unanswered_pct: float
    nonactionable_busy_s: float


def alarm_stats(records: list[AlarmRecord], since_s: float, until_s: float) -> AlarmStats:
    """Figures over the alarms raised in [``since_s``, ``until_s``) (NaN where nothing happened)."""
    recs = [r for r in records if since_s <= r.t < until_s]
    times = np.array([r.response_s for r in recs if r.response_s is not None], dtype=float)
    act = np.array([r.response_s for r in recs if r.actionable and r.response_s is not None], dtype=float)
    nan = float("nan")
    return AlarmStats(
        alarms=len(recs),
        answered=int(times.size),
        response_p50_s=float(np.percentile(times, 50)) if times.size else nan,
        response_p95_s=float(np.percentile(times, 95)) if times.size else nan,
        actionable_p95_s=float(np.percentile(act, 95)) if act.size else nan,
        unanswered_pct=100.0 * (len(recs) - times.size) / len(recs) if recs else nan,
        nonactionable_busy_s=sum(r.busy_s for r in recs if not r.actionable),
    )
