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


def test_restore_takes_over_open_alarms_with_their_role_band_and_published_value() -> None:
    engine = make_engine()
    spo2 = Alarm("a7", "w1", "07", "p1", "mon-1", "limit", "spo2", "low", "high", T0, "SpO2 84 % below 85 %", 84.0,
                 escalation_level=2)
    news2 = Alarm("a8", "w1", "07", "p1", "mon-1", "news2", None, "news2", "medium", T0, "NEWS2 6", 6.0)
    gone = Alarm("a9", "w1", "07", "p1", "mon-1", "limit", "heart_rate", "high", "medium", T0, "HR 130", 130.0,
                 state="cleared")
    engine.restore([spo2, news2, gone])
    lc = engine.lifecycle
    assert set(lc.by_id) == {"a7", "a8"} and lc.by_key[spo2.key] is spo2 and lc.by_key[news2.key] is news2
    assert (spo2.role, spo2.published_value, spo2.band) == ("clinician", 84.0, None)
    assert (news2.role, news2.published_value, news2.band) == ("primary_nurse", 6.0, "medium")
    assert lc.get(spo2.key) is spo2 and lc.get(gone.key) is None
    # beyond the last level the role stays the last one
    far = Alarm("b1", "w1", "08", "p2", "mon-2", "limit", "spo2", "low", "high", T0, "", 80.0, escalation_level=9)
    engine.restore([far])
    assert far.role == "rapid_response"


def test_an_unknown_action_is_named() -> None:
    f, aid = _open_spo2()
    with pytest.raises(InputError) as err:
        f.engine.lifecycle.command(aid, "snooze", "rn.kim", _ms(1))
    assert str(err.value) == "action: 'snooze' is not one of acknowledge, silence, escalate, clear"


def test_an_expired_silence_sounds_again_at_its_end() -> None:
    f, aid = _open_spo2()
    _cmd(f, aid, "silence", 5, minutes=1)
    [e] = [x for x in f.tick(65) if x.event == "raised"]
    assert (e.t, e.state, e.reason) == (_ms(65), "active", "silence expired: SpO2 88 % below 90 %")
    assert f.engine.lifecycle.by_id[aid].silenced_until is None


def test_escalation_goes_on_for_the_next_alarm_after_one_that_does_not_escalate() -> None:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}, "temperature": {"delay_s": 0}}))
    f.at(0, temperature=38.8, spo2=97)  # low priority: not escalated by the default policy (high, medium)
    f.at(1, spo2=80)  # high, latches
    f.at(2, spo2=97)  # its condition ended: latched, never escalated
    f.at(4, heart_rate=130)  # a heart-rate alarm after them (raised after its 10 s delay, at 15 s)
    f.at(15, heart_rate=131)
    ups = [e for e in f.tick(136) if e.event == "escalated"]
    assert [e.signal for e in ups] == ["heart_rate"]
    assert ups[0].reason.startswith("unacknowledged for 121 s: escalated to charge_nurse (HR 131 /min above 120 /min")


def test_an_anomaly_advisory_is_never_escalated_even_if_the_policy_covers_low() -> None:
    engine = make_engine(anomaly={"enabled": True, "window_s": 60, "warmup": 5}, escalation={
        "applies_to": ["high", "medium", "low"]}, limits={"heart_rate": {"enabled": False}})
    f = Feed(engine)
    for m in range(12):
        f.at(m * 60, heart_rate=80 + (m % 3))
    for m in range(12, 16):
        f.at(m * 60, heart_rate=112)
    assert [e.kind for e in f.raised()] == ["anomaly"]
    f.tick(16 * 60 + 400)
    assert not [e for e in f.events if e.event == "escalated"]


def test_a_ward_policy_sets_the_escalation_of_its_alarms() -> None:
    engine = make_engine(limits={"spo2": {"delay_s": 0}}, wards={"w1": {"levels": [
        {"role": "primary_nurse", "after_s": 0}, {"role": "intensivist", "after_s": 60}]}})
    f = Feed(engine)
    [e] = f.at(0, spo2=88)
    ups = [x for x in f.tick(61) if x.event == "escalated"]
    assert [(x.role, x.escalation_level) for x in ups] == [("intensivist", 1)]
    assert _cmd(f, e.id, "escalate", 70) == []  # the ward's last level: nobody further up


def test_a_person_escalating_an_acknowledged_alarm_makes_it_active_again() -> None:
    f, aid = _open_spo2()
    _cmd(f, aid, "acknowledge", 5)
    [e] = _cmd(f, aid, "escalate", 6)
    assert (e.state, e.escalation_level) == ("active", 1)
