"""The alarm store's history reads (a real SQLite state DB): a ward's events newest first with who did
them, filtered by bed, priority, time and drill, paged by a cursor that neither repeats nor skips an
entry; the alarms open during a period with their acknowledgement and clearing; spot observations of a
period; a patient's newest alarms (the portal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alerting import Alarm, AlarmStore, SpotObservation
from alerting.store import INDEXES
from device_profiles import state_db

T0 = 1_767_000_000_000
MIN = 60_000


def _alarm(aid: str, bed: str, priority: str, t: int, ward: str = "w1", drill: str = "", patient: str = "") -> Alarm:
    return Alarm(id=aid, ward=ward, bed=bed, patient=patient or f"P-{bed}", device=f"mon-{bed}", kind="limit",
                 signal="spo2", code="low", priority=priority, raised_t=t, reason=f"SpO2 85 % below 90 ({aid})",
                 value=85.0, updated_t=t, drill=drill, condition_priority=priority)


@pytest.fixture
def store(tmp_path: Path) -> AlarmStore:
    s = AlarmStore.open(f"sqlite:///{tmp_path}/state.sqlite3")
    # bed 01: high, raised, acknowledged by nina, cleared; bed 02: medium, raised, silenced by omar;
    # bed 03: low, raised only; ward w2 and a drill alarm in w1 (never in the default reads)
    a1 = _alarm("a1", "01", "high", T0)
    s.save([a1], [a1.event("raised", T0)])
    a1.value = 80.0
    a1.state, a1.acknowledged_by, a1.acknowledged_t = "acknowledged", "nina", T0 + 2 * MIN
    s.save([a1], [a1.event("acknowledged", T0 + 2 * MIN, by="nina", reason="acknowledged by nina")])
    a1.state, a1.updated_t = "cleared", T0 + 10 * MIN
    s.save([a1], [a1.event("cleared", T0 + 10 * MIN)])
    a2 = _alarm("a2", "02", "medium", T0 + MIN)
    s.save([a2], [a2.event("raised", T0 + MIN)])
    a2.state = "silenced"
    s.save([a2], [a2.event("silenced", T0 + 3 * MIN, by="omar")])
    a3 = _alarm("a3", "03", "low", T0 + 4 * MIN)
    s.save([a3], [a3.event("raised", T0 + 4 * MIN)])
    other = _alarm("x1", "01", "high", T0 + MIN, ward="w2")
    s.save([other], [other.event("raised", T0 + MIN)])
    drill = _alarm("d1", "D-01", "high", T0 + MIN, drill="drill-1")
    s.save([drill], [drill.event("raised", T0 + MIN)])
    return s


def test_history_is_newest_first_with_who_did_what_and_the_values_of_that_moment(store: AlarmStore) -> None:
    page = store.history("w1", since_ms=T0, until_ms=T0 + 60 * MIN)
    got = [(e["alarm_id"], e["event"], e["by"], e["bed"], e["priority"]) for e in page.entries]
    assert got == [("a1", "cleared", None, "01", "high"), ("a3", "raised", None, "03", "low"),
                   ("a2", "silenced", "omar", "02", "medium"), ("a1", "acknowledged", "nina", "01", "high"),
                   ("a2", "raised", None, "02", "medium"), ("a1", "raised", None, "01", "high")]
    assert page.next is None
    ack = page.entries[3]
    assert (ack["patient"], ack["kind"], ack["signal"], ack["code"], ack["value"]) == ("P-01", "limit", "spo2", "low", 80.0)
    assert page.entries[-1]["value"] == 85.0  # the value the raise was published with, not the alarm's latest
    assert "payload" not in ack


def test_history_filters_by_bed_priority_time_and_drill(store: AlarmStore) -> None:
    def ids(**kw: object) -> list[tuple[str, str]]:
        args = {"since_ms": T0, "until_ms": T0 + 60 * MIN, **kw}
        return [(e["alarm_id"], e["event"]) for e in store.history("w1", **args).entries]  # type: ignore[arg-type]

    assert ids(bed="02") == [("a2", "silenced"), ("a2", "raised")]
    assert ids(priorities=["high"]) == [("a1", "cleared"), ("a1", "acknowledged"), ("a1", "raised")]
    assert ids(priorities=["medium", "low"]) == [("a3", "raised"), ("a2", "silenced"), ("a2", "raised")]
    assert ids(since_ms=T0 + 2 * MIN, until_ms=T0 + 4 * MIN) == [("a2", "silenced"), ("a1", "acknowledged")]
    assert ids(drill="only") == [("d1", "raised")]
    assert ("d1", "raised") in ids(drill="include")
    assert all(e["ward"] == "w2" for e in store.history("w2", since_ms=T0, until_ms=T0 + MIN * 60).entries)


def test_pages_follow_each_other_without_repeating_or_skipping(store: AlarmStore) -> None:
    everything = store.history("w1", since_ms=T0, until_ms=T0 + 60 * MIN).entries
    seen, before = [], None
    for _ in range(10):
        page = store.history("w1", since_ms=T0, until_ms=T0 + 60 * MIN, limit=4, before=before)
        seen += page.entries
        if page.next is None:
            break
        assert len(page.entries) == 4
        before = page.next
    assert [e["seq"] for e in seen] == [e["seq"] for e in everything]
    # a page that ends exactly at the last entry says there is no more
    assert store.history("w1", since_ms=T0, until_ms=T0 + 60 * MIN, limit=len(everything)).next is None


def test_events_at_the_same_time_page_by_their_order(tmp_path: Path) -> None:
    s = AlarmStore.open(f"sqlite:///{tmp_path}/same.sqlite3")
    a = _alarm("s1", "01", "high", T0)
    s.save([a], [a.event("raised", T0), a.event("updated", T0), a.event("escalated", T0)])
    first = s.history("w1", since_ms=T0, until_ms=T0 + 1, limit=2)
    rest = s.history("w1", since_ms=T0, until_ms=T0 + 1, limit=2, before=first.next)
    assert [e["event"] for e in first.entries + rest.entries] == ["escalated", "updated", "raised"]
    assert rest.next is None


def test_alarms_between_are_those_open_in_the_period_with_ack_and_clearing(store: AlarmStore) -> None:
    rows = store.alarms_between("w1", T0, T0 + 60 * MIN)
    assert [r["id"] for r in rows] == ["a1", "a2", "a3"]  # oldest raised first, no drill, no other ward
    a1 = rows[0]
    assert (a1["acknowledged_by"], a1["acknowledged_t"], a1["cleared_t"]) == ("nina", T0 + 2 * MIN, T0 + 10 * MIN)
    assert rows[1]["cleared_t"] is None and rows[1]["state"] == "silenced"
    # a period after a1 cleared: the silenced and the active alarm were still open; a1 was not
    assert [r["id"] for r in store.alarms_between("w1", T0 + 20 * MIN, T0 + 30 * MIN)] == ["a2", "a3"]
    # a period before anything was raised
    assert store.alarms_between("w1", T0 - 60 * MIN, T0) == []


def test_spots_between_and_a_patients_newest_alarms(store: AlarmStore) -> None:
    for k, (ward, bed) in enumerate((("w1", "01"), ("w2", "01"), ("w1", "02"))):
        spot: dict[str, Any] = {"patient": f"P-{bed}", "ward": ward, "bed": bed, "t": T0 + k * MIN, "by": "nina",
                                "consciousness": "A"}
        store.add_spot(SpotObservation(**spot))
    got = store.spots_between("w1", T0, T0 + 60 * MIN)
    assert [(s.bed, s.t) for s in got] == [("01", T0), ("02", T0 + 2 * MIN)]
    assert store.spots_between("w1", T0 + MIN, T0 + 2 * MIN) == []
    assert [a["id"] for a in store.patient_alarms("P-01")] == ["x1", "a1"]  # newest raised first
    assert [a["id"] for a in store.patient_alarms("P-01", limit=1)] == ["x1"]
    assert store.patient_alarms("P-D-01") == []  # a drill's alarms are never a patient's


def test_a_database_from_before_the_history_gets_its_indexes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    AlarmStore.open(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as a release from before the history (and before migrations) left it
        for ix in INDEXES:
            conn.execute(sa.text(f"DROP INDEX {ix.name}"))
        conn.execute(sa.text("DROP TABLE alembic_version"))
    state_db.forget(engine)  # this process upgraded the URL already: look at the database again
    AlarmStore.open(url)
    names = {ix["name"] for t in ("alerting_alarms", "alerting_alarm_events", "alerting_spot_observations")
             for ix in sa.inspect(engine).get_indexes(t)}
    assert {ix.name for ix in INDEXES} <= names


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_save_inserts_then_updates_every_changed_alarm_in_one_statement(dialect: str, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    """``save`` is one upsert for all changed alarms (on both state DB dialects): a new alarm is inserted,
    a known one takes every changed column, the others are left as they were; restored as saved."""
    url = f"sqlite:///{tmp_path}/s.sqlite3" if dialect == "sqlite" else request.getfixturevalue("postgres_url")
    s = AlarmStore.open(url)
    a, b = _alarm("a", "01", "medium", T0), _alarm("b", "02", "low", T0)
    s.save([a, b], [a.event("raised", T0), b.event("raised", T0)])
    a.priority, a.state, a.acknowledged_by, a.acknowledged_t, a.updated_t = "high", "acknowledged", "nina", T0 + 5, T0 + 5
    c = _alarm("c", "03", "high", T0 + 6)
    s.save([a, c], [a.event("acknowledged", T0 + 5, by="nina"), c.event("raised", T0 + 6)])
    got = {x.id: x for x in s.open_alarms()}
    assert sorted(got) == ["a", "b", "c"]
    assert (got["a"].priority, got["a"].state, got["a"].acknowledged_by, got["a"].acknowledged_t) == \
        ("high", "acknowledged", "nina", T0 + 5)
    assert (got["b"].priority, got["b"].state, got["b"].acknowledged_by) == ("low", "active", None)
    assert got["c"].raised_t == T0 + 6 and got["c"].reason == c.reason
    assert [e["event"] for e in s.events("a")] == ["raised", "acknowledged"]
    s.engine.dispose()
