"""The demo's simulated history: hours of one-a-minute baseline samples for each bed, attributed to its
patient, in the raw table and the 1-minute downsample the 8/24 h trends read; plausible values; written
once (a restarted demo keeps what it has) and never in the future."""

from __future__ import annotations

import random
import time
from pathlib import Path

from gateway_agent.physiology import Baseline, Patient
from ingest.stores import SQLiteStore
from smartward.demo_history import HistoryBed, backfill

NOW = int(time.time()) // 60 * 60_000 + 17_000  # recent: the store purges raw rows past 7 days


async def test_history_fills_the_trends_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "v.sqlite3")
    await store.open()
    try:
        rng = random.Random(1)
        beds = [HistoryBed(f"mon-{i}", "w1", f"0{i}", f"DEMO-w1-0{i}", Patient(Baseline.random(rng), rng)) for i in (1, 2)]
        n = await backfill(store, beds, NOW, hours=6)
        assert n == 2 * 6 * 60
        rows = await store.query_vitals(patient="DEMO-w1-01", from_ms=NOW - 8 * 3_600_000, to_ms=NOW, every="1m")
        assert len(rows) == 6 * 60 and all(r.device == "mon-1" for r in rows)
        assert rows[0].t <= NOW - 6 * 3_600_000 + 60_000 and rows[-1].t < NOW
        hr = [r.values["heart_rate"] for r in rows]
        spo2 = [r.values["spo2"] for r in rows]
        assert min(hr) >= 40 and max(hr) <= 140 and min(spo2) >= 85 and max(spo2) <= 100
        raw = await store.query_vitals(patient="DEMO-w1-02", from_ms=NOW - 7 * 3_600_000, to_ms=NOW)
        assert sum("nibp_sys" in r.values for r in raw) == 6 * 4 and sum("temperature" in r.values for r in raw) == 6
        assert {r.ward for r in raw} == {"w1"} and {r.bed for r in raw} == {"02"}
        # a restart writes nothing more
        assert await backfill(store, beds, NOW + 120_000, hours=6) == 0
    finally:
        await store.close()
