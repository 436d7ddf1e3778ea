"""Dead letters: every rejected message, kept whole (topic, payload bytes, reason naming the field,
receive time) in SQLite (``{data_dir}/deadletters.sqlite3``, WAL, synchronous=FULL).

Workers add rows in batches and acknowledge the messages only after the commit.
``smartward deadletter replay`` re-processes rows through the current decoders and deletes the
ones that now decode (see :mod:`ingest.replay`).

Payloads are raw device data and may identify patients, so the store is bounded by a
:class:`DeadLetterPolicy` (``SMARTWARD_DEADLETTER_*``, read by ``smartward.settings`` and passed in): letters older than the retention (30 days by
default) are deleted, and above the quota (rows, payload bytes) the oldest are dropped first. Both
are policy, not silent loss: every pruned letter is counted
(``smartward_ingest_deadletters_dropped_total{why=expired|quota}``) and logged. Ingest prunes
periodically (:meth:`DeadLetterStore.prune_periodically`, in a thread on a connection of its own,
never on the message path); deleted content is overwritten (``secure_delete``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from . import metrics
from .errors import IngestError

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


class _PolicyBounds(BaseModel):
    """The bounds of ``SMARTWARD_DEADLETTER_RETENTION_DAYS`` / ``_MAX_ROWS`` / ``_MAX_BYTES`` / ``_PRUNE_INTERVAL_S``."""

    model_config = ConfigDict(extra="forbid")

    retention_days: float = Field(default=30.0, gt=0, le=3650)
    max_rows: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    prune_interval_s: float = Field(default=60.0, gt=0, le=86_400)


@dataclass(frozen=True, slots=True)
class DeadLetterPolicy:
    """How long and how much the dead-letter store keeps (quota: payload bytes and rows)."""

    retention_days: float = 30.0
    max_rows: int = 100_000
    max_bytes: int = 512 * 1024 * 1024
    prune_interval_s: float = 60.0

    @classmethod
    def validated(cls, **values: float) -> DeadLetterPolicy:
        """From settings (unset ones default), bounds checked (pydantic ``ValidationError``, a ``ValueError``)."""
        s = _PolicyBounds.model_validate(values)
        return cls(s.retention_days, s.max_rows, s.max_bytes, s.prune_interval_s)

    def describe(self) -> str:
        return (f"retention {self.retention_days:g} days, max {self.max_rows} rows, max {self.max_bytes} payload "
                f"bytes (oldest dropped first), pruned every {self.prune_interval_s:g} s by ingest")


@dataclass(frozen=True, slots=True)
class PruneResult:
    expired: int = 0
    over_quota: int = 0


SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  received_ms INTEGER NOT NULL,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dead_letters_received ON dead_letters (received_ms);
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    received_ms: int
    topic: str
    payload: bytes
    field: str
    reason: str
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    received_ms: int
    topic: str
    payload: bytes
    field: str
    reason: str


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA secure_delete=ON")  # pruned payloads are overwritten, not left in free pages
    return db


class DeadLetterStore:
    """Thread-compatible: used from one thread at a time (workers call it via ``asyncio.to_thread``);
    :meth:`prune` uses a connection of its own and may run alongside."""

    def __init__(self, path: Path, policy: DeadLetterPolicy | None = None) -> None:
        self.path = path
        self.policy = policy or DeadLetterPolicy()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _connect(path)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise IngestError(f"dead-letter store {path}: {exc}") from exc

    def add_many(self, letters: Iterable[NewDeadLetter]) -> None:
        rows = [(d.received_ms, d.topic, d.payload, d.field, d.reason) for d in letters]
        if not rows:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO dead_letters (received_ms, topic, payload, field, reason) VALUES (?,?,?,?,?)", rows)
        except sqlite3.Error as exc:
            raise IngestError(f"dead-letter store {self.path}: {exc}") from exc

    def list(self, since_ms: int | None = None, reason_contains: str | None = None,
             limit: int | None = None) -> Iterator[DeadLetter]:
        sql = "SELECT id, received_ms, topic, payload, field, reason, attempts FROM dead_letters WHERE 1=1"
        args: list[object] = []
        if since_ms is not None:
            sql += " AND received_ms >= ?"
            args.append(since_ms)
        if reason_contains:
            sql += " AND instr(lower(reason), lower(?)) > 0"
            args.append(reason_contains)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for r in self._db.execute(sql, args).fetchall():
            yield DeadLetter(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6])

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def size_bytes(self) -> int:
        """Payload bytes held (what the byte quota counts)."""
        return int(self._db.execute("SELECT coalesce(sum(length(payload)), 0) FROM dead_letters").fetchone()[0])

    def oldest_ms(self) -> int | None:
        row = self._db.execute("SELECT min(received_ms) FROM dead_letters").fetchone()
        return None if row[0] is None else int(row[0])

    def prune(self, now_ms: int | None = None) -> PruneResult:
        """Delete letters past the retention, then the oldest over the quota; count and log both."""
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        p = self.policy
        try:
            db = _connect(self.path)
            try:
                db.execute("BEGIN IMMEDIATE")
                expired = db.execute("DELETE FROM dead_letters WHERE received_ms < ?",
                                     (now - int(p.retention_days * DAY_MS),)).rowcount
                over = 0
                rows = int(db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
                if rows > p.max_rows:
                    over += db.execute("DELETE FROM dead_letters WHERE id IN "
                                       "(SELECT id FROM dead_letters ORDER BY id LIMIT ?)",
                                       (rows - p.max_rows,)).rowcount
                total = int(db.execute("SELECT coalesce(sum(length(payload)), 0) FROM dead_letters").fetchone()[0])
                if total > p.max_bytes:
                    cutoff = db.execute(
                        "SELECT min(id) FROM (SELECT id, sum(length(payload)) OVER (ORDER BY id) AS run "
                        "FROM dead_letters) WHERE run >= ?", (total - p.max_bytes,)).fetchone()[0]
                    over += db.execute("DELETE FROM dead_letters WHERE id <= ?", (cutoff,)).rowcount
                db.execute("COMMIT")
                if expired or over:
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise IngestError(f"dead-letter store {self.path}: prune: {exc}") from exc
        if expired:
            metrics.DEADLETTERS_DROPPED.labels(why="expired").inc(expired)
            log.info("dead letters: %d older than %g days deleted (retention policy)", expired, p.retention_days)
        if over:
            metrics.DEADLETTERS_DROPPED.labels(why="quota").inc(over)
            log.warning("dead letters: %d oldest dropped over the quota (max %d rows, %d payload bytes); "
                        "replay or fix the profiles sooner, or raise SMARTWARD_DEADLETTER_MAX_*",
                        over, p.max_rows, p.max_bytes)
        return PruneResult(expired, over)

    async def prune_periodically(self) -> None:
        """Prune now and every ``policy.prune_interval_s`` (in a thread; runs until cancelled)."""
        while True:
            try:
                await asyncio.to_thread(self.prune)
            except IngestError as exc:
                log.error("%s; retrying at the next interval", exc)
            await asyncio.sleep(self.policy.prune_interval_s)

    def delete(self, ids: Iterable[int]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM dead_letters WHERE id = ?", [(i,) for i in ids])

    def note_attempt(self, letter_id: int, field: str, reason: str) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE dead_letters SET attempts = attempts + 1, field = ?, reason = ? WHERE id = ?",
                             (field, reason, letter_id))

    def close(self) -> None:
        self._db.close()
