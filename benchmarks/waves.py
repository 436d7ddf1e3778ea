"""``smartward bench waves``: full-disclosure waveform storage through real ingest and InfluxDB (issue 14).

B beds stream ECG II at 250 Hz and pleth at 125 Hz (the simulator's own generators, in chunks of
``--chunk-ms``) as canonical ``{root}/devices/{id}/wave`` messages at QoS 1 into Mosquitto; one ingest
worker process (as ``smartward serve`` runs it) stores them in InfluxDB. Printed:
- samples sent and stored (every chunk must arrive: nothing lost), InfluxDB points stored per sample
  (target <= 0.01: a point per chunk, never per sample);
- the store's disk use (data + WAL directories) before and after, per bed-day extrapolated from the
  run (InfluxDB compacts its WAL into TSM files later, so a short run overstates it; the figure says
  how long the run was), beside the raw size of the samples as JSON;
- the raw retention (``raw`` RP, >= 96 h for full disclosure) the store was created with.
Figures, never assertions.
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


def register(sub: Any) -> None:
    p = sub.add_parser("waves", help="waveform storage: InfluxDB points per sample and disk per bed-day (real ingest)")
    p.add_argument("--beds", type=int, default=100, help="beds streaming ECG 250 Hz + pleth 125 Hz (default 100)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of waveform sent (default 60)")
    p.add_argument("--chunk-ms", type=int, default=1000, help="chunk length each device sends (default 1000 ms)")
    p.set_defaults(func=run)


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


WARMUP_S = 5.0
SETTLE_S = 12.0


def _wait_stored(influx: Any, db: str, samples: int, timeout_s: float = 120) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    points, stored = _stored(influx, db)
    while stored < samples and time.monotonic() < deadline:
        time.sleep(0.5)
        points, stored = _stored(influx, db)
    return points, stored


def _publish(port: int, root: str, beds: int, duration: float, chunk_ms: int, seq_from: int = 0,
             t_end_ms: int | None = None) -> tuple[int, int, int]:
    """Pace B beds' chunks in real time, the last one ending at ``t_end_ms`` (default a minute ago);
    returns (messages, samples, JSON bytes)."""
    import random

    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from device_profiles import topics
    from gateway_agent.waveforms import ECG_FS, PLETH_FS, WaveState, ecg_chunk, pleth_chunk

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"waves-bench-{os.getpid()}",
                    protocol=mqtt.MQTTv311)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    rngs = [random.Random(i) for i in range(beds)]
    ecg = [WaveState() for _ in range(beds)]
    pleth = [WaveState() for _ in range(beds)]
    secs = chunk_ms / 1000
    end = t_end_ms if t_end_ms is not None else int(time.time() * 1000) - 60_000  # in the past: no clock skew
    t0 = end - int(duration * 1000)
    msgs = samples = size = 0
    seq = [seq_from] * beds  # per device, over both signals (ingest deduplicates by device and seq)
    begin = time.monotonic()
    pending = []
    for k in range(int(duration * 1000 // chunk_ms)):
        due = begin + k * secs
        while time.monotonic() < due:
            time.sleep(min(0.005, due - time.monotonic()))
        t = t0 + k * chunk_ms
        for b in range(beds):
            dev = f"wave-{b:03d}"
            for signal, fs, data in (("ecg_ii", ECG_FS, ecg_chunk(ecg[b], 72 + b % 20, rngs[b], secs)),
                                     ("pleth", PLETH_FS, pleth_chunk(pleth[b], 72 + b % 20, 3.0, rngs[b], secs))):
                seq[b] += 1
                body = orjson.dumps({"v": 1, "device": dev, "seq": seq[b], "signal": signal, "fs": fs, "t0": t,
                                     "samples": data})
                pending.append(c.publish(topics.device_wave(dev, root), body, qos=1))
                msgs += 1
                samples += len(data)
                size += len(body)
    for info in pending:
        info.wait_for_publish(60)
    c.loop_stop()
    c.disconnect()
    return msgs, samples, size


def _stored(influx: Any, db: str) -> tuple[int, int]:
    """(points, samples) in the waveform measurement."""
    try:
        rows = influx.query('SELECT count("fs"), sum("n") FROM "raw"."waveform"', db)
    except Exception:  # noqa: BLE001 - database not created yet
        return 0, 0
    return (int(rows[0]["count"]), int(rows[0]["sum"])) if rows else (0, 0)


def run(args: argparse.Namespace) -> int:
    from devservers import InfluxDB, Mosquitto, ServiceUnavailable
    from ingest.config import IngestConfig

    from .ingest import _worker

    if args.beds < 1 or args.duration <= 0 or not 40 <= args.chunk_ms <= 10_000:
        print("--beds >= 1, --duration > 0 and --chunk-ms 40..10000", file=sys.stderr)
        return 2
    try:
        mosq, influx = Mosquitto().start(), InfluxDB().start()
    except ServiceUnavailable as exc:
        print(f"cannot start servers: {exc}", file=sys.stderr)
        return 1
    data_dir = tempfile.mkdtemp(prefix="sw-bench-waves-")
    root, db = f"w{os.getpid()}/smartward/v1", "wavebench"
    cfg = IngestConfig(broker=mosq.url, store=influx.store_url(db), state=f"sqlite:///{data_dir}/state.sqlite3",
                       data_dir=f"{data_dir}/w0", topic_root=root, auto_assign="w1").to_json()
    proc = _worker(cfg)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready": subscribed
        store_dir = influx.dir
        print(f"smartward bench waves: {args.beds} beds x (ECG 250 Hz + pleth 125 Hz), {args.chunk_ms} ms chunks, "
              f"{args.duration:g} s; cpus={os.cpu_count()}")
        # warm-up: the database's shard, index and WAL files exist before the disk use is measured
        w_msgs, w_samples, _ = _publish(mosq.port, root, args.beds, WARMUP_S, args.chunk_ms, seq_from=0,
                                        t_end_ms=int(time.time() * 1000) - int(args.duration * 1000) - 120_000)
        _wait_stored(influx, db, w_samples)
        time.sleep(SETTLE_S)
        before = _du(store_dir / "data") + _du(store_dir / "wal")
        msgs, samples, size = _publish(mosq.port, root, args.beds, args.duration, args.chunk_ms, seq_from=w_msgs)
        samples += w_samples
        points, stored = _wait_stored(influx, db, samples)
        time.sleep(SETTLE_S)  # let InfluxDB snapshot its cache (cache-snapshot-write-cold-duration 10 s)
        after = _du(store_dir / "data") + _du(store_dir / "wal")
        rp = influx.query('SHOW RETENTION POLICIES ON "wavebench"', db)
        raw_rp = next((r for r in rp if r.get("name") == "raw"), {})
        bed_days = args.beds * args.duration / 86_400
        print(f"sent: {msgs + w_msgs:,} chunks, {samples:,} samples (measured phase {size / 1e6:,.1f} MB as JSON;"
              f" {WARMUP_S:g} s warm-up before)")
        print(f"stored: {points:,} points holding {stored:,} samples = {stored / max(1, samples):.4f} of those sent"
              f"  ({'nothing lost' if stored == samples else f'{samples - stored:,} samples MISSING'})")
        print(f"InfluxDB points per sample: {points / max(1, stored):.4f}   (target <= 0.01)")
        print(f"store disk (data + WAL) grew {(after - before) / 1e6:,.1f} MB for {bed_days * 24:.2f} bed-hours"
              f" = {(after - before) / max(bed_days, 1e-9) / 1e9:,.2f} GB per bed-day"
              f" (a {args.duration:g} s run, before InfluxDB compacts its WAL; JSON would be"
              f" {size / max(bed_days, 1e-9) / 1e9:,.2f} GB per bed-day)")
        print(f"raw retention policy: {raw_rp.get('duration', '?')} (full disclosure needs >= 96h)")
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")
    finally:
        proc.terminate()
        proc.wait(60)
        mosq.close()
        influx.close()
        subprocess.run(["rm", "-rf", data_dir], check=False)
    return 0
