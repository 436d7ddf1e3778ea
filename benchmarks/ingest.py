"""``smartward bench ingest``: MQTT -> InfluxDB throughput beside the ceilings measured in the same run.

Method (all against real Mosquitto and InfluxDB started here, see devservers/servers.py):
1. raw InfluxDB ``/write`` rate: our line format, 5,000-line batches, one connection; beside it our
   writer (line encoding + :class:`ingest.writer.BatchWriter`) on the same points, the two alternated
   for five rounds of 200,000 points (``--writer-points``, :func:`_writer_rounds`); and the official
   ``influxdb-client``'s encoding and (where the store has the v2 API) write path
   (:mod:`benchmarks.influx_client`);
2. paho receive rate: one paho client (MQTT v5, QoS 1, auto-ack) draining a backlog of N messages;
3. our ingest with 1..W worker processes on one shared subscription, draining a backlog of N
   canonical messages into InfluxDB: N / (time from the first worker's first message until InfluxDB
   holds all N points; this includes the last partial batch's 1 s flush timer). Worker CPU time
   (start-up excluded) gives msg per CPU-second, a figure less sensitive to other load.
The backlog is published beforehand by several ``mosquitto_pub -l`` processes into the workers'
persistent sessions, so the publisher cannot be the bottleneck (its own rate is printed too).
Numbers are figures for this machine at this moment; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PUBLISHERS = 10
WRITER_ROUNDS = 5
WRITER_POINTS = 200_000  # per round and side (--writer-points)


def register(sub: Any) -> None:
    p = sub.add_parser("ingest", help="MQTT -> InfluxDB messages/s vs raw /write and paho receive ceilings")
    p.add_argument("--messages", type=int, default=60_000, help="messages per run (default 60,000)")
    p.add_argument("--workers", type=int, default=2, help="measure ingest with 1..N worker processes (default 2)")
    p.add_argument("--writer-points", type=int, default=WRITER_POINTS, metavar="N",
                   help=f"points per writer round and side (default {WRITER_POINTS:,}: a round of 60,000 took "
                        "0.2 s, too short to be steady)")
    p.set_defaults(func=run)


def _payloads(n: int, root: str) -> dict[str, list[bytes]]:
    import orjson

    t0 = int(time.time() * 1000) - 3_600_000
    devices = [f"bench-{i:03d}" for i in range(100)]
    out: dict[str, list[bytes]] = {f"{root}/devices/{d}/obs": [] for d in devices}
    for k in range(n):
        d = devices[k % len(devices)]
        msg = {"v": 1, "device": d, "seq": k, "samples": [{"t": t0 + k, "heart_rate": 60 + k % 40, "spo2": 95}]}
        out[f"{root}/devices/{d}/obs"].append(orjson.dumps(msg))
    return out


def _publish_backlog(port: int, payloads: dict[str, list[bytes]]) -> float:
    """Publish everything with PUBLISHERS parallel ``mosquitto_pub -l`` processes; return msg/s."""
    groups: list[list[tuple[str, list[bytes]]]] = [[] for _ in range(PUBLISHERS)]
    for i, item in enumerate(payloads.items()):
        groups[i % PUBLISHERS].append(item)
    n = sum(len(v) for v in payloads.values())
    start = time.perf_counter()
    procs, files = [], []
    for group in groups:
        parts = []
        for topic, lines in group:
            files.append(_tmpfile(lines))
            parts.append(f"mosquitto_pub -p {port} -q 1 -t '{topic}' -l < '{files[-1]}'")
        procs.append(subprocess.Popen(["sh", "-c", " && ".join(parts)]))
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("mosquitto_pub failed")
    rate = n / (time.perf_counter() - start)
    for f in files:
        os.unlink(f)
    return rate


def _tmpfile(lines: list[bytes]) -> str:
    f = tempfile.NamedTemporaryFile(delete=False, suffix=".lines")  # noqa: SIM115 - read by the publisher
    f.write(b"\n".join(lines) + b"\n")
    f.close()
    return f.name


def _raw_write(influx: Any, n: int, t0: int) -> float:
    import httpx

    influx.create_db("rawbench")
    batches = []
    for start in range(0, n, 5000):
        batches.append("\n".join(f"vitals,bed=07,device=bench-{k % 100:03d},ward=w1 heart_rate={60 + k % 40},spo2=95 "
                                 f"{t0 + k}" for k in range(start, min(n, start + 5000))).encode())
    with httpx.Client(base_url=influx.url, timeout=60) as c:
        begin = time.perf_counter()
        for b in batches:
            c.post("/write", params={"db": "rawbench", "precision": "ms"}, content=b).raise_for_status()
        return n / (time.perf_counter() - begin)


def _our_writer(influx: Any, n: int, t0: int) -> float:
    """Our InfluxDB writer (encode + BatchWriter.write) at 5,000-point batches, same data as raw."""
    import asyncio

    from device_profiles import AttributedObservation, Attribution, Observation, Sample
    from ingest.records import Batch
    from ingest.spool import DiskSpool
    from ingest.stores import open_store
    from ingest.writer import BatchWriter

    who = Attribution("w1", "07", "")
    batches = []
    for start in range(0, n, 5000):
        b = Batch()
        for k in range(start, min(n, start + 5000)):
            b.add_obs(AttributedObservation(Observation(f"bench-{k % 100:03d}", k, [
                Sample(t0 + k, {"heart_rate": 60 + k % 40, "spo2": 95})]), who))
        batches.append(b)

    async def go() -> float:
        store = await open_store(influx.store_url("writerbench"))

        async def refuse(_data: bytes, reason: str) -> None:
            raise RuntimeError(reason)

        writer = BatchWriter(store, DiskSpool(Path(tempfile.mkdtemp(prefix="sw-bench-spool-"))), refuse)
        begin = time.perf_counter()
        pending: asyncio.Task[None] | None = None
        for b in batches:  # as a worker does: the next batch is encoded while the last one is in flight
            data = store.encode(b)
            if pending is not None:
                await pending
            pending = asyncio.create_task(writer.write(data, b.lines))
            # A worker's loop keeps polling its sockets between messages, so a batch's request is on the
            # wire while the next batch fills and is encoded. Here one 1 ms poll (counted in the time)
            # lets the write task through httpx's checkpoints first; without it the request left only
            # after the next encoding, so nothing overlapped (0.58x raw then, 0.8-1.0x with it).
            await asyncio.sleep(0.001)
        if pending is not None:
            await pending
        elapsed = time.perf_counter() - begin
        await store.close()
        return n / elapsed

    import gc

    from device_profiles.process_gc import quiet_gc

    before = gc.get_threshold()
    quiet_gc()  # the collector as a worker process runs it (the writer runs there)
    try:
        return asyncio.run(go())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _paho_receive(port: int, n: int, root: str) -> tuple[float, float]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 65535
    got = {"n": 0, "first": 0.0}

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        if not got["n"]:
            got["first"] = time.perf_counter()
        got["n"] += 1

    def client() -> Any:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-paho-{root[:8]}", protocol=mqtt.MQTTv5)
        c.on_message = on_message
        c.connect("127.0.0.1", port, 60, clean_start=False, properties=props)
        return c

    c = client()
    c.subscribe(f"{root}/devices/+/obs", qos=1)
    for _ in range(20):
        c.loop(0.05)
    c.disconnect()
    _publish_backlog(port, _payloads(n, root))
    c = client()
    cpu0 = time.process_time()
    while got["n"] < n:
        c.loop(1.0)
    rate = (n - 1) / (time.perf_counter() - got["first"])
    cpu = time.process_time() - cpu0
    c.disconnect()
    return rate, n / cpu


def _worker(cfg: dict[str, Any]) -> subprocess.Popen[bytes]:
    """An ingest worker process, its config on stdin (as ``serve`` starts it: never in argv)."""
    import orjson

    p = subprocess.Popen([sys.executable, "-m", "ingest.worker_main"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         env={**os.environ, "SMARTWARD_LOG_LEVEL": "WARNING"})
    assert p.stdin is not None
    p.stdin.write(orjson.dumps(cfg) + b"\n")
    p.stdin.flush()
    return p


def _ingest(mosq: Any, influx: Any, n: int, workers: int, data_dir: str) -> tuple[float, float, float]:
    from ingest.config import IngestConfig

    root = f"b{workers}{os.getpid()}/smartward/v1"
    db = f"bench_w{workers}"
    cfgs = [IngestConfig(broker=mosq.url, store=influx.store_url(db), state=f"sqlite:///{data_dir}/state-{workers}.sqlite3",
                         data_dir=f"{data_dir}/w{workers}", topic_root=root, index=i).to_json() for i in range(workers)]

    def start() -> list[subprocess.Popen[bytes]]:
        procs = [_worker(c) for c in cfgs]
        for p in procs:
            assert p.stdout is not None
            p.stdout.readline()  # "ready": subscribed
        return procs

    def stop(procs: list[subprocess.Popen[bytes]]) -> None:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
            if p.stdin:
                p.stdin.close()
            if p.stdout:
                p.stdout.close()

    stop(start())  # creates the persistent shared-subscription sessions
    pub_rate = _publish_backlog(mosq.port, _payloads(n, root))
    procs = [_worker(c) for c in cfgs]
    started: list[float] = []
    ready_cpu: dict[int, float] = {}

    def watch(p: subprocess.Popen[bytes]) -> None:  # the time each worker's stream starts flowing
        assert p.stdout is not None
        for line in p.stdout:
            if line.startswith(b"receiving "):  # the worker's clock and CPU at its first message
                _, at, cpu = line.split()
                started.append(float(at))
                ready_cpu[p.pid] = float(cpu)  # start-up's CPU, left out

    import threading

    watchers = [threading.Thread(target=watch, args=(p,), daemon=True) for p in procs]
    for t in watchers:
        t.start()
    try:
        while _count(influx, db) < n:  # a count query costs InfluxDB CPU too: not more often
            time.sleep(0.1)
        elapsed = time.time() - min(started)
        # each worker's CPU from its first message until every message is stored
        cpu = sum(_proc_cpu(p.pid) - ready_cpu.get(p.pid, 0.0) for p in procs)
        if len(ready_cpu) < len(procs):
            print(f"  ({len(procs) - len(ready_cpu)} of {len(procs)} workers reported no first message: their "
                  "start-up CPU is counted in msg per worker CPU-second)")
    finally:
        stop(procs)
    return n / elapsed, pub_rate, n / max(cpu, 1e-9)


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _count(influx: Any, db: str) -> int:
    try:
        rows = influx.query('SELECT count("heart_rate") FROM "raw"."vitals"', db)
    except Exception:  # noqa: BLE001 - database not created yet
        return 0
    return int(rows[0]["count"]) if rows else 0




def _writer_rounds(influx: Any, n: int) -> float:
    """Raw ``/write`` and our writer, alternated for :data:`WRITER_ROUNDS` rounds, each run on a time
    range of its own: one of them always running second (while InfluxDB still compacts what the first
    wrote) or overwriting points would favour the other. Prints every round and the medians; returns
    the raw median (the ceiling the ingest figures are set beside)."""
    import statistics

    raws: list[float] = []
    ours: list[float] = []
    base = int(time.time() * 1000) - 6 * 3_600_000
    for r in range(WRITER_ROUNDS):
        sides = [(raws, _raw_write, base + 2 * r * n), (ours, _our_writer, base + (2 * r + 1) * n)]
        for out, run, t0 in sides[::-1] if r % 2 else sides:  # which side goes first alternates too
            out.append(run(influx, n, t0))
        print(f"  round {r + 1}: raw /write {raws[-1]:10,.0f} points/s, our writer {ours[-1]:10,.0f} points/s"
              f" = {ours[-1] / raws[-1]:4.2f}x")
    raw, mine = statistics.median(raws), statistics.median(ours)
    ratio = statistics.median(o / w for o, w in zip(ours, raws, strict=True))
    print(f"raw InfluxDB /write (5,000-line batches, 1 connection): {raw:12,.0f} points/s (median of {WRITER_ROUNDS})")
    print(f"our InfluxDB writer (encode + write, 5,000-point batches): {mine:9,.0f} points/s"
          f"   = {ratio:4.2f}x raw /write (median of the rounds' ratios)")
    return raw


def run(args: argparse.Namespace) -> int:
    from devservers import InfluxDB, Mosquitto, ServiceUnavailable

    n, wmax = args.messages, args.workers
    if n < 1000 or wmax < 1 or args.writer_points < 5000:
        print("--messages must be >= 1000, --workers >= 1 and --writer-points >= 5000", file=sys.stderr)
        return 2
    try:
        mosq, influx = Mosquitto().start(), InfluxDB().start()
    except ServiceUnavailable as exc:
        print(f"cannot start servers: {exc}", file=sys.stderr)
        return 1
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    data_dir = tempfile.mkdtemp(prefix="sw-bench-ingest-")
    try:
        print(f"smartward bench ingest: {n:,} messages per run, 1 sample each; cpus={os.cpu_count()}")
        raw = _writer_rounds(influx, args.writer_points)
        from benchmarks.influx_client import compare

        for line in compare(influx, n):  # the official client's encoding and write path (issue 14)
            print(line)
        paho, paho_cpu = _paho_receive(mosq.port, n, f"p{os.getpid()}/smartward/v1")
        print(f"paho receive (1 client, QoS 1, auto-ack):               {paho:12,.0f} msg/s"
              f"   ({paho_cpu:,.0f} msg per CPU-second)")
        for w in range(1, wmax + 1):
            rate, pub, per_cpu = _ingest(mosq, influx, n, w, data_dir)
            print(f"ingest MQTT->InfluxDB, {w} worker(s):                    {rate:12,.0f} msg/s"
                  f"   ({per_cpu:,.0f} msg per worker CPU-second)\n"
                  f"    = {rate / paho:4.2f}x paho receive, {rate / raw:4.2f}x raw /write, "
                  f"backlog published at {pub:,.0f} msg/s")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")
        print("against Node-RED: ../shared/bench/side_by_side.sh runs the peer and `smartward serve` in one run "
              "(this benchmark compares with no figure from another day)")
    finally:
        mosq.close()
        influx.close()
        subprocess.run(["rm", "-rf", data_dir], check=False)
    return 0
