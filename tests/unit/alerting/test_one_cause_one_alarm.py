"""One cause, one technical alarm. A device offline, an SpO2 probe off or ECG leads off stops data on
several signals at once; the nurse gets the alarm that names the cause, not also a "no data" alarm
per signal (pulse rate, perfusion index, respiration...). A "no data" alarm still comes once that
cause is over and the data has not come back. The simulator's leads-off (no heart rate, flagged
invalid, pulse still valid) is an ECG lead-off, as a heart rate of 0 is."""

from __future__ import annotations

from alerting import Engine
from device_profiles import DeviceStatusMessage

from .conftest import T0, WHO, Feed, make_engine

VITALS = {"spo2": 97, "pulse_rate": 71, "perfusion_index": 3.1, "resp_rate": 14}


def codes(events: list) -> list[tuple[str, str | None, str]]:  # type: ignore[type-arg]
    return [(e.event, e.signal, e.to_json()["code"]) for e in events]


def _status(engine: Engine, s: float, online: bool) -> list:  # type: ignore[type-arg]
    return engine.status(DeviceStatusMessage(device="mon-1", ward=WHO.ward, bed=WHO.bed, patient=WHO.patient,
                                             t=T0 + int(s * 1000), online=online))


def test_leads_off_without_a_value_is_a_lead_off_and_not_also_no_hr_or_rr_data() -> None:
    f = Feed(make_engine())
    for s in range(0, 5):
        f.at(s, heart_rate=72, **VITALS)
    for s in range(5, 120):  # as gateway_agent's sensor-off: no HR, flagged invalid; the pulse oximeter still counts
        f.at(s, quality={"heart_rate": "invalid"}, spo2=97, pulse_rate=71, perfusion_index=3.1)
    raised = f.raised()
    assert [(e.signal, e.to_json()["code"]) for e in raised] == [("heart_rate", "lead_off")], codes(raised)
    assert "HR invalid while the pulse rate 71/min is valid: ECG lead off" in raised[0].reason
    back = f.at(121, heart_rate=72, **VITALS)
    assert ("cleared", "heart_rate", "lead_off") in codes(back)


def test_probe_off_is_one_alarm_not_also_no_pulse_rate_or_pi_data() -> None:
    f = Feed(make_engine())
    for s in range(0, 5):
        f.at(s, heart_rate=72, **VITALS)
    for s in range(5, 120):  # probe off: SpO2 0 flagged invalid, no pulse rate, no perfusion index
        f.at(s, quality={"spo2": "invalid"}, heart_rate=72, spo2=0, resp_rate=14)
    assert [(e.signal, e.to_json()["code"]) for e in f.raised()] == [("spo2", "probe_off")], codes(f.raised())


def test_offline_is_one_alarm_and_no_data_follows_only_if_data_stays_away_once_online() -> None:
    engine = make_engine()
    f = Feed(engine)
    for s in range(0, 5):
        f.at(s, heart_rate=72, **VITALS)
    f.events += _status(engine, 6, False)
    for s in range(7, 120):
        f.tick(s)
    assert [e.to_json()["code"] for e in f.raised()] == ["offline"], codes(f.raised())
    f.events += _status(engine, 120, True)
    for s in range(121, 200):  # back, but the monitor no longer sends pulse rate / PI
        f.at(s, heart_rate=72, spo2=97, resp_rate=14)
    later = [(e.signal, e.to_json()["code"]) for e in f.raised()][1:]
    assert sorted(later) == [("perfusion_index", "stale"), ("pulse_rate", "stale")], later
    assert "no PR data for 1" in next(e.reason for e in f.raised() if e.signal == "pulse_rate")
