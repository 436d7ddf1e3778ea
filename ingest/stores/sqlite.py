"""The embedded vitals store: one SQLite file (WAL, synchronous=FULL), for ``demo`` and single-ward sites.

Same schema idea as InfluxDB: ``vitals`` keyed by (device, signal, t) — an upsert, so redelivery
never creates a second row; ``vitals_1m`` holds the 1-minute min/mean/max, recomputed from raw for
every minute a batch touches (exact, idempotent), leaving out values flagged ``invalid`` (stored
flagged, never in an aggregate nor :meth:`SQLiteStore.latest`); ``waveform`` one row per chunk; ``alarms`` one row
per (alarm id, event, t). Raw rows older than the raw retention (7 days) and minutes older than 400
days are deleted at most once an hour. Several processes may share the file (WAL + busy timeout).
Live-drill data (``drill`` set) goes to ``drill_vitals``, ``drill_waveform`` and ``drill_alarms``,
which no read here touches, kept 7 days (``DRILL_RETENTION_MS``) and deleted by :meth:`SQLiteStore.purge_drill`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError, StoreRejected, StoreUnavailable
from ..records import Batch
from .base import (
    DOWNSAMPLE_RETENTION_MS,
    DRILL_RETENTION_MS,
    RAW_RETENTION_MS,
    Every,
    LatestValue,
    StoredAlarm,
    StoredChunk,
    VitalsRow,
    check_limit,
    check_selector,
    check_signals,
    safe_id,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS vitals (device TEXT NOT NULL, signal TEXT NOT NULL, t INTEGER NOT NULL, value REAL,
  quality TEXT, ward TEXT NOT NULL, bed TEXT NOT NULL, patient TEXT NOT NULL, drill TEXT NOT NULL,
  PRIMARY KEY (device, signal, t)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vitals_patient_t ON vitals (patient, t);
CREATE INDEX IF NOT EXISTS vitals_ward_t ON vitals (ward, t);
CREATE TABLE IF NOT EXISTS vitals_1m (device TEXT NOT NULL, signal TEXT NOT NULL, t INTEGER NOT NULL,
  min REAL, mean REAL, max REAL, n INTEGER, patient TEXT NOT NULL,
  PRIMARY KEY (device, signal, t)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vitals_1m_patient_t ON vitals_1m (patient, t);
CREATE TABLE IF NOT EXISTS waveform (device TEXT NOT NULL, signal TEXT NOT NULL, t INTEGER NOT NULL, fs REAL NOT NULL,
  samples TEXT NOT NULL, ward TEXT NOT NULL, bed TEXT NOT NULL, patient TEXT NOT NULL, drill TEXT NOT NULL,
  PRIMARY KEY (device, signal, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (id TEXT NOT NULL, event TEXT NOT NULL, t INTEGER NOT NULL, ward TEXT, bed TEXT,
  patient TEXT, device TEXT, kind TEXT, signal TEXT, priority TEXT, drill TEXT, state TEXT, value REAL,
  reason TEXT, by_ TEXT, escalation_level INTEGER, PRIMARY KEY (id, event, t)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarms_ward_t ON alarms (ward, t);
CREATE TABLE IF NOT EXISTS drill_vitals (device TEXT NOT NULL, signal TEXT NOT NULL, t INTEGER NOT NULL, value REAL,
  quality TEXT, ward TEXT NOT NULL, bed TEXT NOT NULL, patient TEXT NOT NULL, drill TEXT NOT NULL,
  PRIMARY KEY (device, signal, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drill_waveform (device TEXT NOT NULL, signal TEXT NOT NULL, t INTEGER NOT NULL,
  fs REAL NOT NULL, samples TEXT NOT NULL, ward TEXT NOT NULL, bed TEXT NOT NULL, patient TEXT NOT NULL,
  drill TEXT NOT NULL, PRIMARY KEY (device, signal, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drill_alarms (id TEXT NOT NULL, event TEXT NOT NULL, t INTEGER NOT NULL, ward TEXT,
  bed TEXT, patient TEXT, device TEXT, kind TEXT, signal TEXT, priority TEXT, drill TEXT, state TEXT, value REAL,
  reason TEXT, by_ TEXT, escalation_level INTEGER, PRIMARY KEY (id, event, t)) WITHOUT ROWID;
"""
DRILL_TABLES = ("drill_vitals", "drill_waveform", "drill_alarms")
UPSERT_VITAL = ("INSERT INTO vitals VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (device, signal, t) DO UPDATE SET "
                "value=excluded.value, quality=excluded.quality, ward=excluded.ward, bed=excluded.bed, "
                "patient=excluded.patient, drill=excluded.drill")
DOWNSAMPLE = """INSERT OR REPLACE INTO vitals_1m
SELECT v.device, v.signal, (v.t / 60000) * 60000 AS m, min(v.value), avg(v.value), max(v.value), count(v.value),
       max(v.patient)
FROM vitals v JOIN touched k ON v.device = k.device AND v.t >= k.m AND v.t < k.m + 60000
WHERE v.value IS NOT NULL AND v.quality IS NOT 'invalid' GROUP BY v.device, v.signal, m"""


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"store URL {url!r}: expected sqlite:///path")
    return Path(url[len("sqlite:///"):])


class SQLiteStore:
    spools = False

    def __init__(self, path: Path, raw_retention_ms: int = RAW_RETENTION_MS) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.raw_retention_ms = raw_retention_ms
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._last_retention = 0.0

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        return db

    async def _run(self, fn: Any, *args: Any) -> Any:
        async with self._lock:
            if self._db is None:
                raise StoreUnavailable(f"{self.url} is not open")
            try:
                return await asyncio.to_thread(fn, self._db, *args)
            except sqlite3.OperationalError as exc:  # locked / disk I/O: retryable
                raise StoreUnavailable(f"{self.url}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise StoreRejected(f"{self.url}: {exc}") from exc

    async def open(self) -> None:
        if self._db is None:
            try:
                self._db = await asyncio.to_thread(self._connect)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"{self.url}: {exc}") from exc

    async def close(self) -> None:
        async with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    async def ping(self) -> bool:
        return self._db is not None

    # -- writes ----------------------------------------------------------------------------------
    def encode(self, batch: Batch) -> bytes:
        clinical: list[list[Any]] = []
        drill_vitals: list[list[Any]] = []
        for a in batch.obs:
            w = a.who
            vitals = drill_vitals if w.drill else clinical
            for s in a.obs.samples:
                q = s.quality
                for name, value in s.values.items():
                    vitals.append([a.obs.device, name, s.t, value, q.get(name), w.ward, w.bed, w.patient, w.drill])
                for name, qual in q.items():
                    if name not in s.values:
                        vitals.append([a.obs.device, name, s.t, None, qual, w.ward, w.bed, w.patient, w.drill])
        waves = [[c.device, c.signal, c.t0, c.fs, orjson.dumps(c.samples).decode(), w.ward, w.bed, w.patient, w.drill]
                 for c, w in batch.waves]
        alarms = [[e.id, e.tags["event"], e.t, *(e.tags[k] for k in ("ward", "bed", "patient", "device", "kind",
                                                                     "signal", "priority", "drill")),
                   e.state.value, e.value, e.reason, e.by or "", e.escalation_level] for e in batch.alarms]
        return orjson.dumps({"v": clinical, "w": [r for r in waves if not r[8]], "a": [r for r in alarms if not r[10]],
                             "dv": drill_vitals, "dw": [r for r in waves if r[8]], "da": [r for r in alarms if r[10]]})

    def _write(self, db: sqlite3.Connection, data: bytes) -> None:
        doc = orjson.loads(data)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(UPSERT_VITAL, doc["v"])
            if doc["v"]:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (device TEXT, m INTEGER, PRIMARY KEY (device, m))")
                db.execute("DELETE FROM touched")
                db.executemany("INSERT OR IGNORE INTO touched VALUES (?, ?)",
                               {(r[0], r[2] // 60000 * 60000) for r in doc["v"]})
                db.execute(DOWNSAMPLE)
            db.executemany("INSERT OR REPLACE INTO waveform VALUES (?,?,?,?,?,?,?,?,?)", doc["w"])
            db.executemany("INSERT OR REPLACE INTO alarms VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", doc["a"])
            db.executemany("INSERT OR REPLACE INTO drill_vitals VALUES (?,?,?,?,?,?,?,?,?)", doc.get("dv", ()))
            db.executemany("INSERT OR REPLACE INTO drill_waveform VALUES (?,?,?,?,?,?,?,?,?)", doc.get("dw", ()))
            db.executemany("INSERT OR REPLACE INTO drill_alarms VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           doc.get("da", ()))
            now = time.time()
            if now - self._last_retention > 3600:
                self._last_retention = now
                cut = int(now * 1000)
                db.execute("DELETE FROM vitals WHERE t < ?", (cut - self.raw_retention_ms,))
                db.execute("DELETE FROM waveform WHERE t < ?", (cut - self.raw_retention_ms,))
                db.execute("DELETE FROM vitals_1m WHERE t < ?", (cut - DOWNSAMPLE_RETENTION_MS,))
                for table in DRILL_TABLES:
                    db.execute(f"DELETE FROM {table} WHERE t < ?", (cut - DRILL_RETENTION_MS,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def write(self, data: bytes) -> None:
        if data:
            await self._run(self._write, data)

    @staticmethod
    def _purge(db: sqlite3.Connection, drill: str | None) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in DRILL_TABLES:
                if drill is None:
                    db.execute(f"DELETE FROM {table}")
                else:
                    db.execute(f"DELETE FROM {table} WHERE drill = ?", (drill,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def purge_drill(self, drill: str | None = None) -> None:
        """Delete drill data: of one drill (``drill`` id), or all of it (``None``)."""
        await self._run(self._purge, None if drill is None else safe_id(drill, "drill"))

    # -- reads -----------------------------------------------------------------------------------
    @staticmethod
    def _select(db: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        return db.execute(sql, args).fetchall()

    async def _fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = await self._run(self._select, sql, args)
        return rows

    async def query_vitals(self, *, patient: str | None = None, device: str | None = None,
                           signals: Sequence[str] | None = None, from_ms: int, to_ms: int,
                           every: Every = None, limit: int | None = None) -> list[VitalsRow]:
        key, ident = check_selector(patient, device)
        sigs = check_signals(signals)
        limit = check_limit(limit)
        table = "vitals" if every is None else "vitals_1m"
        where = f"{key} = ? AND t >= ? AND t < ? AND signal IN ({','.join('?' * len(sigs))})"
        args: list[Any] = [ident, from_ms, to_ms, *sigs]
        if limit is not None:  # the first ``limit`` (t, device) rows, chosen in the query
            where += (f" AND (t, device) IN (SELECT DISTINCT t, device FROM {table} WHERE {where} "
                      "ORDER BY t, device LIMIT ?)")
            args += [*args, limit]
        if every is None:
            rows = await self._fetch(
                f"SELECT t, device, ward, bed, patient, signal, value, quality FROM vitals WHERE {where} "
                "ORDER BY t, device", *args)
            out: dict[tuple[int, str], VitalsRow] = {}
            for t, dev, ward, bed, pat, sig, value, quality in rows:
                r = out.get((t, dev))
                if r is None:
                    r = out[(t, dev)] = VitalsRow(t, dev, {}, ward, bed, pat, {})
                if value is not None:
                    r.values[sig] = float(value)
                if quality is not None and quality != "valid":
                    r.quality[sig] = quality
            return list(out.values())
        rows = await self._fetch(
            f"SELECT t, device, signal, min, mean, max FROM vitals_1m WHERE {where} ORDER BY t, device", *args)
        agg: dict[tuple[int, str], VitalsRow] = {}
        for t, dev, sig, mn, mean, mx in rows:
            r = agg.get((t, dev))
            if r is None:
                r = agg[(t, dev)] = VitalsRow(t, dev, {}, patient=patient or "", minimum={}, maximum={})
            r.values[sig] = float(mean)
            assert r.minimum is not None and r.maximum is not None
            r.minimum[sig] = float(mn)
            r.maximum[sig] = float(mx)
        return list(agg.values())

    async def latest(self, *, ward: str | None = None, patient: str | None = None, device: str | None = None,
                     signals: Sequence[str] | None = None, since_ms: int | None = None) -> list[LatestValue]:
        sigs = check_signals(signals)
        conds, args = [], []
        for k, v in (("ward", ward), ("patient", patient), ("device", device)):
            if v is not None:
                conds.append(f"{k} = ?")
                args.append(safe_id(v, k))
        since = since_ms if since_ms is not None else int(time.time() * 1000) - 24 * 3600 * 1000
        where = " AND ".join([*conds, "t >= ?", f"signal IN ({','.join('?' * len(sigs))})", "value IS NOT NULL",
                                  "quality IS NOT 'invalid'"])
        rows = await self._fetch(
            "SELECT device, signal, max(t), value, ward, bed, patient FROM vitals "
            f"WHERE {where} GROUP BY device, signal ORDER BY device, signal", *args, since, *sigs)
        return [LatestValue(d, s, t, float(v), w, b, p) for d, s, t, v, w, b, p in rows]

    async def query_waveform(self, *, device: str, signal: str, from_ms: int, to_ms: int) -> list[StoredChunk]:
        rows = await self._fetch("SELECT t, fs, samples FROM waveform WHERE device = ? AND signal = ? AND t >= ? "
                                 "AND t < ? ORDER BY t", device, signal, from_ms, to_ms)
        return [StoredChunk(device, signal, t, fs, orjson.loads(s)) for t, fs, s in rows]

    async def query_alarms(self, *, ward: str | None = None, from_ms: int, to_ms: int) -> list[StoredAlarm]:
        cond, args = ("ward = ? AND ", [ward]) if ward is not None else ("", [])
        rows = await self._fetch("SELECT id, event, t, ward, bed, patient, device, kind, signal, priority, state, "
                                 f"value, reason FROM alarms WHERE {cond}t >= ? AND t < ? ORDER BY t, id, event",
                                 *args, from_ms, to_ms)
        return [StoredAlarm(*r) for r in rows]

    async def count(self, measurement: str, field: str | None = None) -> int:
        table = {"vitals": "vitals", "waveform": "waveform", "alarms": "alarms"}.get(measurement)
        if table is None:
            return 0
        if table == "vitals":
            sql = ("SELECT count(*) FROM vitals WHERE signal = ?", [field]) if field else \
                ("SELECT count(*) FROM (SELECT DISTINCT device, t FROM vitals)", [])
            rows = await self._fetch(sql[0], *sql[1])
        else:
            rows = await self._fetch(f"SELECT count(*) FROM {table}")
        return int(rows[0][0])
