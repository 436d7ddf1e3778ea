"""``GET /api/v1/catalogue``: what the web pages need to name and order what the server sends.

The pages (``dashboard_api/static``) keep no copy of the signal catalogue nor of the alarm order:
after login they fetch this once and read labels, units, decimals and priority ranks from it.

- ``signals``: every numeric signal of :data:`device_profiles.SIGNALS` in catalogue order, with its
  screen label, canonical UCUM unit and the decimals a screen shows (the catalogue's precision).
- ``units``: how a screen writes each UCUM unit (``mm[Hg]`` → ``mmHg``, ``Cel`` → ``°C``,
  ``1`` → nothing); a unit not listed is written as it is.
- ``signal_order``: the order of the big values in the bed view (a signal not listed goes last).
- ``alarm_priorities``: priorities from most to least urgent (:meth:`device_profiles.Priority.by_urgency`),
  the order :func:`~dashboard_api.wardstate.alarm_sort_key` sorts every alarm list by (an unknown
  priority ranks after them all).

Screen labels are the catalogue's ``display`` except where a screen writes it with typography the
catalogue's ASCII label cannot carry (``SpO₂``) or in the clinical short form (``MAP``).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from device_profiles import SIGNALS, Priority, SignalKind

from ..deps import CurrentUser

router = APIRouter(prefix="/api/v1/catalogue", tags=["wards"])

SCREEN_LABELS = {"spo2": "SpO₂", "nibp_sys": "NIBP", "nibp_mean": "MAP", "etco2": "etCO₂"}
SCREEN_UNITS = {"/min": "/min", "%": "%", "mm[Hg]": "mmHg", "Cel": "°C", "1": ""}
BED_VIEW_ORDER = ("heart_rate", "pulse_rate", "spo2", "resp_rate", "nibp_sys", "temperature", "etco2")


class SignalOut(BaseModel):
    label: str
    unit: str
    decimals: int


class CatalogueOut(BaseModel):
    signals: dict[str, SignalOut]
    units: dict[str, str]
    signal_order: list[str]
    alarm_priorities: list[str]


def catalogue() -> CatalogueOut:
    """The catalogue as the pages read it (the same for every user)."""
    signals = {name: SignalOut(label=SCREEN_LABELS.get(name) or s.display or name, unit=s.unit, decimals=s.precision)
               for name, s in SIGNALS.items() if s.kind is SignalKind.NUMERIC}
    return CatalogueOut(signals=signals, units=dict(SCREEN_UNITS), signal_order=list(BED_VIEW_ORDER),
                        alarm_priorities=[p.value for p in Priority.by_urgency()])


_CATALOGUE = catalogue()


@router.get("", response_model=CatalogueOut)
async def get_catalogue(user: CurrentUser) -> CatalogueOut:
    """Signal labels, units, decimals and the alarm priority order, for any logged-in user."""
    del user  # the dependency authenticates; the catalogue is the same for everyone
    return _CATALOGUE
