"""The durable outbox: every message is on disk (SQLite WAL, fsync'd) before anyone publishes it.

- ``append(messages)`` stores a batch in ONE transaction (one fsync) and gives each message the
  next per-device ``seq``; the counters live in their own table, so ``seq`` keeps rising across
  restarts even after every entry was delivered and removed.
- ``put(topic, payload)`` stores an already-encoded message (the HL7 adapter's path) as-is.
- ``peek`` returns pending entries in append order (so in order per device); ``ack(ids)`` removes
  them, and is called only after the broker's PUBACK.
- Capacity is bounded by entries and bytes. Policy ``reject`` (default) refuses a batch that does
  not fit (:class:`OutboxFull`; nothing accepted is ever lost, the producer learns it at once);
  ``drop-oldest`` makes room by deleting the oldest entries and counts them in ``stats().dropped``.
- One process owns an outbox at a time (an ``flock`` beside the file, :class:`OutboxLocked`).

Synchronous on purpose (simple to reason about and to kill-test); :class:`AsyncOutbox` runs it on
one dedicated thread for asyncio code.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from device_profiles import topics

from .errors import OutboxError, OutboxFull, OutboxLocked

log = logging.getLogger(__name__)

FullPolicy = Literal["reject", "drop-oldest"]
DEFAULT_MAX_ENTRIES = 2_000_000  # 24 beds at 1 Hz for ~23 h
DEFAULT_MAX_BYTES = 1 << 30
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device TEXT NOT NULL, kind TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
  qos INTEGER NOT NULL, retain INTEGER NOT NULL, seq INTEGER, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS entries_device ON entries(device, id);
CREATE TABLE IF NOT EXISTS seqs (device TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Message:
    """A message to store: ``body`` is the JSON object without ``seq`` (the outbox assigns it)."""

    device: str
    kind: str  # "obs", "wave", "alarm": the last topic level
    topic: str
    body: dict[str, Any]
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored, not yet acknowledged message."""

    id: int
    device: str
    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    seq: int | None
    created_ms: int


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    pending_bytes: int
    max_entries: int
    max_bytes: int
    appended: int  # this process
    acked: int
    refused: int  # messages refused because the outbox was full (policy reject)
    dropped: int  # oldest entries deleted to make room (policy drop-oldest)

    @property
    def fill(self) -> float:
        """Fill level 0..1 (the larger of the entry and byte ratios)."""
        return max(self.pending / self.max_entries, self.pending_bytes / self.max_bytes)


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """A directory (existing, or a path without suffix) holds ``outbox.sqlite3``; else it is the file."""
    p = Path(path)
    if p.is_dir() or not p.suffix:
        return p / "outbox.sqlite3"
    return p


class Outbox:
    def __init__(self, path: str | os.PathLike[str], *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES, on_full: FullPolicy = "reject",
                 clock: Any = time.time) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise OutboxError("outbox capacity must be at least one entry and one byte")
        if on_full not in ("reject", "drop-oldest"):
            raise OutboxError(f"on_full must be 'reject' or 'drop-oldest', not {on_full!r}")
        self.path = resolve_path(path)
        self.max_entries, self.max_bytes, self.on_full = max_entries, max_bytes, on_full
        self._clock = clock
        self._appended = self._acked = self._refused = self._dropped = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        except OSError as exc:
            raise OutboxError(f"cannot create the outbox at {self.path}: {exc}") from exc
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise OutboxLocked(f"outbox {self.path} is in use by another process") from None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # fsync the WAL on every commit
            self._db.executescript(SCHEMA)
            n, b = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM entries").fetchone()
            self._seqs: dict[str, int] = dict(self._db.execute("SELECT device, seq FROM seqs").fetchall())
        except sqlite3.Error as exc:
            self._lock.close()
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from exc
        self._pending, self._pending_bytes = int(n), int(b)
        if n:
            log.info("outbox %s: %d messages (%d bytes) pending from before", self.path, n, b)

    # -- writing -------------------------------------------------------------------------------
    def next_seq(self, device: str) -> int:
        """The seq the next message of ``device`` will get (0 for a new device)."""
        return self._seqs.get(device, -1) + 1

    def append(self, messages: Sequence[Message]) -> list[int]:
        """Store ``messages`` durably in one transaction; return their seqs. Raises :class:`OutboxFull`."""
        if not messages:
            return []
        now = int(self._clock() * 1000)
        seqs: dict[str, int] = {}
        rows: list[tuple[Any, ...]] = []
        out: list[int] = []
        for m in messages:
            seq = seqs.get(m.device, self._seqs.get(m.device, -1)) + 1
            seqs[m.device] = seq
            payload = orjson.dumps({**m.body, "seq": seq})
            rows.append((m.device, m.kind, m.topic, payload, m.qos, int(m.retain), seq, now))
            out.append(seq)
        self._insert(rows, seqs)
        return out

    def put(self, topic: str, payload: bytes, qos: int = 1, *, device: str = "", kind: str = "raw",
            retain: bool = False) -> None:
        """Store an already-encoded message as-is (its seq, if any, is the producer's)."""
        row = (device or _device_of(topic), kind, topic, bytes(payload), qos, int(retain), None,
               int(self._clock() * 1000))
        self._insert([row], {})

    def _insert(self, rows: list[tuple[Any, ...]], seqs: dict[str, int]) -> None:
        size = sum(len(r[3]) for r in rows)
        over_n = self._pending + len(rows) - self.max_entries
        over_b = self._pending_bytes + size - self.max_bytes
        if (over_n > 0 or over_b > 0) and (self.on_full == "reject" or len(rows) > self.max_entries
                                            or size > self.max_bytes):
            self._refused += len(rows)
            raise OutboxFull(f"outbox {self.path} is full ({self._pending}/{self.max_entries} messages, "
                             f"{self._pending_bytes}/{self.max_bytes} bytes): {len(rows)} new messages refused")
        try:
            with self._tx():
                if over_n > 0 or over_b > 0:
                    self._drop_oldest(max(over_n, 0), max(over_b, 0))
                self._db.executemany(
                    "INSERT INTO entries(device, kind, topic, payload, qos, retain, seq, created_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                if seqs:
                    self._db.executemany("INSERT INTO seqs(device, seq) VALUES (?, ?) "
                                         "ON CONFLICT(device) DO UPDATE SET seq = excluded.seq", seqs.items())
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: write failed: {exc}") from exc
        self._seqs.update(seqs)
        self._pending += len(rows)
        self._pending_bytes += size
        self._appended += len(rows)

    def _drop_oldest(self, n: int, nbytes: int) -> None:
        dropped = freed = 0
        for rid, size in self._db.execute("SELECT id, length(payload) FROM entries ORDER BY id"):
            if dropped >= n and freed >= nbytes:
                break
            self._db.execute("DELETE FROM entries WHERE id = ?", (rid,))
            dropped += 1
            freed += size
        self._pending -= dropped
        self._pending_bytes -= freed
        self._dropped += dropped
        log.warning("outbox %s full: dropped the %d oldest messages (policy drop-oldest)", self.path, dropped)

    # -- draining ------------------------------------------------------------------------------
    def peek(self, limit: int = 500, devices: Iterable[str] | None = None, after_id: int = 0) -> list[Entry]:
        """Up to ``limit`` pending entries (of ``devices``, if given) with ``id > after_id``, oldest first."""
        q = "SELECT id, device, kind, topic, payload, qos, retain, seq, created_ms FROM entries WHERE id > ?"
        args: list[Any] = [after_id]
        if devices is not None:
            devs = list(devices)
            q += f" AND device IN ({', '.join('?' * len(devs))})"
            args += devs
        q += " ORDER BY id LIMIT ?"
        try:
            rows = self._db.execute(q, [*args, limit]).fetchall()
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: read failed: {exc}") from exc
        return [Entry(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], bool(r[6]), r[7], r[8]) for r in rows]

    def ack(self, ids: Sequence[int]) -> None:
        """Remove delivered entries (after PUBACK). Unknown ids are ignored (already removed)."""
        if not ids:
            return
        try:
            with self._tx():
                got = self._db.execute(
                    f"SELECT count(*), coalesce(sum(length(payload)), 0) FROM entries WHERE id IN "
                    f"({', '.join('?' * len(ids))})", list(ids)).fetchone()
                self._db.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in ids])
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: ack failed: {exc}") from exc
        self._pending -= int(got[0])
        self._pending_bytes -= int(got[1])
        self._acked += int(got[0])

    # -- state ---------------------------------------------------------------------------------
    def stats(self) -> OutboxStats:
        return OutboxStats(self._pending, self._pending_bytes, self.max_entries, self.max_bytes,
                           self._appended, self._acked, self._refused, self._dropped)

    def pending(self, device: str | None = None) -> int:
        if device is None:
            return self._pending
        return int(self._db.execute("SELECT count(*) FROM entries WHERE device = ?", (device,)).fetchone()[0])

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            self._lock.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tx(self) -> _Tx:
        return _Tx(self._db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _device_of(topic: str) -> str:
    return topics.device_level(topic)
