"""Published reference numbers and the plain-language summary of the ``code-blue`` scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..model import WardModel
from ..stats import MetricSummary
from .wording import interval

if TYPE_CHECKING:
    from .code_blue import CodeBlueParams

REFERENCES: tuple[str, ...] = (
    "AHA: for in-hospital VF/pulseless VT the first shock should be given within 2 minutes of collapse "
    "(AHA Guidelines for CPR and ECC; Get With The Guidelines-Resuscitation quality measure).",
    "Issue 6 target: first shock in under 3 minutes (in-hospital guidance of the ERC / Resuscitation "
    "Council UK aims at defibrillation within 3 minutes of collapse).",
    "Chan PS et al., Delayed time to defibrillation after in-hospital cardiac arrest, N Engl J Med "
    "2008;358:9-17: 6,789 VF/pVT arrests in 369 US hospitals; defibrillation was delayed beyond 2 min in "
    "30.1 %, and delay was associated with lower survival to discharge (22.2 % vs 39.3 %).",
    "In-situ simulated arrests on hospital wards (e.g. Mondrup et al., Scand J Trauma Resusc Emerg Med "
    "2011;19:55) report times to first compression and first defibrillation that often miss these targets; "
    "compare your own drill figures with the twin (live drill mode).",
)


def _s(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.0f} s" if x < 120 else f"{x / 60:.1f} min"


def summary_sentences(ward: WardModel, params: CodeBlueParams, carts: Sequence[str],
                      metrics: Mapping[str, MetricSummary]) -> list[str]:
    shock, comp, cart = metrics["first_shock_s"], metrics["first_compression_s"], metrics["cart_at_bedside_s"]
    p2, p3 = metrics["shock_within_2min"], metrics["shock_within_3min"]
    where = f"bed {params.bed}" if params.bed else "a random occupied bed"
    out = [
        f"On the {params.shift} shift, for an arrest in {where}, chest compressions start after {_s(comp.mean)} on "
        f"average (1 in 20 later than {_s(comp.p95)}).",
    ]
    if shock.n:
        out.append(
            f"The first shock comes after {_s(shock.mean)} on average ({interval(shock, lambda x: f'{x:.0f} s')}; "
            f"1 in 20 later than {_s(shock.p95)}): {p3.mean:.0f} % within 3 minutes, {p2.mean:.0f} % within the "
            f"AHA's 2 minutes.")
        if p3.mean < 90:
            out.append(
                f"The crash cart reaches the bedside after {_s(cart.mean)} on average: that is the largest step. "
                f"Consider a second cart or an AED nearer the far rooms (cart now at {', '.join(carts)}), and "
                f"rehearse who fetches it.")
        else:
            out.append("That meets the 3-minute target in at least 9 drills out of 10; keep rehearsing who fetches the cart.")
    else:
        out.append("No replication had a shockable rhythm (p_shockable), so time to first shock is not reported.")
    if comp.n < 30:
        out.append(f"Only {comp.n} replication(s): run 1,000 or more before acting on these figures.")
    if params.monitored == "no":
        out.append("Unmonitored patients are found late; continuous monitoring shortens recognition the most.")
    return out
