"""The one alarm event type (device_profiles.alarm_event, issue 15): what alerting publishes reads back as the
same typed event; every wrong field is refused naming the field; kinds, priorities, event types, states and
condition codes are closed sets; priorities rank in one place."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from alerting import AlarmCommand, Engine, build_config
from device_profiles import (
    AlarmEvent,
    AlarmEventType,
    AlarmKind,
    AlarmState,
    Attribution,
    ConditionCode,
    PayloadError,
    Priority,
    priority_rank,
    urgency,
)
from device_profiles.alarm_event import check_code

T0 = 1_763_805_600_000
WHO = Attribution(ward="w1", bed="07", patient="p1")


def engine_events() -> list[AlarmEvent]:
    e = Engine(build_config({"anomaly": {"enabled": False}, "news2": {"enabled": False}}))
    out: list[AlarmEvent] = []
    for s in range(40):  # HR and PR high together: raised, then the PR condition joins (grouped)
        out += e.observe_sample(WHO, "mon-1", T0 + s * 1000, {"heart_rate": 150.0, "pulse_rate": 150.0, "spo2": 97.0})
    out += e.command(AlarmCommand(id=out[0].id, action="acknowledge", by="rn.kim", minutes=None, t=T0 + 41_000),
                     T0 + 41_000)
    return out


def base(**over: Any) -> dict[str, Any]:
    return {"v": 1, "id": "a1", "ward": "w1", "bed": "07", "patient": "p-1", "device": "mon-1", "kind": "limit",
            "signal": "spo2", "priority": "high", "event": "raised", "state": "active", "t": T0, "value": 85,
            "reason": "SpO2 85 % below 90 %", **over}


def test_what_alerting_publishes_reads_back_as_the_same_typed_event() -> None:
    events = engine_events()
    assert {e.event for e in events} >= {"raised", "updated", "acknowledged"} and any(e.grouped for e in events)
    for ev in events:
        back = AlarmEvent.from_json(orjson.loads(ev.encode()), T0 + 60_000)
        assert back == ev, ev.event
        assert isinstance(back.kind, AlarmKind) and isinstance(back.priority, Priority)
        assert isinstance(back.event, AlarmEventType) and isinstance(back.state, AlarmState)
    ack = events[-1]
    assert (ack.reason, ack.reason_key, ack.reason_params) == ("acknowledged by rn.kim", "reason.acknowledgedBy",
                                                               {"by": "rn.kim"})
    assert ack.condition_key == "reason.then" and ack.condition_reason.startswith("HR 150 /min above 120 /min")


def test_an_event_from_before_reason_keys_reads_with_none() -> None:
    ev = AlarmEvent.from_json(base(), T0)
    assert (ev.reason_key, ev.reason_params, ev.condition_key, ev.code, ev.peak_priority) == ("", {}, "", "", None)
    assert "reason_key" not in ev.to_json() and ev.to_json()["peak_priority"] == "high"
    assert ev.tags == {"ward": "w1", "bed": "07", "patient": "p-1", "device": "mon-1", "kind": "limit",
                       "signal": "spo2", "priority": "high", "event": "raised", "drill": ""}


@pytest.mark.parametrize(("over", "field", "words"), [
    ({"kind": "limitt"}, "kind", "is not an alarm kind (limit, technical, news2, anomaly, device)"),
    ({"kind": None}, "kind", "missing"),
    ({"priority": "urgent"}, "priority", "is not a priority (low, medium, high)"),
    ({"event": "ended"}, "event", "is not an alarm event"),
    ({"event": ""}, "event", "missing"),
    ({"state": "open"}, "state", "is not a state"),
    ({"state": None}, "state", "missing"),
    ({"ward": "w1,x=1"}, "ward", "is not an id"),
    ({"t": "now"}, "t", "is not integer milliseconds"),
    ({"t": T0 + 3_600_000}, "t", "more than 5 minutes in the future"),
    ({"value": float("nan")}, "value", "is not a finite number"),
    ({"reason": "x" * 1025}, "reason", "at most 1024 characters"),
    ({"by": 7}, "by", "at most 128 characters"),
    ({"escalation_level": 101}, "escalation_level", "is not an integer 0..100"),
    ({"code": "sinus"}, "code", "is not a condition code"),
    ({"peak_priority": "loud"}, "peak_priority", "is not a priority"),
    ({"band": "very high"}, "band", "is not a NEWS2 response band"),
    ({"condition": "no"}, "condition", "is not true or false"),
    ({"grouped": [{"signal": "spo2", "code": "nope", "reason": "x"}]}, "grouped[0].code", "is not a condition code"),
    ({"v": 2}, "v", "unsupported version"),
    ({"reason_key": "Reason.X"}, "reason_key", "is not a message key"),
    ({"reason_key": "reason.offline", "reason_params": {"device": 7}}, "reason_params.device", "must be a string"),
    ({"reason_key": "reason.then", "reason_params": {"a": {"key": "reason.x", "params": []}}}, "reason_params.a.params",
     "must be an object"),
    ({"condition_key": "reason.offline", "condition_params": {"Device": "m"}}, "condition_params",
     "'Device' is not a parameter name"),
])
def test_each_wrong_field_is_refused_by_name(over: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(PayloadError) as err:
        AlarmEvent.from_json(base(**over), T0)
    assert err.value.field == field and words in err.value.message, err.value


def test_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as err:
        AlarmEvent.from_json([base()], T0)
    assert err.value.field == "$"


def test_priorities_rank_in_one_place() -> None:
    assert [p.rank for p in Priority] == [0, 1, 2] and Priority.by_urgency() == [Priority.HIGH, Priority.MEDIUM,
                                                                                 Priority.LOW]
    assert (Priority.LOW.louder(), Priority.MEDIUM.louder(), Priority.HIGH.louder()) == (
        Priority.MEDIUM, Priority.HIGH, Priority.HIGH)
    assert [priority_rank(p) for p in ("low", "medium", "high", "", "urgent")] == [0, 1, 2, -1, -1]
    assert [urgency(p) for p in ("high", "medium", "low", "")] == [0, 1, 2, 3]


def test_condition_codes_are_a_closed_set_plus_the_devices_own() -> None:
    for code in (*ConditionCode, "device-sensor_fault", "dev-MDC_EVT_HI", ""):
        assert check_code(code) == code
    for bad in ("low:critical", "device-", "dev-a b", 3):
        with pytest.raises(PayloadError):
            check_code(bad)


def test_an_alarm_whose_message_nests_too_deep_is_kept_with_its_english_reason() -> None:
    """A station must never miss an alarm because its reason's parameters cannot be rendered: the event
    is taken without the key (the screens show the English ``reason``)."""
    from device_profiles import AlarmEvent

    deep: dict[str, object] = {"key": "reason.held", "params": {"s": "5"}}
    for _ in range(12):
        deep = {"key": "reason.with", "params": {"a": deep, "b": "x"}}
    msg = {"v": 1, "id": "a1", "t": 1_767_000_000_000, "kind": "limit", "priority": "high", "event": "escalated",
           "state": "active", "reason": "SpO2 84 % below 90 for 15 s", "reason_key": "reason.with",
           "reason_params": deep["params"], "condition_key": "reason.with", "condition_params": deep["params"]}
    with pytest.raises(PayloadError):
        AlarmEvent.from_json(msg, now=1_767_000_001_000)  # ingest stores what is valid (dead letter)
    ev = AlarmEvent.from_json(msg, now=1_767_000_001_000, keep_alarm=True)  # what the hub does
    assert (ev.id, ev.priority, ev.reason) == ("a1", "high", "SpO2 84 % below 90 for 15 s")
    assert (ev.reason_key, ev.reason_params, ev.condition_key, ev.condition_params) == ("", {}, "", {})
