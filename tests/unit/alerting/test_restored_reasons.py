"""An alarm restored from the state DB after a restart keeps its reason as a message key + parameters
(``alerting_alarms.reason_key``/``reason_params``, revision 0002), so the station and the shift report
write it in the reader's language before its next change: the restored event (alerting's and the hub's
``restored``) carries the same key as the last published one, and an escalation of a restored alarm
nests it as a message, not as English. An alarm saved before keys (a database upgraded from 0001) comes
back with its English text only; so does a key this release does not write. The history's entries carry
each event's keys; the shift report's alarm rows carry the alarm's."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from alerting import Alarm, AlarmCommand, AlarmStore
from alerting.reasons import restore, say, then
from device_profiles import state_db

from .conftest import T0, make_engine
from .test_lifecycle_rules import WARD, Stored, _ms


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.sqlite3"


def test_a_restored_alarm_publishes_its_reason_key_again(tmp_path: Path) -> None:
    store = AlarmStore.open(_url(tmp_path))
    run = Stored(make_engine(wards=WARD, limits={"spo2": {"delay_s": 0}}), store)
    run.at(0, spo2=88)
    last = run.at(5, spo2=84)[-1]  # a new worst: its reason nests the value, the limit and the worst
    assert last.reason_key and last.reason_params and last.condition_key
    [alarm] = store.open_alarms()
    assert alarm.why is not None
    assert (alarm.why.key, alarm.why.json_params(), alarm.why.text) == (last.reason_key, last.reason_params, last.reason)

    after = make_engine(wards=WARD)
    after.restore(store.open_alarms())
    again = after.lifecycle.by_id[alarm.id].event("restored", _ms(10))  # what the hub shows on reconnecting
    assert (again.reason, again.reason_key, again.reason_params) == (last.reason, last.reason_key, last.reason_params)
    assert (again.condition_key, again.condition_params) == (last.condition_key, last.condition_params)
    # the first change after the restart nests the restored reason as a message (it was English only)
    [esc] = after.tick(_ms(61))
    assert esc.event == "escalated" and esc.reason_key == "reason.escalated"
    assert esc.reason_params["reason"] == {"key": last.reason_key, "params": last.reason_params}
    [ack] = after.command(AlarmCommand(id=alarm.id, action="acknowledge", by="rn.kim", t=_ms(70), minutes=None), _ms(70))
    assert (ack.reason_key, ack.condition_key, ack.condition_params) == (
        "reason.acknowledgedBy", last.reason_key, last.reason_params)


def test_a_latched_alarms_reason_comes_back_with_its_clauses(tmp_path: Path) -> None:
    store = AlarmStore.open(_url(tmp_path))
    run = Stored(make_engine(limits={"heart_rate": {"delay_s": 0}}), store)
    run.at(0, heart_rate=160)  # critical: high, latches
    [latched] = run.at(1, heart_rate=80)
    assert latched.condition is False and latched.reason_key == "reason.then"
    [alarm] = store.open_alarms()
    event = alarm.event("restored", _ms(2))
    assert (event.reason_key, event.reason_params, event.reason) == (
        latched.condition_key, latched.condition_params, latched.condition_reason)


def test_restore_keeps_the_english_of_what_it_cannot_read() -> None:
    text = "HR 150 /min above 140 /min"
    assert restore("", {}, text).key == ""
    assert restore("reason.notAKey", {}, text).key == ""  # a newer release's key
    assert restore("reason.then", {"a": {"key": "reason.nope", "params": {}}, "b": "x"}, text).key == ""
    assert restore("reason.then", {"a": {"unexpected": 1}, "b": "x"}, text).key == ""
    assert restore("reason.then", [], text).text == text
    kept = then(say("reason.signalBack"), say("reason.latched", at="10:02"))
    back = restore(kept.key, kept.json_params(), kept.text)
    assert (back.key, back.json_params(), back.text) == (kept.key, kept.json_params(), kept.text)


def _at_0001(url: str) -> sa.Engine:
    """A state DB as release 0001 made it (no reason key columns)."""
    engine = state_db.make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(state_db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    return engine


def test_an_alarm_saved_before_keys_comes_back_with_its_text(tmp_path: Path) -> None:
    url = _url(tmp_path)
    engine = _at_0001(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO alerting_alarms (id, ward, bed, patient, device, kind, signal, code, priority, "
            "condition_priority, raised_t, reason, value, state, condition, updated_t, escalation_level, "
            "escalated_t, drill) VALUES ('old', 'w1', '07', 'p1', 'mon-1', 'limit', 'spo2', 'low', 'high', "
            "'high', :t, 'SpO2 84 % below 90 %', 84, 'active', 1, :t, 0, :t, '')"), {"t": T0})
    state_db.forget(engine)
    store = AlarmStore.open(url)  # upgrades to head: the row is kept, without a key
    assert state_db.status(store.engine).current == state_db.HEAD
    [old] = store.open_alarms()
    assert (old.id, old.reason, old.why) == ("old", "SpO2 84 % below 90 %", None)
    ev = old.event("restored", T0)
    assert (ev.reason, ev.reason_key, ev.condition_key) == ("SpO2 84 % below 90 %", "", "")
    [row] = store.alarms_between("w1", T0, T0 + 1)
    assert (row["reason"], row["reason_key"], row["reason_params"]) == ("SpO2 84 % below 90 %", "", {})


def test_history_and_report_rows_carry_the_keys(tmp_path: Path) -> None:
    store = AlarmStore.open(_url(tmp_path))
    run = Stored(make_engine(limits={"spo2": {"delay_s": 0}}), store)
    [raised] = run.at(0, spo2=84)
    [alarm] = run.feed.engine.lifecycle.by_id.values()
    nina = AlarmCommand(id=alarm.id, action="acknowledge", by="nina", t=_ms(5), minutes=None)
    [ack] = run.save(run.feed.engine.command(nina, _ms(5)))
    page = store.history("w1", since_ms=T0, until_ms=_ms(60))
    got = {e["event"]: e for e in page.entries}
    assert (got["raised"]["reason_key"], got["raised"]["reason_params"]) == (raised.reason_key, raised.reason_params)
    assert (got["acknowledged"]["reason_key"], got["acknowledged"]["reason_params"]) == (
        "reason.acknowledgedBy", {"by": "nina"})
    assert (got["acknowledged"]["condition_key"], got["acknowledged"]["condition_params"]) == (
        ack.condition_key, ack.condition_params)
    [row] = store.alarms_between("w1", T0, _ms(60))
    assert (row["reason"], row["reason_key"], row["reason_params"]) == (raised.reason, raised.reason_key,
                                                                        raised.reason_params)
    assert [a["reason_key"] for a in store.patient_alarms("p1")] == [raised.reason_key]


def test_an_alarm_whose_text_is_not_its_message_is_saved_without_a_key(tmp_path: Path) -> None:
    """A key never says other than the English text beside it (the screens would show another reason)."""
    store = AlarmStore.open(_url(tmp_path))
    a = Alarm(id="a", ward="w1", bed="07", patient="p1", device="mon-1", kind="limit", signal="spo2", code="low",
              priority="high", raised_t=T0, reason="written by hand", updated_t=T0, condition_priority="high",
              why=say("reason.signalBack"))
    store.save([a], [])
    [back] = store.open_alarms()
    assert (back.reason, back.why) == ("written by hand", None)
