"""``smartward bench fanout``: dashboard websocket fan-out on a real Mosquitto.

The dashboard app (hub + uvicorn) runs in this process; S screens (websocket clients) run in a
second process; attributed observations for B beds are published on ``{root}/wards/w1/obs`` at R Hz
(what ingest republishes), each sample stamped with its publish time. Every screen must receive a
tile frame for every message. Printed:
- paced phase (B beds x R Hz for D s): deliveries/s, frames lost, publish -> frame latency p50/p99/max;
- burst phase (N messages as fast as the broker takes them): sustained deliveries/s = the ceiling of
  this fan-out on this machine, and the paced load as a fraction of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SIGNALS = ("heart_rate", "spo2", "resp_rate")


def register(sub: Any) -> None:
    p = sub.add_parser("fanout", help="dashboard websocket fan-out: deliveries/s, publish->frame p99 (real broker)")
    p.add_argument("--beds", type=int, default=500, help="beds publishing (default 500)")
    p.add_argument("--rate", type=float, default=1.0, help="messages per bed per second (default 1)")
    p.add_argument("--screens", type=int, default=50, help="connected websocket screens (default 50)")
    p.add_argument("--duration", type=float, default=10.0, help="paced phase seconds (default 10)")
    p.add_argument("--burst", type=int, default=5000, help="messages in the unpaced burst phase (default 5000; 0 = skip)")
    p.set_defaults(func=run)


# -- screens (child process) ------------------------------------------------------------------------
def _screens_main(url: str, token: str, screens: int, ctl: Any, out: Any) -> None:
    asyncio.run(_screens(url, token, screens, ctl, out))


async def _screens(url: str, token: str, screens: int, ctl: Any, out: Any) -> None:
    import orjson
    from websockets.asyncio.client import connect

    counts = [0] * screens
    counted_done = [False] * screens
    lat: list[int] = []
    alarm_lat: list[int] = []
    connected = 0
    first_last = [0.0, 0.0]
    all_in = asyncio.Event()
    target, done, complete = [0], [0], asyncio.Event()

    async def screen(i: int) -> None:
        nonlocal connected
        # a bearer header (clients that are not browsers); pages take one-time ?ticket= instead
        async with connect(url, max_size=2**26, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            snapshot = True
            sampled = i % 5 == 0  # a fifth of the screens measure latency; the others only count
            async for raw in ws:
                now = time.time_ns() // 1_000_000
                if not snapshot and not sampled:
                    # Counting frames without decoding them keeps this process (50 screens on the
                    # machine under test) from competing with the server for the CPU it measures.
                    counts[i] += raw.count(b'{"type":"tile"') if isinstance(raw, bytes) else raw.count('{"type":"tile"')
                    if counts[i] >= target[0] > 0 and not counted_done[i]:
                        counted_done[i] = True
                        done[0] += 1
                        if done[0] == screens:
                            complete.set()
                    first_last[1] = time.perf_counter()
                    if not first_last[0]:
                        first_last[0] = first_last[1]
                    continue
                for f in orjson.loads(raw):
                    if f.get("type") == "snapshot" and snapshot:
                        snapshot = False
                        connected += 1
                        if connected == screens:
                            all_in.set()
                    elif f.get("type") == "alarm":
                        alarm_lat.append(now - f["alarm"]["t"])
                    elif f.get("type") == "tile":
                        counts[i] += 1
                        if counts[i] == target[0] and not counted_done[i]:
                            counted_done[i] = True
                            done[0] += 1
                            if done[0] == screens:
                                complete.set()
                        lat.append(now - f["tile"]["updated"])
                        first_last[1] = time.perf_counter()
                        if not first_last[0]:
                            first_last[0] = first_last[1]

    tasks = [asyncio.create_task(screen(i)) for i in range(screens)]
    await all_in.wait()
    out.put(("connected", screens))
    while True:
        cmd = await asyncio.to_thread(ctl.get)
        if cmd[0] == "stop":
            break
        if cmd[0] == "reset":
            counts[:] = [0] * screens
            counted_done[:] = [False] * screens
            target[0], done[0] = 0, 0
            lat.clear()
            alarm_lat.clear()
            first_last[:] = [0.0, 0.0]
            out.put(("reset", 0))
        elif cmd[0] == "collect":
            expected, limit_s = cmd[1], cmd[2]
            target[0] = expected
            for k, c in enumerate(counts):
                counted_done[k] = c >= expected
            done[0] = sum(counted_done)
            if done[0] < screens:
                complete.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(complete.wait(), limit_s)
            out.put(("result", list(counts), list(lat), first_last[1] - first_last[0], list(alarm_lat)))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- publisher (child process, like ingest republishing) ---------------------------------------------
def _publisher_main(port: int, root: str, beds: int, rate: float, duration: float, burst: int, ctl: Any,
                    out: Any) -> None:
    asyncio.run(_publisher(port, root, beds, rate, duration, burst, ctl, out))


async def _publisher(port: int, root: str, beds: int, rate: float, duration: float, burst: int, ctl: Any,
                     out: Any) -> None:
    import orjson

    from device_profiles.mqtt_client import Client as MqttClient

    async with MqttClient("127.0.0.1", port, max_queued_outgoing_messages=1_000_000) as pub:
        while True:
            cmd = await asyncio.to_thread(ctl.get)
            if cmd == "paced":
                out.put(("paced", await _paced(pub, root, beds, rate, duration, orjson)))
            elif cmd == "burst":
                t0 = time.perf_counter()
                now = time.time_ns() // 1_000_000
                for k in range(burst):
                    bed = f"{k % beds + 1:03d}"
                    body = {"v": 1, "device": f"m{bed}", "seq": 10_000_000 + k, "ward": "w1", "bed": bed,
                            "patient": f"p{bed}", "samples": [{"t": now + k // beds, "heart_rate": 70}]}
                    await pub.publish(f"{root}/wards/w1/obs", orjson.dumps(body), qos=0)
                out.put(("burst", time.perf_counter() - t0))
            else:
                return


# -- server (this process) ---------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    return asyncio.run(_bench(args))


def _pct(xs: list[int], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(q * len(s)))])


async def _bench(args: argparse.Namespace) -> int:
    from devservers import Mosquitto

    broker = Mosquitto().start()
    tmp = Path(tempfile.mkdtemp(prefix="sw-fanout-"))  # store, state, audit key and log: this run's only
    try:
        return await _bench_on(args, broker, tmp)
    finally:
        broker.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def _bench_on(args: argparse.Namespace, broker: Any, tmp: Path) -> int:
    import httpx

    from dashboard_api import ApiConfig, UserStore, create_app
    from devservers import free_port
    from ingest import Attributions, make_engine, make_store
    from smartward.compose import HttpServer, Platform, PlatformConfig

    port = free_port()
    root = "bench/smartward/v1"
    cfg = PlatformConfig(broker=broker.url, store=f"sqlite:///{tmp}/v.sqlite3", state=f"sqlite:///{tmp}/s.sqlite3",
                         data_dir=str(tmp), http=None, topic_root=root, ingest_workers=0)
    platform = Platform(cfg, make_store(cfg.store), Attributions(make_engine(cfg.state)))
    from dashboard_api.audit import write_key_file
    from smartward.settings import load_settings

    # SMARTWARD_AUDIT_KEY(_FILE) when set; otherwise a fresh key for this run's throwaway audit log (in its
    # temporary directory, like the store), so the bench runs as production without a configured key
    audit_key = load_settings().configured_audit_key() or write_key_file(tmp / "audit.key")
    api = ApiConfig(secret_key=secrets.token_urlsafe(32), audit_key=audit_key)
    app = create_app(platform, api, own_hub=True)
    hub = app.state.services.hub
    server = HttpServer(app, f"127.0.0.1:{port}")
    ctx = mp.get_context("spawn")
    ctl, out, pctl, pout = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Queue()
    pproc = ctx.Process(target=_publisher_main, args=(broker.port, root, args.beds, args.rate, args.duration,
                                                      args.burst, pctl, pout), daemon=True)
    proc: Any = None
    serve = asyncio.create_task(server.run())
    try:
        while not (server.ready() and hub.ready()):  # noqa: ASYNC110 - neither exposes an event; start-up only
            await asyncio.sleep(0.05)
        # a real user and a real login: tokens are checked against the user's record on every request
        password = secrets.token_urlsafe(18)
        UserStore(platform.attributions.engine).add("bench", "nurse", password, ("w1",), "")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            r = await c.post("/api/v1/auth/token", data={"username": "bench", "password": password})
            r.raise_for_status()
            token = r.json()["access_token"]
        proc = ctx.Process(target=_screens_main, args=(f"ws://127.0.0.1:{port}/api/v1/ws/wards/w1", token,
                                                      args.screens, ctl, out), daemon=True)
        proc.start()
        pproc.start()
        await asyncio.to_thread(out.get, True, 60)
        print(f"fanout: {args.screens} screens connected; {args.beds} beds x {args.rate:g} Hz for "
              f"{args.duration:g} s on a real Mosquitto (ward topic, QoS 0, as ingest republishes)", flush=True)
        if True:
            pctl.put("paced")
            _, sent = await asyncio.to_thread(pout.get, True, args.duration + 60)
            ctl.put(("collect", sent, 15.0))
            _, counts, lat, _span, alat = await asyncio.to_thread(out.get, True, 60)
            delivered = sum(counts)
            want = sent * args.screens
            print(f"paced: {sent:,} messages -> {delivered:,} of {want:,} frames delivered "
                  f"({want - delivered:,} missing), {delivered / args.duration:,.0f} deliveries/s; "
                  f"publish->frame latency p50 {_pct(lat, 0.5):.0f} ms, p99 {_pct(lat, 0.99):.0f} ms, "
                  f"max {max(lat or [0]):.0f} ms ({len(lat):,} samples)", flush=True)
            print(f"alarms: {len(alat):,} alarm frames (one alarm event every 100 ms, sent at once, not coalesced): "
                  f"publish->frame p50 {_pct(alat, 0.5):.0f} ms, p99 {_pct(alat, 0.99):.0f} ms, "
                  f"max {max(alat or [0]):.0f} ms", flush=True)
            paced_rate = delivered / args.duration
            if args.burst:
                ctl.put(("reset",))
                await asyncio.to_thread(out.get, True, 30)
                pctl.put("burst")
                _, pub_s = await asyncio.to_thread(pout.get, True, 120)
                ctl.put(("collect", args.burst, 60.0))
                _, counts, _lat, span, _alat = await asyncio.to_thread(out.get, True, 90)
                delivered = sum(counts)
                ceiling = delivered / max(span, 1e-9)
                print(f"burst: {args.burst:,} messages published in {pub_s:.2f} s -> {delivered:,} of "
                      f"{args.burst * args.screens:,} frames in {span:.2f} s = {ceiling:,.0f} deliveries/s "
                      f"(ceiling of this fan-out here); paced load = {paced_rate / ceiling:.0%} of it", flush=True)
        print(f"hub counted {hub.counts['obs']:,} observations; server frames queued {hub.fanout.frames_sent:,}")
        ctl.put(("stop",))
        pctl.put("stop")
        proc.join(10)
        pproc.join(10)
    finally:
        for p in (proc, pproc):
            if p is not None and p.is_alive():
                p.terminate()
        server.server.should_exit = True
        serve.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serve
    return 0


async def _paced(pub: Any, root: str, n_beds: int, rate: float, duration: float, orjson: Any) -> int:
    """Publish ``n_beds`` messages per 1/rate s, spread evenly over each period; returns messages sent."""
    period = 1.0 / rate
    beds = [f"{i + 1:03d}" for i in range(n_beds)]
    sent = 0
    start = time.perf_counter()
    next_alarm = start
    seq = 0
    while time.perf_counter() - start < duration:
        tick = time.perf_counter()
        for j, bed in enumerate(beds):
            target = tick + period * j / len(beds)
            delay = target - time.perf_counter()
            if delay > 0.002:
                await asyncio.sleep(delay)
            seq += 1
            body = {"v": 1, "device": f"m{bed}", "seq": seq, "ward": "w1", "bed": bed, "patient": f"p{bed}",
                    "samples": [{"t": time.time_ns() // 1_000_000, "heart_rate": 60 + seq % 40, "spo2": 97,
                                 "resp_rate": 16}]}
            await pub.publish(f"{root}/wards/w1/obs", orjson.dumps(body), qos=0)
            sent += 1
            if time.perf_counter() >= next_alarm:
                next_alarm += 0.1
                alarm = {"v": 1, "id": f"a{seq}", "ward": "w1", "bed": "", "patient": "", "device": f"m{bed}",
                         "kind": "limit", "signal": "spo2", "priority": "high", "event": "raised", "state": "cleared",
                         "t": time.time_ns() // 1_000_000, "value": 84, "reason": "bench", "by": None,
                         "escalation_level": 0, "drill": ""}
                await pub.publish(f"{root}/alarms/w1/a{seq}", orjson.dumps(alarm), qos=1)
        rest = tick + period - time.perf_counter()
        if rest > 0:
            await asyncio.sleep(rest)
    return sent
