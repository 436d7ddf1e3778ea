"""``smartward bench gateway``: the durable outbox and the publisher beside their real ceilings.

1. **append**: fsync'd ward ticks/s into the outbox (one transaction per tick of ``--beds`` samples)
   vs. the ceiling of empty fsync'd SQLite commits on the same disk.
2. **drain**: a backlog of ``--seconds`` of ward data (after an outage) published to a real Mosquitto
   at QoS 1 and removed on PUBACK, with backlog batching (samples/message <= 60) and without, vs.
   the ceiling of ``mosquitto_pub -l -q 1`` (the C client) sending the same one-sample payloads.

The digital twin's network-outage drill uses these figures (catch-up time = backlog / drain rate).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("gateway", help="outbox append (fsync) and backlog drain to Mosquitto vs. ceilings")
    p.add_argument("--beds", type=int, default=24, help="beds per tick (default 24)")
    p.add_argument("--seconds", type=int, default=600, help="backlog length in ward seconds (default 600)")
    p.set_defaults(func=run)


def _fsync_ceiling(path: str, n: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (x INTEGER)")
    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?)", (i,))
        db.execute("COMMIT")
    db.close()
    return n / (time.perf_counter() - start)


async def _bench(args: argparse.Namespace, broker_url: str, port: int, work: str) -> None:
    import orjson

    from gateway_agent import AsyncOutbox, Publisher, PublisherOptions, SimulatedWard, WardOptions

    ward = SimulatedWard(WardOptions(beds=args.beds, scenario="stable"))
    t0 = 1_795_000_000_000
    ticks = [ward.tick(t0 + k * 1000, 1.0).messages for k in range(2 * args.seconds)]
    ceiling = await asyncio.to_thread(_fsync_ceiling, os.path.join(work, "ceiling.sqlite3"), min(500, args.seconds))
    drains: list[float] = []
    for label, coalesce in (("batched", 60), ("one sample per message", 1)):
        part = ticks[: args.seconds] if coalesce > 1 else ticks[args.seconds:]
        async with AsyncOutbox(os.path.join(work, f"ob-{coalesce}")) as ob:
            start = time.perf_counter()
            for msgs in part:
                await ob.append(msgs)
            append_rate = len(part) / (time.perf_counter() - start)
            if coalesce > 1:
                print(f"append   {append_rate:8.0f} ticks/s ({append_rate * args.beds:.0f} samples/s, one fsync per "
                      f"{args.beds}-bed tick)  ceiling {ceiling:.0f} empty fsync'd commits/s  "
                      f"ratio {append_rate / ceiling:.2f}")
            pub = Publisher(ob, PublisherOptions(broker=broker_url, client_id=f"bench-{coalesce}",
                                                 coalesce_samples=coalesce))
            start = time.perf_counter()
            task = asyncio.create_task(pub.run())
            async with asyncio.timeout(600):
                await pub.wait_drained()
            secs = time.perf_counter() - start
            await pub.close()
            await task
            n = sum(len(m) for m in part)
            drains.append(n / secs)
            print(f"drain    {n / secs:8.0f} samples/s ({pub.messages / secs:.0f} msg/s, {label}): "
                  f"{args.seconds} s of {args.beds}-bed backlog in {secs:.2f}s")
    lines = b"\n".join(orjson.dumps({**m.body, "seq": 1}) for msgs in ticks[: args.seconds] for m in msgs) + b"\n"
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec("mosquitto_pub", "-p", str(port), "-q", "1", "-t", "bench/raw", "-l",
                                                stdin=asyncio.subprocess.PIPE)
    await proc.communicate(lines)
    raw = lines.count(b"\n") / (time.perf_counter() - start)
    print(f"ceiling  {raw:8.0f} msg/s: mosquitto_pub -l -q 1 (C client) sending the same one-sample payloads")
    print(f"ratios   batched drain {drains[0] / raw:.2f}x the ceiling (samples/s), one-per-message drain "
          f"{drains[1] / raw:.2f}x (each message also leaves the outbox durably)")


def run(args: argparse.Namespace) -> int:
    import logging

    from devservers import Mosquitto

    logging.getLogger("gateway_agent").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="sw-bench-gw-") as work:
        m = Mosquitto().start()
        try:
            print(f"smartward bench gateway: {args.beds} beds, {args.seconds} s backlog, Mosquitto on :{m.port}, "
                  f"outbox in {work}")
            asyncio.run(_bench(args, m.url, m.port, work))
        finally:
            m.close()
    return 0
