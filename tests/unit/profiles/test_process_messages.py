"""The typed messages that cross a process besides the alarm event (device_profiles, issue 15): the NEWS2 result
(``{root}/news2/{ward}/{patient}``), the attributed device status (``{root}/wards/{ward}/status``) and a ward's
drill state (``{root}/drill/{ward}``). Each reads back from its JSON as the same object and encodes to the same
bytes; what may be missing is tolerated; every wrong field is refused naming the field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from device_profiles import (
    Attribution,
    DeviceStatusMessage,
    DrillStateMessage,
    News2Message,
    News2Risk,
    PayloadError,
)

T0 = 1_763_805_600_000


# -- NEWS2 result --------------------------------------------------------------------------------------
def news2(**over: Any) -> dict[str, Any]:
    """As alerting publishes it (every field)."""
    return {"total": 6, "scores": {"resp_rate": 2, "spo2": 0, "supplemental_o2": 0, "sbp": 0, "heart_rate": 1,
                                   "consciousness": 3, "temperature": 0},
            "risk": "medium", "complete": True, "missing": [], "frequency": "minimum 1-hourly",
            "response": "key threshold for urgent response", "t": T0, "ward": "w1", "bed": "07", "patient": "p1",
            "device": "mon-7", **over}


def test_a_news2_result_reads_back_as_the_same_message_and_the_same_bytes() -> None:
    suspended = {"total": 2, "scores": {"resp_rate": 2}, "risk": "low", "complete": False, "missing": ["spo2"],
                 "suspended": "palliative care", "frequency": "as the unit's assessment for this patient sets",
                 "response": "NEWS2 suspended: palliative care", "t": T0, "ward": "w1", "bed": "07", "patient": "p1",
                 "device": "mon-7"}  # ``suspended`` comes right after ``missing``, as alerting writes it
    for msg in (news2(), suspended, news2(patient="", risk="low-medium", total=3)):
        m = News2Message.from_json(msg, T0)
        assert isinstance(m.risk, News2Risk) and m.to_json() == msg
        assert m.encode() == orjson.dumps(msg)  # same keys, same order, same values
        assert News2Message.from_json(orjson.loads(m.encode()), T0) == m


def test_a_news2_result_needs_only_its_total_and_band() -> None:
    m = News2Message.from_json({"total": 0, "risk": "low"}, T0)
    assert (m.complete, m.scores, m.missing, m.t, m.ward, m.patient, m.response) == (False, {}, [], None, "", "", "")
    assert News2Message.from_json({**news2(), "newer_field": 1}, T0) == News2Message.from_json(news2(), T0)


@pytest.mark.parametrize(("msg", "field", "words"), [
    ([1, 2], "$", "must be a JSON object"),
    ({**news2(), "total": None}, "total", "missing"),
    (news2(total="6"), "total", "is not an integer 0..20"),
    (news2(total=21), "total", "is not an integer 0..20"),
    (news2(total=True), "total", "is not an integer"),
    (news2(risk=None), "risk", "missing"),
    (news2(risk="amber"), "risk", "is not a NEWS2 risk band (low, low-medium, medium, high)"),
    (news2(complete="yes"), "complete", "is not true or false"),
    (news2(scores=[1]), "scores", "must be an object"),
    (news2(scores={"resp_rate": 4}), "scores.resp_rate", "is not an integer 0..3"),
    (news2(scores={"Resp Rate": 1}), "scores", "is not a NEWS2 parameter name"),
    (news2(missing="spo2"), "missing", "must be a list"),
    (news2(missing=["spo2", 3]), "missing[1]", "is not a NEWS2 parameter name"),
    (news2(suspended=7), "suspended", "must be a string"),
    (news2(frequency="x" * 1025), "frequency", "at most 1024"),
    (news2(response=["urgent"]), "response", "must be a string"),
    (news2(t="now"), "t", "is not integer milliseconds"),
    (news2(t=T0 + 3_600_000), "t", "more than 5 minutes in the future"),
    (news2(ward="w1/#"), "ward", "is not an id"),
    (news2(bed=7), "bed", "is not an id"),
    (news2(patient="p 1"), "patient", "is not an id"),
    (news2(device="mon,7"), "device", "is not an id"),
])
def test_a_wrong_news2_field_is_refused_by_name(msg: Any, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as info:
        News2Message.from_json(msg, T0)
    assert info.value.field == field and words in info.value.message


# -- device status -------------------------------------------------------------------------------------
def status(**over: Any) -> dict[str, Any]:
    """As ingest publishes it: the device's status, then ingest's keys."""
    return {"online": True, "battery": 40, "signal_quality": 0.8, "technical": {"lead_off": False},
            "expire_after": {"heart_rate": 600.0}, "fw": "2.1", "device": "mon-7", "ward": "w1", "bed": "07",
            "patient": "p1", "t": T0, **over}


def test_a_device_status_reads_back_as_the_same_message_and_the_same_bytes() -> None:
    for msg in (status(), {**status(), "drill": "drill-ab12cd34"},
                {"online": False, "device": "mon-7", "ward": "", "bed": "", "patient": "", "t": T0}):
        m = DeviceStatusMessage.from_json(msg, T0)
        assert m.to_json() == msg and m.encode() == orjson.dumps(msg)
        assert DeviceStatusMessage.from_json(orjson.loads(m.encode()), T0) == m
    m = DeviceStatusMessage.from_json(status(), T0)
    assert (m.battery, m.technical, m.extra, m.who) == (40, {"lead_off": False}, {"fw": "2.1"},
                                                        Attribution("w1", "07", "p1"))


def test_ingest_attributes_a_device_status_and_its_keys_win() -> None:
    device_says = {"online": True, "battery": 12, "ward": "icu", "drill": "drill-00000000", "t": 1, "note": "ok"}
    m = DeviceStatusMessage.from_device(device_says, "mon-7", Attribution("w1", "07", "p1"), T0)
    assert m.to_json() == {"online": True, "battery": 12, "note": "ok", "device": "mon-7", "ward": "w1", "bed": "07",
                           "patient": "p1", "t": T0}  # no drill of the device's own choosing
    with pytest.raises(PayloadError) as info:
        DeviceStatusMessage.from_device({"online": True, "technical": {"lead_off": "yes"}}, "mon-7", Attribution(), T0)
    assert info.value.field == "technical.lead_off"


def test_a_device_status_needs_only_online_and_its_time() -> None:
    m = DeviceStatusMessage.from_json({"online": False, "t": T0}, T0)
    assert (m.device, m.ward, m.battery, m.technical, m.expire_after, m.extra) == ("", "", None, None, None, {})


@pytest.mark.parametrize(("msg", "field", "words"), [
    ("online", "$", "must be a JSON object"),
    ({**status(), "online": None}, "online", "missing"),
    (status(online="yes"), "online", "is not true or false"),
    ({**status(), "t": None}, "t", "is not integer milliseconds"),
    (status(t=T0 + 3_600_000), "t", "more than 5 minutes in the future"),
    (status(battery=101), "battery", "is not a percentage 0..100"),
    (status(battery="40"), "battery", "is not a percentage 0..100"),
    (status(signal_quality="good"), "signal_quality", "is not a finite number"),
    (status(technical=["lead_off"]), "technical", "must be an object"),
    (status(technical={"lead_off": 1}), "technical.lead_off", "is not true or false"),
    (status(expire_after=600), "expire_after", "must be an object"),
    (status(expire_after={"heart_rate": "10m"}), "expire_after.heart_rate", "is not a finite number"),
    (status(device="mon 7"), "device", "is not an id"),
    (status(ward="w1/+"), "ward", "is not an id"),
    (status(bed=["07"]), "bed", "is not an id"),
    (status(patient="p,1"), "patient", "is not an id"),
    (status(drill="drill x"), "drill", "is not an id"),
])
def test_a_wrong_status_field_is_refused_by_name(msg: Any, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as info:
        DeviceStatusMessage.from_json(msg, T0)
    assert info.value.field == field and words in info.value.message


# -- drill state ---------------------------------------------------------------------------------------
def drill(**over: Any) -> dict[str, Any]:
    """As the drills API publishes it when a drill starts."""
    return {"drill": "drill-ab12cd34", "ward": "w1", "active": True, "started": T0, "ends": T0 + 600_000,
            "beds": ["DRILL-01", "DRILL-02"], "scenarios": ["desaturation", "sensor-off"], **over}


def test_a_drill_state_reads_back_as_the_same_message_and_the_same_bytes() -> None:
    for msg in (drill(), drill(active=False, stopped=T0 + 60_000), drill(scenarios=None)):
        m = DrillStateMessage.from_json(msg)
        assert m.to_json() == msg and m.encode() == orjson.dumps(msg)
        assert DrillStateMessage.from_json(orjson.loads(m.encode())) == m


def test_an_ended_drill_needs_only_its_id_and_active() -> None:
    m = DrillStateMessage.from_json({"drill": "drill-ab12cd34", "active": False})
    assert (m.active, m.started, m.ends, m.beds, m.scenarios, m.stopped) == (False, None, None, (), None, None)


@pytest.mark.parametrize(("msg", "field", "words"), [
    (None, "$", "must be a JSON object"),
    ({**drill(), "drill": None}, "drill", "is not an id"),
    (drill(drill="drill/1"), "drill", "is not an id"),
    ({**drill(), "active": None}, "active", "missing"),
    (drill(active="false"), "active", "is not true or false"),
    ({**drill(), "started": None}, "started", "missing"),  # an active drill says when it started and ends
    ({**drill(), "ends": None}, "ends", "missing"),
    (drill(started="today"), "started", "is not integer milliseconds"),
    (drill(ends=1000), "ends", "before 2000-01-01"),
    (drill(ends=T0 - 1), "ends", "is before started"),
    (drill(active=False, stopped=1.5e12), "stopped", "is not integer milliseconds"),
    (drill(beds="DRILL-01"), "beds", "must be a list"),
    (drill(beds=["DRILL 01"]), "beds[0]", "is not an id"),
    (drill(scenarios="sepsis"), "scenarios", "must be a list"),
    (drill(scenarios=["sepsis", 3]), "scenarios[1]", "must be a string"),
    (drill(ward="w1 "), "ward", "is not an id"),
])
def test_a_wrong_drill_field_is_refused_by_name(msg: Any, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as info:
        DrillStateMessage.from_json(msg)
    assert info.value.field == field and words in info.value.message
