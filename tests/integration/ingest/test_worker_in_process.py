"""An ingest worker in the test's own loop (as ``demo`` runs it): SQLite store, real Mosquitto.

Covers the arrows beside storage: the attributed republish on ward topics, alarm events from
alerting stored, ADT changes picked up through ``control/assignments``, a vendor profile's topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import orjson
import pytest

from devservers import Mosquitto
from ingest import Attributions, IngestConfig, IngestWorker, control_topic, make_engine

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running_worker(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                         max_batch_age_s: float) -> AsyncIterator[IngestWorker]:
    cfg = IngestConfig(broker=mosquitto.url, store=f"sqlite:///{tmp_path}/vitals.sqlite3",
                       state=f"sqlite:///{tmp_path}/state.sqlite3", data_dir=str(tmp_path), topic_root=topic_root,
                       max_batch_age_s=max_batch_age_s,
                       shared_group=f"ingest{topic_root[1:11]}")  # vendor topics are global
    w = IngestWorker(cfg)
    task = asyncio.create_task(w.run())
    await until(w.ready, "worker subscribed")
    yield w
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def worker(mosquitto: Mosquitto, topic_root: str, tmp_path: Path) -> AsyncIterator[IngestWorker]:
    async with running_worker(mosquitto, topic_root, tmp_path, 0.2) as w:
        yield w


async def until(cond: object, what: str, limit_s: float = 10) -> None:
    """Poll a condition (sync or async) with a deadline."""
    async with asyncio.timeout(limit_s):
        while True:
            value = cond() if callable(cond) else cond
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.05)


async def test_republish_alarm_storage_and_assignment_reload(worker: IngestWorker, mosquitto: Mosquitto,
                                                             topic_root: str, tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    adt = Attributions(make_engine(f"sqlite:///{tmp_path}/state.sqlite3"))
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"t-{topic_root[:12]}") as client:
        await client.subscribe(f"{topic_root}/wards/+/obs", qos=1)
        obs = {"v": 1, "device": "mon-7", "seq": 1, "samples": [{"t": now - 1000, "heart_rate": 72}]}
        await client.publish(f"{topic_root}/devices/mon-7/obs", orjson.dumps(obs), qos=1)
        first = await anext(client.messages)
        assert str(first.topic) == f"{topic_root}/wards/_unassigned/obs"
        # the ward's ADT changes: device to bed 07 of w1, patient admitted; ingest told to reload
        adt.assign_device("mon-7", "w1", "07", at_ms=now - 60_000)
        adt.admit("p-42", "w1", "07", at_ms=now - 60_000)
        await client.publish(control_topic(topic_root), orjson.dumps({"changed": now}), qos=1)
        await until(lambda: worker.attributions.lookup("mon-7", now).patient == "p-42", "assignment reload")
        obs = {"v": 1, "device": "mon-7", "seq": 2, "samples": [{"t": now, "heart_rate": 74, "spo2": 96}]}
        await client.publish(f"{topic_root}/devices/mon-7/obs", orjson.dumps(obs), qos=1)
        second = await anext(client.messages)
        assert str(second.topic) == f"{topic_root}/wards/w1/obs"
        assert orjson.loads(second.payload) == {**obs, "ward": "w1", "bed": "07", "patient": "p-42"}
        alarm = {"v": 1, "id": "al-1", "ward": "w1", "bed": "07", "patient": "p-42", "device": "mon-7",
                 "kind": "limit", "signal": "spo2", "priority": "medium", "event": "raised", "state": "active",
                 "t": now, "value": 96, "reason": "test", "by": None, "escalation_level": 0, "drill": ""}
        await client.publish(f"{topic_root}/alarms/w1/al-1", orjson.dumps(alarm), qos=1)
        vendor = {"serial": "BM-9", "time": "2026-01-01T00:00:00Z", "msgNo": 1, "ecg": {"hr": 61}}
        vendor["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000 - 5))
        await client.publish("bedside/w9/BM-9/numerics", orjson.dumps(vendor), qos=1)
    store = worker.store
    await until(lambda: store.count("vitals", "heart_rate"), "points stored")
    await until(lambda: worker.store.query_alarms(ward="w1", from_ms=now, to_ms=now + 1), "alarm stored")
    rows = await store.query_vitals(patient="p-42", from_ms=now - 5000, to_ms=now + 1)
    assert [(r.t, r.values) for r in rows] == [(now, {"heart_rate": 74.0, "spo2": 96.0})]
    await until(lambda: store.query_vitals(device="bm-BM-9", from_ms=now - 10_000, to_ms=now), "vendor sample")
    adt.engine.dispose()


async def test_a_missing_samples_path_is_a_dead_letter_and_an_empty_batch_is_counted(
        worker: IngestWorker, mosquitto: Mosquitto, topic_root: str) -> None:
    """Issue 14, the home wearable (samples at ``batch.readings``): a misspelled key is a dead letter
    naming the path, not battery status; an empty batch is status only and counted."""
    from ingest import metrics

    serial = f"T{topic_root[1:11]}"
    now = int(time.time() * 1000)
    empty_before = metrics.EMPTY_BATCHES._value.get()
    await until(worker.store.ping, "store open")
    topic = f"wearables/homecare/{serial}/batch"
    misspelled = {"device": {"sn": serial, "battery": 50}, "batch": {"raedings": [{"ts": now - 2000, "hr": 71}]}}
    empty = {"device": {"sn": serial, "battery": 49}, "batch": {"readings": []}}
    good = {"device": {"sn": serial, "battery": 48}, "batch": {"readings": [{"ts": now - 1000, "hr": 72}]}}
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"w-{topic_root[:12]}") as client:
        for body in (misspelled, empty, good):
            await client.publish(topic, orjson.dumps(body), qos=1)
    device = f"hw7-{serial}"
    await until(lambda: worker.store.query_vitals(device=device, from_ms=now - 10_000, to_ms=now + 1), "good batch")
    await until(lambda: list(worker.deadletters.list(reason_contains="samples path")), "dead letter")
    (letter,) = [d for d in worker.deadletters.list(reason_contains="samples path") if d.topic == topic]
    assert letter.field == "$.batch.readings" and orjson.loads(letter.payload) == misspelled
    rows = await worker.store.query_vitals(device=device, from_ms=now - 10_000, to_ms=now + 1)
    assert [r.values for r in rows] == [{"heart_rate": 72.0}]  # the misspelled batch's 71 is not lost: dead letter
    await until(lambda: metrics.EMPTY_BATCHES._value.get() == empty_before + 1, "empty batch counted")


async def test_a_status_never_overtakes_the_observations_before_it(worker: IngestWorker, mosquitto: Mosquitto,
                                                                   topic_root: str) -> None:
    """Under a burst the republished observations wait for the flush window (ingest/republish.py); a
    device status sent after them must still reach alerting and the screens after them."""
    now = int(time.time() * 1000)
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"o-{topic_root[:12]}") as client:
        await client.subscribe(f"{topic_root}/wards/+/+", qos=1)
        for seq in (1, 2):  # the first leaves at once, the second inside the flush window
            obs = {"v": 1, "device": "mon-8", "seq": seq, "samples": [{"t": now - 1000 + seq, "heart_rate": 70 + seq}]}
            await client.publish(f"{topic_root}/devices/mon-8/obs", orjson.dumps(obs), qos=1)
        await client.publish(f"{topic_root}/devices/mon-8/status", orjson.dumps({"online": True, "battery": 40}), qos=1)
        got: list[str] = []
        async with asyncio.timeout(10):
            async for m in client.messages:
                body = orjson.loads(m.payload)
                got += [f"obs {s['heart_rate']:.0f}" for s in body["samples"]] if "samples" in body else ["status"]
                if "status" in got:
                    break
        assert got == ["obs 71", "obs 72", "status"]


async def test_a_pause_in_the_stream_seals_the_batch_long_before_its_age(mosquitto: Mosquitto, topic_root: str,
                                                                        tmp_path: Path) -> None:
    """The end of a burst is stored once the stream pauses (50 ms), not when the batch's age limit ends."""
    async with running_worker(mosquitto, topic_root, tmp_path, max_batch_age_s=60) as worker:
        await until(worker.store.ping, "store open")
        now = int(time.time() * 1000)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"p-{topic_root[:12]}") as client:
            for seq in range(3):
                obs = {"v": 1, "device": "mon-5", "seq": seq, "samples": [{"t": now - 1000 + seq, "heart_rate": 60 + seq}]}
                await client.publish(f"{topic_root}/devices/mon-5/obs", orjson.dumps(obs), qos=1)

        async def stored() -> bool:
            return await worker.store.count("vitals", "heart_rate") == 3

        await until(stored, "the burst stored", limit_s=5)


async def test_sealing_a_batch_first_sends_the_observations_held_for_the_window(worker: IngestWorker,
                                                                               topic_root: str) -> None:
    """A sealed batch is acked once stored, and an acked message is never redelivered: what the flush
    window still holds of it must leave before (a crash in between would lose it for alerting)."""
    from device_profiles import AttributedObservation, Attribution, Observation, Sample

    r = worker.republisher
    r._last = asyncio.get_running_loop().time()  # a flush just now: the next waits for the window
    a = AttributedObservation(Observation("mon-6", 1, [Sample(int(time.time() * 1000), {"spo2": 97.0})]),
                              Attribution("w1", "06", "p-6"))
    r.obs(f"{topic_root}/wards/w1/obs", a, None)
    assert r.pending == 1
    worker._acks.append((1, 0))
    worker._seal()
    assert r.pending == 0
