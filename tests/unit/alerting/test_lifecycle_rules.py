"""Lifecycle rules docs/alarm-configuration.md states ("Lifecycle", "Escalation", "One cause, one alarm")
and the alarm event payload of docs/architecture.md, pinned through the engine: what latches, which
changes are published, who an alarm is with, hand-over of grouped conditions, and that all of it survives
a restart through the state store (as ``AlertingService`` saves it: ``Lifecycle.alarms_of`` + ``AlarmStore``).

Added for issue 11's mutation check of ``alerting/lifecycle.py``: each test failed under at least one
surviving one-line change (a new alarm given the default policy's role instead of its ward's, a
restored alarm nobody can acknowledge, a critical condition that stopped latching once an escalation had
made it louder, a second escalation in the same second lost, a grouped mean pressure left in a latched
alarm until the next cuff cycle, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerting import AlarmCommand, AlarmEvent, AlarmStore, Engine, SpotObservation
from device_profiles import Attribution

from .conftest import T0, Feed, make_engine

CUFF = 900  # s between two NIBP cycles
WARD = {"w1": {"levels": [{"role": "ward_nurse", "after_s": 0}, {"role": "outreach", "after_s": 60}]}}


def _ms(s: float) -> int:
    return T0 + int(s * 1000)


def _cmd(f: Feed, alarm_id: str, action: str, s: float) -> list[AlarmEvent]:
    ev = f.engine.command(AlarmCommand(id=alarm_id, action=action, by="rn.kim", t=_ms(s)), _ms(s))
    f.events += ev
    return ev


def _of(f: Feed, alarm_id: str) -> list[tuple[str, Any]]:
    return [(e.event, e.value) for e in f.events if e.id == alarm_id]


def _spot(s: float, **values: Any) -> SpotObservation:
    return SpotObservation(patient="p1", ward="w1", bed="07", t=_ms(s), by="rn.kim", **values)


# -- what is published ---------------------------------------------------------------------------------


def test_a_value_back_at_the_alarms_worst_is_not_news() -> None:
    """Only a material change publishes "updated": a new worst value, or a step (HR 5 /min, SpO2 2 %).
    A value wobbling back to the worst it already reached is neither, also after an acknowledgement
    published the value of that moment."""
    f = Feed(make_engine())
    for s in range(0, 11):
        f.at(s, heart_rate=125)
    [hr] = f.raised()
    f.at(11, heart_rate=126)
    f.at(12, heart_rate=125)
    _cmd(f, hr.id, "acknowledge", 13)
    for s in range(14, 30):
        f.at(s, heart_rate=126 if s % 2 else 125)
    assert _of(f, hr.id) == [("raised", 125), ("updated", 126), ("acknowledged", 125)]
    g = Feed(make_engine())
    for s in range(0, 16):
        g.at(s, spo2=88)
    [spo2] = g.raised()
    g.at(16, spo2=87)
    g.at(17, spo2=88)
    _cmd(g, spo2.id, "acknowledge", 18)
    for s in range(19, 40):
        g.at(s, spo2=87 if s % 2 else 88)
    assert _of(g, spo2.id) == [("raised", 88), ("updated", 87), ("acknowledged", 88)]


def test_a_fading_news2_alarm_publishes_every_change_of_the_score_and_its_highest() -> None:
    """Below its band the NEWS2 alarm waits ``clear_after_s``; meanwhile every change of the score is
    published ("any NEWS2 change") and ``worst`` stays the highest score while it was open, also when
    the score below the band is higher than the one that raised it (a low-medium alarm at 3, then 4
    with no parameter scoring 3)."""
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "clear_after_s": 900, "window_s": 1,
                                "min_samples": 1, "hysteresis": 0}, limits={}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=26, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # RR scores 3: low-medium
    f.at(2, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=95, temperature=38.2)  # 2 + 1 + 1 = 4, no 3
    f.at(3, resp_rate=22, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)  # 2
    news2 = [e for e in f.events if e.kind == "news2"]
    assert [(e.event, e.value, e.worst, e.condition) for e in news2] == [
        ("raised", 3, 3, True), ("updated", 4, 4, False), ("updated", 2, 4, False)]


# -- latching -------------------------------------------------------------------------------------------


def test_a_latched_alarm_says_once_that_its_condition_ended() -> None:
    f = Feed(make_engine())
    for s in range(0, 16):
        f.at(s, spo2=80)  # critical: high, latches
    for s in range(16, 80):
        f.at(s, spo2=97)
    [a] = f.raised()
    assert [e for e, _ in _of(f, a.id)] == ["raised", "updated"]
    assert [e.to_json()["latched"] for e in f.events if e.id == a.id] == [False, True]


def test_a_latched_news2_alarm_stays_as_it_is_until_acknowledged() -> None:
    """A high NEWS2 alarm ended by the ward's ``suspend_sedated`` stays latched; once the patient is no
    longer sedated and the score is low, the latched alarm is not rewritten as a fading one."""
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "clear_after_s": 900, "window_s": 1,
                                "min_samples": 1, "suspend_sedated": ["*"]}, limits={}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    f.at(1, resp_rate=26, spo2=91, nibp_sys=120, heart_rate=112, temperature=37.0)  # 3 + 3 + 2 = 8: high
    [a] = f.raised("news2")
    f.events += f.engine.spot(_spot(2, sedated=True))
    f.at(3, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)
    f.events += f.engine.spot(_spot(4, sedated=False))
    f.at(5, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=72, temperature=37.0)
    mine = [e for e in f.events if e.id == a.id]
    assert [e.event for e in mine] == ["raised", "updated"]
    assert mine[-1].reason.startswith("NEWS2 suspended: patient sedated") and "latched until acknowledged" in \
        f.engine.lifecycle.by_id[a.id].reason


def test_a_critical_value_latches_even_after_an_escalation_had_made_the_alarm_louder() -> None:
    """Escalation steps do not latch (a medium alarm escalated to high clears when it ends); a value
    beyond the critical limit does, also when the alarm was already high by escalation."""
    def run(worst: float) -> str:
        f = Feed(make_engine())
        for s in range(0, 140):
            f.at(s, spo2=88)
            f.tick(s)  # escalated to the charge nurse at 135 s: high
        f.at(140, spo2=worst)
        f.at(141, spo2=97)
        return f.events[-1].event

    assert run(87) == "cleared"
    assert run(80) == "updated"  # latched until acknowledged


def test_a_ward_that_does_not_latch_clears_a_high_alarm_when_its_condition_ends() -> None:
    f = Feed(make_engine(wards={"w1": {"latching": []}}))
    for s in range(0, 16):
        f.at(s, spo2=80)
    assert f.at(16, spo2=97)[-1].event == "cleared"


# -- who the alarm is with, escalation ------------------------------------------------------------------


def test_a_new_alarm_is_with_the_first_role_of_its_wards_policy() -> None:
    f = Feed(make_engine(wards=WARD))
    for s in range(0, 16):
        f.at(s, spo2=88)
    assert [e.role for e in f.raised()] == ["ward_nurse"]


def test_alarms_due_in_the_same_second_all_escalate() -> None:
    f = Feed(make_engine())
    other = Attribution(ward="w1", bed="08", patient="p2")
    for s in range(0, 16):
        f.at(s, spo2=88)
        f.events += f.engine.observe_sample(other, "mon-2", _ms(s), {"spo2": 88})  # the next bed's monitor
    ups = [e for e in f.tick(135) if e.event == "escalated"]
    assert sorted(e.patient for e in ups) == ["p1", "p2"]


def test_an_escalation_says_how_long_the_alarm_was_unacknowledged() -> None:
    f = Feed(make_engine(escalation={"levels": [{"role": "primary_nurse", "after_s": 0},
                                                {"role": "charge_nurse", "after_s": 1200}]}))
    for s in range(0, 16):
        f.at(s, spo2=88)
    for s in range(20, 1216, 20):
        f.at(s, spo2=88)
    [up] = [e for e in f.tick(1215) if e.event == "escalated"]
    assert up.reason.startswith("unacknowledged for 1200 s: escalated to charge_nurse")


def test_an_alarm_escalates_past_a_news2_alarm_that_reached_its_bands_last_role() -> None:
    """A low-medium NEWS2 alarm goes no further than the charge nurse; a limit alarm raised after it
    still goes up its own ladder."""
    f = Feed(make_engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    for s in range(1, 400, 5):
        sbp = 120 if s < 100 else 195  # above 180, scores 0 in NEWS2: its own alarm, raised at 101 s
        f.at(s, resp_rate=26, spo2=97, nibp_sys=sbp, heart_rate=70, temperature=37.0)  # RR 3: low-medium
        f.tick(s)
    ups = [(e.kind, e.role) for e in f.events if e.event == "escalated"]
    assert ups == [("news2", "charge_nurse"), ("limit", "charge_nurse"), ("limit", "clinician")]


# -- one cause, one alarm: hand-over of grouped conditions --------------------------------------------


def test_the_escalation_of_a_grouped_alarm_names_what_got_worse_and_the_alarm_still_shows_its_group() -> None:
    f = Feed(make_engine())
    f.at(0, nibp_sys=85, nibp_mean=55)  # one cycle: SBP alarm, MAP grouped into it
    [up] = f.at(60, nibp_sys=65, nibp_mean=55)
    assert (up.event, up.priority) == ("escalated", "high")
    assert up.reason == "NIBP sys 65 mmHg below critical limit 70 mmHg for 60 s"  # the action: what got worse
    assert up.condition_reason == up.reason + "; with NIBP mean 55 mmHg below 60 mmHg"


def _mean_stays_low(sys_first: float, sys_next: float, after: str = "") -> tuple[Feed, str]:
    """A cuff cycle whose low mean joins the systolic alarm; the next cycle (this monitor sends the mean
    first) ends the systolic condition, the mean stays low."""
    f = Feed(make_engine())
    f.at(0, nibp_sys=sys_first, nibp_mean=55)
    [sbp] = f.raised()
    if after:
        _cmd(f, sbp.id, after, 30)
    f.at(CUFF, nibp_mean=55, nibp_sys=sys_next)
    for s in range(CUFF + 1, CUFF + 10):
        f.tick(s)
    return f, sbp.id


def test_a_grouped_mean_pressure_goes_on_its_own_at_once_when_the_systolic_alarm_latches() -> None:
    f, sbp = _mean_stays_low(65, 110)  # SBP 65: critical, high, latches when it ends
    assert [e.to_json()["latched"] for e in f.events if e.id == sbp][-1] is True
    [mean] = [e for e in f.raised() if e.signal == "nibp_mean"]
    assert mean.t <= _ms(CUFF + 1)  # not at the next cuff cycle, 15 min later


def test_a_grouped_mean_pressure_goes_on_its_own_at_once_when_the_systolic_alarm_clears() -> None:
    f, sbp = _mean_stays_low(85, 110)  # SBP 85: medium, cleared when it ends
    assert [e for e, _ in _of(f, sbp)][-1] == "cleared"
    [mean] = [e for e in f.raised() if e.signal == "nibp_mean"]
    assert mean.t <= _ms(CUFF + 1)


def test_a_grouped_mean_pressure_goes_on_its_own_when_a_nurse_clears_the_systolic_alarm() -> None:
    f = Feed(make_engine())
    f.at(0, nibp_sys=85, nibp_mean=55)
    [sbp] = f.raised()
    _cmd(f, sbp.id, "clear", 30)
    for s in range(31, 40):
        f.tick(s)
    [mean] = [e for e in f.raised() if e.signal == "nibp_mean"]
    assert mean.t <= _ms(31)


def test_a_limit_alarm_taken_over_by_news2_is_cleared_at_that_moment() -> None:
    f = Feed(make_engine(news2={"enabled": True, "window_s": 1, "min_samples": 1}))
    f.engine.spot(_spot(0, consciousness="A", supplemental_o2=False))
    for s in range(1, 120):
        f.at(s, resp_rate=26, spo2=88, nibp_sys=120, heart_rate=70, temperature=37.0)
        f.tick(s)
    [news2] = f.raised("news2")
    [taken] = [e for e in f.events if e.kind == "limit" and e.event == "cleared"]
    assert (taken.t, taken.reason.split(" (")[0]) == (news2.t, "now part of the NEWS2 alarm")


# -- restart: what the service stores comes back --------------------------------------------------------


class Stored:
    """Feeds an engine and saves what each call changed, as ``AlertingService`` does."""

    def __init__(self, engine: Engine, store: AlarmStore) -> None:
        self.feed, self.store = Feed(engine), store

    def save(self, events: list[AlarmEvent]) -> list[AlarmEvent]:
        self.store.save(self.feed.engine.lifecycle.alarms_of(events), events)
        return events

    def at(self, s: float, **values: float) -> list[AlarmEvent]:
        return self.save(self.feed.at(s, **values))

    def tick(self, s: float) -> list[AlarmEvent]:
        return self.save(self.feed.tick(s))


def test_open_alarms_come_back_after_a_restart_with_their_role_and_last_change(tmp_path: Path) -> None:
    store = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    run = Stored(make_engine(wards=WARD, limits={"spo2": {"delay_s": 0}, "heart_rate": {"delay_s": 0}}), store)
    run.at(0, spo2=88)
    run.tick(61)  # escalated to outreach
    run.at(62, spo2=80)  # critical: escalated, now high
    last = run.at(70, spo2=77)[-1]  # a new worst: updated
    run.at(80, heart_rate=160)  # critical: high ...
    run.at(81, heart_rate=80)  # ... latched
    [hr, spo2] = sorted(store.open_alarms(), key=lambda a: a.signal or "")
    assert (spo2.signal, spo2.updated_t, spo2.priority, spo2.condition_priority) == ("spo2", last.t, "high", "high")
    assert (hr.signal, hr.condition, hr.updated_t) == ("heart_rate", False, _ms(81))
    after = make_engine(wards=WARD)
    after.restore(store.open_alarms())
    assert after.lifecycle.by_id[spo2.id].role == "outreach"
    [ack] = after.command(AlarmCommand(id=spo2.id, action="acknowledge", by="rn.kim", t=_ms(100)), _ms(100))
    assert (ack.event, ack.role, ack.by) == ("acknowledged", "outreach", "rn.kim")


def test_a_fading_news2_alarm_and_a_taken_over_limit_alarm_are_stored_with_their_time(tmp_path: Path) -> None:
    store = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    run = Stored(make_engine(news2={"enabled": True, "window_s": 1, "min_samples": 1, "clear_after_s": 900}), store)
    run.save(run.feed.engine.spot(_spot(0, consciousness="A", supplemental_o2=False)))
    for s in range(1, 120):
        run.at(s, resp_rate=26, spo2=88, nibp_sys=120, heart_rate=70, temperature=37.0)
        run.tick(s)
    [spo2] = [e for e in run.feed.events if e.kind == "limit" and e.event == "cleared"]
    assert store.alarm(spo2.id).updated_t == spo2.t  # type: ignore[union-attr]
    [fading] = [e for e in run.at(120, resp_rate=16, spo2=97, nibp_sys=120, heart_rate=70, temperature=37.0)
                if e.kind == "news2"]
    assert (fading.event, fading.condition) == ("updated", False)
    assert store.alarm(fading.id).updated_t == _ms(120)  # type: ignore[union-attr]

