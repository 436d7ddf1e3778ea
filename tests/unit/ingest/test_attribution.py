"""ADT and device bindings, looked up by sample time."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import AttributionError, Attributions, make_engine


@pytest.fixture
def adt(tmp_path: Path) -> Attributions:
    return Attributions(make_engine(f"sqlite:///{tmp_path}/state.sqlite3"))


def test_lookup_follows_bindings_and_occupancy_by_sample_time(adt: Attributions) -> None:
    adt.assign_device("mon-1", "w1", "07", at_ms=1000)
    adt.admit("p-1", "w1", "07", at_ms=2000)
    adt.transfer("p-1", "w2", "03", at_ms=5000)
    adt.assign_device("mon-1", "w2", "03", at_ms=5000)
    adt.discharge("p-1", at_ms=9000)
    who = [(w.ward, w.bed, w.patient) for w in (adt.lookup("mon-1", t) for t in (500, 1500, 2500, 6000, 9500))]
    assert who == [("", "", ""), ("w1", "07", ""), ("w1", "07", "p-1"), ("w2", "03", "p-1"), ("w2", "03", "")]


def test_occupied_bed_and_unknown_patient_are_refused(adt: Attributions) -> None:
    adt.admit("p-1", "w1", "01", at_ms=1000)
    with pytest.raises(AttributionError, match="occupied"):
        adt.admit("p-2", "w1", "01", at_ms=2000)
    with pytest.raises(AttributionError, match="not admitted"):
        adt.discharge("p-9")
    with pytest.raises(AttributionError):
        adt.assign_device("bad id", "w1", "01")


def test_a_second_process_sees_changes_after_reload(adt: Attributions, tmp_path: Path) -> None:
    other = Attributions(make_engine(f"sqlite:///{tmp_path}/state.sqlite3"))
    adt.assign_device("mon-1", "w1", "07", at_ms=0)
    assert not other.lookup("mon-1", 10).ward
    other.reload()
    assert other.lookup("mon-1", 10).bed == "07"


def test_auto_assign_gives_next_free_bed_and_is_stable(adt: Attributions, tmp_path: Path) -> None:
    other = Attributions(make_engine(f"sqlite:///{tmp_path}/state.sqlite3"))
    assert adt.auto_assign("d-a", "demo").bed == "01"
    assert other.auto_assign("d-b", "demo").bed == "02"  # another worker sees the first bed taken
    assert other.auto_assign("d-a", "demo").bed == "01"  # known device: unchanged
    assert adt.lookup("d-a", 1_000_000_000_000).ward == "demo"  # bound for all time


def test_a_drill_device_outside_its_drill_names_the_drill(adt: Attributions) -> None:
    adt.assign_device("drill-7-01", "w1", "DRILL-01", at_ms=1000, drill="drill-7")
    adt.unassign_device("drill-7-01", at_ms=5000)
    adt.assign_device("mon-1", "w1", "01", at_ms=1000)
    adt.unassign_device("mon-1", at_ms=5000)
    assert adt.lookup("drill-7-01", 3000).drill == "drill-7" and adt.ended_drill("drill-7-01", 3000) == ""
    assert [adt.ended_drill("drill-7-01", t) for t in (500, 5000, 9000)] == ["drill-7"] * 3
    assert adt.ended_drill("mon-1", 9000) == "" and adt.ended_drill("never-bound", 9000) == ""


T0 = 1_763_856_000_000  # a real epoch time (canonical payloads refuse times before 2000)


def test_a_sample_after_its_drill_ended_is_a_dead_letter_not_clinical_data(adt: Attributions) -> None:
    import orjson

    from device_profiles import PayloadError
    from ingest import Batch, Pipeline

    adt.assign_device("drill-7-01", "w1", "DRILL-01", at_ms=T0 + 1000, drill="drill-7")
    adt.unassign_device("drill-7-01", at_ms=T0 + 5000)
    pipe = Pipeline("r", adt, auto_assign="w1")
    batch = Batch()
    inside = orjson.dumps({"v": 1, "device": "drill-7-01", "seq": 1, "samples": [{"t": T0 + 4000, "spo2": 84}]})
    assert pipe.handle("r/devices/drill-7-01/obs", inside, T0 + 4000, batch) == "stored"
    for seq, ts in ((2, [T0 + 6000]), (3, [T0 + 4500, T0 + 5500])):  # after the end; straddling it
        late = orjson.dumps({"v": 1, "device": "drill-7-01", "seq": seq,
                             "samples": [{"t": t, "spo2": 84} for t in ts]})
        with pytest.raises(PayloadError, match="device of drill drill-7, which was not running"):
            pipe.handle("r/devices/drill-7-01/obs", late, T0 + 6000, batch)
    assert not adt.lookup("drill-7-01", T0 + 6000).ward  # and it was not auto-assigned to a clinical bed


def test_the_drill_tree_takes_only_devices_of_a_running_drill(adt: Attributions) -> None:
    """The drill driver's account may publish only on ``{root}/drill/devices/…``: data there for a real
    device (or a drill device outside its drill) is a dead letter, never clinical data."""
    import orjson

    from device_profiles import PayloadError
    from ingest import Batch, Pipeline

    adt.assign_device("drill-7-01", "w1", "DRILL-01", at_ms=T0 + 1000, drill="drill-7")
    adt.assign_device("mon-1", "w1", "01", at_ms=T0)
    adt.admit("p-1", "w1", "01", at_ms=T0)
    pipe = Pipeline("r", adt, auto_assign="w1", publish=lambda topic, body: None)
    assert "r/drill/devices/+/obs" in pipe.filters() and "r/drill/devices/+/status" in pipe.filters()
    batch = Batch()

    def obs(device: str, t: int) -> bytes:
        return orjson.dumps({"v": 1, "device": device, "seq": t, "samples": [{"t": t, "spo2": 84}]})

    assert pipe.handle("r/drill/devices/drill-7-01/obs", obs("drill-7-01", T0 + 2000), T0 + 2000, batch) == "stored"
    assert pipe.handle("r/drill/devices/drill-7-01/status", b'{"online": true}', T0 + 2000, batch) == "stored"
    for topic, body in (("r/drill/devices/mon-1/obs", obs("mon-1", T0 + 2000)),  # a real device
                        ("r/drill/devices/mon-1/status", b'{"online": false}'),
                        ("r/drill/devices/sim-9/obs", obs("sim-9", T0 + 2000)),  # unknown: never auto-assigned
                        ("r/drill/devices/drill-7-01/obs", obs("drill-7-01", T0 + 500))):  # before its drill
        with pytest.raises(PayloadError, match=r"live-drill tree .* not a device of a drill running"):
            pipe.handle(topic, body, T0 + 2000, batch)
    assert [a.who.drill for a in batch.obs] == ["drill-7"]
    assert not adt.known("sim-9")


def test_current_placements_read_the_tables_another_process_wrote(adt: Attributions, tmp_path: Path) -> None:
    other = Attributions(make_engine(f"sqlite:///{tmp_path}/state.sqlite3"))
    other.assign_device("mon-1", "w1", "01", at_ms=1000)
    other.admit("p1", "w1", "01", at_ms=1000)
    other.assign_device("drill-mon-1", "w1", "DRILL-01", at_ms=1000, drill="drill-x")
    other.assign_device("mon-2", "w1", "02", at_ms=1000)
    other.unassign_device("mon-2", at_ms=3000)
    now = adt.current(2000)  # no reload: read from the tables
    assert now.devices == {"mon-1": ("w1", "01"), "drill-mon-1": ("w1", "DRILL-01"), "mon-2": ("w1", "02")}
    assert now.patients == {("w1", "01"): "p1"} and now.drill_beds == {("w1", "DRILL-01"): "drill-x"}
    assert "mon-2" not in adt.current(3000).devices and adt.current(500).devices == {}
