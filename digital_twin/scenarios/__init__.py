"""Registered scenarios: name -> class. Each owner adds ONE import line and ONE dict entry."""

from __future__ import annotations

from ..scenario import Scenario
from .code_blue import CodeBlue
from .evacuation import Evacuation

SCENARIOS: dict[str, type[Scenario]] = {
    "evacuation": Evacuation,
    "code-blue": CodeBlue,
}

__all__ = ["SCENARIOS"]
