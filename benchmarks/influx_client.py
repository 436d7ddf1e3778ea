"""The official ``influxdb-client`` write path beside the project's writer (issue 14), for
``smartward bench ingest``.

1. Encoding, in-process, same points, median of three alternating runs (one sample of HR + SpO2 per point, tags ward/bed/device, 5,000-point
   batches): the project's encoder (``InfluxStore.encode``: a ``Batch`` of attributed observations to
   line protocol) and the client's (``Point(...).tag().field().time()`` then ``to_line_protocol()``, which
   its write API does for every point it is given).
2. Writing through the client (``write_api(SYNCHRONOUS)``, 5,000-point batches) where the store has the
   v2 write API (``/api/v2/write``: InfluxDB 2.x, or 1.8+ with ``db/rp`` as the bucket); the InfluxDB the
   tests and benchmarks start is Debian's 1.6, which has none: then this says so instead of a figure.

Why it matters beside speed: the client's batching mode (``WriteOptions(batch_size=…)``) writes from a
background thread and reports failures to callbacks, so a caller cannot know when a point is durable;
ingest acknowledges MQTT messages only after their batch is stored or dead-lettered, which needs the
synchronous mode (one blocking HTTP call per batch, in a thread from asyncio).
"""

from __future__ import annotations

import time
from typing import Any

BATCH = 5000


def _points(n: int, t0: int) -> list[tuple[str, int, int]]:
    return [(f"bench-{k % 100:03d}", t0 + k, 60 + k % 40) for k in range(n)]


def _ours(points: list[tuple[str, int, int]], influx_url: str) -> tuple[float, list[bytes]]:
    from device_profiles import AttributedObservation, Attribution, Observation, Sample
    from ingest.records import Batch
    from ingest.stores import make_store

    store: Any = make_store(influx_url)  # not opened: encoding needs no connection
    who = Attribution("w1", "07", "")
    begin = time.perf_counter()
    out = []
    for start in range(0, len(points), BATCH):
        b = Batch()
        for k, (dev, t, hr) in enumerate(points[start:start + BATCH], start):
            b.add_obs(AttributedObservation(Observation(dev, k, [Sample(t, {"heart_rate": hr, "spo2": 95})]), who))
        out.append(store.encode(b))
    return len(points) / (time.perf_counter() - begin), out


def _client() -> Any:
    """The ``influxdb_client`` module, untyped (it ships no type information for these names)."""
    import importlib

    return importlib.import_module("influxdb_client")


def _client_lines(points: list[tuple[str, int, int]]) -> tuple[float, list[str]]:
    ic = _client()
    Point, WritePrecision = ic.Point, ic.WritePrecision
    begin = time.perf_counter()
    out = []
    for start in range(0, len(points), BATCH):
        out.append("\n".join(
            Point("vitals").tag("bed", "07").tag("device", dev).tag("ward", "w1").field("heart_rate", hr)
            .field("spo2", 95).time(t, WritePrecision.MS).to_line_protocol()
            for dev, t, hr in points[start:start + BATCH]))
    return len(points) / (time.perf_counter() - begin), out


def _v2_write_api(base_url: str) -> bool:
    import httpx

    try:
        r = httpx.post(f"{base_url}/api/v2/write", params={"bucket": "none", "org": "-"}, content=b"", timeout=5)
    except httpx.HTTPError:
        return False
    return r.status_code != 404


def _client_write(base_url: str, db: str, lines: list[str], n: int) -> float:
    ic = _client()
    SYNCHRONOUS = importlib_synchronous()
    with ic.InfluxDBClient(url=base_url, token="", org="-") as client:  # 1.8+: token "user:password" if auth
        api = client.write_api(write_options=SYNCHRONOUS)
        begin = time.perf_counter()
        for body in lines:
            api.write(bucket=f"{db}/autogen", record=body, write_precision=ic.WritePrecision.MS)
        return n / (time.perf_counter() - begin)


def importlib_synchronous() -> Any:
    import importlib

    return importlib.import_module("influxdb_client.client.write_api").SYNCHRONOUS


def compare(influx: Any, n: int) -> list[str]:
    """Lines for the bench report; ``influx`` is a running devservers InfluxDB."""
    try:
        version = _client().__version__
    except ImportError:
        return ["influxdb-client: not installed (scripts/bootstrap.sh installs it with the dev extra)"]
    points = _points(n, int(time.time() * 1000) - 3_600_000)
    ours_runs, their_runs = [], []
    for _ in range(3):  # alternating, the median of three each: the machine's load moves between runs
        ours, ours_lines = _ours(points, influx.store_url("encodebench"))
        theirs, their_lines = _client_lines(points)
        ours_runs.append(ours)
        their_runs.append(theirs)
    ours, theirs = sorted(ours_runs)[1], sorted(their_runs)[1]
    same = sum(len(b) for b in ours_lines), sum(len(s) for s in their_lines)
    out = [f"line encoding, ours (Batch -> line protocol):              {ours:12,.0f} points/s",
           f"line encoding, influxdb-client {version} (Point.to_line_protocol): "
           f"{theirs:9,.0f} points/s   = ours {ours / theirs:4.2f}x  ({same[0]:,} vs {same[1]:,} bytes)"]
    if _v2_write_api(influx.url):
        influx.create_db("clientbench")
        rate = _client_write(influx.url, "clientbench", their_lines, n)
        out.append(f"influxdb-client write_api(SYNCHRONOUS), 5,000-point batches: {rate:9,.0f} points/s")
    else:
        out.append("influxdb-client write: not measured: this InfluxDB has no /api/v2/write (the client needs "
                   "InfluxDB 2.x or 1.8+; Debian's is 1.6)")
    return out
