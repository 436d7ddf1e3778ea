"""The write path's promise (ingest/writer.py): ``BatchWriter.write`` returns only when a batch is durable
(stored, spooled and fsynced, or kept as a rejected batch), and the caller acks only then; batches reach
the store in order, the spool never loses or reorders one, and a refused batch is handed on, never
dropped. The store here is scripted (outcomes per call) so each rule can be pinned exactly; the real
InfluxDB / Mosquitto paths are in tests/integration/ingest."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from device_profiles import AttributedObservation, Attribution, Observation, Sample
from ingest.errors import StoreRejected, StoreUnavailable
from ingest.records import Batch
from ingest.spool import DiskSpool
from ingest.writer import ONE_STATEMENT_ABOVE, BatchWriter, late_ranges


class ScriptedStore:
    """Each write takes the next outcome: ``"ok"``, ``"down"`` (unavailable) or ``"refuse"``."""

    def __init__(self, spools: bool, outcomes: list[str] | None = None) -> None:
        self.spools = spools
        self.outcomes = list(outcomes or [])
        self.stored: list[bytes] = []
        self.calls = 0
        self.backfilled: list[tuple[int, int]] = []
        self.backfilled_devices: list[tuple[str, int, int]] = []

    async def write(self, data: bytes) -> None:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "down":
            raise StoreUnavailable("store down")
        if outcome == "refuse":
            raise StoreRejected("field type conflict")
        self.stored.append(data)

    async def backfill_downsample(self, lo: int, hi: int, device: str | None = None) -> None:
        if self.outcomes and self.outcomes[0] == "backfill down":
            self.outcomes.pop(0)
            raise StoreUnavailable("store down")
        if device is None:
            self.backfilled.append((lo, hi))
        else:
            self.backfilled_devices.append((device, lo, hi))


class Rejected:
    def __init__(self) -> None:
        self.kept: list[tuple[bytes, str]] = []

    async def __call__(self, data: bytes, reason: str) -> None:
        self.kept.append((data, reason))


_pause = asyncio.sleep  # the tests' own waiting (the fixture replaces asyncio.sleep to record the writer's)


def line(t: int) -> bytes:
    return f"vitals,device=mon-1 heart_rate=70 {t}\n".encode()


@pytest.fixture
async def no_sleep(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[float]]:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        await _pause(0)

    monkeypatch.setattr("ingest.writer.asyncio.sleep", sleep)
    yield slept


async def test_write_returns_after_the_store_took_the_batch(no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1)
    await w.write(b"", 0)  # nothing to write: no call
    assert store.stored == [line(1)] and store.calls == 1 and rejected.kept == [] and no_sleep == []


async def test_unavailable_store_spools_and_later_batches_queue_behind_in_order(
        no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True, outcomes=["down"]), Rejected()
    spool = DiskSpool(tmp_path)
    w = BatchWriter(store, spool, rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1)  # durable on disk: the caller may ack
    assert len(spool) == 1 and store.stored == []
    assert DiskSpool(tmp_path).peek() == line(1)  # on disk, readable by a restarted process
    await w.write(line(2), 1)  # the store is back, but batch 2 must not overtake batch 1
    assert len(spool) == 2 and store.stored == []
    drain = asyncio.create_task(w.drain())
    try:
        for _ in range(100):
            if not len(spool):
                break
            await _pause(0.01)
    finally:
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
    assert store.stored == [line(1), line(2)] and len(spool) == 0
    assert store.backfilled == [(1, 3)]  # the drained sample times get their 1-minute downsample
    await w.write(line(3), 1)  # spool empty again: straight to the store
    assert store.stored[-1] == line(3) and len(spool) == 0


async def test_drain_keeps_a_batch_until_the_store_takes_it(no_sleep: list[float], tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(line(5))  # left by a previous process
    store, rejected = ScriptedStore(spools=True, outcomes=["down", "down", "ok"]), Rejected()
    w = BatchWriter(store, spool, rejected)  # type: ignore[arg-type]
    drain = asyncio.create_task(w.drain())  # the leftover spool is drained without a new write
    try:
        for _ in range(100):
            if store.stored:
                break
            await _pause(0.01)
    finally:
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
    assert store.stored == [line(5)] and store.calls == 3 and len(spool) == 0
    assert no_sleep[:2] == [0.5, 1.0]  # capped exponential backoff between attempts


async def test_a_refused_batch_is_handed_on_never_dropped(no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True, outcomes=["refuse"]), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1)
    assert rejected.kept == [(line(1), "field type conflict")] and store.stored == []


async def test_a_refused_spooled_batch_is_handed_on_and_the_drain_goes_on(no_sleep: list[float],
                                                                          tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(line(1))
    spool.append(line(2))
    store, rejected = ScriptedStore(spools=True, outcomes=["refuse", "ok"]), Rejected()
    w = BatchWriter(store, spool, rejected)  # type: ignore[arg-type]
    drain = asyncio.create_task(w.drain())
    try:
        for _ in range(100):
            if not len(spool):
                break
            await _pause(0.01)
    finally:
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
    assert rejected.kept == [(line(1), "field type conflict")] and store.stored == [line(2)]


async def test_without_a_spool_an_unavailable_store_is_retried_until_it_takes_the_batch(
        no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=False, outcomes=["down", "down", "down", "ok"]), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]  # SQLite-like: no spool
    assert w.spool is None
    await w.write(line(1), 1)
    assert store.stored == [line(1)] and store.calls == 4 and no_sleep == [0.2, 0.4, 0.8]
    assert len(DiskSpool(tmp_path)) == 0  # nothing was spooled


async def test_backoff_is_capped(no_sleep: list[float], tmp_path: Path) -> None:
    store = ScriptedStore(spools=False, outcomes=["down"] * 9)
    w = BatchWriter(store, None, Rejected())  # type: ignore[arg-type]
    await w.write(line(1), 1)
    assert no_sleep == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0] and store.stored == [line(1)]


async def _drain_until(w: BatchWriter, spool: DiskSpool) -> None:
    drain = asyncio.create_task(w.drain())
    try:
        for _ in range(200):
            if not len(spool):
                break
            await _pause(0.01)
    finally:
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain


async def test_the_backfill_covers_every_drained_sample_time(no_sleep: list[float], tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(line(11) + line(31))  # one batch, two samples
    spool.append(line(21))  # a later batch with a sample inside that range
    store = ScriptedStore(spools=True)
    w = BatchWriter(store, spool, Rejected())  # type: ignore[arg-type]
    await _drain_until(w, spool)
    assert store.backfilled == [(11, 32)]


async def test_the_drain_backoff_starts_again_after_each_success(no_sleep: list[float], tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(line(1))
    spool.append(line(2))
    store = ScriptedStore(spools=True, outcomes=["down", "ok", "down", "ok"])
    w = BatchWriter(store, spool, Rejected())  # type: ignore[arg-type]
    await _drain_until(w, spool)
    assert store.stored == [line(1), line(2)] and no_sleep[:2] == [0.5, 0.5]


class NoBackfillStore(ScriptedStore):
    backfill_downsample = None  # type: ignore[assignment]  # a store keeping no downsample (nothing to backfill)


class FailingBackfillStore(ScriptedStore):
    async def backfill_downsample(self, lo: int, hi: int) -> None:
        raise StoreUnavailable("query endpoint down")


@pytest.mark.parametrize("store_cls", [NoBackfillStore, FailingBackfillStore])
async def test_a_store_without_or_failing_its_backfill_keeps_draining(
        store_cls: type[ScriptedStore], no_sleep: list[float], tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(line(1))
    store = store_cls(spools=True)
    w = BatchWriter(store, spool, Rejected())  # type: ignore[arg-type]
    drain = asyncio.create_task(w.drain())
    await _drain_until(w, spool)
    await _pause(0.01)
    assert store.stored == [line(1)] and not drain.done()  # still draining, not crashed
    await w.write(line(2), 1)
    assert store.stored == [line(1), line(2)]
    drain.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await drain


async def test_spool_gauges_and_write_time_metrics(no_sleep: list[float], tmp_path: Path) -> None:
    from ingest import metrics

    def gauge(g: object) -> float:
        return float(g._value.get())  # type: ignore[attr-defined]

    w0 = BatchWriter(ScriptedStore(spools=False), None, Rejected())  # type: ignore[arg-type]
    assert gauge(metrics.SPOOL_BATCHES) == 0 and gauge(metrics.SPOOL_BYTES) == 0
    before = float(metrics.WRITE_SECONDS._sum.get())
    await w0.write(line(1), 1)
    took = float(metrics.WRITE_SECONDS._sum.get()) - before
    assert 0 <= took < 0.5  # one write to an in-memory store, not the clock's value
    spool = DiskSpool(tmp_path)
    w = BatchWriter(ScriptedStore(spools=True, outcomes=["down"]), spool, Rejected())  # type: ignore[arg-type]
    await w.write(line(1), 1)
    await w.write(line(2), 1)
    assert gauge(metrics.SPOOL_BATCHES) == 2 and gauge(metrics.SPOOL_BYTES) == spool.bytes > 0
    await _drain_until(w, spool)
    assert gauge(metrics.SPOOL_BATCHES) == 0 and gauge(metrics.SPOOL_BYTES) == 0


def _batch(*obs: tuple[str, list[int], str]) -> Batch:
    b = Batch()
    for device, times, drill in obs:
        b.add_obs(AttributedObservation(Observation(device, 1, [Sample(t, {"heart_rate": 70.0}) for t in times]),
                                        Attribution("w1", "01", "p-1", drill=drill)))
    return b


def test_late_ranges_are_per_device_and_leave_out_recent_and_drill_samples() -> None:
    b = _batch(("mon-1", [100, 5_000, 50], ""), ("mon-2", [9_000], ""), ("mon-3", [10, 20], "d1"), ("mon-1", [30], ""),
               ("mon-4", [1_000], ""))
    # mon-2 is recent, mon-4 exactly at the cutoff (not late), mon-3 is a drill
    assert late_ranges(b, cutoff_ms=1_000) == {"mon-1": (30, 100)}
    assert late_ranges(b, cutoff_ms=0) == {}


async def test_late_samples_written_get_their_downsample_per_device(no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1, {"mon-1": (100, 200)})
    await w.write(line(2), 1, {"mon-1": (50, 60), "mon-2": (7, 7)})
    await w.write(line(3), 1, {})
    assert store.backfilled_devices == []  # not before the round
    await w.backfill_late_once()
    assert sorted(store.backfilled_devices) == [("mon-1", 50, 201), ("mon-2", 7, 8)] and store.backfilled == []
    await w.backfill_late_once()  # nothing new: nothing recomputed again
    assert len(store.backfilled_devices) == 2


async def test_a_failed_downsample_round_is_tried_again(no_sleep: list[float], tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True, outcomes=["ok", "backfill down"]), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1, {"mon-1": (100, 200)})
    await w.backfill_late_once()
    assert store.backfilled_devices == []
    await w.backfill_late_once()
    assert store.backfilled_devices == [("mon-1", 100, 201)]


async def test_many_late_devices_take_one_statement_and_spooled_ones_the_drain(no_sleep: list[float],
                                                                              tmp_path: Path) -> None:
    store, rejected = ScriptedStore(spools=True, outcomes=["ok", "down"]), Rejected()
    w = BatchWriter(store, DiskSpool(tmp_path), rejected)  # type: ignore[arg-type]
    await w.write(line(1), 1, {f"mon-{i}": (1_000 + i, 2_000 + i) for i in range(ONE_STATEMENT_ABOVE + 1)})
    await w.write(line(2), 1, {"mon-x": (5, 6)})  # spooled: the drain downsamples its whole range later
    await w.backfill_late_once()
    assert store.backfilled == [(1_000, 2_000 + ONE_STATEMENT_ABOVE + 1)] and store.backfilled_devices == []
