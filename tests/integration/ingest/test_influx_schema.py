"""InfluxDB setup: retention policies, the downsampling continuous query, and the backfill."""

from __future__ import annotations

import time

import pytest

from device_profiles import NUMERIC_SIGNALS, AttributedObservation, Attribution, Observation, Sample
from devservers import InfluxDB
from ingest import Batch
from ingest.stores import InfluxStore, open_store

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
