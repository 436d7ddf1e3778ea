"""The live-drill report reads alerting's alarm events typed (device_profiles.AlarmEvent, issue 15): events of a
real engine's drill go in as they are; an alarm the drill's end cleared is known by alerting's reason key, not
by its English words; a payload that is no alarm event is counted as ignored, not half-read."""

from __future__ import annotations

import dataclasses
import math

import orjson

from alerting import Engine, build_config
from device_profiles import Attribution
from digital_twin.drill_report import AlarmLog

T0 = 1_763_805_600_000
DRILL = Attribution("w1", "DRILL-01", "", "drill-1")


def test_a_real_drill_alarm_cleared_by_the_drills_end_is_no_response() -> None:
    e = Engine(build_config({"anomaly": {"enabled": False}, "news2": {"enabled": False}}))
    events = []
    for s in range(30):
        events += e.observe_sample(DRILL, "drill-1-01", T0 + s * 1000, {"spo2": 80.0, "heart_rate": 80.0})
    events += e.end_drill("drill-1", T0 + 40_000)
    log = AlarmLog("drill-1")
    assert all(log.add(ev) for ev in events)
    [a] = log.timelines()
    assert (a.priority, a.raised_priority, a.cleared_reason) == ("high", "high", "drill ended")
    assert math.isnan(a.clear_s)
    # the key decides: the same clear in other words (a later alerting's wording) is still the drill's end
    worded = AlarmLog("drill-1")
    for ev in events:
        worded.add(dataclasses.replace(ev, reason="Übung beendet") if ev.event == "cleared" else ev)
    assert math.isnan(worded.timelines()[0].clear_s)
    # and as JSON from the alarm log (what `smartward drill report` reads) the same
    again = AlarmLog("drill-1")
    for ev in events:
        again.add(orjson.loads(ev.encode()))
    assert [(x.id, x.raised_t, x.cleared_t) for x in again.timelines()] == [(a.id, a.raised_t, a.cleared_t)]


def test_a_payload_that_is_no_alarm_event_is_ignored_and_counted() -> None:
    log = AlarmLog("drill-1")
    bad = {"v": 1, "id": "a1", "ward": "w1", "event": "raised", "state": "active", "t": T0, "drill": "drill-1",
           "priority": "urgent", "kind": "limit"}
    assert log.add(bad) is False and log.ignored == 1 and log.timelines() == []
