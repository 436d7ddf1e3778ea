"""Dead letters: every rejected message, kept whole (topic, payload bytes, reason naming the field,
receive time) in SQLite (``{data_dir}/deadletters.sqlite3``, WAL, synchronous=FULL).

Workers add rows in batches and acknowledge the messages only after the commit.
``smartward deadletter replay`` re-processes rows through the current decoders and deletes the
ones that now decode (see :mod:`ingest.replay`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import IngestError

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


class DeadLetterStore:
    """Thread-compatible: used from one thread at a time (workers call it via ``asyncio.to_thread``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
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
