"""Ward alarm lists put real patients' alarms before live-drill alarms, and an acknowledgement keeps a
reason that agrees with the value it shows."""

from __future__ import annotations

from typing import Any

from dashboard_api import WardState
from dashboard_api.wardstate import alarm_sort_key

T = 1_763_805_600_000


def alarm(aid: str, priority: str, t: int, state: str = "active", drill: str = "", **extra: Any) -> dict[str, Any]:
    return {"v": 1, "id": aid, "ward": "w1", "bed": "07", "patient": "p1", "device": "mon-7", "kind": "limit",
            "signal": "spo2", "priority": priority, "event": "raised", "state": state, "t": t, "value": 84,
            "reason": "r", "by": None, "escalation_level": 0, "drill": drill, **extra}


def test_real_alarms_come_before_drill_alarms_whatever_their_priority() -> None:
    s = WardState()
    s.alarm(alarm("drill-high", "high", T + 50, drill="DRILL-02"))
    s.alarm(alarm("real-low", "low", T))
    s.alarm(alarm("real-high-ack", "high", T + 5, state="acknowledged"))
    s.alarm(alarm("drill-med", "medium", T + 60, drill="DRILL-02"))
    s.alarm(alarm("real-high", "high", T + 1, escalation_level=2))
    assert [a["id"] for a in s.ward_alarms("w1")] == ["real-high", "real-high-ack", "real-low", "drill-high",
                                                      "drill-med"]
    assert sorted([alarm("d", "high", T, drill="x"), alarm("r", "low", T)], key=alarm_sort_key)[0]["id"] == "r"


def test_acknowledgement_shows_the_condition_of_its_own_value() -> None:
    s = WardState()
    s.alarm(alarm("a1", "high", T, kind="news2", value=7, reason="NEWS2 7: high risk"))
    # alerting's acknowledged event: value 5 now, and the condition text that belongs to 5
    ack = s.keep_condition(alarm("a1", "high", T + 5, state="acknowledged", kind="news2", value=5,
                                 event="acknowledged", reason="acknowledged by cn",
                                 condition_reason="NEWS2 5: medium risk"))
    assert (ack["value"], ack["reason"], ack["action"]) == (5, "NEWS2 5: medium risk", "acknowledged by cn")
    # an event without condition_reason (older alerting): previous reason AND its value, never mixed
    old = s.keep_condition(alarm("a1", "high", T + 6, state="silenced", kind="news2", value=5, event="silenced",
                                 reason="silenced for 2 min by cn"))
    assert (old["value"], old["reason"]) == (7, "NEWS2 7: high risk")
