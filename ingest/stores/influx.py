"""InfluxDB stores: writes over HTTP line protocol (v1 ``/write`` or v2 ``/api/v2/write``), reads in
InfluxQL over ``/query`` (served by 1.x, by 2.x through v1 compatibility and by 3.x).

On open (v1 only) the database gets a ``raw`` retention policy (default, 7 days: full disclosure
>= 96 h), a ``minute`` policy (400 days) and a continuous query ``vitals_1m`` writing 1-minute
min/mean/max of every numeric signal into ``minute.vitals_1m`` (``{signal}_min|_mean|_max``). The
query resamples only the last :data:`CQ_FOR` every minute: resampling the last hour, as it did
before, made InfluxDB recompute 60 minutes of every bed each minute (18-31 s of its CPU per minute at
1,000 beds, measured), which starved the trend reads. Samples that arrive later than that window are
downsampled by :meth:`InfluxStore.backfill_downsample`, which ingest's writer calls for them (per
device; see :mod:`ingest.writer`). A database opened with the old query gets the new one.
Values flagged ``invalid`` are written to ``{signal}_invalid`` (see :mod:`.influx_lines`), so neither
the downsample nor :meth:`InfluxStore.latest` (``last()``) nor the 1-minute trend includes them.
Drill points (tag ``drill``) go to their own ``drill`` policy (7 days; the continuous query and every
read here only look at ``raw``), so clinical queries never see them; :meth:`InfluxStore.purge_drill`
deletes them. On v2 they go to the bucket ``{bucket}_drill`` (``?drill_bucket=``), created by the operator. On v2, bucket retention and downsampling tasks are configured in InfluxDB itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from device_profiles import NUMERIC_SIGNALS

from ..errors import StoreRejected, StoreUnavailable
from ..records import Batch
from .base import (
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
from .influx_lines import INVALID_SUFFIX, LineEncoder, split_drill
from .influx_url import InfluxUrl

log = logging.getLogger(__name__)
MINUTE_RP = "minute"
DRILL_RP = "drill"
CQ_NAME = "vitals_1m"
CQ_FOR = "2m"  # the continuous query's resample window (the current and the previous minute)
ATTR_TAGS = ('"device"', '"ward"', '"bed"', '"patient"')


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _aggregates(signals: Sequence[str], suffix: bool) -> str:
    parts = []
    for s in signals:
        for fn in ("min", "mean", "max"):
            src = _ident(f"{s}_{fn}" if suffix else s)
            parts.append(f"{fn}({src}) AS {_ident(f'{s}_{fn}')}")
    return ", ".join(parts)


def _raw_rows(tags: dict[str, str], cols: list[str], values_list: list[list[Any]],
              sigs: Sequence[str]) -> list[VitalsRow]:
    """Raw rows of one series. A value flagged invalid is read back (flagged) from its own field.

    The hot path of every bed-view trend (a 1 h trend is 3,600 rows): the flag columns (``{s}_q``,
    ``{s}_invalid``) are null in almost every row, so the rows where one is set are found first, column
    by column, and every other row takes the short loop over the signal columns only."""
    at = {c: i for i, c in enumerate(cols)}
    ti = at["time"]
    none = len(cols)  # a column InfluxDB left out reads as null: one None appended to every row
    idx = [(s, at.get(s, none), at.get(s + INVALID_SUFFIX, none), at.get(f"{s}_q", none)) for s in sigs]
    if any(none in t[1:] for t in idx):
        values_list = [[*r, None] for r in values_list]
    device, ward, bed, patient = (tags.get(k, "") for k in ("device", "ward", "bed", "patient"))
    n = len(values_list)
    flagged: set[int] = set()
    flag_cols = {i for t in idx for i in t[2:] if i != none}
    if flag_cols and n:
        columns = list(zip(*values_list, strict=True))
        for ci in flag_cols:
            col = columns[ci]
            if col.count(None) != n:
                flagged.update(j for j, v in enumerate(col) if v is not None)
    plain = [(s, vi) for s, vi, _, _ in idx]
    out: list[VitalsRow] = []
    append = out.append
    for j, r in enumerate(values_list):
        values: dict[str, float] = {}
        if j in flagged:
            quality: dict[str, str] = {}
            for s, vi, ii, qi in idx:
                v = r[vi]
                if v is None:
                    v = r[ii]
                if v is not None:
                    values[s] = float(v)
                q = r[qi]
                if q is not None:
                    quality[s] = str(q)
            if values or quality:
                append(VitalsRow(int(r[ti]), device, values, ward, bed, patient, quality))
            continue
        for s, vi in plain:
            v = r[vi]
            if v is not None:
                values[s] = float(v)
        if values:
            append(VitalsRow(int(r[ti]), device, values, ward, bed, patient))
    return out


class InfluxStore:
    """InfluxDB behind the v1 API (``version=1``) or the v2 write API (``version=2``)."""

    spools = True

    def __init__(self, url: InfluxUrl, timeout: float = 10.0, raw_retention_ms: int = RAW_RETENTION_MS) -> None:
        self.cfg = url
        self.url = str(url)
        self.raw_retention_ms = raw_retention_ms
        self.expired_points = 0
        self._encoder = LineEncoder()
        headers = {"Authorization": f"Token {url.token}"} if url.token else {}
        auth = (url.username, url.password) if url.username else None
        # 16 connections: the API's reads are many small concurrent queries (300 users: trends, FHIR pages,
        # the portal); with 8, a login storm's burst of first reads waited past the timeout (PoolTimeout,
        # HTTP 503) while InfluxDB itself was not the bottleneck (smartward bench api, ramp phase)
        self._http = httpx.AsyncClient(base_url=url.base, headers=headers, auth=auth, timeout=timeout,
                                       limits=httpx.Limits(max_connections=16, max_keepalive_connections=8))
        if url.version == 1:
            self._write_path = "/write"
            self._write_params = {"db": url.db, "rp": url.rp, "precision": "ms"}
            self._drill_params = {"db": url.db, "rp": DRILL_RP, "precision": "ms"}
        else:
            self._write_path = "/api/v2/write"
            self._write_params = {"org": url.org, "bucket": url.db, "precision": "ms"}
            self._drill_params = {"org": url.org, "bucket": url.drill_bucket or f"{url.db}_drill", "precision": "ms"}

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        if self.cfg.version != 1:
            await self.ping_or_raise()
            return
        db = _ident(self.cfg.db)
        await self._statement(f"CREATE DATABASE {db}")
        rps = {str(r[0]) for r in await self._rows(f"SHOW RETENTION POLICIES ON {db}")}
        hours = self.raw_retention_ms // 3_600_000
        if self.cfg.rp not in rps:
            await self._statement(f"CREATE RETENTION POLICY {_ident(self.cfg.rp)} ON {db} DURATION {hours}h "
                                  "REPLICATION 1 DEFAULT")
        if MINUTE_RP not in rps:
            await self._statement(f"CREATE RETENTION POLICY {_ident(MINUTE_RP)} ON {db} DURATION 400d REPLICATION 1")
        if DRILL_RP not in rps:
            await self._statement(f"CREATE RETENTION POLICY {_ident(DRILL_RP)} ON {db} "
                                  f"DURATION {DRILL_RETENTION_MS // 3_600_000}h REPLICATION 1")
        cqs = [str(r[1]) for r in await self._rows("SHOW CONTINUOUS QUERIES", name=self.cfg.db)
               if str(r[0]) == CQ_NAME]
        sel = _aggregates(sorted(NUMERIC_SIGNALS), suffix=False)
        body = (f"SELECT {sel} INTO {db}.{_ident(MINUTE_RP)}.{_ident('vitals_1m')} FROM {self._from('vitals')} "
                "GROUP BY time(1m), *")
        if cqs and not all(f"RESAMPLE EVERY 1m FOR {CQ_FOR} " in q for q in cqs):
            # made by an older SmartWard (a 1 h window): the same downsample, over the new window
            log.info("InfluxDB %s: continuous query %s replaced (resample window now %s)", self.url, CQ_NAME, CQ_FOR)
            await self._statement(f"DROP CONTINUOUS QUERY {_ident(CQ_NAME)} ON {db}")
            cqs = []
        if not cqs:
            await self._statement(
                f"CREATE CONTINUOUS QUERY {_ident(CQ_NAME)} ON {db} RESAMPLE EVERY 1m FOR {CQ_FOR} BEGIN {body} END")
        log.info("InfluxDB %s ready (rp %s %sh, downsample %s.vitals_1m)", self.url, self.cfg.rp, hours, MINUTE_RP)

    async def backfill_downsample(self, from_ms: int, to_ms: int, device: str | None = None) -> None:
        """Recompute ``minute.vitals_1m`` for ``[from_ms, to_ms)`` (whole minutes), of one ``device`` or
        of all: data that arrived later than the continuous query's window (:data:`CQ_FOR`), e.g. a
        spool drained after an outage, a gateway's backlog, a device whose clock runs behind."""
        if self.cfg.version != 1:
            return
        db = _ident(self.cfg.db)
        start, end = from_ms // 60_000 * 60_000, (to_ms // 60_000 + 1) * 60_000
        sel = _aggregates(sorted(NUMERIC_SIGNALS), suffix=False)
        one = f"\"device\" = {_lit(safe_id(device, 'device'))} AND " if device is not None else ""
        await self._statement(f"SELECT {sel} INTO {db}.{_ident(MINUTE_RP)}.{_ident('vitals_1m')} "
                              f"FROM {self._from('vitals')} WHERE {one}time >= {start}ms AND time < {end}ms "
                              "GROUP BY time(1m), *")

    async def close(self) -> None:
        await self._http.aclose()

    async def ping(self) -> bool:
        try:
            r = await self._http.get("/ping", timeout=2.0)
        except httpx.HTTPError:
            return False
        return r.status_code in (200, 204)

    async def ping_or_raise(self) -> None:
        if not await self.ping():
            raise StoreUnavailable(f"InfluxDB {self.url} does not answer /ping")

    # -- writes ----------------------------------------------------------------------------------
    def encode(self, batch: Batch) -> bytes:
        return self._encoder.encode(batch)

    async def write(self, data: bytes) -> None:
        clinical, drill = split_drill(data)
        await self._write(clinical, self._write_params)
        await self._write(drill, self._drill_params)

    async def purge_drill(self, drill: str | None = None) -> None:
        """Delete drill data: of one drill (``drill`` id), or all of it (``None``)."""
        if self.cfg.version != 1:
            raise StoreRejected(f"InfluxDB {self.url}: purge drill data with the v2 bucket's delete API")
        db = _ident(self.cfg.db)
        if drill is None:
            await self._statement(f"DROP RETENTION POLICY {_ident(DRILL_RP)} ON {db}")
            await self._statement(f"CREATE RETENTION POLICY {_ident(DRILL_RP)} ON {db} "
                                  f"DURATION {DRILL_RETENTION_MS // 3_600_000}h REPLICATION 1")
            return
        # InfluxQL DELETE spans every retention policy; clinical points never carry a drill tag
        await self._statement(f"DELETE WHERE \"drill\" = {_lit(safe_id(drill, 'drill'))}")

    async def _write(self, data: bytes, params: dict[str, str]) -> None:
        if not data:
            return
        try:
            r = await self._http.post(self._write_path, params=params, content=data)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB {self.url}: {type(exc).__name__}: {exc}") from exc
        if r.status_code in (200, 204):
            return
        text = r.text[:500]
        if r.status_code == 404 and "database not found" in text and self.cfg.version == 1:
            await self.open()  # dropped or never created (InfluxDB was down at start): set it up again
            try:
                r = await self._http.post(self._write_path, params=params, content=data)
            except httpx.HTTPError as exc:
                raise StoreUnavailable(f"InfluxDB {self.url}: {type(exc).__name__}: {exc}") from exc
            if r.status_code in (200, 204):
                return
            text = r.text[:500]
        if r.status_code == 404 and self.cfg.version == 2 and params is self._drill_params:
            # never let a missing drill bucket hold clinical data back: the clinical lines are written
            # already; the batch goes to the dead letters (replayable once the bucket exists)
            raise StoreRejected(f"InfluxDB {self.url}: drill bucket {params['bucket']!r} not found ({text}); create "
                                "it (7 days) or set ?drill_bucket=")
        if r.status_code >= 500 or r.status_code in (404, 408, 429):  # 404: database not (yet) there
            raise StoreUnavailable(f"InfluxDB {self.url} answered {r.status_code}: {text}")
        if "beyond retention policy" in text and "partial write" in text:
            # points older than the raw retention: InfluxDB drops them by design; the rest is written
            self.expired_points += 1
            log.warning("InfluxDB %s dropped points older than the retention policy: %s", self.url, text)
            return
        raise StoreRejected(f"InfluxDB {self.url} refused the batch ({r.status_code}): {text}")

    # -- reads -----------------------------------------------------------------------------------
    def _from(self, measurement: str, rp: str | None = None) -> str:
        if self.cfg.version == 1:
            return f"{_ident(self.cfg.db)}.{_ident(rp or self.cfg.rp)}.{_ident(measurement)}"
        return _ident(measurement)

    async def _query(self, q: str) -> list[dict[str, Any]]:
        params = {"q": q, "db": self.cfg.db, "epoch": "ms"}
        try:
            r = await self._http.post("/query", data=params)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB {self.url}: {type(exc).__name__}: {exc}") from exc
        if r.status_code >= 500:
            raise StoreUnavailable(f"InfluxDB {self.url} answered {r.status_code}: {r.text[:300]}")
        body = orjson.loads(r.content) if r.content else {}
        if r.status_code >= 400 or "error" in body:
            raise StoreRejected(f"InfluxDB {self.url} refused query: {body.get('error') or r.text[:300]}")
        results: list[dict[str, Any]] = body.get("results", [])
        for res in results:
            if "error" in res:
                raise StoreRejected(f"InfluxDB {self.url} query error: {res['error']}")
        return results

    async def _statement(self, q: str) -> None:
        await self._query(q)

    async def _rows(self, q: str, name: str | None = None) -> list[list[Any]]:
        out: list[list[Any]] = []
        for res in await self._query(q):
            for series in res.get("series", []):
                if name is None or series.get("name") == name:
                    out.extend(series.get("values", []))
        return out

    @staticmethod
    def _series(results: list[dict[str, Any]]) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
        out = []
        for res in results:
            for series in res.get("series", []):
                cols = series["columns"]
                rows = [dict(zip(cols, v, strict=True)) for v in series.get("values", [])]
                out.append((series.get("tags") or {}, rows))
        return out

    @staticmethod
    def _columns(results: list[dict[str, Any]]) -> list[tuple[dict[str, str], list[str], list[list[Any]]]]:
        """Each series as (tags, column names, rows as lists): no dict per row (a 1 h trend is 3,600 rows)."""
        return [(series.get("tags") or {}, series["columns"], series.get("values", []))
                for res in results for series in res.get("series", [])]

    async def query_vitals(self, *, patient: str | None = None, device: str | None = None,
                           signals: Sequence[str] | None = None, from_ms: int, to_ms: int,
                           every: Every = None, limit: int | None = None) -> list[VitalsRow]:
        key, ident = check_selector(patient, device)
        sigs = check_signals(signals)
        limit = check_limit(limit)
        # InfluxQL's LIMIT counts points per series: the first ``limit`` of every series hold the first
        # ``limit`` rows overall, which the merge below keeps
        cap = f" LIMIT {int(limit)}" if limit is not None else ""
        where = f"{_ident(key)} = {_lit(ident)} AND time >= {int(from_ms)}ms AND time < {int(to_ms)}ms"
        rows: list[VitalsRow] = []
        if every is None:
            fields = ", ".join([_ident(s) for s in sigs] + [_ident(f"{s}_q") for s in sigs]
                               + [_ident(s + INVALID_SUFFIX) for s in sigs])
            q = f"SELECT {fields} FROM {self._from('vitals')} WHERE {where} GROUP BY {', '.join(ATTR_TAGS)}{cap}"
            found = self._columns(await self._query(q))
            for tags, cols, values_list in found:
                rows.extend(_raw_rows(tags, cols, values_list, sigs))
            if len(found) == 1:  # InfluxDB returns a series in time order: nothing to merge
                return rows if limit is None else rows[:limit]
        else:
            old = from_ms < int(time.time() * 1000) - self.raw_retention_ms + 3_600_000
            src = self._from("vitals_1m", MINUTE_RP) if old and self.cfg.version == 1 else self._from("vitals")
            sel = _aggregates(sigs, suffix=src.endswith('"vitals_1m"'))
            q = f"SELECT {sel} FROM {src} WHERE {where} GROUP BY time(1m), \"device\" fill(none){cap}"
            for tags, series in self._series(await self._query(q)):
                for r in series:
                    mean = {s: float(r[f"{s}_mean"]) for s in sigs if r.get(f"{s}_mean") is not None}
                    if not mean:
                        continue
                    rows.append(VitalsRow(int(r["time"]), tags.get("device", ""), mean, patient=patient or "",
                                          minimum={s: float(r[f"{s}_min"]) for s in mean},
                                          maximum={s: float(r[f"{s}_max"]) for s in mean}))
        rows.sort(key=lambda v: (v.t, v.device))
        return rows if limit is None else rows[:limit]

    async def latest(self, *, ward: str | None = None, patient: str | None = None, device: str | None = None,
                     signals: Sequence[str] | None = None, since_ms: int | None = None) -> list[LatestValue]:
        sigs = check_signals(signals)
        conds = [f"{_ident(k)} = {_lit(safe_id(v, k))}" for k, v in (("ward", ward), ("patient", patient),
                                                                       ("device", device)) if v is not None]
        since = since_ms if since_ms is not None else int(time.time() * 1000) - 24 * 3600 * 1000
        conds.append(f"time >= {int(since)}ms")
        where = " AND ".join(conds)
        q = ";".join(f"SELECT last({_ident(s)}) AS {_ident('value')} FROM {self._from('vitals')} WHERE {where} "
                     f"GROUP BY {', '.join(ATTR_TAGS)}" for s in sigs)
        best: dict[tuple[str, str], LatestValue] = {}
        for s, res in zip(sigs, await self._query(q), strict=True):
            for tags, series in self._series([res]):
                for r in series:
                    if r.get("value") is None:
                        continue
                    lv = LatestValue(tags.get("device", ""), s, int(r["time"]), float(r["value"]),
                                     tags.get("ward", ""), tags.get("bed", ""), tags.get("patient", ""))
                    k = (lv.device, s)
                    if k not in best or best[k].t < lv.t:
                        best[k] = lv
        return sorted(best.values(), key=lambda v: (v.device, v.signal))

    async def query_waveform(self, *, device: str, signal: str, from_ms: int, to_ms: int) -> list[StoredChunk]:
        q = (f"SELECT \"fs\", \"samples\" FROM {self._from('waveform')} WHERE \"device\" = {_lit(safe_id(device, 'device'))} "
             f"AND \"signal\" = {_lit(safe_id(signal, 'signal'))} AND time >= {int(from_ms)}ms AND time < {int(to_ms)}ms")
        return [StoredChunk(device, signal, int(r["time"]), float(r["fs"]), orjson.loads(r["samples"]))
                for _t, rows in self._series(await self._query(q)) for r in rows]

    async def query_alarms(self, *, ward: str | None = None, from_ms: int, to_ms: int) -> list[StoredAlarm]:
        cond = f"\"ward\" = {_lit(safe_id(ward, 'ward'))} AND " if ward is not None else ""
        q = f"SELECT * FROM {self._from('alarms')} WHERE {cond}time >= {int(from_ms)}ms AND time < {int(to_ms)}ms"
        out = []
        for _t, rows in self._series(await self._query(q)):
            for r in rows:
                def g(k: str, row: dict[str, Any] = r) -> str:
                    return str(row.get(k) or "")

                out.append(StoredAlarm(g("id"), g("event"), int(r["time"]), g("ward"), g("bed"), g("patient"),
                                       g("device"), g("kind"), g("signal"), g("priority"), g("state"),
                                       None if r.get("value") is None else float(r["value"]), g("reason")))
        return sorted(out, key=lambda a: (a.t, a.id, a.event))

    async def count(self, measurement: str, field: str | None = None) -> int:
        sel = f"count({_ident(field)})" if field else "count(*)"
        rows = await self._rows(f"SELECT {sel} FROM {self._from(safe_id(measurement, 'measurement'))}")
        return max((int(v) for r in rows for v in r[1:] if isinstance(v, int)), default=0)
