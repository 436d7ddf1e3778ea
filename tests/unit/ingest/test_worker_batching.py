"""Batching in a worker, without a broker: seal at N points or after the age limit, dead letters and
points are durable before acks are due (the broker side is covered by tests/integration/ingest)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from ingest import IngestConfig, IngestWorker
from ingest.deadletters import DeadLetterStore

ROOT = "u/smartward/v1"


def worker(tmp_path: Path, **over: object) -> IngestWorker:
    cfg = IngestConfig(broker="mqtt://127.0.0.1:1", store=f"sqlite:///{tmp_path}/vitals.sqlite3",
                       state=f"sqlite:///{tmp_path}/state.sqlite3", data_dir=str(tmp_path), topic_root=ROOT,
                       **over)  # type: ignore[arg-type]
    return IngestWorker(cfg)


def message(mid: int, payload: bytes, device: str = "mon-1") -> tuple[str, bytes, int, int]:
    return f"{ROOT}/devices/{device}/obs", payload, mid, 1


def good(seq: int, t: int) -> bytes:
    return orjson.dumps({"v": 1, "device": "mon-1", "seq": seq, "samples": [{"t": t, "heart_rate": 60 + seq % 50}]})


async def test_batches_seal_at_the_point_limit_and_commit_durably(tmp_path: Path) -> None:
    w = worker(tmp_path, max_batch_lines=10)
    now = int(time.time() * 1000)
    for i in range(25):
        w._on_message(*message(i + 1, good(i, now - 25_000 + i * 1000)))
    w._on_message(*message(99, b"not json"))
    assert [u.batch.lines for u in w._units] == [10, 10]
    assert len(w._acks) == 6 and w._batch.lines == 5 and len(w._dead) == 1
    await w.store.open()
    w._seal()
    while w._units:
        await w._commit(w._units.popleft())
    assert await w.store.count("vitals", "heart_rate") == 25
    letters = list(DeadLetterStore(tmp_path / "deadletters.sqlite3").list())
    assert [(d.topic, d.field, d.payload) for d in letters] == [(f"{ROOT}/devices/mon-1/obs", "$", b"not json")]
    await w.store.close()


async def test_a_partial_batch_is_sealed_after_the_age_limit(tmp_path: Path) -> None:
    w = worker(tmp_path, max_batch_age_s=0.05)
    ager = asyncio.create_task(w._age_loop())
    try:
        w._on_message(*message(1, good(1, int(time.time() * 1000))))
        async with asyncio.timeout(5):
            await w._sealed.wait()
        assert w._units[0].acks == [(1, 1)] and not w._acks
    finally:
        ager.cancel()
