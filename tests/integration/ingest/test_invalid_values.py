"""Issue 11 end to end on real Mosquitto and InfluxDB: a bedside monitor flags an SpO2 reading
``searching`` (its quality code for "no valid reading", mapped to ``invalid`` by the profile). The
value is stored flagged, but it is neither the minute's minimum nor the latest value."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiomqtt
import orjson
import pytest

from devservers import InfluxDB, Mosquitto
from ingest import IngestConfig, IngestWorker

from .test_worker_in_process import until

pytestmark = pytest.mark.integration


async def test_an_spo2_flagged_invalid_by_the_monitor_stays_out_of_minimum_and_latest(
        influxdb: InfluxDB, influx_db: str, mosquitto: Mosquitto, topic_root: str, tmp_path: Path) -> None:
    serial = f"BM{topic_root[1:11]}"
    device = f"bm-{serial}"
    cfg = IngestConfig(broker=mosquitto.url, store=influxdb.store_url(influx_db),
                       state=f"sqlite:///{tmp_path}/state.sqlite3", data_dir=str(tmp_path), topic_root=topic_root,
                       max_batch_age_s=0.2, shared_group=f"ingest{topic_root[1:11]}")
    worker = IngestWorker(cfg)
    task = asyncio.create_task(worker.run())
    minute = (int(time.time() * 1000) // 60_000 - 2) * 60_000  # a whole minute, two minutes ago
    readings = [(0, 97, "ok"), (10, 95, "ok"), (20, 41, "searching")]  # the last one is the newest
    try:
        await until(worker.ready, "worker subscribed")
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"m-{topic_root[:12]}") as client:
            for k, (s, spo2, status) in enumerate(readings):
                iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(minute / 1000 + s)) + "Z"
                body = {"serial": serial, "time": iso, "msgNo": k + 1, "ecg": {"hr": 70 + k},
                        "spo2": {"value": spo2, "status": status}}
                await client.publish(f"bedside/w9/{serial}/numerics", orjson.dumps(body), qos=1)
        store = worker.store
        await until(lambda: store.count("vitals", "heart_rate"), "points stored")
        await until(lambda: store.query_vitals(device=device, signals=["heart_rate"], from_ms=minute,
                                               to_ms=minute + 60_000), "three samples")
        raw = await store.query_vitals(device=device, signals=["spo2"], from_ms=minute, to_ms=minute + 60_000)
        assert [(r.values, r.quality) for r in raw] == [
            ({"spo2": 97.0}, {}), ({"spo2": 95.0}, {}), ({"spo2": 41.0}, {"spo2": "invalid"})]
        (agg,) = await store.query_vitals(device=device, signals=["spo2"], from_ms=minute, to_ms=minute + 60_000,
                                          every="1m")
        assert (agg.minimum, agg.maximum) == ({"spo2": 95.0}, {"spo2": 97.0})
        latest = {v.signal: (v.t, v.value) for v in await store.latest(device=device, since_ms=minute)}
        assert latest["spo2"] == (minute + 10_000, 95.0) and latest["heart_rate"] == (minute + 20_000, 72.0)
        # the 400-day downsample, computed by the continuous query's own SELECT
        await store.backfill_downsample(minute, minute + 60_000)  # type: ignore[attr-defined]
        rows = influxdb.query(f'SELECT "spo2_min", "spo2_max" FROM "minute"."vitals_1m" WHERE "device" = \'{device}\'',
                              influx_db)
        assert [(r["time"], r["spo2_min"], r["spo2_max"]) for r in rows] == [(minute, 95, 97)]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
