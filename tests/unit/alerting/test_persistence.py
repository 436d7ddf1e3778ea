"""Persistence counted in samples, NEWS2 hysteresis, and the grouping and artefact rules that keep one
cause to one alarm (issue 11: fewer alarms on charted ICU data without missing the sick patient).

Charted data (PhysioNet 2012/2019) comes an hour apart, so an alarm-condition delay in seconds cannot
tell one outlying value from a condition: ``confirm_samples: 2`` (the charted presets) makes the next
value confirm a non-critical limit condition, a NEWS2 band below high, and the end of either."""

from __future__ import annotations

from typing import Any

from alerting import SpotObservation
from alerting.anomaly import Deviation, Verdict
from alerting.anomaly_watch import worsening

from .conftest import T0, Feed, make_engine

HOUR = 3600.0
CHARTED = {"delay_s": 0, "confirm_samples": 2}
# charted data: no "no data" alarms between hourly values (as the charted presets)
QUIET = {"stale_alarm": False, "expire_after_s": {s: 4 * HOUR for s in (
    "resp_rate", "spo2", "nibp_sys", "nibp_mean", "heart_rate", "temperature")}}


def _ends(events: list) -> list:  # type: ignore[type-arg]
    return [e for e in events if e.event in ("raised", "cleared")]


def _spot(s: float, **values: Any) -> SpotObservation:
    return SpotObservation(patient="p1", ward="w1", bed="07", t=T0 + int(s * 1000), by="nurse.kim", **values)


# -- limits: confirmed by the next sample --------------------------------------------------------------
def test_one_charted_value_outside_a_limit_is_not_yet_an_alarm() -> None:
    f = Feed(make_engine(limits={"nibp_mean": CHARTED}))
    f.at(0, nibp_mean=75)
    f.at(HOUR, nibp_mean=55)  # below 60, one value
    f.at(2 * HOUR, nibp_mean=75)
    assert f.raised() == []


def test_the_next_value_outside_confirms_the_condition_and_it_alarms_then() -> None:
    f = Feed(make_engine(limits={"nibp_mean": CHARTED}))
    f.at(0, nibp_mean=75)
    assert f.at(HOUR, nibp_mean=55) == []
    [e] = f.at(2 * HOUR, nibp_mean=57)
    assert (e.event, e.signal, e.priority) == ("raised", "nibp_mean", "medium")


def test_a_critical_value_alarms_at_once_without_waiting_for_confirmation() -> None:
    f = Feed(make_engine(limits={"nibp_mean": CHARTED}))
    f.at(0, nibp_mean=75)
    [e] = f.at(HOUR, nibp_mean=45)  # below the critical 50
    assert (e.event, e.priority) == ("raised", "high")


def test_without_confirm_samples_one_value_alarms_as_before() -> None:
    f = Feed(make_engine(limits={"nibp_mean": {"delay_s": 0}}))
    f.at(0, nibp_mean=75)
    assert [e.event for e in f.at(HOUR, nibp_mean=55)] == ["raised"]


def test_one_value_back_inside_does_not_end_the_alarm_two_do() -> None:
    f = Feed(make_engine(limits={"nibp_mean": CHARTED}, technical=QUIET))
    f.at(0, nibp_mean=55)
    f.at(HOUR, nibp_mean=55)
    assert len(f.raised()) == 1
    assert _ends(f.at(2 * HOUR, nibp_mean=75)) == []  # back inside once
    f.at(3 * HOUR, nibp_mean=56)  # outside again: the same alarm, not a new one
    assert len(f.raised()) == 1 and not [e for e in f.events if e.event == "cleared"]
    f.at(4 * HOUR, nibp_mean=75)
    [c] = _ends(f.at(5 * HOUR, nibp_mean=76))
    assert c.event == "cleared" and len(f.raised()) == 1


# -- NEWS2: a band confirmed by the next observation of a scoring parameter ---------------------------
def _news2_engine() -> Feed:
    f = Feed(make_engine(news2={"enabled": True, **CHARTED, "clear_after_s": 0}, limits={}, technical=QUIET))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    return f


NORMAL: dict[str, Any] = {"spo2": 97, "nibp_sys": 120, "heart_rate": 70, "temperature": 37.0}


def test_news2_band_from_one_charted_value_does_not_alarm() -> None:
    f = _news2_engine()
    f.at(1, resp_rate=16, **NORMAL)
    f.at(HOUR, resp_rate=26, **NORMAL)  # RR 26 scores 3: low-medium, once
    f.at(HOUR + 600, temperature=37.1)  # a new observation of a parameter that does not score
    f.at(2 * HOUR, resp_rate=16, **NORMAL)
    assert f.raised("news2") == []


def test_news2_band_confirmed_by_the_next_scoring_observation_alarms() -> None:
    f = _news2_engine()
    f.at(1, resp_rate=16, **NORMAL)
    f.at(HOUR, resp_rate=26, **NORMAL)
    assert f.at(HOUR + 600, temperature=37.1) == []  # not a confirmation: temperature scores 0
    [e] = _ends(f.at(2 * HOUR, resp_rate=27, **NORMAL))
    assert (e.event, e.kind, e.band) == ("raised", "news2", "low-medium")


def test_news2_high_band_alarms_at_once() -> None:
    f = _news2_engine()
    f.at(1, resp_rate=16, **NORMAL)
    [e] = f.at(HOUR, resp_rate=26, spo2=91, nibp_sys=120, heart_rate=112, temperature=37.0)  # 3 + 2 + 2 = 7
    assert (e.event, e.priority, e.band) == ("raised", "high", "high")


# -- NEWS2 hysteresis ------------------------------------------------------------------------------
def _news2_open(**news2: object) -> Feed:
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "clear_after_s": 0, "window_s": 1,
                                "min_samples": 1, **news2}, limits={}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=True))
    f.at(1, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)  # 2 + 2 + 1 = 5
    assert len(f.raised("news2")) == 1
    return f


def test_a_news2_alarm_holds_while_the_score_is_one_point_below_its_band() -> None:
    f = _news2_open()
    f.at(2, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=85, temperature=37.0)  # 4
    f.at(3, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)  # 5 again
    news2 = [e.event for e in f.events if e.kind == "news2"]
    assert "cleared" not in news2 and len(f.raised("news2")) == 1
    f.at(4, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=85, temperature=37.0)  # 2: ends
    assert [e.event for e in f.events if e.kind == "news2"][-1] == "cleared"


def test_the_total_within_one_point_holds_the_alarm_without_any_parameter_near_3() -> None:
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "clear_after_s": 0, "window_s": 1,
                                "min_samples": 1}, limits={}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=True))
    base: dict[str, Any] = {"resp_rate": 16, "nibp_sys": 120, "heart_rate": 95, "temperature": 38.2}  # HR 1, temp 1 (+ O2 2)
    f.at(1, spo2=95, **base)  # SpO2 95 scores 1: 5
    assert len(f.raised("news2")) == 1
    f.at(2, spo2=97, **base)  # 4, no parameter scoring 2
    last = [e for e in f.events if e.kind == "news2"][-1]
    assert last.event != "cleared" and "within 1 point of the alarm band: the alarm holds" in last.reason
    f.at(3, spo2=97, resp_rate=16, nibp_sys=120, heart_rate=70, temperature=37.0)  # O2 2 alone
    assert [e.event for e in f.events if e.kind == "news2"][-1] == "cleared"


def test_without_news2_hysteresis_one_point_below_ends_it() -> None:
    f = _news2_open(hysteresis=0)
    f.at(2, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=85, temperature=37.0)  # 4
    assert [e.event for e in f.events if e.kind == "news2"][-1] == "cleared"


def test_a_single_red_parameter_alarm_holds_while_it_still_scores_2() -> None:
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "clear_after_s": 0, "window_s": 1,
                                "min_samples": 1}, limits={}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=True))  # O2 scores 2: never a reason to hold
    f.at(1, resp_rate=26, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # RR 3 (+ O2 2) = 5
    assert len(f.raised("news2")) == 1
    f.at(2, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # RR 2 + O2 2 = 4: holds
    assert [e.event for e in f.events if e.kind == "news2"][-1] != "cleared"
    f.at(3, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # O2 2 alone: ends
    assert [e.event for e in f.events if e.kind == "news2"][-1] == "cleared"


# -- one cause, one alarm ----------------------------------------------------------------------------
def test_a_limit_condition_its_news2_alarm_explains_joins_it_without_being_raised_first() -> None:
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1},
                         limits={"resp_rate": {"delay_s": 0}}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    ev = f.at(1, resp_rate=32, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # RR > 30 and scores 3
    assert [(e.event, e.kind) for e in ev] == [("raised", "news2"), ("updated", "news2")]
    assert f.raised("limit") == [] and [g["signal"] for g in ev[-1].to_json()["grouped"]] == ["resp_rate"]


def test_mean_pressure_of_a_cycle_whose_systolic_is_grouped_into_news2_joins_that_alarm() -> None:
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1},
                         limits={"nibp_sys": {"delay_s": 0}, "nibp_mean": {"delay_s": 0}}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=16, spo2=97, nibp_sys=88, heart_rate=70, temperature=37.0)  # SBP 88 scores 3: NEWS2
    assert [e.kind for e in f.raised()] == ["news2"]
    f.at(2, nibp_mean=55)  # the same patient's mean pressure below 60
    assert [e.kind for e in f.raised()] == ["news2"]
    grouped = {g["signal"] for g in f.events[-1].to_json()["grouped"]}
    assert grouped == {"nibp_sys", "nibp_mean"}


def test_a_blood_pressure_of_zero_is_an_artefact_never_hypotension() -> None:
    f = Feed(make_engine(limits={"nibp_sys": {"delay_s": 0}}, technical={"delay_s": 0}))
    f.at(0, nibp_sys=120)
    ev = f.at(60, nibp_sys=0)
    assert [(e.kind, e.to_json()["code"]) for e in ev] == [("technical", "artefact")]
    assert f.raised("limit") == []


# -- anomaly advisories -----------------------------------------------------------------------------
def _verdict(*devs: tuple[str, float, float]) -> Verdict:
    return Verdict(8.0, True, False, tuple(Deviation(s, v, b, 0.2 if s == "temperature" else 3.0)
                                          for s, v, b in devs))


def test_an_anomaly_towards_normal_is_no_deterioration() -> None:
    assert not worsening(_verdict(("temperature", 36.8, 38.1)), 6.0)  # a fever settling
    assert not worsening(_verdict(("heart_rate", 65.0, 84.0)), 6.0)  # inside the normal range, nearer its middle
    assert worsening(_verdict(("temperature", 39.5, 38.1)), 6.0)
    assert worsening(_verdict(("heart_rate", 110.0, 84.0)), 6.0)
    assert worsening(Verdict(8.0, True, False, ()), 6.0)  # an unnamed multivariate pattern is kept


def test_the_signal_that_is_unusual_decides_not_a_smaller_deviation_beside_it() -> None:
    # temperature 8 SD towards normal; heart rate 3.3 SD (below the threshold) away from it
    v = Verdict(8.0, True, False, (Deviation("temperature", 36.5, 38.1, 0.2),
                                   Deviation("heart_rate", 94.0, 84.0, 3.0)))
    assert not worsening(v, 6.0)


def test_an_anomaly_advisory_joins_the_open_alarm_that_reports_its_signal() -> None:
    engine = make_engine(anomaly={"enabled": True, "window_s": 60, "warmup": 5, "threshold": 6.0},
                         limits={"heart_rate": {"delay_s": 0}})
    f = Feed(engine)
    for m in range(12):  # a steady baseline, once a minute
        f.at(m * 60, heart_rate=80 + (m % 3))
    for m in range(12, 16):  # tachycardia: a limit alarm, and far from this patient's baseline
        f.at(m * 60, heart_rate=135)
    assert [e.kind for e in f.raised()] == ["limit"]
    hr = engine.lifecycle.by_key[("p1", "limit", "heart_rate", "high")]
    assert any(k[1] == "anomaly" for k in hr.grouped), hr.grouped


def _fever_then(temperature: float) -> Feed:
    f = Feed(make_engine(anomaly={"enabled": True, "window_s": 60, "warmup": 5, "threshold": 6.0,
                                  "signals": ["temperature"]}, limits={"temperature": {"enabled": False}}))
    for m in range(12):  # a fever this patient has had all along
        f.at(m * 60, temperature=38.6 + 0.1 * (m % 3))
    for m in range(12, 16):
        f.at(m * 60, temperature=temperature)
    return f


def test_a_fever_settling_raises_no_advisory_a_fever_rising_does() -> None:
    assert _fever_then(36.9).raised("anomaly") == []
    assert [e.kind for e in _fever_then(40.5).raised("anomaly")] == ["anomaly"]


# -- per-minute numerics (acceptance, issue 11): one outlying minute is no alarm of any physiological kind
def _minutes(f: Feed, special: dict[int, dict[str, float]]) -> None:
    for m in range(0, 120):
        v = {"heart_rate": 75.0 + (m % 3), "pulse_rate": 74.0 + (m % 3), "spo2": 97.0 - (m % 2), "resp_rate": 16.0}
        v.update(special.get(m, {}))
        f.at(m * 60, **v)
        f.tick(m * 60 + 30)


def test_one_outlying_minute_raises_no_limit_news2_or_anomaly_alarm() -> None:
    special = {60: {"heart_rate": 142.0, "pulse_rate": 141.0, "spo2": 83.0, "resp_rate": 36.0}}  # past critical
    f = Feed(make_engine(news2={"enabled": True}, anomaly={"enabled": True, "window_s": 60, "warmup": 10}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    _minutes(f, special)
    assert [(e.kind, e.reason) for e in f.raised()] == []


def test_two_consecutive_unusual_minutes_raise_the_advisory_one_does_not() -> None:
    def run(special: dict[int, dict[str, float]]) -> list[str]:
        f = Feed(make_engine(anomaly={"enabled": True, "window_s": 60, "warmup": 10}, limits={
            "heart_rate": {"enabled": False}, "pulse_rate": {"enabled": False}}))
        _minutes(f, special)
        return [e.kind for e in f.raised()]

    assert run({60: {"heart_rate": 112.0}}) == []
    assert run({60: {"heart_rate": 112.0}, 61: {"heart_rate": 112.0}}) == ["anomaly"]
    assert run({60: {"heart_rate": 112.0}, 62: {"heart_rate": 112.0}}) == []  # not consecutive


def test_an_ended_drill_leaves_no_confirmation_counts_behind() -> None:
    from device_profiles import Attribution

    engine = make_engine(limits={"nibp_mean": CHARTED}, technical=QUIET)
    f = Feed(engine)
    drill = Attribution(ward="w1", bed="09", patient="sim-1", drill="d1")
    f.at(0, who=drill, nibp_mean=55)  # one value: waiting for confirmation
    f.at(HOUR, nibp_mean=55)
    f.at(2 * HOUR, nibp_mean=55)  # p1: an alarm
    f.at(3 * HOUR, nibp_mean=75)  # p1: back inside once, the end waits for confirmation
    assert {k[0] for k in engine.conditions.seen} == {"sim-1", "p1"} and engine.conditions.ending
    engine.end_drill("d1", T0 + int(4 * HOUR * 1000))
    assert {k[0] for k in engine.conditions.seen} == {"p1"} and {k[0] for k in engine.conditions.ending} == {"p1"}
