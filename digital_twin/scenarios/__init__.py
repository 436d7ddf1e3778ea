"""Registered scenarios: name -> class. Each owner adds ONE import line and ONE dict entry."""

from __future__ import annotations

from ..scenario import Scenario
from .alarm_load import AlarmLoad
from .code_blue import CodeBlue
from .evacuation import Evacuation
from .network_outage import NetworkOutage
from .power_outage import PowerOutage
from .surge import Surge

SCENARIOS: dict[str, type[Scenario]] = {
    "evacuation": Evacuation,
    "code-blue": CodeBlue,
    "surge": Surge,
    "power-outage": PowerOutage,
    "network-outage": NetworkOutage,
    "alarm-load": AlarmLoad,
}

__all__ = ["SCENARIOS"]
