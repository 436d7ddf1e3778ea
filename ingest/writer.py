"""Durable batch writing: store write, or disk spool when the store is down, drained in order later.

:meth:`BatchWriter.write` returns only when the data is durable (the store answered 2xx, or the
spool file is fsynced): the caller acknowledges the messages after it returns. While the spool
holds anything, new batches are appended behind it, so the store receives batches in order. A batch
the store refuses outright (4xx) is handed to ``on_rejected`` (kept as a dead letter), never dropped.
For stores without a spool (SQLite), an unavailable store is retried in place with capped backoff.

The store's 1-minute downsample (InfluxDB's continuous query) only resamples the last two minutes.
Samples older than :data:`LATE_AFTER_MS` when written (a gateway's backlog, a device whose clock runs
behind, a spool drained after an outage) are therefore downsampled here: :meth:`BatchWriter.backfill_late`
recomputes their minutes per device every :data:`BACKFILL_EVERY_S`, and a drained spool's whole range
is recomputed once it is empty.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from device_profiles.retry import Backoff

from . import metrics
from .errors import StoreError, StoreRejected, StoreUnavailable
from .records import Batch
from .spool import DiskSpool
from .stores import VitalsStore

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 10.0
# The continuous query runs each minute over the current and the previous minute: a sample older than
# this when it is written may have missed its minute's run (15 s of margin before the 60 s limit).
LATE_AFTER_MS = 45_000
BACKFILL_EVERY_S = 15.0
ONE_STATEMENT_ABOVE = 50  # more late devices than this in one round: one statement over their whole range

Ranges = dict[str, tuple[int, int]]


def late_ranges(batch: Batch, cutoff_ms: int) -> Ranges:
    """Per device, the time range of the batch's clinical samples older than ``cutoff_ms`` (drill
    samples go to the drill policy, which has no downsample)."""
    out: Ranges = {}
    for a in batch.obs:
        if a.who.drill:
            continue
        for s in a.obs.samples:
            if s.t < cutoff_ms:
                r = out.get(a.obs.device)
                out[a.obs.device] = (s.t, s.t) if r is None else (min(r[0], s.t), max(r[1], s.t))
    return out


def merge_ranges(into: Ranges, more: Mapping[str, tuple[int, int]]) -> None:
    for device, (lo, hi) in more.items():
        r = into.get(device)
        into[device] = (lo, hi) if r is None else (min(r[0], lo), max(r[1], hi))


async def backfill_ranges(store: VitalsStore, ranges: Ranges) -> None:
    """Recompute the 1-minute downsample of ``ranges`` (per device; over :data:`ONE_STATEMENT_ABOVE`
    devices, one statement over their whole range). A store without a downsample has nothing to do.
    Raises :class:`StoreError`; ``ranges`` then holds what is still to do."""
    backfill = getattr(store, "backfill_downsample", None)
    if backfill is None or not ranges:
        ranges.clear()
        return
    if len(ranges) > ONE_STATEMENT_ABOVE:
        await backfill(min(lo for lo, _ in ranges.values()), max(hi for _, hi in ranges.values()) + 1)
        ranges.clear()
        return
    for device in list(ranges):
        lo, hi = ranges[device]
        await backfill(lo, hi + 1, device=device)
        del ranges[device]


class BatchWriter:
    def __init__(self, store: VitalsStore, spool: DiskSpool | None,
                 on_rejected: Callable[[bytes, str], Awaitable[None]]) -> None:
        self.store = store
        self.spool = spool if store.spools else None
        self.on_rejected = on_rejected
        self._wake = asyncio.Event()
        self._spooled: tuple[int, int] | None = None  # sample-time range that went through the spool
        self._late: Ranges = {}  # late samples stored directly, per device, waiting for their downsample
        self._gauge()
        if self.spool is not None and len(self.spool):
            log.warning("spool %s holds %d batches from before: draining", self.spool.dir, len(self.spool))
            self._wake.set()

    def _gauge(self) -> None:
        metrics.SPOOL_BATCHES.set(len(self.spool) if self.spool is not None else 0)
        metrics.SPOOL_BYTES.set(self.spool.bytes if self.spool is not None else 0)

    async def _send(self, data: bytes, lines: int) -> None:
        t0 = time.perf_counter()
        await self.store.write(data)
        metrics.WRITE_SECONDS.observe(time.perf_counter() - t0)
        metrics.BATCH_LINES.observe(lines)
        metrics.POINTS.inc(lines)

    async def _to_spool(self, data: bytes) -> None:
        assert self.spool is not None
        await asyncio.to_thread(self.spool.append, data)
        self._gauge()
        self._wake.set()

    async def write(self, data: bytes, lines: int, late: Mapping[str, tuple[int, int]] | None = None) -> None:
        """Return once ``data`` is durable (stored, spooled or kept as a rejected batch). ``late``: the
        batch's samples older than :data:`LATE_AFTER_MS` per device (:func:`late_ranges`); stored
        directly, their minutes are downsampled by :meth:`backfill_late` (spooled, by the drain)."""
        if not data:
            return
        if self.spool is not None and len(self.spool):
            await self._to_spool(data)
            return
        backoff = Backoff(0.2, MAX_BACKOFF_S)
        while True:
            try:
                await self._send(data, lines)
                if late:
                    merge_ranges(self._late, late)
                return
            except StoreUnavailable as exc:
                metrics.WRITE_ERRORS.labels(kind="unavailable").inc()
                if self.spool is not None:
                    log.warning("store unavailable (%s): spooling %d points to %s", exc, lines, self.spool.dir)
                    await self._to_spool(data)
                    return
                log.warning("store unavailable (%s): retry in %.1fs", exc, backoff.delay)
                await backoff.wait()
            except StoreRejected as exc:
                metrics.WRITE_ERRORS.labels(kind="rejected").inc()
                log.error("store refused a batch of %d points: %s (kept as a dead letter)", lines, exc)
                await self.on_rejected(data, str(exc))
                return

    def _note_range(self, data: bytes) -> None:
        """Remember the sample times of drained ``vitals`` lines (the timestamp ends each line)."""
        ts = [int(line.rsplit(b" ", 1)[1]) for line in data.splitlines() if line.startswith(b"vitals")]
        if ts:
            lo, hi = min(ts), max(ts)
            if self._spooled is not None:
                lo, hi = min(lo, self._spooled[0]), max(hi, self._spooled[1])
            self._spooled = (lo, hi)

    async def _backfill(self) -> None:
        """Late data is older than the continuous query's window: recompute its 1-minute downsample."""
        backfill = getattr(self.store, "backfill_downsample", None)
        if self._spooled is None or backfill is None:
            return
        lo, hi = self._spooled
        self._spooled = None
        try:
            await backfill(lo, hi + 1)
        except StoreError as exc:
            log.warning("downsample backfill %s..%s failed: %s", lo, hi, exc)

    async def backfill_late(self, every_s: float = BACKFILL_EVERY_S) -> None:
        """Forever: every ``every_s``, downsample the minutes of late samples stored since the last round
        (one statement per device; over :data:`ONE_STATEMENT_ABOVE` devices, one over their whole range).
        A round that fails is kept and tried again with the next one."""
        backfill = getattr(self.store, "backfill_downsample", None)
        if backfill is None:
            return
        while True:
            await asyncio.sleep(every_s)
            await self.backfill_late_once()

    async def backfill_late_once(self) -> None:
        if not self._late:
            return
        pending, self._late = self._late, {}
        try:
            await backfill_ranges(self.store, pending)
        except StoreError as exc:
            log.warning("downsample of late samples (%d devices) failed, retried in %.0f s: %s",
                        len(pending), BACKFILL_EVERY_S, exc)
            merge_ranges(self._late, pending)

    async def drain(self) -> None:
        """Forever: send spooled batches in order once the store answers (capped backoff)."""
        if self.spool is None:
            return
        backoff = Backoff(0.5, MAX_BACKOFF_S)
        while True:
            await self._wake.wait()
            while (data := self.spool.peek()) is not None:
                try:
                    await self._send(data, data.count(b"\n"))
                except StoreUnavailable as exc:
                    log.info("spool %s: %d batches waiting, store still unavailable (%s); retry in %.1fs",
                             self.spool.dir, len(self.spool), exc, backoff.delay)
                    await backoff.wait()
                    continue
                except StoreRejected as exc:
                    await self.on_rejected(data, str(exc))
                self.spool.pop()
                self._gauge()
                backoff.reset()
                self._note_range(data)
                if not len(self.spool):
                    log.info("spool %s drained", self.spool.dir)
                    await self._backfill()
            self._wake.clear()
