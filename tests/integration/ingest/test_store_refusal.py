"""A batch InfluxDB refuses with a 4xx (a field-type conflict), end to end on real InfluxDB and
Mosquitto (issue 14): kept as a dead letter with the store's reason, the messages acked only once
that dead letter is durable, and ``smartward deadletter replay`` stores it after the conflict is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import httpx
import orjson
import pytest

from devservers import InfluxDB, Mosquitto
from ingest import IngestConfig, IngestWorker, metrics
from ingest.worker import STORE_REJECTED_TOPIC

from .conftest import REPO
from .test_worker_in_process import until

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


def _stored(influxdb: InfluxDB, db: str) -> int:
    rows = influxdb.query('SELECT count("heart_rate") FROM "raw"."vitals" WHERE "device" = \'mon-c\'', db)
    return int(rows[0]["count"]) if rows else 0  # type: ignore[call-overload]


async def test_a_refused_batch_is_a_durable_dead_letter_before_the_ack_and_replays_once_fixed(
        influxdb: InfluxDB, influx_db: str, mosquitto: Mosquitto, topic_root: str, tmp_path: Path) -> None:
    t0 = int(time.time() * 1000) - 120_000
    if t0 // DAY_MS != (t0 + 10_000) // DAY_MS:  # keep every point in one shard (field types are per shard)
        t0 -= 20_000

    cfg = IngestConfig(broker=mosquitto.url, store=influxdb.store_url(influx_db),
                       state=f"sqlite:///{tmp_path}/state.sqlite3", data_dir=str(tmp_path), topic_root=topic_root,
                       max_batch_age_s=0.2, shared_group=f"ingest{topic_root[1:11]}")
    worker = IngestWorker(cfg)
    task = asyncio.create_task(worker.run())
    # the dead-letter database is held by another process's write lock (a real fault: nothing can be kept)
    lock = sqlite3.connect(cfg.deadletters_path, isolation_level=None, timeout=30)
    try:
        await until(worker.ready, "worker subscribed")
        await until(worker.store.ping, "store open")
        await until(lambda: "raw" in {r["name"] for r in influxdb.query(f'SHOW RETENTION POLICIES ON "{influx_db}"',
                                                                         influx_db)}, "retention policies")
        # another writer put heart_rate into this shard as a string: our float heart_rate now conflicts
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{influxdb.url}/write", params={"db": influx_db, "rp": "raw", "precision": "ms"},
                                content=f'vitals,device=intruder heart_rate="n/a" {t0}\n'.encode())
        assert r.status_code == 204, r.text
        unacked0 = metrics.UNACKED._value.get()
        stored0 = metrics.MESSAGES.labels(result="stored")._value.get()
        lock.execute("BEGIN EXCLUSIVE")
        msgs = [{"v": 1, "device": "mon-c", "seq": k, "samples": [{"t": t0 + 1000 * (k + 1), "heart_rate": 70 + k}]}
                for k in range(3)]
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"p-{topic_root[:12]}") as client:
            for m in msgs:
                await client.publish(f"{topic_root}/devices/mon-c/obs", orjson.dumps(m), qos=1)
        await until(lambda: metrics.UNACKED._value.get() == unacked0 + 3, "the three messages in a sealed batch")
        await asyncio.sleep(1.5)  # the store has refused the batch by now; the dead letter cannot be written
        assert metrics.UNACKED._value.get() == unacked0 + 3, "acked before the dead letter was durable"
        assert metrics.MESSAGES.labels(result="stored")._value.get() == stored0
        assert lock.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
        lock.execute("COMMIT")  # the lock is gone: the letter is written, then the messages are acked

        await until(lambda: list(worker.deadletters.list(reason_contains="field type conflict")), "dead letter")
        (letter,) = list(worker.deadletters.list())
        assert letter.topic == STORE_REJECTED_TOPIC
        assert "(400)" in letter.reason and 'input field \\"heart_rate\\"' in letter.reason, letter.reason
        assert letter.payload.count(b"mon-c") == 3
        await until(lambda: metrics.UNACKED._value.get() == unacked0, "messages acked after the dead letter")
        assert metrics.MESSAGES.labels(result="stored")._value.get() == stored0 + 3
    finally:
        lock.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert _stored(influxdb, influx_db) == 0  # InfluxDB wrote none of the three (they are in the dead letter)

    # replay while the conflict stands: still rejected, the letter stays with the store's reason
    def replay() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "smartward", "deadletter", "replay", "--data-dir", str(tmp_path),
                               "--store", influxdb.store_url(influx_db), "--topic-root", topic_root],
                              cwd=REPO, capture_output=True, text=True, timeout=60)

    first = replay()
    assert first.returncode == 1 and "field type conflict" in first.stdout, first.stdout + first.stderr
    # the operator resolves the conflict (the foreign string data goes), then replays
    influxdb.query('DROP MEASUREMENT "vitals"', influx_db)
    second = replay()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 stored and removed, 0 still rejected" in second.stdout
    assert _stored(influxdb, influx_db) == 3
