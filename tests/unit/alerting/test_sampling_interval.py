"""Technical "no data" follows the device's sampling interval (issue 11): the profile's ``expire_after``
(sent in the device status) or the interval the stream shows. A steady once-a-minute stream is not
"no data" between two samples; a stream that really stops still raises one alarm."""

from __future__ import annotations

from alerting import AlarmConfig, Engine
from device_profiles import DeviceStatusMessage

from .conftest import T0, WHO, Feed, make_engine

VITALS = {"heart_rate": 72, "pulse_rate": 71, "spo2": 97, "resp_rate": 14}


def _minutely(f: Feed, start_min: int, end_min: int) -> None:
    for m in range(start_min, end_min):
        f.at(60 * m, **VITALS)
        for s in range(60 * m + 1, 60 * m + 60, 7):
            f.tick(s)


def test_a_steady_once_a_minute_stream_raises_no_technical_alarm_in_three_hours() -> None:
    f = Feed(make_engine())
    _minutely(f, 0, 180)
    assert f.raised() == [], [e.reason for e in f.raised()][:3]


def test_a_steady_once_a_minute_stream_raises_no_alarm_of_any_kind_with_every_rule_on() -> None:
    f = Feed(Engine(AlarmConfig()))
    _minutely(f, 0, 180)
    assert f.raised() == [], [(e.kind, e.reason) for e in f.raised()][:3]


def test_a_once_a_minute_stream_that_stops_raises_one_no_data_alarm_per_signal() -> None:
    f = Feed(make_engine())
    _minutely(f, 0, 30)
    for s in range(60 * 30, 60 * 40, 5):  # stopped after minute 29
        f.tick(s)
    stale = f.raised("technical")
    assert sorted(e.signal or "" for e in stale) == sorted(VITALS), [e.reason for e in stale]
    last = T0 + 60_000 * 29
    for e in stale:  # after 2.5 sample intervals (150 s), not the catalogue's 30 s, and not much later
        assert last + 150_000 < e.t <= last + 160_000, (e.signal, (e.t - last) / 1000)


def test_one_dropout_of_a_fast_stream_does_not_stretch_its_horizon() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, spo2=97)
    for s in range(60, 120):  # a 60 s dropout, then 1 Hz again
        f.tick(s)
    for s in range(120, 180):
        f.at(s, spo2=97)
    first = [e for e in f.raised("technical") if e.signal == "spo2"]
    assert len(first) == 1 and T0 + 89_000 <= first[0].t <= T0 + 91_000  # the dropout itself: after 30 s
    for s in range(180, 260):
        f.tick(s)
    again = [e for e in f.raised("technical") if e.signal == "spo2"][1:]
    assert len(again) == 1 and again[0].t <= T0 + 211_000, [(e.t - T0) / 1000 for e in again]


def test_the_device_profile_expire_after_sets_the_horizon_and_alarms_yaml_wins() -> None:
    for config, expect_s in (({}, 300), ({"technical": {"expire_after_s": {"spo2": 45}}}, 45)):
        engine = make_engine(**config)
        f = Feed(engine)
        engine.status(DeviceStatusMessage(device="mon-1", ward=WHO.ward, bed=WHO.bed, patient=WHO.patient, t=T0,
                                          online=True, expire_after={"spo2": 300}))
        for s in range(0, 20):
            f.at(s, spo2=97)
        for s in range(20, 400):
            f.tick(s)
        [stale] = f.raised("technical")
        assert stale.signal == "spo2" and T0 + (19 + expect_s) * 1000 < stale.t <= T0 + (21 + expect_s) * 1000, \
            (config, (stale.t - T0) / 1000)
