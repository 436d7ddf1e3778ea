"""The live-drill report from alarm events (pure): per-alarm timelines, measured times, report shape."""

from __future__ import annotations

import json
import math
from typing import Any

from digital_twin.drill_report import AlarmLog, build_report, render_html

T0 = 1_763_805_600_000


def ev(event: str, alarm: str, s: float, drill: str = "drill-1", **kw: Any) -> dict[str, Any]:
    return {"v": 1, "id": alarm, "ward": "w1", "bed": "DRILL-01", "patient": "", "device": "drill-1-01",
            "kind": "limit", "signal": "spo2", "priority": kw.pop("priority", "medium"), "event": event,
            "state": "active", "t": T0 + int(s * 1000), "value": 84, "reason": kw.pop("reason", "SpO2 84 %"),
            "by": kw.pop("by", None), "escalation_level": kw.pop("level", 0), "drill": drill, **kw}


def drill_events() -> list[dict[str, Any]]:
    return [
        ev("raised", "a1", 0), ev("acknowledged", "a1", 42, by="cn"), ev("cleared", "a1", 90, reason="back within limits"),
        ev("raised", "a2", 10, priority="high"), ev("escalated", "a2", 130, level=1, priority="high"),
        ev("cleared", "a2", 200, reason="drill ended"),
        ev("raised", "a3", 20), ev("acknowledged", "a3", 30, by="nn"), ev("cleared", "a3", 200, reason="drill ended"),
    ]


def test_timelines_keep_only_this_drill_and_measure_each_alarm() -> None:
    log = AlarmLog("drill-1")
    for e in [ev("raised", "c1", 0, drill=""), ev("raised", "x1", 0, drill="drill-2"), *drill_events()]:
        log.add(e)
    assert log.ignored == 2 and [a.id for a in log.timelines()] == ["a1", "a2", "a3"]
    a1, a2, a3 = log.timelines()
    assert (a1.ack_s, a1.acknowledged_by, a1.clear_s) == (42.0, "cn", 90.0)
    assert math.isnan(a2.ack_s) and math.isnan(a2.clear_s) and a2.escalations == 1 and a2.priority == "high"
    assert a3.ack_s == 10.0 and math.isnan(a3.clear_s)  # cleared because the drill ended: not a response
    assert log.open_ids() == []


def test_redelivered_and_out_of_order_events_give_the_same_timeline() -> None:
    events = drill_events()
    a, b = AlarmLog("drill-1"), AlarmLog("drill-1")
    for e in events:
        a.add(e)
    for e in [*reversed(events), *events]:
        b.add(e)
    assert [(t.id, t.raised_t, t.raised_priority, t.acknowledged_t, t.cleared_t, t.escalations)
            for t in a.timelines()] == \
        [(t.id, t.raised_t, t.raised_priority, t.acknowledged_t, t.cleared_t, t.escalations) for t in b.timelines()]


def test_report_has_the_simulated_drills_shape_and_the_alarm_list() -> None:
    log = AlarmLog("drill-1")
    for e in drill_events():
        log.add(e)
    r = build_report(log, ward="w1", seed=3, parameters={"beds": ["DRILL-01:desaturation"]})
    assert r["scenario"] == "live-drill" and r["replications"] == 3
    assert r["metric_order"] == ["ack_s", "silence_s", "clear_s", "silences", "escalations"]
    ack = r["metrics"]["ack_s"]
    assert (ack["n"], ack["missing"], ack["mean"], ack["p50"], ack["unit"]) == (2, 1, 26.0, 26.0, "s")
    assert ack["ci95"][0] < 26 < ack["ci95"][1]
    assert r["metrics"]["clear_s"]["n"] == 1 and r["samples"]["ack_s"] == [42.0, None, 10.0]
    assert [a["id"] for a in r["alarms"]] == ["a1", "a2", "a3"] and r["alarms"][1]["ack_s"] is None
    assert any("2 (67%) were acknowledged" in s for s in r["summary"])
    assert any("1 alarm(s) raised as high priority waited" in s for s in r["summary"])  # a2: never acknowledged
    json.dumps(r, allow_nan=False)  # NaN never reaches report.json
    page = render_html(r)
    assert "DRILL" in page and "a2" in page and "src=\"http" not in page and "<img" in page
    assert "<th>beds</th><td>DRILL-01:desaturation</td>" in page  # parameters as a table, not JSON


def test_a_drill_without_alarms_says_what_to_check() -> None:
    r = build_report(AlarmLog("drill-1"), ward="w1", seed=0, parameters={})
    assert r["replications"] == 0 and r["metrics"]["ack_s"]["n"] == 0 and "no alarm" in r["summary"][0]
    assert "<img" not in render_html(r)


def test_silences_are_counted_and_timed_from_the_alarm_log() -> None:
    """Item 5: raised -> first silenced per alarm, and how often, in report.json and report.html."""
    log = AlarmLog("drill-1")
    events = [*drill_events(),
              ev("silenced", "a2", 25, by="cn"), ev("raised", "a2", 85, reason="silence expired: SpO2 84 %"),
              ev("silenced", "a2", 95, by="nn"), ev("silenced", "a3", 50, by="nn"),
              ev("silenced", "a3", 50, by="nn")]  # a redelivery counts once
    for e in [*events, *reversed(events)]:
        log.add(e)
    a1, a2, a3 = log.timelines()
    assert (math.isnan(a1.silence_s), a1.silences) == (True, 0)
    assert (a2.silence_s, a2.silenced_by, a2.silences, a2.raised_t) == (15.0, "cn", 2, T0 + 10_000)
    assert (a3.silence_s, a3.silences) == (30.0, 1)
    r = build_report(log, ward="w1", seed=3, parameters={})
    sil = r["metrics"]["silence_s"]
    assert (sil["n"], sil["missing"], sil["mean"], sil["unit"]) == (2, 1, 22.5, "s")
    assert sil["absent"] == "it was not silenced"
    assert r["metrics"]["silences"]["mean"] == 1.0 and r["samples"]["silences"] == [0.0, 2.0, 1.0]
    assert [(a["silence_s"], a["silences"]) for a in r["alarms"]] == [(None, 0), (15.0, 2), (30.0, 1)]
    assert "_silence_times" not in r["alarms"][0]
    assert any(s.startswith("2 alarm(s) were silenced (3 silence(s) in all); median time to silence 22 s")
               for s in r["summary"])
    json.dumps(r, allow_nan=False)
    page = render_html(r)
    assert "time to silence (raised → first silenced)" in page and "<th>silences</th>" in page
    assert "1 (it was not silenced)" in page


def test_an_alarm_escalated_to_high_counts_as_raised_not_as_a_slow_high_priority_alarm() -> None:
    """Escalation steps an unacknowledged alarm's priority up; that it waited must not make it count as a
    high-priority alarm that waited (the summary would blame the wait on its own consequence)."""
    log = AlarmLog("drill-1")
    for e in (ev("raised", "n1", 0, priority="medium", kind="news2"),
              ev("escalated", "n1", 130, level=1, priority="high", kind="news2")):
        log.add(e)
    [t] = log.timelines()
    assert (t.raised_priority, t.priority) == ("medium", "high")
    r = build_report(log, ward="w1", seed=0, parameters={})
    assert r["alarms"][0]["raised_priority"] == "medium"
    assert not any("raised as high priority" in s for s in r["summary"]), r["summary"]
