"""An alarm's value, worst value and text describe the same moment, and follow the patient.

Regression tests for "alarm text contradicts itself and the tile": NEWS2 5 titled over a "NEWS2 7" body,
a NEWS2 alarm stuck at 8 while the score was 10, a critical SpO2 alarm whose title lost its worst
value, and a latched alarm saying "not yet recovered" while the patient read 99-100 %.
"""

from __future__ import annotations

import re
import time

from alerting import AlarmCommand, AlarmEvent, SpotObservation

from .conftest import T0, Feed, make_engine

POLICY = {"levels": [{"role": "primary_nurse", "after_s": 0}, {"role": "charge_nurse", "after_s": 60},
                     {"role": "rapid_response", "after_s": 180}]}
VITALS = {"spo2": 97, "nibp_sys": 120, "heart_rate": 95, "temperature": 37.0}


def _spot(s: float, **values: object) -> SpotObservation:
    return SpotObservation(patient="p1", ward="w1", bed="07", t=T0 + int(s * 1000), by="nurse.kim", **values)


def _ack(alarm_id: str, s: float) -> AlarmCommand:
    return AlarmCommand(id=alarm_id, action="acknowledge", by="nurse.kim", t=T0 + int(s * 1000))


def _news2_number(text: str) -> int:
    m = re.match(r"NEWS2 (?:at least )?(\d+)", text)
    assert m is not None, text
    return int(m.group(1))


def _agree(e: AlarmEvent) -> None:
    """The event's value is the number its condition text starts with."""
    j = e.to_json()
    if e.kind == "news2":
        assert _news2_number(j["condition_reason"]) == e.value, j
    assert j["worst"] is not None and j["condition_reason"]


def test_news2_alarm_follows_the_score_and_value_and_text_agree() -> None:
    engine = make_engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1},  # each sample counts
                         limits={"resp_rate": {"enabled": False}})
    f = Feed(engine)
    engine.spot(_spot(0, consciousness="A", supplemental_o2=True))
    f.at(1, resp_rate=25, **VITALS)  # RR 3 + O2 2 + HR 1 = 6: medium
    f.at(2, resp_rate=25, **{**VITALS, "heart_rate": 115})  # + HR 2 = 7: high (escalated)
    f.at(3, resp_rate=25, **{**VITALS, "heart_rate": 115, "nibp_sys": 95})  # + SBP 2 = 9: still high
    news = [e for e in f.events if e.kind == "news2"]
    assert [(e.event, e.value) for e in news] == [("raised", 6), ("escalated", 7), ("updated", 9)]
    for e in news:
        _agree(e)
    assert news[-1].reason.startswith("NEWS2 9: high risk") and news[-1].worst == 9
    f.at(4, resp_rate=25, **{**VITALS, "heart_rate": 115})  # back to 7: the alarm says 7, worst stays 9
    last = f.events[-1]
    assert (last.event, last.value, last.worst, last.priority) == ("updated", 7, 9, "high")
    [ack] = engine.command(_ack(last.id, 5), T0)
    assert ack.reason == "acknowledged by nurse.kim"
    _agree(ack)
    assert ack.value == 7 and ack.to_json()["condition_reason"].startswith("NEWS2 7: high risk")


def test_critical_spo2_keeps_its_worst_value_next_to_the_current_one() -> None:
    f = Feed(make_engine(escalation=POLICY))
    for s in range(0, 16):
        f.at(s, spo2=88)
    f.at(16, spo2=84)  # below the critical 85
    assert (f.events[-1].event, f.events[-1].priority, f.events[-1].value) == ("escalated", "high", 84)
    for s in range(17, 30):
        f.at(s, spo2=89)
    upd = f.events[-1]
    assert (upd.event, upd.value, upd.worst, upd.priority) == ("updated", 89, 84, "high")
    assert upd.reason.startswith("SpO2 89 % below 90 %") and "(lowest 84 %)" in upd.reason
    assert upd.to_json()["code"] == "low"


def test_latched_alarm_says_its_condition_ended_and_escalation_repeats_that() -> None:
    f = Feed(make_engine(escalation=POLICY))
    for s in range(0, 16):
        f.at(s, spo2=88)
    f.at(16, spo2=84)
    f.at(17, spo2=90)  # inside the hysteresis band: still on
    assert "not yet clear" in f.events[-1].reason and "lowest 84 %" in f.events[-1].reason
    f.at(18, spo2=99)  # back: the critical (high) alarm latches until acknowledged
    ended = f.events[-1]
    hhmm = time.strftime("%H:%M", time.localtime((T0 + 18_000) / 1000))
    assert (ended.event, ended.state, ended.value, ended.worst) == ("updated", "active", 99, 84)
    assert ended.reason == f"SpO2 99 % back within limits (lowest 84 %); condition ended at {hhmm}, " \
                           "latched until acknowledged"
    j = ended.to_json()
    assert j["condition"] is False and j["ended_t"] == T0 + 18_000
    for s in range(19, 200, 5):
        f.at(s, spo2=99)
        f.tick(s)
    # issue 11: escalation stops when the condition has ended; the latched alarm waits quietly
    assert not [e for e in f.events if e.event == "escalated" and e.t > T0 + 18_000]
    assert j["latched"] is True and j["peak_priority"] == "high"
    manual = f.engine.command(AlarmCommand(id=ended.id, action="escalate", by="cn", t=T0 + 199_000), T0)
    assert manual
    for e in manual:  # a person may still escalate it: it says the condition ended and stays latched
        assert "condition ended at" in e.reason and "not yet" not in e.reason and "99 %" in e.reason
        assert e.to_json()["condition"] is False and e.to_json()["latched"] is True
    [ack, cleared] = f.engine.command(_ack(ended.id, 200), T0)
    assert (ack.event, cleared.event) == ("acknowledged", "cleared")


def test_small_wobble_does_not_flood_updates() -> None:
    f = Feed(make_engine())
    for s in range(0, 16):
        f.at(s, spo2=88)
    for s in range(16, 60):
        f.at(s, spo2=88 + (s % 2))  # 88, 89, 88, ...: not material, not worse than 88
    assert [e.event for e in f.events] == ["raised"]
