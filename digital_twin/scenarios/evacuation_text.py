"""Published reference numbers and the plain-language summary of the ``evacuation`` scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..model import WardModel
from ..stats import MetricSummary
from .wording import interval

if TYPE_CHECKING:
    from .evacuation import EvacuationParams

PLANNING_MIN = 30.0  # minutes: planning threshold (30-min sub-compartment; check the site's fire strategy)

REFERENCES: tuple[str, ...] = (
    "Hospital evacuation drills: about 73 % of the total evacuation time was pre-movement (preparation "
    "and waiting), movement the rest (figure as given in the project's requirements; the twin is calibrated to it, see "
    "docs/digital-twin.md, Validation).",
    "Movement speeds: beds 0.7 m/s, wheelchairs 1.1 m/s, walking frames 1.0 m/s (the project's requirements); ambulant "
    "adults about 1.2-1.25 m/s on the level (Boyce, Shields & Silcock, Fire Technology 1999).",
    "Progressive horizontal evacuation into an adjacent compartment first (UK HTM 05-02, Firecode); "
    "sub-compartments commonly give 30 minutes of fire resistance, used here as a planning threshold.",
    "Staffing: NICE SG1 (2014) links more than 8 patients per registered nurse on day shifts to a higher "
    "risk of harm; "
    "California Title 22 s70217 sets 1 RN to 5 patients on medical-surgical units.",
    "Repeat drills: power-law learning curve (Wright 1936), T(n) = T(1) n^log2(r); r = 0.9 per doubling "
    "and a floor at 60 % of the first drill are assumptions, not measured for hospital evacuation.",
)


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else (f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}")


def summary_sentences(ward: WardModel, params: EvacuationParams, staff: int,
                      metrics: Mapping[str, MetricSummary]) -> list[str]:
    total = metrics["total_min"]
    pre = metrics["pre_movement_pct"]
    high = metrics["high_acuity_clear_min"]
    load = metrics["staff_load_min"]
    census = sum(1 for b in ward.beds if b.occupied) if params.census is None else params.census
    if census == 0:
        return [f"No occupied beds on {ward.name}: nothing to evacuate (check the census or --set census=N)."]
    out = [
        f"With {staff} staff on the {params.shift} shift and {census} patients, evacuating the ward "
        f"({params.destination}) takes {_fmt(total.mean)} min on average "
        f"({interval(total, _fmt)}); 1 drill in 20 takes longer than {_fmt(total.p95)} min.",
    ]
    if math.isfinite(total.p95):
        act = (f"agree help from neighbouring wards or the site team for {params.shift} shifts, or move the most "
               f"dependent patients closer to the exits; size the help with "
               f"`smartward twin compare evacuation --a ... --b staff_scale=1.5`.")
        typical = max(total.mean, total.p50)
        if typical > PLANNING_MIN:
            out.append(
                f"The typical drill already exceeds a {PLANNING_MIN:.0f}-minute planning threshold ({_fmt(total.mean)} "
                f"min on average, median {_fmt(total.p50)} min; a slow drill {_fmt(total.p95)} min): {act}")
        elif total.p95 > PLANNING_MIN:
            out.append(f"A slow drill exceeds a {PLANNING_MIN:.0f}-minute planning threshold: {act}")
        else:
            out.append(f"That is within a {PLANNING_MIN:.0f}-minute planning threshold even in a slow drill.")
    if math.isfinite(pre.mean):
        out.append(
            f"{_fmt(pre.mean)} % of patients' evacuation time is spent before they move (decision, preparation, "
            f"waiting for staff). Shortening preparation pays more than faster corridors: pre-assigned roles, "
            f"portable oxygen and monitors ready at the bedside, and practised drills.")
    if high.n:
        out.append(f"All high-acuity patients are out after {_fmt(high.mean)} min on average "
                   f"({_fmt(high.p95)} min in a slow drill).")
        if params.order == "least_dependent_first" and high.mean >= 0.9 * total.mean:
            out.append("Taking the least dependent first leaves the high-acuity patients for last; compare with "
                       "`--set order=most_acute_first` (ambulant patients then wait longer).")
    if math.isfinite(load.mean):
        out.append(f"Each staff member spends about {_fmt(load.mean)} min hands-on moving patients.")
    if total.n < 30:
        out.append(f"Only {total.n} replication(s): run 1,000 or more before acting on these figures.")
    if params.prior_drills:
        out.append(f"Assumes {params.prior_drills} earlier drill(s) shortened preparation (learning curve, an assumption).")
    return out
