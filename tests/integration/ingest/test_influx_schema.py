"""InfluxDB setup: retention policies, the downsampling continuous query, and the backfill."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from device_profiles import NUMERIC_SIGNALS, AttributedObservation, Attribution, Observation, Sample
from devservers import InfluxDB
from ingest import Batch
from ingest.spool import DiskSpool
from ingest.stores import InfluxStore, open_store
from ingest.writer import LATE_AFTER_MS, BatchWriter, late_ranges

pytestmark = pytest.mark.integration


async def test_retention_policies_and_continuous_query(influxdb: InfluxDB, influx_db: str) -> None:
    for _ in range(2):  # opening twice is harmless
        store = await open_store(influxdb.store_url(influx_db))
        await store.close()
    rps = {r["name"]: r for r in influxdb.query(f'SHOW RETENTION POLICIES ON "{influx_db}"', influx_db)}
    assert rps["raw"]["duration"] == "168h0m0s" and rps["raw"]["default"] is True  # >= 96 h
    assert rps["minute"]["duration"] == "9600h0m0s"  # 400 days >= 1 year
    cqs = [r for r in influxdb.query("SHOW CONTINUOUS QUERIES", influx_db)  # lists every database's CQs
           if r.get("name") == "vitals_1m" and f" ON {influx_db} " in str(r.get("query"))]
    assert len(cqs) == 1
    query = str(cqs[0]["query"])
    assert all(f"{s}_mean" in query and f"{s}_min" in query and f"{s}_max" in query for s in NUMERIC_SIGNALS)
    # the last two minutes only: a 1 h window made InfluxDB recompute an hour of every bed each minute
    assert "RESAMPLE EVERY 1m FOR 2m " in query


async def test_the_old_one_hour_continuous_query_is_replaced(influxdb: InfluxDB, influx_db: str) -> None:
    influxdb.create_db(influx_db)
    sel = ", ".join(f'mean("{s}") AS "{s}_mean"' for s in sorted(NUMERIC_SIGNALS))
    influxdb.query(f'CREATE CONTINUOUS QUERY "vitals_1m" ON "{influx_db}" RESAMPLE EVERY 1m FOR 1h BEGIN '
                   f'SELECT {sel} INTO "{influx_db}"."autogen"."vitals_1m" FROM "{influx_db}"."autogen"."vitals" '
                   "GROUP BY time(1m), * END", influx_db)  # what an older SmartWard made
    store = await open_store(influxdb.store_url(influx_db))
    await store.close()
    cqs = [str(r.get("query")) for r in influxdb.query("SHOW CONTINUOUS QUERIES", influx_db)
           if r.get("name") == "vitals_1m" and f" ON {influx_db} " in str(r.get("query"))]
    assert len(cqs) == 1 and "FOR 2m " in cqs[0] and "_max" in cqs[0], cqs


async def test_late_samples_get_their_minute_through_the_writer(influxdb: InfluxDB, influx_db: str,
                                                                tmp_path: Path) -> None:
    """A device's backlog (samples 20 minutes old, outside the continuous query's window) is
    downsampled for that device, and only that device's minutes are recomputed."""
    store = await open_store(influxdb.store_url(influx_db))
    assert isinstance(store, InfluxStore)
    m = (int(time.time() * 1000) // 60_000 - 20) * 60_000
    b = Batch()
    for device, hrs in (("mon-late", [61, 81, 101]), ("mon-other", [50, 50, 50])):
        b.add_obs(AttributedObservation(Observation(device, 1, [Sample(m + i * 10_000, {"heart_rate": hr})
                                                                for i, hr in enumerate(hrs)]),
                                        Attribution("w1", "07", f"p-{device}")))
    late = late_ranges(b, int(time.time() * 1000) - LATE_AFTER_MS)
    assert late == {"mon-late": (m, m + 20_000), "mon-other": (m, m + 20_000)}
    writer = BatchWriter(store, DiskSpool(tmp_path), _refuse)
    await writer.write(store.encode(b), b.lines, {"mon-late": late["mon-late"]})  # mon-other: as if on time
    await writer.backfill_late_once()
    rows = influxdb.query('SELECT "heart_rate_min", "heart_rate_mean", "heart_rate_max", "device" '
                          'FROM "minute"."vitals_1m"', influx_db)
    assert [(r["time"], r["device"], r["heart_rate_min"], r["heart_rate_mean"], r["heart_rate_max"]) for r in rows] \
        == [(m, "mon-late", 61, 81, 101)]
    await store.close()


async def _refuse(data: bytes, reason: str) -> None:
    raise AssertionError(f"refused: {reason}")


async def test_backfill_writes_minute_min_mean_max(influxdb: InfluxDB, influx_db: str) -> None:
    store = await open_store(influxdb.store_url(influx_db))
    assert isinstance(store, InfluxStore)
    m = (int(time.time() * 1000) // 60_000 - 180) * 60_000  # three hours ago: outside the CQ window
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [Sample(m + i * 10_000, {"heart_rate": hr})
                                                             for i, hr in enumerate([60, 80, 100])]),
                                    Attribution("w1", "07", "p-1")))
    await store.write(store.encode(b))
    await store.backfill_downsample(m, m + 60_000)
    rows = influxdb.query('SELECT "heart_rate_min", "heart_rate_mean", "heart_rate_max" FROM "minute"."vitals_1m"',
                          influx_db)
    assert [(r["time"], r["heart_rate_min"], r["heart_rate_mean"], r["heart_rate_max"]) for r in rows] == \
        [(m, 60, 80, 100)]
    await store.close()


async def test_a_missing_database_is_created_at_write_time(influxdb: InfluxDB, influx_db: str) -> None:
    from ingest.stores import make_store

    store = make_store(influxdb.store_url(influx_db))  # not opened: InfluxDB was down when ingest started
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [Sample(int(time.time() * 1000), {"heart_rate": 70})]),
                                    Attribution()))
    await store.write(store.encode(b))
    assert await store.count("vitals", "heart_rate") == 1
    assert "raw" in {r["name"] for r in influxdb.query(f'SHOW RETENTION POLICIES ON "{influx_db}"', influx_db)}
    await store.close()


async def test_the_downsample_leaves_out_values_flagged_invalid(influxdb: InfluxDB, influx_db: str) -> None:
    """Issue 11: a quality-3 SpO2 (decoded ``invalid``) is stored flagged, but is not the minimum the
    400-day ``minute.vitals_1m`` keeps (the backfill runs the continuous query's own SELECT)."""
    store = await open_store(influxdb.store_url(influx_db))
    assert isinstance(store, InfluxStore)
    m = (int(time.time() * 1000) // 60_000 - 180) * 60_000
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [
        Sample(m, {"spo2": 97}), Sample(m + 10_000, {"spo2": 41}, {"spo2": "invalid"}),
        Sample(m + 20_000, {"spo2": 95})]), Attribution("w1", "07", "p-1")))
    await store.write(store.encode(b))
    await store.backfill_downsample(m, m + 60_000)
    rows = influxdb.query('SELECT "spo2_min", "spo2_mean", "spo2_max" FROM "minute"."vitals_1m"', influx_db)
    assert [(r["time"], r["spo2_min"], r["spo2_mean"], r["spo2_max"]) for r in rows] == [(m, 95, 96, 97)]
    raw = influxdb.query('SELECT "spo2", "spo2_invalid", "spo2_q" FROM "vitals" WHERE "spo2_q" = \'invalid\'',
                         influx_db)
    assert [(r["time"], r["spo2"], r["spo2_invalid"]) for r in raw] == [(m + 10_000, None, 41)]
    trend = await store.query_vitals(patient="p-1", signals=["spo2"], from_ms=m, to_ms=m + 60_000, every="1m")
    assert [(r.minimum, r.maximum) for r in trend] == [({"spo2": 95.0}, {"spo2": 97.0})]
    await store.close()
