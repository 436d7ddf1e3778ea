"""The engine's own alarm record uses the contract's enums (issue 15): an :class:`~alerting.Alarm`'s kind,
priorities and state, its :class:`~alerting.events.AlarmKey` and the priorities of ``alarms.yaml`` are
:class:`~device_profiles.AlarmKind` / :class:`~device_profiles.Priority` / :class:`~device_profiles.AlarmState`
members; the state DB keeps their strings and gives members back; a row no release writes is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alerting import Alarm, AlarmCommand, AlarmStore, ConfigError, StateError, build_config
from alerting.store import alarms as alarms_table
from device_profiles import AlarmEventType, AlarmKind, AlarmState, Priority

from .conftest import T0, Feed, make_engine


def test_a_raised_alarm_and_its_key_carry_enum_members() -> None:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}}))
    [raised] = f.at(0, spo2=84)  # below the critical 85: high
    a = f.engine.lifecycle.by_id[raised.id]
    assert (a.kind, a.priority, a.condition_priority, a.peak_priority, a.state) == (
        "limit", "high", "high", "high", "active")
    assert (a.kind, a.priority, a.condition_priority, a.peak_priority, a.state) == (
        AlarmKind.LIMIT, Priority.HIGH, Priority.HIGH, Priority.HIGH, AlarmState.ACTIVE)
    assert [type(v) for v in (a.kind, a.priority, a.condition_priority, a.peak_priority, a.state)] == [
        AlarmKind, Priority, Priority, Priority, AlarmState]
    assert type(a.key.kind) is AlarmKind and a.key == ("p1", "limit", "spo2", "low")
    assert (type(raised.kind), type(raised.priority), type(raised.event), type(raised.state)) == (
        AlarmKind, Priority, AlarmEventType, AlarmState)
    [ack] = f.engine.command(AlarmCommand(id=a.id, action="acknowledge", by="rn.kim", minutes=None), T0 + 1000)
    assert a.state is AlarmState.ACKNOWLEDGED and ack.state is AlarmState.ACKNOWLEDGED


def test_the_state_db_stores_strings_and_gives_members_back(tmp_path: Path) -> None:
    store = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    f = Feed(make_engine(limits={"heart_rate": {"delay_s": 0}}))
    events = f.at(0, heart_rate=130)  # above 120: medium
    store.save(f.engine.lifecycle.alarms_of(events), events)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(alarms_table.c.kind, alarms_table.c.priority, alarms_table.c.condition_priority,
                                     alarms_table.c.state)).one()
    assert tuple(row) == ("limit", "medium", "medium", "active") and {type(v) for v in row} == {str}
    [back] = store.open_alarms()
    assert (back.kind, back.priority, back.condition_priority, back.state) == (
        AlarmKind.LIMIT, Priority.MEDIUM, Priority.MEDIUM, AlarmState.ACTIVE)
    assert back.kind is AlarmKind.LIMIT and back.priority is Priority.MEDIUM and back.state is AlarmState.ACTIVE
    assert back.condition_priority is Priority.MEDIUM and back.peak_priority is None  # peak: not stored


def test_an_alarm_without_a_condition_priority_is_stored_as_empty_and_read_back_as_none(tmp_path: Path) -> None:
    store = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    a = Alarm(id="a", ward="w1", bed="07", patient="p1", device="mon-1", kind=AlarmKind.TECHNICAL, signal=None,
              code="offline", priority=Priority.MEDIUM, raised_t=T0, reason="device mon-1 offline", updated_t=T0)
    assert a.condition_priority is None and a.to_row()["condition_priority"] == ""
    store.save([a], [])
    [back] = store.open_alarms()
    assert (back.kind, back.priority, back.condition_priority) == (AlarmKind.TECHNICAL, Priority.MEDIUM, None)


@pytest.mark.parametrize("column, value", [("kind", "alarmish"), ("priority", "loud"), ("state", "asleep"),
                                           ("condition_priority", "HIGH")])
def test_a_row_no_release_writes_is_refused_naming_the_alarm(tmp_path: Path, column: str, value: str) -> None:
    store = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    a = Alarm(id="a1", ward="w1", bed="07", patient="p1", device="mon-1", kind=AlarmKind.LIMIT, signal="spo2",
              code="low", priority=Priority.MEDIUM, raised_t=T0, reason="SpO2 88 %", updated_t=T0,
              condition_priority=Priority.MEDIUM)
    store.save([a], [])
    with store.engine.begin() as conn:
        conn.execute(alarms_table.update().values({column: value}))
    with pytest.raises(StateError, match=f"alarm 'a1'.*{value}"):
        store.alarm("a1")


def test_alarms_yaml_priorities_become_members_and_a_bad_one_reads_as_before() -> None:
    config = build_config({"limits": {"spo2": {"priority": "high"}}, "technical": {"offline_priority": "low"},
                           "escalation": {"applies_to": ["high"], "latching": ["medium", "high"]}})
    assert config.limits["spo2"].priority is Priority.HIGH and config.technical.offline_priority is Priority.LOW
    assert config.escalation.applies_to == [Priority.HIGH] and type(config.escalation.applies_to[0]) is Priority
    assert config.escalation.latching == [Priority.MEDIUM, Priority.HIGH]
    assert config.escalation.news2_bands["high"].priority is Priority.HIGH
    with pytest.raises(ConfigError) as bad:
        build_config({"limits": {"spo2": {"priority": "urgent"}}})
    assert str(bad.value) == "config: limits.spo2.priority: Input should be 'high', 'medium' or 'low' (got 'urgent')"
    with pytest.raises(ConfigError, match=r"applies_to\[1\]: Input should be 'high', 'medium' or 'low' \(got 'HIGH'\)"):
        build_config({"escalation": {"applies_to": ["high", "HIGH"]}})
