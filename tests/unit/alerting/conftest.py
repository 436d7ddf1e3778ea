"""Helpers for alerting unit tests: an engine with controlled time and a compact way to feed it."""

from __future__ import annotations

from typing import Any

import pytest

from alerting import AlarmConfig, AlarmEvent, Engine, build_config
from device_profiles import Attribution

T0 = 1_763_805_600_000
WHO = Attribution(ward="w1", bed="07", patient="p1")


class Feed:
    """Feeds one patient's samples into an engine; ``at(s, ...)`` is seconds after T0."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.events: list[AlarmEvent] = []

    def at(self, s: float, quality: dict[str, str] | None = None, who: Attribution = WHO,
           **values: float) -> list[AlarmEvent]:
        ev = self.engine.observe_sample(who, "mon-1", T0 + int(s * 1000), values, quality)
        self.events += ev
        return ev

    def tick(self, s: float) -> list[AlarmEvent]:
        ev = self.engine.tick(T0 + int(s * 1000))
        self.events += ev
        return ev

    def raised(self, kind: str | None = None) -> list[AlarmEvent]:
        return [e for e in self.events if e.event == "raised" and (kind is None or e.kind == kind)]


def make_engine(**layers: Any) -> Engine:
    """An engine with anomaly detection and NEWS2 off unless asked for (tests look at one thing)."""
    base: dict[str, Any] = {"anomaly": {"enabled": False}, "news2": {"enabled": False}}
    for k, v in layers.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return Engine(build_config(base))


@pytest.fixture
def feed() -> Feed:
    return Feed(make_engine())


__all__ = ["T0", "WHO", "AlarmConfig", "Feed", "make_engine"]
