"""One cause, one alarm (issue 11): limit alarms of one NIBP cycle, heart rate with pulse rate, and the
limit alarms a NEWS2 alarm already explains are one alarm, which shows the contributing conditions.
Critical limit alarms are never grouped, and a grouped condition that outlives its alarm stands alone."""

from __future__ import annotations

from typing import Any

from alerting import AlarmEvent, SpotObservation

from .conftest import T0, Feed, make_engine


def _limit_raised(f: Feed) -> list[AlarmEvent]:
    return [e for e in f.raised("limit")]


def _open(f: Feed) -> list[Any]:
    return sorted((a.kind, a.signal) for a in f.engine.lifecycle.by_id.values())


def test_one_low_nibp_cycle_is_one_alarm_naming_systolic_mean_and_diastolic() -> None:
    f = Feed(make_engine())
    f.at(0, nibp_sys=82, nibp_dia=105, nibp_mean=55)  # one cuff cycle: SBP and MAP below their limits
    [a] = _limit_raised(f)
    assert a.signal == "nibp_sys"
    last = f.events[-1].to_json()
    assert [g["signal"] for g in last["grouped"]] == ["nibp_mean"]
    assert "NIBP sys 82 mmHg below 90 mmHg" in last["condition_reason"]
    assert "NIBP mean 55 mmHg below 60 mmHg" in last["condition_reason"]
    f.at(900, nibp_sys=120, nibp_dia=80, nibp_mean=90)  # next cycle: all back
    assert _open(f) == [] and not _limit_raised(f)[1:]


def test_a_critical_value_in_the_same_cycle_still_raises_its_own_alarm() -> None:
    f = Feed(make_engine())
    f.at(0, nibp_sys=82, nibp_mean=45)  # MAP below its critical limit 50: never grouped away
    assert sorted((e.signal, e.priority) for e in _limit_raised(f)) == [("nibp_mean", "high"), ("nibp_sys", "medium")]


def test_heart_rate_and_pulse_rate_of_one_tachycardia_are_one_alarm() -> None:
    f = Feed(make_engine())
    for s in range(0, 120):
        f.at(s, heart_rate=131, pulse_rate=130, spo2=97)
    [a] = _limit_raised(f)
    assert a.signal in ("heart_rate", "pulse_rate")
    assert [g["signal"] for g in f.events[-1].to_json()["grouped"]] == [
        "pulse_rate" if a.signal == "heart_rate" else "heart_rate"]


def test_a_grouped_condition_that_outlives_its_alarm_is_raised_on_its_own() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, heart_rate=131, pulse_rate=130)
    [a] = _limit_raised(f)
    leader, other = a.signal, ("pulse_rate" if a.signal == "heart_rate" else "heart_rate")
    for s in range(60, 120):  # the leading signal recovers, the other stays above 120
        f.at(s, **{leader: 80, other: 130})
    raised = _limit_raised(f)
    assert [e.signal for e in raised] == [leader, other]
    assert raised[1].t <= T0 + 61_000  # at once: its delay had passed long ago
    assert _open(f) == [("limit", other)]


def test_a_critical_heart_rate_is_never_absorbed_by_the_pulse_rate_alarm() -> None:
    f = Feed(make_engine())
    for s in range(0, 30):
        f.at(s, heart_rate=125, pulse_rate=125)
    for s in range(30, 60):
        f.at(s, heart_rate=155, pulse_rate=125)  # HR above its critical 150
    assert ("heart_rate", "high") in [(e.signal, e.priority) for e in f.events if e.event in ("raised", "escalated")]


def _news2_engine() -> Feed:
    # every sample an observation (no robust window): the limit and the score see the same value
    f = Feed(make_engine(news2={"enabled": True, "window_s": 1, "min_samples": 1}))
    f.engine.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=T0, by="rn", consciousness="A",
                                  supplemental_o2=False))
    return f


def test_a_news2_alarm_absorbs_the_limit_alarms_its_parameters_explain() -> None:
    f = _news2_engine()
    vitals = {"resp_rate": 26, "spo2": 88, "heart_rate": 125, "nibp_sys": 120, "temperature": 37.0}
    for s in range(1, 300, 2):
        f.at(s, **vitals)
        f.tick(s)
    news2 = [e for e in f.events if e.kind == "news2"]
    assert news2 and news2[0].event == "raised"
    # the limit alarms that came first (HR after 10 s, SpO2 after 15 s) are now part of the NEWS2 alarm
    assert _open(f) == [("news2", None)], _open(f)
    j = news2[-1].to_json()
    assert {g["signal"] for g in j["grouped"]} == {"heart_rate", "spo2"}
    assert "SpO2 88 % below 90 %" in j["condition_reason"] and "HR 125 /min above 120" in j["condition_reason"]
    # a new limit condition the score explains joins it (temperature 38.7 scores 1) without a new alarm
    n = len(f.raised())
    for s in range(300, 400, 2):
        f.at(s, **{**vitals, "temperature": 38.7})
        f.tick(s)
    assert len(f.raised()) == n and _open(f) == [("news2", None)]
    assert "Temp 38.7" in f.events[-1].to_json()["condition_reason"] or any(
        "Temp 38.7" in e.to_json()["condition_reason"] for e in f.events[-30:])


def test_limit_alarms_the_score_does_not_explain_or_critical_ones_stand_beside_news2() -> None:
    f = _news2_engine()
    vitals = {"resp_rate": 26, "spo2": 88, "heart_rate": 125, "nibp_sys": 120, "temperature": 37.0}
    for s in range(1, 200, 2):
        f.at(s, **vitals)
        f.tick(s)
    for s in range(201, 260, 2):  # SBP 195 scores 0 in NEWS2: its own alarm; SpO2 below the critical 85 too
        f.at(s, **{**vitals, "spo2": 82, "nibp_sys": 195})
        f.tick(s)
    assert ("limit", "nibp_sys") in _open(f)
    spo2 = [e for e in f.events if e.signal == "spo2" and e.event in ("raised", "escalated")]
    assert spo2 and spo2[-1].priority == "high" and ("limit", "spo2") in _open(f)


def test_a_grouped_condition_of_a_rare_signal_stands_alone_as_soon_as_news2_falls_below_its_band() -> None:
    f = _news2_engine()
    vitals = {"resp_rate": 26, "spo2": 88, "heart_rate": 125, "nibp_sys": 120}
    f.at(1, **vitals, temperature=38.7)  # charted once: above 38.5 (a low-priority limit), scores 1 in NEWS2
    for s in range(3, 200, 2):
        f.at(s, **vitals)
        f.tick(s)
    assert _open(f) == [("news2", None)]  # the temperature alarm raised at 1 s is part of the NEWS2 alarm
    assert "Temp 38.7" in [e for e in f.events if e.kind == "news2"][-1].to_json()["condition_reason"]
    for s in range(200, 260, 2):  # recovered but for the temperature, which nobody measures again yet
        f.at(s, resp_rate=16, spo2=97, heart_rate=80, nibp_sys=120)
        f.tick(s)
    temp = [e for e in f.raised("limit") if e.signal == "temperature" and e.t >= T0 + 200_000]
    assert temp and temp[0].t <= T0 + 203_000 and temp[0].priority == "low", [(e.signal, e.t - T0) for e in f.raised()]
    assert ("limit", "temperature") in _open(f)
