"""Alarm commands and lifecycle transitions pinned event by event (mutation testing of
alerting/lifecycle.py: the survivors were commands whose event time, person or reason nobody
checked, the silence bounds, a second acknowledgement, a latched alarm that is silenced, the one
step louder of an escalation, and what "material" means for an update)."""

from __future__ import annotations

from typing import Any

import pytest

from alerting import AlarmCommand, InputError
from alerting.events import Alarm
from alerting.lifecycle import material_change, worse

from .conftest import T0, Feed, make_engine


def _ms(s: float) -> int:
    return T0 + int(s * 1000)


def _open_spo2(**escalation: object) -> tuple[Feed, str]:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}}, escalation=escalation) if escalation
             else make_engine(limits={"spo2": {"delay_s": 0}}))
    [e] = f.at(0, spo2=88)
    return f, e.id


def _cmd(f: Feed, alarm_id: str, action: Any, s: float, minutes: float | None = None, by: str = "rn.kim") -> list:  # type: ignore[type-arg]
    ev = f.engine.command(AlarmCommand(id=alarm_id, action=action, by=by, minutes=minutes, t=_ms(s)), _ms(s))
    f.events += ev
    return ev


def test_an_unknown_alarm_is_named_in_the_error() -> None:
    f, _ = _open_spo2()
    with pytest.raises(InputError) as err:
        _cmd(f, "a999999", "acknowledge", 1)
    assert err.value.field == "id" and "no open alarm 'a999999' (unknown or already cleared)" in str(err.value)


def test_acknowledge_is_an_event_with_time_person_and_reason_and_a_second_one_is_nothing() -> None:
    f, aid = _open_spo2()
    [e] = _cmd(f, aid, "acknowledge", 30)
    assert (e.event, e.state, e.t, e.by, e.reason) == ("acknowledged", "acknowledged", _ms(30), "rn.kim",
                                                       "acknowledged by rn.kim")
    assert _cmd(f, aid, "acknowledge", 40, by="rn.lee") == []
    a = f.engine.lifecycle.by_id[aid]
    assert (a.acknowledged_by, a.acknowledged_t) == ("rn.kim", _ms(30))


def test_acknowledging_a_latched_alarm_clears_it_at_that_time_by_that_person() -> None:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}}))
    [e] = f.at(0, spo2=80)  # critical: high, latches
    f.at(10, spo2=97)
    assert f.engine.lifecycle.by_id[e.id].condition is False
    ack, cleared = _cmd(f, e.id, "acknowledge", 20)
    assert ack.event == "acknowledged"
    assert (cleared.event, cleared.state, cleared.t, cleared.by, cleared.reason) == (
        "cleared", "cleared", _ms(20), "rn.kim", "acknowledged after the condition ended")
    assert e.id not in f.engine.lifecycle.by_id and f.engine.lifecycle.by_key == {}
    assert [a.id for a in f.engine.lifecycle.alarms_of([cleared])] == [e.id]  # kept for the store once
    assert f.engine.lifecycle.alarms_of([cleared]) == []


@pytest.mark.parametrize("minutes", [None, 0, -1, 120.5])
def test_silence_needs_minutes_between_0_and_120(minutes: float | None) -> None:
    f, aid = _open_spo2()
    with pytest.raises(InputError) as err:  # (a parsed command checks too; the lifecycle must not rely on it)
        f.engine.lifecycle.command(aid, "silence", "rn.kim", _ms(1), minutes)
    assert err.value.field == "minutes"
    assert str(err.value) == f"minutes: {minutes!r}: silence needs minutes between 0 and 120"


@pytest.mark.parametrize("minutes", [0.5, 1, 120])
def test_silence_within_the_bounds_is_an_event_with_time_person_and_reason(minutes: float) -> None:
    f, aid = _open_spo2()
    [e] = _cmd(f, aid, "silence", 5, minutes=minutes)
    assert (e.event, e.state, e.t, e.by, e.reason) == ("silenced", "silenced", _ms(5), "rn.kim",
                                                       f"silenced for {minutes:g} min by rn.kim")
    assert f.engine.lifecycle.by_id[aid].silenced_until == _ms(5) + int(minutes * 60_000)


def test_escalate_by_a_person_is_an_event_with_time_person_and_reason() -> None:
    f, aid = _open_spo2()
    [e] = _cmd(f, aid, "escalate", 7)
    assert (e.event, e.t, e.by, e.escalation_level, e.role) == ("escalated", _ms(7), "rn.kim", 1, "charge_nurse")
    assert e.reason.startswith("escalated by rn.kim: escalated to charge_nurse (SpO2 88 % below 90 %")


def test_escalation_makes_a_limit_alarm_one_priority_louder_not_two() -> None:
    f = Feed(make_engine(limits={"temperature": {"delay_s": 0}}, escalation={"applies_to": ["high", "medium", "low"]}))
    [e] = f.at(0, temperature=38.8)  # above 38.5: low priority
    assert e.priority == "low"
    [up] = f.tick(121)
    assert (up.event, up.priority) == ("escalated", "medium")


def test_a_silenced_latching_alarm_whose_condition_ends_stays_latched() -> None:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}}))
    [e] = f.at(0, spo2=80)
    _cmd(f, e.id, "silence", 1, minutes=2)
    [upd] = f.at(10, spo2=97)
    assert (upd.event, upd.state, upd.condition, upd.latched) == ("updated", "silenced", False, True)
    assert "latched until acknowledged" in upd.reason and e.id in f.engine.lifecycle.by_id


def test_clearing_an_alarm_marks_it_cleared_at_that_time() -> None:
    f, aid = _open_spo2()
    a = f.engine.lifecycle.by_id[aid]
    [c] = _cmd(f, aid, "clear", 9)
    assert (c.event, c.state, c.t, c.by, c.reason) == ("cleared", "cleared", _ms(9), "rn.kim", "cleared by rn.kim")
    assert (a.state, a.updated_t) == ("cleared", _ms(9)) and aid not in f.engine.lifecycle.by_id


def _alarm(signal: str, code: str, value: float, worst: float | None = None, kind: str = "limit") -> Alarm:
    a = Alarm("a1", "w1", "07", "p1", "mon-1", kind, signal, code, "medium", T0, "", value)
    a.published_value, a.worst = value, worst
    return a


def test_a_material_change_is_a_new_worst_or_a_step_of_the_signal_not_less() -> None:
    hr = _alarm("heart_rate", "high", 130)
    assert material_change(hr, 131)  # a new highest value always is
    assert material_change(_alarm("heart_rate", "high", 130, worst=150), 135)  # step 5 /min: exactly 5 is material
    assert not material_change(_alarm("heart_rate", "high", 130, worst=150), 134.9)
    assert not material_change(_alarm("heart_rate", "high", 130, worst=140), 134)  # not past the worst, < 5
    assert material_change(_alarm("heart_rate", "high", 130, worst=140), 125)  # 5 below: material
    low = _alarm("spo2", "low", 88, worst=84)
    assert not material_change(low, 87.5) and material_change(low, 83.9) and material_change(low, 90)
    assert not material_change(low, 87)  # 1 % from the published 88 and not below the lowest 84
    odd = _alarm("perfusion_index", "low", 2.0)  # no step of its own: 5 % of the value
    assert material_change(odd, 2.1) and not material_change(odd, 2.09)
    assert material_change(_alarm("", "news2", 5, kind="news2"), 6)  # every NEWS2 score change
    assert not material_change(_alarm("", "news2", 5, kind="news2"), 5)
    assert not material_change(_alarm("spo2", "low", 88, kind="technical"), 50)
    assert not material_change(hr, None)


def test_worse_of_an_alarm_keeps_the_extreme_and_never_loses_a_value_to_none() -> None:
    assert worse(_alarm("spo2", "low", 88, worst=84), 86) == 84
    assert worse(_alarm("spo2", "low", 88, worst=84), 80) == 80
    assert worse(_alarm("heart_rate", "high", 130), 140) == 140
    assert worse(_alarm("heart_rate", "high", 130), None) == 130
    no_value = _alarm("heart_rate", "high", 130)
    no_value.value = None
    assert worse(no_value, 125) == 125
