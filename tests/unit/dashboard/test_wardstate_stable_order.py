"""Issue 12: the ward's alarm list holds still and ended alarms sit below active ones. An update of an
alarm (a new value, an escalation step keeping its priority) never moves it: the order uses when it was
raised (``raised_t``, kept from its first event); a latched alarm whose condition ended (``condition``
false, ``ended_t``, or alerting's ``latched``) sorts below every active alarm whatever its priority."""

from __future__ import annotations

from typing import Any

from dashboard_api import WardState
from dashboard_api.wardstate import alarm_ended

T = 1_763_805_600_000


def alarm(aid: str, priority: str, t: int, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "id": aid, "ward": "w1", "bed": "07", "patient": "p1", "device": "mon-7", "kind": "limit",
            "signal": "spo2", "priority": priority, "event": "raised", "state": "active", "t": t, "value": 84,
            "reason": "r", "by": None, "escalation_level": 0, "drill": "", "condition": True, "ended_t": None, **extra}


def ids(s: WardState) -> list[str]:
    return [a["id"] for a in s.ward_alarms("w1")]


def test_an_update_never_moves_an_alarm() -> None:
    s = WardState()
    s.alarm(alarm("older", "high", T))
    s.alarm(alarm("newer", "high", T + 10_000))
    assert ids(s) == ["newer", "older"]
    s.alarm(alarm("older", "high", T + 20_000, event="updated", value=80))  # a newer event of the older alarm
    assert ids(s) == ["newer", "older"]
    assert s.ward_alarms("w1")[1]["raised_t"] == T and s.ward_alarms("w1")[1]["value"] == 80


def test_ended_alarms_sort_below_active_ones_whatever_their_priority() -> None:
    s = WardState()
    s.alarm(alarm("latched-high", "high", T + 50, condition=False, ended_t=T + 40, escalation_level=2))
    s.alarm(alarm("active-low", "low", T))
    s.alarm(alarm("latched-flag", "medium", T + 60, latched=True))
    s.alarm(alarm("active-medium", "medium", T + 5, state="acknowledged"))
    assert ids(s) == ["active-medium", "active-low", "latched-high", "latched-flag"]
    assert not alarm_ended(alarm("a", "high", T)) and alarm_ended(alarm("a", "high", T, ended=True))
