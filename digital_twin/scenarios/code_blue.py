"""``code-blue``: in-hospital cardiac arrest on the ward, collapse to first compression and first shock.

Model (one replication, its own ``simpy.Environment``; every random draw from ``rng``):

1. Collapse at t = 0 in ``bed`` (default: a random occupied bed). Recognition: monitored beds (a
   ``monitor`` device on the bed, or ``monitored=yes``) alarm at the central station, lognormal
   median ``recognition_monitored_s``; unmonitored patients are found later, median
   ``recognition_unmonitored_s`` (by a colleague or the next check).
2. First responder: monitored -> a nurse starting at a random place on the ward (station or a room)
   runs to the bed; unmonitored -> the person who found the patient is already there. A
   breathing/pulse check (5-10 s) precedes the first compression.
3. Call (emergency bell / 2222) after ``call_s``; a second staff member becomes free after a delay
   whose median grows as staffing falls (``second_responder_s`` x day head count / shift head count),
   runs from the station to the nearest crash cart and pushes it to the bed along the ward graph.
4. Pads on and defibrillator ready (lognormal, median ``pads_s``), rhythm analysis + charge
   (uniform 8-15 s). With probability ``p_shockable`` the rhythm is VF/pVT and the first shock is
   given; otherwise time to first shock is NaN ("did not happen"). Drills use a VF manikin: 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

import numpy as np
import simpy
from pydantic import BaseModel, Field

from ..errors import ParamError, ScenarioError
from ..model import Shift, WardModel
from ..scenario import Metric, ScenarioParams
from ..staffing import on_shift
from ..stats import MetricSummary
from .code_blue_text import REFERENCES, summary_sentences
from .wording import listing


class CodeBlueParams(ScenarioParams):
    shift: Shift = "night"
    bed: str | None = Field(default=None, description="bed of the arrest (default: a random occupied bed)")
    monitored: Literal["auto", "yes", "no"] = "auto"
    crash_cart_node: str | None = Field(default=None, description="move every crash cart to this graph node")
    nurses: int | None = Field(default=None, ge=0, le=100)
    recognition_monitored_s: float = Field(default=15.0, ge=0)
    recognition_unmonitored_s: float = Field(default=120.0, ge=0)
    recognition_sigma: float = Field(default=0.6, ge=0, le=3)
    call_s: float = Field(default=10.0, ge=0)
    second_responder_s: float = Field(default=10.0, ge=0)
    speed_run: float = Field(default=1.8, gt=0, description="staff hurrying along the corridor, m/s")
    speed_cart: float = Field(default=1.4, gt=0, description="pushing the crash cart, m/s")
    pads_s: float = Field(default=30.0, ge=0)
    p_shockable: float = Field(default=1.0, ge=0, le=1)


_NOT_SHOCKABLE = "the rhythm was not shockable, so no shock was given (see p_shockable)"


class CodeBlue:
    name: ClassVar[str] = "code-blue"
    title: ClassVar[str] = "Code blue (in-hospital cardiac arrest)"
    Params: ClassVar[type[BaseModel]] = CodeBlueParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "first_shock_s": Metric("s", "Collapse to first shock", absent=_NOT_SHOCKABLE),
        "first_compression_s": Metric("s", "Collapse to first chest compression"),
        "recognition_s": Metric("s", "Collapse to recognition"),
        "cart_at_bedside_s": Metric("s", "Collapse to crash cart at the bedside"),
        "shock_within_2min": Metric("%", "First shock within 2 min (AHA in-hospital measure)", lower_is_better=False,
                                    absent=_NOT_SHOCKABLE, proportion=True),
        "shock_within_3min": Metric("%", "First shock within 3 min (ERC target)", lower_is_better=False,
                                    absent=_NOT_SHOCKABLE, proportion=True),
    }
    references: ClassVar[Sequence[str]] = REFERENCES

    def __init__(self) -> None:
        self._plans: dict[tuple[int, CodeBlueParams], tuple[WardModel, _Plan]] = {}

    def plan(self, ward: WardModel, params: CodeBlueParams) -> _Plan:
        key = (id(ward), params)
        hit = self._plans.get(key)
        if hit is None or hit[0] is not ward:
            hit = (ward, _Plan(ward, params))
            self._plans[key] = hit
        return hit[1]

    def check(self, ward: WardModel, params: CodeBlueParams) -> None:
        """``bed`` and ``crash_cart_node`` must exist in the ward; it needs a crash cart."""
        self.plan(ward, params)

    def run_once(self, ward: WardModel, params: CodeBlueParams, rng: np.random.Generator) -> dict[str, float]:
        plan = self.plan(ward, params)
        p = params
        b = int(rng.integers(len(plan.beds)))
        monitored, cart_s = plan.monitored[b], plan.cart_s[b]
        median = p.recognition_monitored_s if monitored else p.recognition_unmonitored_s
        recognition = median * float(rng.lognormal(0.0, p.recognition_sigma))
        responder_m = plan.responder_m[b][int(rng.integers(len(plan.responder_m[b])))] if monitored else 0.0
        check = float(rng.uniform(5.0, 10.0))
        call = p.call_s * float(rng.lognormal(0.0, 0.5))
        second = plan.second_median_s * float(rng.lognormal(0.0, 0.7))
        pads = p.pads_s * float(rng.lognormal(0.0, 0.4))
        analyse = float(rng.uniform(8.0, 15.0))
        shockable = bool(rng.random() < p.p_shockable)

        env = simpy.Environment()
        out: dict[str, float] = {}

        def responder() -> simpy.events.ProcessGenerator:
            yield env.timeout(recognition + responder_m / p.speed_run)
            out.setdefault("at_bed", env.now)

        def cart() -> simpy.events.ProcessGenerator:
            yield env.timeout(recognition + call + second + cart_s)
            out["cart"] = env.now
            out.setdefault("at_bed", env.now)

        r, c = env.process(responder()), env.process(cart())

        def resuscitation() -> simpy.events.ProcessGenerator:
            yield r | c
            yield env.timeout(check)
            out["compression"] = env.now
            yield c
            yield env.timeout(pads + analyse)
            out["shock"] = env.now

        env.process(resuscitation())
        env.run()
        shock = out["shock"] if shockable else math.nan
        return {
            "first_shock_s": shock,
            "first_compression_s": out["compression"],
            "recognition_s": recognition,
            "cart_at_bedside_s": out["cart"],
            "shock_within_2min": math.nan if not shockable else (100.0 if shock <= 120.0 else 0.0),
            "shock_within_3min": math.nan if not shockable else (100.0 if shock < 180.0 else 0.0),
        }

    def summarize(self, ward: WardModel, params: CodeBlueParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        return summary_sentences(ward, params, self.plan(ward, params).cart_nodes, metrics)


class _Plan:
    """Per ward and parameters: candidate beds, whether monitored, cart fetch time, responder starts."""

    def __init__(self, ward: WardModel, p: CodeBlueParams) -> None:
        carts = [e.node for e in ward.equipment if e.kind == "crash_cart"]
        if p.crash_cart_node is not None:
            if p.crash_cart_node not in ward.graph.nodes:
                raise ParamError("code-blue", "crash_cart_node", f"{p.crash_cart_node!r} is not a node of ward {ward.id!r}; "
                                 f"its nodes: {listing(sorted(ward.graph.nodes))}")
            carts = [p.crash_cart_node]
        if not carts:
            raise ScenarioError(f"code-blue: ward {ward.id!r} has no crash_cart in equipment")
        self.cart_nodes = tuple(carts)
        if p.bed is not None:
            beds = [b for b in ward.beds if b.id == p.bed]
            if not beds:
                raise ParamError("code-blue", "bed", f"no bed {p.bed!r} in ward {ward.id!r}; its beds: "
                                 f"{listing([b.id for b in ward.beds])}")
        else:
            beds = ward.occupied_beds() or list(ward.beds)
        self.beds = beds
        monitors = {d.bed for d in ward.devices if d.kind == "monitor"}
        self.monitored = [p.monitored == "yes" or (p.monitored == "auto" and b.id in monitors) for b in beds]
        starts = [ward.station, *sorted({r.node for r in ward.rooms})]
        self.responder_m: list[list[float]] = []
        self.cart_s: list[float] = []
        for bed in beds:
            node = ward.bed_node(bed)
            self.responder_m.append([ward.distance(s, node) for s in starts])
            self.cart_s.append(min(ward.distance(ward.station, c) / p.speed_run + ward.distance(c, node) / p.speed_cart
                                   for c in carts))
        day = sum(1 for _ in ward.staff_on("day"))
        now = sum(on_shift(ward, p.shift, overrides={"nurse": p.nurses}).values())
        self.second_median_s = p.second_responder_s * max(1.0, day / max(now, 1))
