"""Clinically honest NEWS2 (issue 11): an incomplete score never reassures, "C" needs confirming that the
confusion is new, a ward can suspend NEWS2 for ventilated or sedated beds, SpO2 scale 2 moves the SpO2
limits with it, and duplicate readings at one time resolve to the worse one and are counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alerting import InputError, News2Input, parse_spot, read_recording, score_news2

from .conftest import T0, WHO, Feed, make_engine

NORMAL = {"resp_rate": 16.0, "spo2": 97.0, "heart_rate": 75.0, "nibp_sys": 125.0, "temperature": 37.0}
EACH = {"window_s": 1, "min_samples": 1}  # each sample an observation (these tests are not about artefacts)


def _spot(s: float, **values: Any) -> Any:
    return parse_spot({"patient": "p1", "ward": "w1", "bed": "07", "t": T0 + int(s * 1000), "by": "rn", **values})


def _feed(**layers: Any) -> Feed:
    news2 = {"enabled": True, "delay_s": 0, **EACH, **layers.pop("news2", {})}
    return Feed(make_engine(news2=news2, **layers))


def _steady(f: Feed, start: int, end: int, **over: float) -> None:
    for s in range(start, end, 5):
        f.events += f.engine.observe_sample(WHO, "mon-1", T0 + s * 1000, {**NORMAL, **over})


# -- an incomplete score never reassures ---------------------------------------------------------
def test_an_incomplete_low_score_asks_for_the_missing_observations_never_a_routine_frequency() -> None:
    r = score_news2(News2Input(resp_rate=16))
    assert not r.complete and r.total == 0
    for text in (r.frequency, r.response):
        assert text.startswith("obtain the missing observations (spo2, supplemental_o2, sbp, heart_rate, "
                               "consciousness, temperature)"), text
        assert "12-hourly" not in text and "routine" not in text and "4-6" not in text
    partial = score_news2(News2Input(resp_rate=22, spo2=95))  # floor 3, still low: no routine answer either
    assert partial.frequency.startswith("obtain the missing observations")


def test_an_incomplete_score_keeps_the_urgency_its_floor_reaches() -> None:
    r = score_news2(News2Input(resp_rate=26, spo2=90, heart_rate=120))  # 3 + 3 + 2 = at least 8
    assert r.risk.value == "high" and r.frequency == "continuous monitoring of vital signs"
    assert r.response.startswith("urgent or emergency response; obtain the missing observations (")
    complete = score_news2(News2Input(resp_rate=16, spo2=97, supplemental_o2=False, sbp=125, heart_rate=70,
                                      consciousness="A", temperature=37.0))
    assert (complete.frequency, complete.response) == ("minimum 12-hourly", "continue routine NEWS monitoring")


# -- new confusion --------------------------------------------------------------------------------
def test_where_the_ward_asks_for_it_c_scores_3_only_when_the_nurse_confirms_it_is_new() -> None:
    f = _feed(news2={"unconfirmed_confusion": "missing"})
    p_key = "p1"
    f.events += f.engine.spot(_spot(0, consciousness="C", supplemental_o2=False))
    _steady(f, 1, 30)
    r = f.engine.patients[p_key].news2
    assert r is not None and not r.complete and r.missing == ["consciousness"] and r.total == 0
    assert r.frequency.startswith("obtain the missing observations (consciousness)")
    assert [e for e in f.raised() if e.kind == "news2"] == []
    f.events += f.engine.spot(_spot(40, consciousness="C", new_confusion=True))
    r = f.engine.patients[p_key].news2
    assert r is not None and r.complete and r.scores["consciousness"] == 3 and r.risk.value == "low-medium"
    [e] = [e for e in f.raised() if e.kind == "news2"]
    assert e.priority == "medium" and e.band == "low-medium"
    f.events += f.engine.spot(_spot(50, consciousness="C", new_confusion=False))  # known baseline (e.g. dementia)
    r = f.engine.patients[p_key].news2
    assert r is not None and r.complete and r.scores["consciousness"] == 0
    f.events += f.engine.spot(_spot(60, consciousness="C"))  # a new observation: its own confirmation is missing again
    r = f.engine.patients[p_key].news2
    assert r is not None and "consciousness" in r.missing


def test_an_unconfirmed_c_alarm_says_what_to_confirm() -> None:
    f = _feed(news2={"unconfirmed_confusion": "missing"})
    f.events += f.engine.spot(_spot(0, consciousness="C", supplemental_o2=True))
    _steady(f, 1, 30, resp_rate=25)  # RR 3 + O2 2: at least 5
    [e] = [e for e in f.raised() if e.kind == "news2"]
    assert "missing consciousness (confusion not confirmed as new)" in e.reason


def test_by_default_unconfirmed_confusion_counts_as_new_as_rcp_advises_and_a_baseline_does_not() -> None:
    f = _feed()
    f.events += f.engine.spot(_spot(0, consciousness="C", supplemental_o2=False))
    _steady(f, 1, 30)
    r = f.engine.patients["p1"].news2
    assert r is not None and r.complete and r.scores["consciousness"] == 3
    f.events += f.engine.spot(_spot(40, consciousness="C", new_confusion=False))
    r = f.engine.patients["p1"].news2
    assert r is not None and r.complete and r.scores["consciousness"] == 0


def test_new_confusion_goes_with_c_only() -> None:
    with pytest.raises(InputError, match="new_confusion goes with consciousness 'C'"):
        _spot(0, consciousness="A", new_confusion=True)


# -- ventilated / sedated -------------------------------------------------------------------------
def test_a_ward_setting_suspends_news2_for_a_sedated_patient_and_ends_its_alarm() -> None:
    f = _feed(news2={"suspend_sedated": ["w1"]}, limits={"heart_rate": {"high": 110}})
    f.events += f.engine.spot(_spot(0, consciousness="P", supplemental_o2=True))  # 3 + 2 = 5: medium
    _steady(f, 1, 30)
    assert [e.event for e in f.events if e.kind == "news2"] == ["raised"]
    f.events += f.engine.spot(_spot(31, sedated=True, ventilated=True))
    news2 = [e for e in f.events if e.kind == "news2"]
    assert news2[-1].event == "cleared" and "NEWS2 suspended: patient ventilated and sedated" in news2[-1].reason
    _steady(f, 32, 120, heart_rate=130)
    r = f.engine.patients["p1"].news2
    assert r is not None and r.suspended and r.to_json()["suspended"] == r.suspended
    assert r.response.startswith("NEWS2 suspended")
    assert [e.event for e in f.events if e.kind == "news2"] == ["raised", "cleared"]  # no new NEWS2 alarm
    assert [e.signal for e in f.raised() if e.kind == "limit"] == ["heart_rate"]  # limits still alarm


def test_other_wards_score_sedated_patients_as_the_chart_does() -> None:
    f = _feed(news2={"suspend_sedated": ["icu-1"]})
    f.events += f.engine.spot(_spot(0, consciousness="P", supplemental_o2=True, sedated=True))
    _steady(f, 1, 30)
    r = f.engine.patients["p1"].news2
    assert r is not None and not r.suspended and r.total == 5
    assert [e.event for e in f.events if e.kind == "news2"] == ["raised"]


# -- SpO2 scale 2 ---------------------------------------------------------------------------------
def _spo2_alarms(f: Feed) -> list[str]:
    return [e.reason for e in f.raised() if e.kind == "limit" and e.signal == "spo2"]


def test_spo2_scale_2_moves_the_spo2_limits_with_it() -> None:
    scale1 = Feed(make_engine())
    _steady(scale1, 0, 60, spo2=87)  # below the ward's 90 %
    assert _spo2_alarms(scale1)
    f = Feed(make_engine())
    f.events += f.engine.spot(_spot(0, spo2_scale=2))  # target 88-92 %: limits 90 -> 84, critical 85 -> 79
    _steady(f, 0, 60, spo2=87)
    assert _spo2_alarms(f) == []
    _steady(f, 60, 120, spo2=82)
    [reason] = _spo2_alarms(f)
    assert "below 84" in reason
    f.events += f.engine.spot(_spot(120, spo2_scale=1))  # back on scale 1: 82 % is below the critical 85 %
    _steady(f, 121, 180, spo2=82)
    assert [e.priority for e in f.events if e.kind == "limit" and e.signal == "spo2" and e.event != "updated"][-1] \
        == "high"


def test_a_patient_limit_set_by_a_clinician_stays_on_scale_2() -> None:
    f = Feed(make_engine(patients={"p1": {"spo2": {"low": 88}}}))
    f.events += f.engine.spot(_spot(0, spo2_scale=2))
    _steady(f, 0, 60, spo2=86)  # below the patient's own 88 %, above the moved critical 79 %
    [reason] = _spo2_alarms(f)
    assert "below 88" in reason


# -- duplicates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("first,second", [(36.3, 34.0), (34.0, 36.3)])
def test_two_temperatures_at_one_time_resolve_to_the_worse_and_are_counted(first: float, second: float) -> None:
    f = _feed()
    f.events += f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    t = T0 + 60_000
    f.engine.observe_sample(WHO, "mon-1", t, {"temperature": first})
    f.engine.observe_sample(WHO, "mon-1", t, {"temperature": second})
    r = f.engine.patients["p1"].news2
    assert r is not None and r.scores["temperature"] == 3  # 34.0 °C
    assert f.engine.news2.duplicates == 1


def test_a_chart_with_two_values_at_one_time_keeps_the_worse_and_counts_it(tmp_path: Path) -> None:
    chart = tmp_path / "132539.txt"
    chart.write_text("Time,Parameter,Value\n00:00,RecordID,132539\n01:00,Temp,36.3\n01:00,Temp,34.0\n"
                     "01:00,HR,80\n02:00,SysABP,100\n02:00,NISysABP,130\n02:00,NISysABP,85\n03:00,MechVent,1\n")
    rec = read_recording(chart)
    by_t = {r.t // 3_600_000: r for r in rec.records}
    assert by_t[1].values["temperature"] == 34.0 and by_t[1].values["heart_rate"] == 80
    assert by_t[2].values["nibp_sys"] == 85  # non-invasive wins over invasive; of the two, the worse
    assert rec.duplicates == 2
    assert by_t[3].spot == {"supplemental_o2": True, "ventilated": True}
