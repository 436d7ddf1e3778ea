"""Drill points are stored apart from clinical data: InfluxDB lines after the ``#drill`` marker (written
to the ``drill`` retention policy), SQLite ``drill_*`` tables no read touches; purge removes them."""

from __future__ import annotations

import time
from pathlib import Path

from device_profiles import (
    AlarmEventType,
    AlarmKind,
    AlarmState,
    AttributedObservation,
    Attribution,
    Observation,
    Priority,
    Sample,
)
from ingest.records import AlarmEvent, Batch
from ingest.stores import SQLiteStore
from ingest.stores.influx_lines import LineEncoder, split_drill

T0 = int(time.time()) // 60 * 60_000  # recent: the store's retention keeps it
CLINICAL = Attribution("w1", "01", "p1")
DRILL = Attribution("w1", "DRILL-01", "", "drill-1")


def batch() -> Batch:
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [Sample(T0, {"spo2": 97.0})]), CLINICAL))
    for k, drill in enumerate(("drill-1", "drill-2")):
        who = Attribution("w1", f"DRILL-0{k + 1}", "", drill)
        b.add_obs(AttributedObservation(Observation(f"{drill}-01", 1, [Sample(T0, {"spo2": 84.0})]), who))
    b.add_alarm(AlarmEvent(id="a1", ward="w1", bed="DRILL-01", patient="", device="drill-1-01", kind=AlarmKind.LIMIT,
                           signal="spo2", priority=Priority.HIGH, event=AlarmEventType.RAISED, state=AlarmState.ACTIVE,
                           t=T0, value=84.0, reason="SpO2 84 %", drill="drill-1"))
    return b


def test_line_protocol_puts_drill_points_after_the_marker() -> None:
    clinical, drill = split_drill(LineEncoder().encode(batch()))
    assert clinical.count(b"\n") == 1 and b"mon-1" in clinical and b"drill" not in clinical
    assert drill.count(b"\n") == 3 and b"mon-1" not in drill and b"alarms,bed=DRILL-01" in drill
    only_drill = Batch()
    only_drill.add_obs(AttributedObservation(Observation("drill-1-01", 2, [Sample(T0, {"spo2": 84.0})]), DRILL))
    assert split_drill(LineEncoder().encode(only_drill))[0] == b""
    assert split_drill(b"vitals,device=x spo2=97 1\n") == (b"vitals,device=x spo2=97 1\n", b"")


async def test_sqlite_keeps_drill_rows_apart_and_purges_them(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "v.sqlite3")
    await store.open()
    try:
        await store.write(store.encode(batch()))
        assert [r.device for r in await store.query_vitals(device="drill-1-01", from_ms=T0, to_ms=T0 + 1)] == []
        assert {v.device for v in await store.latest(ward="w1", since_ms=T0 - 1)} == {"mon-1"}
        assert await store.query_alarms(ward="w1", from_ms=T0, to_ms=T0 + 1) == []
        assert await store.count("vitals") == 1
        minutes = await store.query_vitals(patient="p1", from_ms=T0 - 60_000, to_ms=T0 + 60_000, every="1m")
        assert [r.device for r in minutes] == ["mon-1"]

        def drill_rows() -> list[tuple[str, str]]:
            assert store._db is not None
            return sorted(store._db.execute("SELECT drill, device FROM drill_vitals UNION ALL "
                                            "SELECT drill, device FROM drill_alarms").fetchall())

        assert drill_rows() == [("drill-1", "drill-1-01"), ("drill-1", "drill-1-01"), ("drill-2", "drill-2-01")]
        await store.purge_drill("drill-1")
        assert drill_rows() == [("drill-2", "drill-2-01")]
        await store.purge_drill()
        assert drill_rows() == []
        assert await store.count("vitals") == 1  # clinical data untouched
    finally:
        await store.close()


def test_ingest_republishes_drill_observations_status_and_device_alarms_with_the_drill_tag() -> None:
    import orjson

    from ingest import Pipeline

    class Bound:
        def lookup(self, device: str, t_ms: int) -> Attribution:
            return DRILL

        def ended_drill(self, device: str, t_ms: int) -> str:
            return ""

        def known(self, device: str) -> bool:
            return True

        def auto_assign(self, device: str, ward: str) -> Attribution:
            raise AssertionError("a bound device is never auto-assigned")

    out: list[tuple[str, bytes]] = []
    pipe = Pipeline("r", Bound(), publish=lambda t, p: out.append((t, p)))
    b = Batch()
    pipe.handle("r/devices/d-01/obs", orjson.dumps({"v": 1, "device": "d-01", "seq": 1,
                                                    "samples": [{"t": T0, "spo2": 84}]}), T0, b)
    pipe.handle("r/devices/d-01/status", b'{"online": false}', T0, b)
    pipe.handle("r/devices/d-01/alarm", orjson.dumps({"v": 1, "device": "d-01", "t": T0, "kind": "technical",
                                                      "code": "battery", "priority": "low", "state": "active",
                                                      "text": "battery low"}), T0, b)
    assert [t for t, _p in out] == ["r/wards/w1/obs", "r/wards/w1/status", "r/wards/w1/device_alarms"]
    assert all(orjson.loads(p)["drill"] == "drill-1" for _t, p in out)
    assert b.obs[0].who.drill == "drill-1"
