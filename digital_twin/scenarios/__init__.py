"""Registered scenarios: name -> class. Each owner adds ONE import line and ONE dict entry."""

from __future__ import annotations

from ..scenario import Scenario

SCENARIOS: dict[str, type[Scenario]] = {
}

__all__ = ["SCENARIOS"]
