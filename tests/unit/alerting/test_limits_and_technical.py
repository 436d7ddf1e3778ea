"""Limit alarms (delay, hysteresis, priority, overrides) and technical alarms (cross-checks, staleness)."""

from __future__ import annotations

from alerting import PatientOverride
from device_profiles import DeviceStatusMessage

from .conftest import Feed, make_engine


def test_spo2_dip_shorter_than_the_delay_does_not_alarm(feed: Feed) -> None:
    for s in range(0, 14):
        feed.at(s, spo2=88)
    feed.at(14, spo2=95)
    assert feed.raised() == []


def test_spo2_below_limit_for_the_delay_raises_medium_then_high_below_critical(feed: Feed) -> None:
    for s in range(0, 16):
        feed.at(s, spo2=88)
    [raised] = feed.raised()
    assert (raised.kind, raised.signal, raised.priority, raised.t) == ("limit", "spo2", "medium", feed.events[0].t)
    assert "SpO2 88 % below 90 %" in raised.reason and "for 15 s" in raised.reason
    feed.at(16, spo2=80)
    assert feed.events[-1].event == "escalated" and feed.events[-1].priority == "high"
    assert len(feed.raised()) == 1  # one alarm, louder: not a second alarm


def test_hysteresis_keeps_the_alarm_until_clearly_back(feed: Feed) -> None:
    for s in range(0, 11):
        feed.at(s, heart_rate=125)
    assert len(feed.raised()) == 1
    feed.at(11, heart_rate=119)  # inside the limit but not by the 3/min hysteresis
    # still open; the value moved materially, so an update says where it is now (and its worst)
    assert (feed.events[-1].event, feed.events[-1].state, feed.events[-1].value) == ("updated", "active", 119)
    assert feed.events[-1].reason.startswith("HR 119 /min (highest 125 /min): back below the 120 /min limit")
    feed.at(12, heart_rate=116)
    assert feed.events[-1].event == "cleared"


def test_per_patient_override_replaces_the_default_limit() -> None:
    engine = make_engine(patients={"p1": {"heart_rate": {"high": 140}}})
    f = Feed(engine)
    for s in range(0, 12):
        f.at(s, heart_rate=130)
    assert f.raised() == []
    engine.set_override("p1", "heart_rate", PatientOverride(high=125))
    for s in range(12, 24):
        f.at(s, heart_rate=130)
    assert [e.signal for e in f.raised()] == ["heart_rate"]


def test_hr_zero_with_valid_pulse_is_lead_off_not_asystole(feed: Feed) -> None:
    for s in range(0, 30):
        feed.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    kinds = {(e.kind, e.signal, e.priority) for e in feed.raised()}
    assert kinds == {("technical", "heart_rate", "low")}
    assert "lead off" in feed.raised()[0].reason
    feed.at(31, heart_rate=72, pulse_rate=72, spo2=97)
    assert feed.events[-1].event == "cleared"


def test_hr_zero_without_any_pulse_is_a_louder_technical_alarm(feed: Feed) -> None:
    for s in range(0, 12):
        feed.at(s, heart_rate=0)
    [e] = feed.raised()
    assert (e.kind, e.priority) == ("technical", "medium") and "check the patient" in e.reason


def test_spo2_zero_is_a_probe_problem_not_a_desaturation(feed: Feed) -> None:
    for s in range(0, 30):
        feed.at(s, spo2=0, pulse_rate=0, heart_rate=80)
    [e] = feed.raised()
    assert (e.kind, e.signal) == ("technical", "spo2") and "probe" in e.reason


def test_bad_quality_and_implausible_values_are_technical_and_never_limit_alarms(feed: Feed) -> None:
    for s in range(0, 12):
        feed.at(s, quality={"spo2": "artifact"}, spo2=70)
        feed.at(s + 0.5, pulse_rate=277)
    raised = {(e.kind, e.signal) for e in feed.raised()}
    assert raised == {("technical", "spo2"), ("technical", "pulse_rate")}


def test_no_data_within_expire_after_raises_a_technical_alarm_and_ends_the_limit_alarm(feed: Feed) -> None:
    for s in range(0, 16):
        feed.at(s, spo2=85)
    assert [e.signal for e in feed.raised("limit")] == ["spo2"]
    feed.tick(46)  # catalogue: spo2 expires after 30 s
    stale = feed.raised("technical")
    assert [(e.signal, e.priority) for e in stale] == [("spo2", "low")] and "no SpO2 data" in stale[0].reason
    feed.at(47, spo2=97)
    assert feed.events[-1].event == "cleared" and feed.events[-1].kind == "technical"


def test_device_status_offline_and_low_battery() -> None:
    f = Feed(make_engine())
    ev = f.engine.status(DeviceStatusMessage(device="mon-1", ward="w1", bed="07", patient="p1", t=1, online=False,
                                             battery=12))
    assert {(e.kind, e.reason.split(" ")[-1]) for e in ev} == {("technical", "offline"), ("technical", "%")}
    ev = f.engine.status(DeviceStatusMessage(device="mon-1", ward="w1", bed="07", patient="p1", t=2, online=True,
                                             battery=80))
    assert [e.event for e in ev] == ["cleared", "cleared"]


def test_device_originated_alarms_follow_the_lifecycle() -> None:
    from device_profiles import DeviceAlarm

    from .conftest import WHO

    f = Feed(make_engine())
    on = DeviceAlarm("mon-1", 1_763_805_600_000, "MDC_EVT_HI", "high", "HR HIGH 180", signal="heart_rate", value=180)
    [raised] = f.engine.device_alarm(on, WHO)
    assert (raised.kind, raised.priority, raised.signal, raised.event) == ("device", "high", "heart_rate", "raised")
    off = DeviceAlarm("mon-1", 1_763_805_601_000, "MDC_EVT_HI", "high", "HR HIGH", state="cleared")
    [ev] = f.engine.device_alarm(off, WHO)
    assert ev.event == "updated"  # high priority latches until acknowledged, as for our own alarms


def test_hysteresis_never_makes_a_value_critical_and_the_reason_stays_true() -> None:
    from alerting.config import LimitRule
    from alerting.limits import describe, evaluate

    rule = LimitRule(low=45, critical_low=35, hysteresis=3)
    hit = evaluate(rule, 37, open_sides=(True, False))  # low alarm open, 37 is inside 35 + 3
    assert hit is not None and not hit.critical and hit.priority == "medium"
    crit = evaluate(rule, 34, open_sides=(True, False))
    assert crit is not None and crit.critical and crit.priority == "high"
    held = evaluate(rule, 46, open_sides=(True, False))  # above 45 but not yet 45 + 3: still open
    assert held is not None and "back above the 45 /min limit, not yet clear" in describe("heart_rate", 46, held, 12)
    assert "below" in describe("heart_rate", 37, hit, 12) and "critical" not in describe("heart_rate", 37, hit, 12)
