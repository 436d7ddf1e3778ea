"""The ward state reads alerting's alarm events typed (device_profiles.AlarmEvent) and shows one NEWS2, alerting's
(issue 15): an acknowledgement keeps the condition's text AND its message key (so the station writes the
condition, not the action, in the reader's language); a bed alerting has not scored shows no NEWS2, never
one the dashboard computed itself, however complete its values."""

from __future__ import annotations

import orjson

from alerting import AlarmCommand, Engine, build_config
from dashboard_api import WardState
from device_profiles import AlarmEvent, AlarmEventType, Attribution, News2Message
from device_profiles.ws_frames import FRAME

T = 1_763_805_600_000
WHO = Attribution(ward="w1", bed="07", patient="p1")


def spo2_alarm_then_ack() -> tuple[AlarmEvent, AlarmEvent]:
    e = Engine(build_config({"anomaly": {"enabled": False}, "news2": {"enabled": False}}))
    raised = []
    for s in range(20):
        raised += e.observe_sample(WHO, "mon-7", T + s * 1000, {"spo2": 86.0, "heart_rate": 80.0})
    [ack] = e.command(AlarmCommand(id=raised[0].id, action="acknowledge", by="cn", minutes=None, t=T + 21_000),
                      T + 21_000)
    return raised[0], ack


def test_an_acknowledgement_keeps_the_condition_with_its_key_and_the_action_apart() -> None:
    raised, ack = spo2_alarm_then_ack()
    s = WardState()
    screen, bed = s.alarm_event(raised)
    assert bed is s.bed("w1", "07") and screen["reason_key"] == "reason.below"
    screen, _ = s.alarm_event(ack)
    assert screen["event"] == AlarmEventType.ACKNOWLEDGED and screen["action"] == "acknowledged by cn"
    assert screen["reason"] == ack.condition_reason and screen["reason"].startswith("SpO2 86 % below 90 %")
    assert (screen["reason_key"], screen["reason_params"]) == (ack.condition_key, ack.condition_params)
    assert screen["reason_key"] == "reason.below"
    [listed] = s.ward_alarms("w1")
    assert listed["state"] == "acknowledged" and listed["reason_key"] == "reason.below"
    FRAME.validate_python(orjson.loads(orjson.dumps({"type": "alarm", "alarm": screen})))


def test_an_older_acknowledgement_keeps_the_previous_reason_and_its_key_not_the_actions() -> None:
    raised, ack = spo2_alarm_then_ack()
    s = WardState()
    s.alarm_event(raised)
    old = AlarmEvent.from_json({k: v for k, v in orjson.loads(ack.encode()).items()
                                if k not in ("condition_reason", "condition_key", "condition_params")}, T + 60_000)
    screen, _ = s.alarm_event(old)
    assert screen["reason"] == raised.reason and screen["reason_key"] == raised.reason_key
    assert screen["reason_params"] == raised.reason_params and screen["action"] == "acknowledged by cn"


def test_a_bed_alerting_has_not_scored_shows_no_news2_however_complete_its_values() -> None:
    s = WardState()
    s.observe({"v": 1, "device": "mon-7", "seq": 1, "ward": "w1", "bed": "07", "patient": "p1",
               "samples": [{"t": T, "heart_rate": 95, "spo2": 95, "resp_rate": 22, "nibp_sys": 115,
                            "temperature": 38.2}]})
    s.spot("w1", {"patient": "p1", "bed": "07", "t": T, "by": "nina", "consciousness": "A", "supplemental_o2": False})
    assert s.bed("w1", "07").tile(T + 1000)["news2"] is None
    s.news2(News2Message.from_json({"ward": "w1", "bed": "07", "patient": "p1", "total": 5, "risk": "medium",
                                    "complete": True, "missing": [], "t": T}, T))
    assert s.bed("w1", "07").tile(T + 1000)["news2"] == {"total": 5, "risk": "medium", "complete": True,
                                                         "missing": []}


def test_a_bed_nobody_is_admitted_to_shows_alertings_score_of_its_device_only() -> None:
    s = WardState()
    s.set_assignments({"mon-9": ("w1", "09")}, {})
    s.observe({"v": 1, "device": "mon-9", "seq": 1, "ward": "w1", "bed": "09", "patient": "",
               "samples": [{"t": T, "heart_rate": 130, "spo2": 90, "resp_rate": 26}]})
    scored = {"ward": "w1", "bed": "09", "patient": "", "device": "mon-9", "total": 7, "risk": "high",
              "complete": False, "missing": ["consciousness"], "t": T}
    assert s.news2(News2Message.from_json({**scored, "device": "mon-other"}, T)) is None  # not the device this bed shows
    assert s.news2(News2Message.from_json({**scored, "bed": "10"}, T)) is None and "10" not in s.wards["w1"]  # no bed made for it
    assert s.news2(News2Message.from_json(scored, T)) is s.bed("w1", "09")
    assert s.bed("w1", "09").tile(T)["news2"] == {"total": 7, "risk": "high", "complete": False,
                                                  "missing": ["consciousness"]}
    s.set_assignments({"mon-5": ("w1", "09")}, {})  # another monitor at the bed: not its score any more
    assert s.bed("w1", "09").tile(T)["news2"] is None
