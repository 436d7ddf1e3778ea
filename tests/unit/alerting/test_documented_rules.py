"""The rules docs/alarm-configuration.md states ("What the rules do"), each pinned through the engine.

Each test here was seen to fail under a one-line change of the product code (issue 11's mutation
check): a limit judged with ``<=``, an acknowledged alarm that worsens staying quiet, escalation
without its priority filter, RR 0 during lead-off judged as apnoea, "heart not monitored" at low
priority, anomaly advisories raised as high, scale-2 SpO2 with unknown oxygen scored above its floor.
"""

from __future__ import annotations

import random

import pytest

from alerting import AlarmCommand, SpotObservation

from .conftest import T0, Feed, make_engine

POLICY = {"levels": [{"role": "primary_nurse", "after_s": 0}, {"role": "charge_nurse", "after_s": 60},
                     {"role": "rapid_response", "after_s": 180}]}


def _cmd(alarm_id: str, action: str, s: float, minutes: float | None = None) -> AlarmCommand:
    return AlarmCommand(id=alarm_id, action=action, by="nurse.kim", minutes=minutes, t=T0 + int(s * 1000))


@pytest.mark.parametrize(("signal", "value"), [
    ("spo2", 90), ("heart_rate", 45), ("heart_rate", 120), ("resp_rate", 8), ("resp_rate", 30), ("nibp_sys", 90),
    ("nibp_sys", 180), ("temperature", 38.5),
])
def test_a_value_exactly_at_a_limit_is_inside_it(signal: str, value: float) -> None:
    """Delay and hysteresis: a limit alarms only strictly beyond the limit (a value at it is normal)."""
    f = Feed(make_engine())
    for s in range(0, 120):
        f.at(s, **{signal: value})
    assert f.raised() == [], [e.reason for e in f.raised()]


@pytest.mark.parametrize(("signal", "value"), [("spo2", 85), ("heart_rate", 35), ("heart_rate", 150),
                                              ("nibp_sys", 70), ("nibp_sys", 220)])
def test_a_value_exactly_at_a_critical_limit_is_not_critical(signal: str, value: float) -> None:
    f = Feed(make_engine())
    for s in range(0, 120):
        f.at(s, **{signal: value})
    assert [e.priority for e in f.events if e.event in ("raised", "escalated")] == ["medium"]


def test_one_step_beyond_a_limit_alarms_and_one_step_beyond_critical_is_louder() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=121)
    assert [(e.signal, e.priority) for e in f.raised()] == [("heart_rate", "medium")]
    f.at(20, heart_rate=151)
    assert (f.events[-1].event, f.events[-1].priority) == ("escalated", "high")


def test_an_acknowledged_alarm_that_worsens_sounds_again() -> None:
    f = Feed(make_engine(escalation=POLICY))
    for s in range(0, 16):
        f.at(s, spo2=88)
    [raised] = f.raised()
    f.events += f.engine.command(_cmd(raised.id, "acknowledge", 17), T0)
    for s in range(18, 25):
        f.at(s, spo2=88)
    assert f.events[-1].state == "acknowledged"
    f.at(25, spo2=80)  # below the critical limit: a worse condition needs a new acknowledgement
    worse = f.events[-1]
    assert (worse.event, worse.state, worse.priority) == ("escalated", "active", "high")


def test_alarms_outside_the_policy_priorities_never_escalate() -> None:
    f = Feed(make_engine(escalation=POLICY))  # applies_to: high, medium
    for s in range(0, 600, 5):
        f.at(s, temperature=35.3)  # below 35.5: a low-priority limit alarm
        f.tick(s)
    assert [(e.event, e.priority) for e in f.events] == [("raised", "low")]


def test_technical_alarms_escalate_roles_at_their_own_priority() -> None:
    f = Feed(make_engine(escalation=POLICY))
    for s in range(0, 200, 2):
        f.at(s, heart_rate=0)  # no valid pulse to confirm it: medium technical alarm
        f.tick(s)
    esc = [e for e in f.events if e.event == "escalated"]
    assert esc and {e.priority for e in esc} == {"medium"} and {e.kind for e in esc} == {"technical"}


def test_respiration_zero_during_ecg_lead_off_is_not_apnoea() -> None:
    f = Feed(make_engine())
    for s in range(0, 120):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97, resp_rate=0)
    assert [(e.kind, e.signal, e.to_json()["code"]) for e in f.raised()] == [("technical", "heart_rate", "lead_off")]


def test_spo2_zero_with_ecg_leads_off_is_a_medium_heart_not_monitored_alarm() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, heart_rate=0, spo2=0)
    [probe] = [e for e in f.raised() if e.to_json()["code"] == "probe_off"]
    assert probe.priority == "medium" and "heart is not monitored" in probe.reason


def test_spo2_zero_alone_is_a_low_probe_off_alarm() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, heart_rate=72, spo2=0)
    assert [(e.to_json()["code"], e.priority) for e in f.raised()] == [("probe_off", "low")]


def test_anomaly_advisories_are_low_and_never_escalate() -> None:
    f = Feed(make_engine(anomaly={"enabled": True, "window_s": 1, "warmup": 20, "threshold": 4.0},
                         escalation=POLICY))
    rng = random.Random(7)
    for s in range(0, 60):
        f.at(s, heart_rate=70 + rng.gauss(0, 1), spo2=97 + rng.gauss(0, 0.3))
    for s in range(60, 400):
        f.at(s, heart_rate=100 + rng.gauss(0, 1), spo2=97 + rng.gauss(0, 0.3))  # unusual, inside the limits
        f.tick(s)
    advisories = [e for e in f.events if e.kind == "anomaly"]
    assert advisories and advisories[0].event == "raised"
    assert {e.priority for e in advisories} == {"low"} and "escalated" not in {e.event for e in advisories}


def test_scale_2_spo2_with_unknown_oxygen_scores_its_floor() -> None:
    engine = make_engine(news2={"enabled": True, "delay_s": 0})
    f = Feed(engine)
    engine.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=T0, by="rn", consciousness="A",
                                spo2_scale=2))  # air or oxygen not charted
    for s in range(1, 600, 5):
        f.at(s, resp_rate=16, spo2=98, nibp_sys=120, heart_rate=70, temperature=37.0)
        f.tick(s)
    r = engine.patients["p1"].news2
    assert r is not None and r.scores["spo2"] == 0 and r.total == 0, r
    assert [e for e in f.events if e.kind == "news2"] == []


def test_a_manual_clear_rearms_the_condition_with_its_full_delay() -> None:
    f = Feed(make_engine())
    for s in range(0, 16):
        f.at(s, spo2=88)
    [raised] = f.raised()
    f.events += f.engine.command(_cmd(raised.id, "clear", 16), T0)
    for s in range(17, 31):
        f.at(s, spo2=88)
    assert len(f.raised()) == 1  # 14 s after the clear: still within the 15 s delay
    for s in range(31, 33):
        f.at(s, spo2=88)
    assert len(f.raised()) == 2


def test_a_high_alarm_latches_until_acknowledged_and_a_medium_one_does_not() -> None:
    f = Feed(make_engine())
    for s in range(0, 16):
        f.at(s, spo2=80)  # critical: high
    f.at(16, spo2=98)
    assert f.events[-1].event == "updated" and f.events[-1].to_json()["latched"] is True
    g = Feed(make_engine())
    for s in range(0, 16):
        g.at(s, spo2=88)
    g.at(16, spo2=98)
    assert g.events[-1].event == "cleared"
