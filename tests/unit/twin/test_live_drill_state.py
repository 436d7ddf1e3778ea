"""Drill data on the central station's ward state and in alerting (pure, controlled time): drill beds
and alarms shown but marked, never mixed into a patient's bed; everything of a drill goes when it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerting import Engine, build_config
from dashboard_api.wardstate import WardState
from device_profiles import Attribution, DeviceStatusMessage, DrillStateMessage

T0 = 1_763_805_600_000
DRILL = "drill-ab12cd34"


def obs(device: str, bed: str, t: int, drill: str = "", patient: str = "", **values: float) -> dict[str, Any]:
    msg: dict[str, Any] = {"v": 1, "device": device, "seq": 1, "samples": [{"t": t, **values}], "ward": "w1",
                           "bed": bed, "patient": patient}
    if drill:
        msg["drill"] = drill
    return msg


def alarm(aid: str, bed: str, state: str = "active", drill: str = DRILL) -> dict[str, Any]:
    return {"id": aid, "ward": "w1", "bed": bed, "patient": "", "priority": "high", "state": state, "t": T0,
            "event": "raised" if state == "active" else "cleared", "drill": drill}


def drilling_state() -> WardState:
    s = WardState()
    s.set_assignments({"mon-1": ("w1", "01"), f"{DRILL}-01": ("w1", "DRILL-01")}, {("w1", "01"): "p1"},
                      {("w1", "DRILL-01"): DRILL})
    s.set_drill("w1", DrillStateMessage.from_json({"drill": DRILL, "active": True, "started": T0, "ends": T0 + 600_000,
                                                  "beds": ["DRILL-01"]}))
    return s


def test_drill_bed_and_alarm_are_shown_marked_and_apart_from_the_patient() -> None:
    s = drilling_state()
    assert s.observe(obs(f"{DRILL}-01", "DRILL-01", T0, DRILL, spo2=84)) is not None
    assert s.observe(obs("mon-1", "01", T0, patient="p1", spo2=97)) is not None
    s.alarm(alarm("a1", "DRILL-01"))
    snap = s.snapshot("w1", T0 + 1000)
    tiles = {t["bed"]: t for t in snap["beds"]}
    assert snap["drill"]["drill"] == DRILL
    assert tiles["DRILL-01"]["drill"] == DRILL and tiles["DRILL-01"]["vitals"]["spo2"]["value"] == 84
    assert [a["id"] for a in tiles["DRILL-01"]["alarms"]] == ["a1"]
    assert tiles["01"]["drill"] == "" and tiles["01"]["vitals"]["spo2"]["value"] == 97 and tiles["01"]["alarms"] == []
    assert [a["drill"] for a in snap["alarms"]] == [DRILL]


def test_drill_data_never_lands_on_a_patients_bed() -> None:
    s = drilling_state()
    assert s.observe(obs(f"{DRILL}-01", "01", T0, DRILL, spo2=70)) is None  # mis-bound: refused
    assert s.status(DeviceStatusMessage.from_json({"device": f"{DRILL}-01", "ward": "w1", "bed": "01", "online": False,
                                                   "drill": DRILL, "t": T0}, T0)) is None
    s.alarm(alarm("a1", "01"))
    tile = s.snapshot("w1", T0)["beds"][0]
    assert tile["bed"] == "01" and tile["vitals"] == {} and tile["alarms"] == [] and tile["online"] is None


def test_an_ended_drill_leaves_nothing_behind_and_late_data_does_not_bring_it_back() -> None:
    s = drilling_state()
    s.observe(obs(f"{DRILL}-01", "DRILL-01", T0, DRILL, spo2=84))
    s.alarm(alarm("a1", "DRILL-01"))
    s.set_drill("w1", DrillStateMessage.from_json({"drill": DRILL, "active": False}))
    changed = s.set_assignments({"mon-1": ("w1", "01")}, {("w1", "01"): "p1"}, {})
    assert ("w1", "DRILL-01") in changed and "DRILL-01" not in s.wards["w1"]
    assert s.observe(obs(f"{DRILL}-01", "DRILL-01", T0 + 1000, DRILL, spo2=83)) is None
    assert s.alarm(alarm("a1", "DRILL-01", "cleared")) is None
    snap = s.snapshot("w1", T0 + 2000)
    assert [b["bed"] for b in snap["beds"]] == ["01"] and snap["alarms"] == [] and snap["drill"] is None


def test_alerting_clears_a_drills_alarms_when_it_ends_and_ignores_its_late_data() -> None:
    engine = Engine(build_config({"limits": {"spo2": {"low": 90, "critical_low": 85, "delay_s": 0}}}))
    drill_who = Attribution("w1", "DRILL-01", "", DRILL)
    patient_who = Attribution("w1", "01", "p1")
    [d] = engine.observe_sample(drill_who, f"{DRILL}-01", T0, {"spo2": 84})
    [c] = engine.observe_sample(patient_who, "mon-1", T0, {"spo2": 84})
    assert d.drill == DRILL and c.drill == ""
    ended = engine.end_drill(DRILL, T0 + 5000)
    assert [(e.id, e.event, e.reason) for e in ended] == [(d.id, "cleared", "drill ended")]
    assert engine.observe_sample(drill_who, f"{DRILL}-01", T0 + 6000, {"spo2": 80}) == []
    later = engine.tick(T0 + 3_600_000)  # no 'no data' alarm for the drill device, ever
    assert all(e.drill == "" for e in later)
    assert c.id in engine.lifecycle.by_id  # the patient's alarm is untouched


def test_drill_beds_are_not_part_of_the_live_census() -> None:
    from dashboard_api.twin_census import census_from_state

    s = drilling_state()
    s.observe(obs(f"{DRILL}-01", "DRILL-01", T0, DRILL, spo2=84))
    census = census_from_state(s, "w1", T0, include_patients=True)
    assert [b.bed for b in census.beds] == ["01"]


def test_a_drill_register_from_before_rate_and_samples_gets_them_and_keeps_its_drills(tmp_path: Path) -> None:
    """The columns ``rate`` and ``samples`` (the drill report's parameters, item 6 of the newcomer run)
    are added to an existing ``dashboard_drills`` table; the driver's sample count is kept whoever
    stopped the drill first."""
    import sqlalchemy as sa

    from dashboard_api.drills import DrillStore

    engine = sa.create_engine(f"sqlite:///{tmp_path}/state.sqlite3")
    with engine.begin() as conn:  # the table as the first release created it
        conn.execute(sa.text(
            "CREATE TABLE dashboard_drills (id VARCHAR(64) PRIMARY KEY, ward VARCHAR(64) NOT NULL, beds TEXT NOT NULL, "
            "speed FLOAT NOT NULL, seed INTEGER NOT NULL, started BIGINT NOT NULL, ends BIGINT NOT NULL, "
            "stopped BIGINT, started_by VARCHAR(64) NOT NULL, stopped_by VARCHAR(64) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO dashboard_drills VALUES ('drill-old', 'w1', "
                             "'[{\"bed\": \"DRILL-01\", \"device\": \"drill-old-01\", \"scenario\": \"stable\"}]', "
                             "1.0, 0, 1000, 61000, NULL, 'cn', '')"))
    store = DrillStore(engine)
    old = store.get("drill-old")
    assert old is not None and (old.rate, old.samples, old.stopped) == (1.0, None, None)
    stopped = store.stop("drill-old", "cn", 5000)  # a nurse stops it first …
    assert (stopped.stopped, stopped.stopped_by, stopped.samples) == (5000, "cn", None)
    again = store.stop("drill-old", "fm", 6000, samples=240)  # … then its driver, with its count
    assert (again.stopped, again.stopped_by, again.samples) == (5000, "cn", 240)
    DrillStore(engine)  # a second start adds nothing twice
    assert store.get("drill-old") == again
