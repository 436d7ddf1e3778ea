"""NEWS2 computed continuously from monitor data plus nurse spot values, and its alarm."""

from __future__ import annotations

from alerting import SpotObservation

from .conftest import T0, WHO, Feed, make_engine

# every sample an observation, as charted (no robust window): these tests are about the score's inputs
LATEST = {"window_s": 1, "min_samples": 1}


def _spot(s: float, **values: object) -> SpotObservation:
    return SpotObservation(patient="p1", ward="w1", bed="07", t=T0 + int(s * 1000), by="nurse.kim", **values)


def test_spot_values_complete_the_score_and_the_band_drives_the_alarm() -> None:
    engine = make_engine(news2={"enabled": True, "delay_s": 0, **LATEST}, limits={})
    f = Feed(engine)
    f.at(0, resp_rate=22, spo2=95, nibp_sys=115, heart_rate=95, temperature=38.2)
    p = engine.patients["p1"]
    assert p.news2 is not None and not p.news2.complete
    assert p.news2.missing == ["supplemental_o2", "consciousness"]
    assert [(e.kind, e.priority) for e in f.raised("news2")] == [("news2", "medium")]  # floor already 5
    ev = engine.spot(_spot(1, consciousness="A", supplemental_o2=False))
    assert p.news2.complete and p.news2.total == 5 and ev == []
    ev = engine.spot(_spot(2, consciousness="V"))
    assert p.news2.total == 8 and [(e.event, e.priority) for e in ev] == [("escalated", "high")]


def test_single_red_parameter_is_an_urgent_medium_alarm() -> None:
    engine = make_engine(news2={"enabled": True, "delay_s": 0, **LATEST}, limits={"resp_rate": {"enabled": False}})
    f = Feed(engine)
    engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=7, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)
    [e] = f.raised("news2")
    assert e.priority == "medium" and "low-medium" in e.reason


def test_stale_values_drop_out_and_the_set_is_incomplete_not_normal() -> None:
    engine = make_engine(news2={"enabled": True, **LATEST})
    f = Feed(engine)
    engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)
    assert engine.patients["p1"].news2.complete  # type: ignore[union-attr]
    f.tick(200)  # one sample: heart rate and SpO2 expire after 2.5 x 30 s, resp rate after 2.5 x 60 s
    r = engine.patients["p1"].news2
    assert r is not None and not r.complete and {"heart_rate", "spo2", "resp_rate"} <= set(r.missing)


def test_news2_alarm_clears_only_after_the_score_stays_low() -> None:
    engine = make_engine(news2={"enabled": True, "clear_after_s": 60, "delay_s": 0, **LATEST})
    f = Feed(engine)
    engine.spot(_spot(0, consciousness="A", supplemental_o2=True))
    f.at(1, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)  # 2 + 2 + 1 = 5
    assert len(f.raised("news2")) == 1
    f.at(2, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)
    # still on (it clears only after 60 s below the band) but it shows the score now, not the old 5
    upd = f.events[-1]
    assert (upd.event, upd.state, upd.value, upd.worst) == ("updated", "active", 3, 5)
    assert upd.reason.startswith("NEWS2 3: low risk, below the alarm band")
    for s in range(5, 60, 5):
        f.at(s, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)
    assert [e.event for e in f.events if e.kind == "news2"] == ["raised", "updated"]
    f.at(63, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=95, temperature=37.0)
    assert [e.event for e in f.events if e.kind == "news2"] == ["raised", "updated", "cleared"]
    assert {e.patient for e in f.events} == {WHO.patient}


def test_a_band_must_hold_for_the_news2_delay_so_one_bad_sample_does_not_alarm() -> None:
    engine = make_engine(news2={"enabled": True}, limits={"spo2": {"enabled": False}})  # default delay 60 s
    f = Feed(engine)
    engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=16, spo2=90, nibp_sys=120, heart_rate=70, temperature=37.0)  # SpO2 90 scores 3
    f.at(30, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)
    assert f.raised("news2") == []
    for s in range(31, 103, 5):  # (a window keeps one sample per 5 s: the 31 s one is not kept)
        f.at(s, resp_rate=16, spo2=90, nibp_sys=120, heart_rate=70, temperature=37.0)
    [e] = f.raised("news2")
    assert e.t - (1_763_805_600_000 + 31_000) >= 60_000


def test_unassigned_devices_are_ignored_by_default() -> None:
    from device_profiles import Attribution

    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, who=Attribution(), spo2=80)
    assert f.events == [] and f.engine.patients == {}
