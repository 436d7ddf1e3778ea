"""``evacuation``: progressive horizontal evacuation of a ward (or down the stairs) with the staff on shift.

Model (one replication, its own ``simpy.Environment``; every random draw from ``rng``):

1. Alarm at t = 0. The charge nurse investigates and orders the evacuation after a lognormal delay
   (median ``decision_median_s``).
2. Patients are taken in a fixed order (``order``: least dependent first, the usual instruction, or
   most acute first, or nearest to an exit first). Staff are one pool (a ``simpy.Container``); one
   coordinating process (the charge nurse) allocates patients strictly in that order as soon as
   enough staff are free (ambulant/walker/wheelchair 1, bed ``bed_staff`` = 2, or 1 with a free
   powered bed mover when ``use_bed_movers``). Evacuation aids are pools too.
3. A task = walk from the coordination point (nurse station) to the room + preparation (disconnect,
   portable O2/monitoring, transfer; lognormal, median by mobility x acuity factor) + for wheelchair
   and bed moves, pushing the patient to the destination and walking back to the station. Ambulant
   and walker patients walk on their own once prepared (staff are released).
4. Destination: the nearest exit or refuge (``destination=horizontal``) or the stairs
   (``destination=stairs``: wheelchair users in an evac chair, bed-bound patients on an evac sled, plus a
   descent time per floor).
5. Repeat-drill learning: decision and preparation times x ``max(learning_floor, (prior_drills + 1) ^
   log2(learning_rate))`` (Wright's power-law learning curve; 90 % per doubling is an assumption).

A patient's pre-movement time is alarm -> start of movement (waiting for staff included), as in
drill studies; ``pre_movement_pct`` = sum of pre-movement / sum of alarm -> arrival times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import simpy
from pydantic import BaseModel, Field

from ..errors import ParamError, ScenarioError
from ..model import Acuity, Mobility, Shift, WardModel
from ..scenario import Metric, ScenarioParams
from ..staffing import on_shift
from ..stats import MetricSummary
from .evacuation_text import REFERENCES, summary_sentences

_DEPENDENCY: dict[Mobility, int] = {"ambulant": 0, "walker": 1, "wheelchair": 2, "bed": 3}
_ACUITY_RANK: dict[Acuity, int] = {"low": 0, "medium": 1, "high": 2}


class EvacuationParams(ScenarioParams):
    shift: Shift = "night"
    nurses: int | None = Field(default=None, ge=0, le=100, description="registered nurses on shift (default: roster)")
    charge_nurses: int | None = Field(default=None, ge=0, le=20)
    hcas: int | None = Field(default=None, ge=0, le=100, description="healthcare assistants (default: roster)")
    staff_scale: float = Field(default=1.0, gt=0, le=10, description="multiplies every role's head count")
    census: int | None = Field(default=None, ge=0, description="occupied beds (default: the ward file)")
    destination: Literal["horizontal", "stairs"] = "horizontal"
    order: Literal["least_dependent_first", "most_acute_first", "nearest_first"] = "least_dependent_first"
    decision_median_s: float = Field(default=120.0, ge=0)
    prep_ambulant_s: float = Field(default=60.0, ge=0, description="median preparation, ambulant, low acuity")
    prep_walker_s: float = Field(default=90.0, ge=0)
    prep_wheelchair_s: float = Field(default=150.0, ge=0)
    prep_bed_s: float = Field(default=240.0, ge=0)
    acuity_medium_factor: float = Field(default=1.5, gt=0)
    acuity_high_factor: float = Field(default=2.0, gt=0)
    prep_sigma: float = Field(default=0.5, ge=0, le=3, description="lognormal sigma of preparation times")
    bed_staff: int = Field(default=2, ge=1, le=6)
    use_bed_movers: bool = Field(default=False, description="a bed with a free powered bed mover needs 1 staff")
    speed_bed: float = Field(default=0.7, gt=0)
    speed_wheelchair: float = Field(default=1.1, gt=0)
    speed_walker: float = Field(default=1.0, gt=0)
    speed_ambulant: float = Field(default=1.2, gt=0)
    speed_staff: float = Field(default=1.3, gt=0)
    beyond_exit_m: float = Field(default=0.0, ge=0, le=5000, description="exit -> place of safety (receiving ward)")
    floors_down: int = Field(default=1, ge=0, le=50)
    descent_chair_s: float = Field(default=60.0, ge=0, description="evac chair, per floor")
    descent_sled_s: float = Field(default=120.0, ge=0, description="evac sled, per floor")
    descent_walk_s: float = Field(default=30.0, ge=0, description="ambulant/walker, per floor")
    prior_drills: int = Field(default=0, ge=0, le=1000)
    learning_rate: float = Field(default=0.9, gt=0, le=1)
    learning_floor: float = Field(default=0.6, gt=0, le=1)


@dataclass(frozen=True, slots=True)
class _Task:
    mobility: Mobility
    acuity: Acuity
    staff: int  # staff needed during preparation (and movement when escorted)
    aid: Literal["", "evac_chair", "evac_sled"]
    escorted: bool
    to_room_s: float  # station -> room at staff speed
    to_room_mover_s: float  # station -> nearest bed mover -> room (bed moves with a mover)
    move_s: float  # room -> destination at the patient's speed (+ descent)
    back_s: float  # destination -> station at staff speed (escorted moves)
    prep_median_s: float


@dataclass(frozen=True, slots=True)
class _Plan:
    tasks: tuple[_Task, ...]
    staff: int
    aids: Mapping[str, int]
    movers: int  # powered bed movers in use (0 unless use_bed_movers)
    learning: float
    high: tuple[int, ...]  # indexes of high-acuity tasks


def build_plan(ward: WardModel, p: EvacuationParams) -> _Plan:
    """Everything that does not change between replications (paths, order, staffing)."""
    counts = on_shift(ward, p.shift, overrides={"nurse": p.nurses, "charge_nurse": p.charge_nurses, "hca": p.hcas},
                      scale=p.staff_scale)
    staff = sum(counts.values())
    beds = ward.beds if p.census is None else [b.model_copy(update={"occupied": i < p.census}) for i, b in enumerate(ward.beds)]
    if p.census is not None and p.census > len(ward.beds):
        raise ParamError("evacuation", "census", f"census {p.census} exceeds the {len(ward.beds)} beds of ward "
                         f"{ward.id!r}")
    speed = {"bed": p.speed_bed, "wheelchair": p.speed_wheelchair, "walker": p.speed_walker, "ambulant": p.speed_ambulant}
    prep = {"bed": p.prep_bed_s, "wheelchair": p.prep_wheelchair_s, "walker": p.prep_walker_s, "ambulant": p.prep_ambulant_s}
    factor = {"low": 1.0, "medium": p.acuity_medium_factor, "high": p.acuity_high_factor}
    kinds: tuple[Literal["exit", "stairs", "refuge"], ...] = ("exit", "refuge") if p.destination == "horizontal" else ("stairs",)
    aids = {"evac_chair": ward.equipment_count("evac_chair"), "evac_sled": ward.equipment_count("evac_sled")}
    mover_nodes = [e.node for e in ward.equipment if e.kind == "bed_mover"] if p.use_bed_movers else []
    if not any(x.kind in kinds for x in ward.exits):
        raise ScenarioError(f"evacuation: ward {ward.id!r} has no exit of kind {' or '.join(kinds)}")
    tasks: list[tuple[tuple[float, ...], _Task]] = []
    for bed in (b for b in beds if b.occupied):
        node = ward.bed_node(bed)
        dest, metres = ward.nearest_exit(node, kinds)
        aid: Literal["", "evac_chair", "evac_sled"] = ""
        descent = 0.0
        if p.destination == "stairs":
            aid = {"wheelchair": "evac_chair", "bed": "evac_sled"}.get(bed.mobility, "")  # type: ignore[assignment]
            per_floor = {"evac_chair": p.descent_chair_s, "evac_sled": p.descent_sled_s, "": p.descent_walk_s}[aid]
            descent = per_floor * p.floors_down
            if aid and aids[aid] == 0:
                raise ScenarioError(f"evacuation: destination=stairs needs an {aid} for {bed.mobility} patients; "
                                    f"ward {ward.id!r} lists none in equipment")
        escorted = bed.mobility in ("wheelchair", "bed")
        task = _Task(
            mobility=bed.mobility, acuity=bed.acuity, staff=p.bed_staff if bed.mobility == "bed" else 1, aid=aid,
            escorted=escorted, to_room_s=ward.distance(ward.station, node) / p.speed_staff,
            to_room_mover_s=min((ward.distance(ward.station, m) + ward.distance(m, node) for m in mover_nodes),
                                default=ward.distance(ward.station, node)) / p.speed_staff,
            move_s=(metres + p.beyond_exit_m) / speed[bed.mobility] + descent,
            back_s=(ward.distance(dest.node, ward.station) + p.beyond_exit_m) / p.speed_staff if escorted else 0.0,
            prep_median_s=prep[bed.mobility] * factor[bed.acuity],
        )
        dep, acu = _DEPENDENCY[bed.mobility], _ACUITY_RANK[bed.acuity]
        key = {"least_dependent_first": (dep, acu, metres), "most_acute_first": (-acu, -dep, metres),
               "nearest_first": (metres, dep, acu)}[p.order]
        tasks.append((key, task))
    ordered = tuple(t for _, t in sorted(tasks, key=lambda kt: kt[0]))
    if any(t.staff > staff for t in ordered):
        raise ScenarioError(f"evacuation: a bed move needs {p.bed_staff} staff but only {staff} are on shift")
    learning = max(p.learning_floor, (p.prior_drills + 1) ** math.log2(p.learning_rate))
    movers = ward.equipment_count("bed_mover") if p.use_bed_movers else 0
    return _Plan(ordered, staff, aids, movers, learning, tuple(i for i, t in enumerate(ordered) if t.acuity == "high"))


_NOBODY = "there was no patient to evacuate: no bed was occupied"


class Evacuation:
    name: ClassVar[str] = "evacuation"
    title: ClassVar[str] = "Ward evacuation"
    Params: ClassVar[type[BaseModel]] = EvacuationParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "total_min": Metric("min", "Total evacuation time (alarm to last patient out)"),
        "pre_movement_pct": Metric("%", "Pre-movement share of patients' evacuation time", absent=_NOBODY),
        "high_acuity_clear_min": Metric("min", "Time to clear all high-acuity patients",
                                        absent="there was no high-acuity patient to evacuate"),
        "mean_pre_movement_min": Metric("min", "Mean pre-movement time per patient (alarm to moving)", absent=_NOBODY),
        "staff_load_min": Metric("min", "Hands-on time per staff member"),
        "patients_per_staff": Metric("patients", "Patients per staff member on shift"),
    }
    references: ClassVar[Sequence[str]] = REFERENCES

    def __init__(self) -> None:
        self._plans: dict[tuple[int, EvacuationParams], tuple[WardModel, _Plan]] = {}

    def plan(self, ward: WardModel, params: EvacuationParams) -> _Plan:
        key = (id(ward), params)
        hit = self._plans.get(key)
        if hit is None or hit[0] is not ward:
            hit = (ward, build_plan(ward, params))
            self._plans[key] = hit
        return hit[1]

    def check(self, ward: WardModel, params: EvacuationParams) -> None:
        """The evacuation plan must be possible: census, exits, aids and staff for a bed move."""
        self.plan(ward, params)

    def run_once(self, ward: WardModel, params: EvacuationParams, rng: np.random.Generator) -> dict[str, float]:
        plan = self.plan(ward, params)
        n = len(plan.tasks)
        if n == 0:
            nan = float("nan")
            return {"total_min": 0.0, "pre_movement_pct": nan, "high_acuity_clear_min": nan,
                    "mean_pre_movement_min": nan, "staff_load_min": 0.0, "patients_per_staff": 0.0}
        decision = params.decision_median_s * plan.learning * float(rng.lognormal(0.0, params.prep_sigma))
        preps = rng.lognormal(0.0, params.prep_sigma, size=n) * plan.learning
        env = simpy.Environment()
        staff = simpy.Container(env, capacity=plan.staff, init=plan.staff)
        aids = {k: simpy.Container(env, capacity=v, init=v) for k, v in plan.aids.items() if v}
        movers = simpy.Container(env, capacity=plan.movers, init=plan.movers) if plan.movers else None
        start = [0.0] * n
        arrive = [0.0] * n
        busy = [0.0]

        def patient(i: int, task: _Task, prep_s: float, crew: int, mover: bool) -> simpy.events.ProcessGenerator:
            t0 = env.now
            yield env.timeout((task.to_room_mover_s if mover else task.to_room_s) + prep_s)
            start[i] = env.now
            if not task.escorted:
                staff.put(crew)
                busy[0] += crew * (env.now - t0)
            yield env.timeout(task.move_s)
            arrive[i] = env.now
            if task.escorted:
                yield env.timeout(task.back_s)
                staff.put(crew)
                if task.aid:
                    aids[task.aid].put(1)
                if mover and movers is not None:
                    movers.put(1)
                busy[0] += crew * (env.now - t0)

        def coordinator() -> simpy.events.ProcessGenerator:
            """The charge nurse allocates patients strictly in order as staff (and aids) come free."""
            yield env.timeout(decision)
            for i, task in enumerate(plan.tasks):
                crew, mover = task.staff, False
                if movers is not None and task.mobility == "bed" and task.staff > 1:
                    yield staff.get(1)
                    if movers.level > 0:  # a free powered bed mover: one person moves the bed
                        yield movers.get(1)
                        crew, mover = 1, True
                    else:
                        yield staff.get(task.staff - 1)
                else:
                    yield staff.get(task.staff)
                if task.aid:
                    yield aids[task.aid].get(1)
                env.process(patient(i, task, task.prep_median_s * float(preps[i]), crew, mover))

        env.process(coordinator())
        env.run()
        total = max(arrive)
        return {
            "total_min": total / 60.0,
            "pre_movement_pct": 100.0 * sum(start) / sum(arrive) if sum(arrive) > 0 else float("nan"),
            "high_acuity_clear_min": max(arrive[i] for i in plan.high) / 60.0 if plan.high else float("nan"),
            "mean_pre_movement_min": sum(start) / n / 60.0,
            "staff_load_min": busy[0] / plan.staff / 60.0,
            "patients_per_staff": n / plan.staff,
        }

    def summarize(self, ward: WardModel, params: EvacuationParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        return summary_sentences(ward, params, self.plan(ward, params).staff, metrics)
