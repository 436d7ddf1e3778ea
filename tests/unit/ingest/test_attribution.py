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
