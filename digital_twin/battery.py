"""Battery discharge for the power-outage drill: how long a device or a gateway's UPS runs without mains.

Model (stated, deliberately simple):

- Usable energy = ``capacity_wh * health * (state of charge - reserve)``; ``health`` is the fraction of
  the nominal capacity an aged battery still holds (new = 1.0; lithium-ion and VRLA batteries count as
  worn out at 0.8, IEEE 1188-2005 / manufacturers), drawn per replication because the age of a given
  pack is rarely known. ``reserve_pct`` is the charge at which the device shuts itself down.
- Peukert's law on power: a full battery rated to deliver ``capacity_wh`` over ``rated_hours`` lasts
  ``rated_hours * (capacity_wh / (draw_w * rated_hours)) ** k`` hours at ``draw_w``; ``k`` ≈ 1.05 for
  lithium-ion, 1.1-1.3 for lead-acid (Peukert 1897; Doerffel & Sharkh 2006, J Power Sources 155:395).
  A partial charge lasts its share of that time.
- The draw of a device varies with use (screen, NIBP cycles, radio): each replication multiplies the
  nominal draw by a lognormal factor with coefficient of variation ``draw_cv``.
- Recharge while powered: ``recharge_pct_per_hour`` of the capacity, up to full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Chemistry:
    peukert_k: float = 1.05
    rated_hours: float = 5.0
    reserve_pct: float = 5.0
    recharge_pct_per_hour: float = 40.0


LITHIUM_ION = Chemistry()
LEAD_ACID = Chemistry(peukert_k=1.2, rated_hours=0.25, reserve_pct=0.0, recharge_pct_per_hour=10.0)


def full_runtime_h(capacity_wh: float, draw_w: float, chem: Chemistry, health: float = 1.0) -> float:
    """Hours a full battery of ``capacity_wh * health`` lasts at ``draw_w`` (Peukert); inf at no draw."""
    energy = capacity_wh * health
    if draw_w <= 0:
        return math.inf
    if energy <= 0:
        return 0.0
    return float(chem.rated_hours * (energy / (draw_w * chem.rated_hours)) ** chem.peukert_k)


def runtime_min(capacity_wh: float, draw_w: float, soc_pct: float, chem: Chemistry, health: float = 1.0) -> float:
    """Minutes until shutdown from ``soc_pct`` (0 when at or below the reserve)."""
    usable = max(0.0, soc_pct - chem.reserve_pct) / 100.0
    full = full_runtime_h(capacity_wh, draw_w, chem, health)
    if math.isinf(full):
        return math.inf if usable > 0 else 0.0
    return 60.0 * full * usable


class Battery:
    """State of charge of one pack through a sequence of powered / unpowered periods (minutes)."""

    def __init__(self, capacity_wh: float, draw_w: float, soc_pct: float, chem: Chemistry, health: float) -> None:
        self.capacity_wh, self.draw_w, self.chem, self.health = capacity_wh, draw_w, chem, health
        self.soc = min(100.0, max(0.0, soc_pct))

    def minutes_left(self) -> float:
        return runtime_min(self.capacity_wh, self.draw_w, self.soc, self.chem, self.health)

    def discharge(self, minutes: float) -> None:
        """Run ``minutes`` on battery (clamped at the reserve)."""
        full = full_runtime_h(self.capacity_wh, self.draw_w, self.chem, self.health)
        if minutes <= 0 or math.isinf(full):
            return
        used = 100.0 * minutes / (60.0 * full) if full > 0 else math.inf
        self.soc = max(min(self.soc, self.chem.reserve_pct), self.soc - used)

    def charge(self, minutes: float) -> None:
        self.soc = min(100.0, self.soc + self.chem.recharge_pct_per_hour * max(0.0, minutes) / 60.0)


def draw_health(rng: np.random.Generator, mean: float, sd: float) -> float:
    """A pack's remaining capacity fraction: normal, clipped to [0.3, 1.0]."""
    return float(np.clip(rng.normal(mean, sd), 0.3, 1.0)) if sd > 0 else float(np.clip(mean, 0.3, 1.0))


def draw_factor(rng: np.random.Generator, cv: float) -> float:
    """A lognormal multiplier with mean 1 and coefficient of variation ``cv``."""
    if cv <= 0:
        return 1.0
    sigma = math.sqrt(math.log1p(cv * cv))
    return float(math.exp(sigma * rng.standard_normal() - sigma * sigma / 2))
