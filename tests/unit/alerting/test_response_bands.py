"""NEWS2 response bands drive escalation (RCP 2017, issue 11): low-medium stays with the ward nurses
(urgent ward-based response), medium reaches a clinician (urgent review), high the rapid-response team
(emergency). An alarm whose condition has ended is published as such and never escalated again."""

from __future__ import annotations

from typing import Any

import pytest

from alerting import AlarmCommand, AlarmEvent, ConfigError, SpotObservation, build_config

from .conftest import T0, Feed, make_engine

NO_LIMITS = {s: {"enabled": False} for s in ("resp_rate", "spo2", "nibp_sys", "heart_rate", "temperature")}
NORMAL = {"resp_rate": 16, "spo2": 97, "nibp_sys": 120, "heart_rate": 70, "temperature": 37.0}


def _engine(**layers: Any) -> Feed:
    # every sample an observation (no robust window): these tests are about routing, not artefacts
    cfg: dict[str, Any] = {"news2": {"enabled": True, "delay_s": 0, "clear_after_s": 300, "window_s": 1,
                                     "min_samples": 1}, "limits": NO_LIMITS}
    cfg.update(layers)
    f = Feed(make_engine(**cfg))
    f.engine.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=T0, by="nurse.kim", consciousness="A",
                                  supplemental_o2=False))
    return f


def _steady(f: Feed, start: int, end: int, **values: float) -> None:
    """The same vitals every 5 s from ``start`` to ``end`` s (a sustained state, not one sample)."""
    for s in range(start, end, 5):
        f.at(s, **{**NORMAL, **values})
        f.tick(s)


def _news2(f: Feed) -> list[AlarmEvent]:
    return [e for e in f.events if e.kind == "news2"]


def test_low_medium_goes_to_the_ward_nurses_only_and_stays_medium() -> None:
    f = _engine()
    _steady(f, 1, 1800, resp_rate=7)  # a single 3 (RR <= 8): NEWS2 3, low-medium, unacknowledged for 30 min
    ev = _news2(f)
    assert ev[0].event == "raised" and ev[0].band == "low-medium" and ev[0].role == "primary_nurse"
    esc = [e for e in ev if e.event == "escalated"]
    assert [e.role for e in esc] == ["charge_nurse"], [e.reason for e in esc]
    assert {e.priority for e in ev} == {"medium"} and {e.to_json()["peak_priority"] for e in ev} == {"medium"}


def test_medium_reaches_a_clinician_but_not_the_rapid_response_team() -> None:
    f = _engine()
    _steady(f, 1, 1800, resp_rate=22, heart_rate=95, spo2=95)  # 2 + 1 + 1 = 4 ... plus temperature 1 = 5
    _steady(f, 1800, 3600, resp_rate=22, heart_rate=95, spo2=95, temperature=38.2)
    ev = _news2(f)
    assert ev and {e.band for e in ev if e.event != "cleared"} <= {"medium", "low-medium"}
    assert [e.role for e in ev if e.event == "escalated"] == ["charge_nurse", "clinician"]
    assert {e.priority for e in ev} == {"medium"}


def test_high_is_high_at_once_and_reaches_the_rapid_response_team() -> None:
    f = _engine()
    _steady(f, 1, 600, resp_rate=26, spo2=91, heart_rate=118)  # 3 + 3 + 2 = 8
    ev = _news2(f)
    assert (ev[0].event, ev[0].priority, ev[0].band) == ("raised", "high", "high")
    assert [e.role for e in ev if e.event == "escalated"] == ["charge_nurse", "clinician", "rapid_response"]


def test_a_rising_score_moves_the_alarm_to_the_louder_band() -> None:
    f = _engine()
    _steady(f, 1, 300, resp_rate=7)  # low-medium: after 120 s with the charge nurse, stops there
    _steady(f, 300, 900, resp_rate=26, spo2=91, heart_rate=118)  # now high
    ev = _news2(f)
    assert len([e for e in ev if e.event == "raised"]) == 1
    up = next(e for e in ev if e.band == "high")
    assert (up.event, up.priority, up.to_json()["peak_priority"]) == ("escalated", "high", "high")
    assert "rapid_response" in [e.role for e in ev if e.event == "escalated"]


def test_bands_are_configurable_per_ward() -> None:
    ward = {"levels": [{"role": "primary_nurse", "after_s": 0}, {"role": "outreach", "after_s": 60}],
            "news2_bands": {"low-medium": {"priority": "low", "up_to": "primary_nurse"},
                            "high": {"priority": "high", "up_to": "outreach"}}}
    f = _engine(wards={"w1": ward})
    _steady(f, 1, 900, resp_rate=7)
    ev = _news2(f)
    assert ev[0].priority == "low" and not [e for e in ev if e.event == "escalated"]
    with pytest.raises(ConfigError, match=r"news2_bands.high.up_to: 'team' is not a role of levels"):
        build_config({"wards": {"w1": {**ward, "news2_bands": {"high": {"priority": "high", "up_to": "team"}}}}})


def test_a_fading_score_is_shown_as_ended_and_no_longer_escalates() -> None:
    f = _engine()
    _steady(f, 1, 60, resp_rate=26, spo2=91, heart_rate=118)  # high, at the primary nurse
    _steady(f, 60, 400, **NORMAL)  # recovered: below the band, waits clear_after_s (300 s) to clear
    ev = _news2(f)
    fading = [e for e in ev if e.t >= T0 + 60_000]
    assert fading[0].event == "updated" and fading[0].to_json()["condition"] is False
    assert not [e for e in fading if e.event == "escalated"], "escalated after the patient recovered"
    assert fading[-1].event == "updated" and fading[-1].to_json()["latched"] is True  # high: latched, quietly
    assert fading[-1].to_json()["ended_t"] == fading[0].t
    _steady(f, 400, 1200, **NORMAL)
    assert not [e for e in _news2(f) if e.event == "escalated" and e.t >= T0 + 60_000]
    [ack, cleared] = f.engine.command(AlarmCommand(id=ev[0].id, action="acknowledge", by="rn", t=T0 + 1_200_000),
                                      T0)
    assert (ack.event, cleared.event) == ("acknowledged", "cleared")


def test_escalated_events_carry_the_peak_priority() -> None:
    f = Feed(make_engine(escalation={"levels": [{"role": "primary_nurse", "after_s": 0},
                                                {"role": "charge_nurse", "after_s": 60}]}))
    for s in range(0, 120):
        f.at(s, spo2=88)
        f.tick(s)
    [raised] = f.raised()
    [esc] = [e for e in f.events if e.event == "escalated"]
    assert (raised.priority, raised.to_json()["peak_priority"]) == ("medium", "medium")
    assert (esc.priority, esc.to_json()["peak_priority"], esc.role) == ("high", "high", "charge_nurse")
