"""Alarm lifecycle: acknowledge, silence, clear, latching, escalation with severity stepping up."""

from __future__ import annotations

import pytest

from alerting import AlarmCommand, InputError, parse_command

from .conftest import T0, Feed, make_engine

POLICY = {"levels": [{"role": "primary_nurse", "after_s": 0}, {"role": "charge_nurse", "after_s": 60},
                     {"role": "rapid_response", "after_s": 180}]}


def _raise_spo2(f: Feed, value: float = 88, until: int = 16) -> str:
    for s in range(0, until):
        f.at(s, spo2=value)
    return f.raised()[0].id


def hold(f: Feed, start: float, end: float, **values: float) -> None:
    """Keep the patient's data coming (every 5 s) from ``start`` to ``end`` seconds."""
    s = start
    while s <= end:
        f.at(s, **values)
        s += 5


def cmd(alarm_id: str, action: str, s: float, minutes: float | None = None) -> AlarmCommand:
    return AlarmCommand(id=alarm_id, action=action, by="nurse.kim", minutes=minutes, t=T0 + int(s * 1000))


def test_unacknowledged_alarm_escalates_through_the_policy_with_severity_stepping_up() -> None:
    f = Feed(make_engine(escalation=POLICY))
    _raise_spo2(f)
    hold(f, 16, 15 + 59, spo2=88)
    f.tick(15 + 59)
    assert [e.event for e in f.events] == ["raised"]
    f.tick(15 + 60)
    esc = f.events[-1]
    assert (esc.event, esc.escalation_level, esc.priority) == ("escalated", 1, "high")
    assert "charge_nurse" in esc.reason
    hold(f, 76, 15 + 180, spo2=88)
    f.tick(15 + 180)
    assert (f.events[-1].escalation_level, f.events[-1].priority) == (2, "high")
    assert "rapid_response" in f.events[-1].reason
    n = len(f.events)
    hold(f, 196, 15 + 1000, spo2=88)
    assert len(f.events) == n  # the last level is the last


def test_acknowledge_stops_escalation_and_records_who() -> None:
    f = Feed(make_engine(escalation=POLICY))
    aid = _raise_spo2(f)
    [ack] = f.engine.command(cmd(aid, "acknowledge", 20), T0)
    f.events.append(ack)
    assert (ack.event, ack.state, ack.by) == ("acknowledged", "acknowledged", "nurse.kim")
    hold(f, 21, 15 + 1000, spo2=88)
    assert [e.event for e in f.events] == ["raised", "acknowledged"]
    f.at(1016, spo2=97)
    assert f.events[-1].event == "cleared"


def test_silence_expires_and_the_alarm_sounds_again_if_the_condition_holds() -> None:
    f = Feed(make_engine(escalation=POLICY))
    aid = _raise_spo2(f)
    [sil] = f.engine.command(cmd(aid, "silence", 20, minutes=2), T0)
    f.events.append(sil)
    assert (sil.event, sil.state) == ("silenced", "silenced")
    hold(f, 21, 20 + 119, spo2=88)
    assert f.events[-1].event == "silenced"
    again = f.tick(20 + 120)
    assert [(e.event, e.state) for e in again] == [("raised", "active")]
    assert "silence expired" in again[0].reason


def test_silence_needs_minutes() -> None:
    with pytest.raises(InputError) as exc:
        parse_command({"id": "a1", "action": "silence", "by": "x"})
    assert exc.value.field == "minutes"
    with pytest.raises(InputError) as exc:
        parse_command({"id": "a1", "action": "snooze", "by": "x"})
    assert exc.value.field == "action"


def test_high_priority_latches_until_acknowledged() -> None:
    f = Feed(make_engine())
    _raise_spo2(f, value=80)
    assert f.raised()[0].priority == "high"
    f.at(20, spo2=97)
    assert f.events[-1].event == "updated" and f.events[-1].state == "active"  # latched, not cleared
    [ack, cleared] = f.engine.command(cmd(f.raised()[0].id, "acknowledge", 30), T0)
    assert (ack.event, cleared.event) == ("acknowledged", "cleared")


def test_medium_priority_does_not_latch(feed: Feed) -> None:
    _raise_spo2(feed)
    feed.at(20, spo2=97)
    assert feed.events[-1].event == "cleared"


def test_manual_clear_rearms_the_condition_with_its_delay(feed: Feed) -> None:
    aid = _raise_spo2(feed)
    [c] = feed.engine.command(cmd(aid, "clear", 16), T0)
    assert (c.event, c.by) == ("cleared", "nurse.kim")
    for s in range(16, 31):
        feed.at(s, spo2=88)
    assert len(feed.raised()) == 1
    feed.at(31, spo2=88)
    assert len(feed.raised()) == 2


def test_manual_escalation_and_unknown_alarm() -> None:
    f = Feed(make_engine(escalation=POLICY))
    aid = _raise_spo2(f)
    [e] = f.engine.command(cmd(aid, "escalate", 17), T0)
    assert (e.event, e.by, e.escalation_level) == ("escalated", "nurse.kim", 1)
    with pytest.raises(InputError) as exc:
        f.engine.command(cmd("nope", "acknowledge", 18), T0)
    assert exc.value.field == "id"


def test_technical_alarms_escalate_roles_without_getting_louder() -> None:
    f = Feed(make_engine(escalation=POLICY))
    for s in range(0, 12):
        f.at(s, heart_rate=0)
    hold(f, 12, 200, heart_rate=0)
    esc = [e for e in f.events if e.event == "escalated"]
    assert esc and all(e.priority == "medium" for e in esc)
