"""``smartward bench api``: concurrent API users while ingest carries the ward's vitals (issue 14).

Target: 300 concurrent API users (central-station websockets, bed-view trends, portal summaries, FHIR
reads) at realistic think times, while ingest carries 1,000 beds x 1 Hz: P95 < 1.8 s and no errors.

Method (real parts only):
- Mosquitto and InfluxDB 1.x from ``devservers/`` on free ports. The platform is ``smartward serve`` as a
  subprocess, as users run it: its default ingest worker count (``--ingest-workers`` to override) and
  production settings (``SMARTWARD_ENVIRONMENT=production``, a fresh ``SMARTWARD_SECRET_KEY`` and
  ``SMARTWARD_AUDIT_KEY``; plain HTTP on the loopback, which production allows without TLS), a fresh
  SQLite state DB and its own data directory.
- State: ``--wards`` wards sharing ``--beds`` beds; each bed's monitor is bound to it and a patient
  admitted through :class:`ingest.Attributions` (the ADT API's repository), before ``serve`` starts.
  Users are created with :class:`dashboard_api.UserStore` (what ``smartward users add`` calls;
  argon2id hashes). ``--history-minutes`` of 1 Hz vitals per bed are written to InfluxDB beforehand
  with the store's own line encoder, so a 1 h trend reads a full hour.
- Ingest load: a publisher process sends one canonical device message per bed every ``1/--rate`` s
  on ``{root}/devices/{device}/obs`` (QoS 1, one MQTT connection, like a gateway), spread evenly over
  each period. Stored rate = InfluxDB's count of samples stamped inside the steady phase, against what
  the publisher sent for those seconds.
- Users (one asyncio process: httpx + websockets), the ``--mix`` scaled to ``--users``, each with its
  own account and its own loopback source address (127.1.x.y: workstations; ``--one-address`` for all
  on 127.0.0.1, where the login limit's count of logins in flight per address applies to all of them):
  * station: charge nurse of one ward; ``POST /ws/ticket`` then ``WS /ws/wards/{w}?ticket=`` with the
    platform's Origin; time to the first snapshot, frames per second, and the longest silence (a
    screen that hears nothing for 3 s shows COMMUNICATION LOST: counted as an error);
  * nurse: bed-view trend of a random patient of her ward, the station page's request (5 signals),
    1 h (2 in 3) or 8 h; think 5-15 s;
  * portal: a patient's ``GET /patients/{p}/summary``; think 10-30 s;
  * fhir: a physician (all wards) reading a random patient's ``fhir/Observation`` (the default last
    15 min, ``_count=1000``), following ``next`` links (each page is a request); think 10-20 s.
  Access tokens are refreshed before they expire; a websocket closed for token expiry (4401) takes a
  new ticket and reconnects (counted, not an error).
- Phases: users start evenly over ``--ramp`` s (login, then their first action). The steady phase
  (``--duration`` s) starts when every user is logged in and every station has its snapshot; only
  requests started inside it count for the per-kind and overall figures. Logins, tickets and
  snapshots are reported separately (ramp).

Printed, beside the target, never asserted: per kind count, P50/P95/P99/max and errors; overall P95;
websocket snapshot latency and frame flow; ingest stored/s vs offered; CPU per process in the steady
phase; load average and CPU count (on a shared machine other load moves every figure).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET_P95_S = 1.8
KINDS = ("station", "nurse", "portal", "fhir")
DEFAULT_MIX = "station=50,nurse=150,portal=80,fhir=20"
TREND_SIGNALS = ("heart_rate", "spo2", "resp_rate", "nibp_sys", "temperature")  # station.js's bed view
STEADY_KINDS = ("trend 1h", "trend 8h", "portal summary", "fhir page")
RAMP_KINDS = ("login", "ws ticket", "ws snapshot", "refresh")
WS_SILENCE_S = 3.0  # the station's COMMUNICATION LOST threshold (docs/api.md)
REQUEST_TIMEOUT_S = 30.0
# A login verifies an argon2id hash (~0.3 s of CPU here): a whole shift logging in at once queues on
# the server's CPUs. The login page waits (no browser timeout); the wait is the ramp's login figure.
LOGIN_TIMEOUT_S = 180.0


def register(sub: Any) -> None:
    p = sub.add_parser("api", help="concurrent API users (stations, trends, portal, FHIR) under ingest load: "
                                   "P95 per request kind vs 1.8 s")
    p.add_argument("--users", type=int, default=300, help="concurrent users, split by --mix (default 300)")
    p.add_argument("--mix", default=DEFAULT_MIX, metavar="K=N,…",
                   help=f"relative share of station, nurse, portal and fhir users (default {DEFAULT_MIX})")
    p.add_argument("--beds", type=int, default=1000, help="beds publishing, all occupied (default 1000)")
    p.add_argument("--wards", type=int, default=20, help="wards sharing the beds (default 20)")
    p.add_argument("--rate", type=float, default=1.0, help="messages per bed per second (default 1)")
    p.add_argument("--duration", type=float, default=60.0, help="measured steady phase, seconds (default 60)")
    p.add_argument("--ramp", type=float, default=20.0, help="users start evenly over this many seconds (default 20)")
    p.add_argument("--history-minutes", type=float, default=60.0,
                   help="vitals history per bed written before the run (default 60: a full 1 h trend)")
    p.add_argument("--ingest-workers", type=int, default=None, metavar="N",
                   help="pass --ingest-workers N to serve (default: serve's own default)")
    p.add_argument("--think-scale", type=float, default=1.0, metavar="X",
                   help="multiply every think time by X (default 1; < 1 only for quick checks: more requests per user)")
    p.add_argument("--serve-env", action="append", default=[], metavar="SMARTWARD_X=V",
                   help="a setting for serve's environment (repeatable), e.g. SMARTWARD_ACCESS_TOKEN_MINUTES=1 "
                        "to exercise token refresh and websocket reconnects in a short run")
    p.add_argument("--one-address", action="store_true",
                   help="all users from 127.0.0.1 (default: each user from a loopback address of its own, like "
                        "workstations; the login limit counts logins in flight per address)")
    p.add_argument("--seed", type=int, default=14, help="random seed of the users' choices and think times")
    p.set_defaults(func=run)


# -- plan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bed:
    ward: str
    bed: str
    device: str
    patient: str
    index: int


@dataclass(frozen=True)
class UserPlan:
    kind: str
    username: str
    role: str
    wards: tuple[str, ...] = ()
    patient: str = ""
    ward: str = ""  # station: the ward watched; nurse: her ward


def parse_mix(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or k not in KINDS:
            raise ValueError(f"--mix: {part!r} is not KIND=N with KIND one of {', '.join(KINDS)}")
        out[k] = float(v)
        if out[k] < 0:
            raise ValueError(f"--mix: {k} must be >= 0")
    if not sum(out.values()):
        raise ValueError("--mix: all shares are 0")
    return out


def split_users(total: int, mix: dict[str, float]) -> dict[str, int]:
    """``total`` users by the mix's shares (largest remainder); then every kind with a share gets at
    least one, taken from the largest group, when there are enough users."""
    kinds = [k for k in KINDS if mix.get(k, 0) > 0]
    share = sum(mix[k] for k in kinds)
    exact = {k: total * mix[k] / share for k in kinds}
    counts = dict.fromkeys(KINDS, 0)
    for k in kinds:
        counts[k] = int(exact[k])
    left = total - sum(counts.values())
    for k in sorted(kinds, key=lambda k: exact[k] - int(exact[k]), reverse=True)[:left]:
        counts[k] += 1
    if total >= len(kinds):
        for k in kinds:
            if counts[k] == 0:
                counts[max(kinds, key=lambda j: counts[j])] -= 1
                counts[k] = 1
    return counts


def layout(beds: int, wards: int) -> list[Bed]:
    wards = max(1, min(wards, beds))
    out = []
    for i in range(beds):
        w, b = i % wards, i // wards
        ward, bed = f"w{w + 1:02d}", f"{b + 1:02d}"
        out.append(Bed(ward, bed, f"mon-{ward}-{bed}", f"p{ward}b{bed}", i))
    return out


def plan_users(counts: dict[str, int], beds: list[Bed]) -> list[UserPlan]:
    """Users in start order: the kinds interleaved so that every part of the ramp has the mix."""
    wards = sorted({b.ward for b in beds})
    by_kind: dict[str, list[UserPlan]] = {}
    by_kind["station"] = [UserPlan("station", f"station{i:03d}", "charge_nurse", (wards[i % len(wards)],),
                                   ward=wards[i % len(wards)]) for i in range(counts["station"])]
    by_kind["nurse"] = [UserPlan("nurse", f"nurse{i:03d}", "nurse", (wards[i % len(wards)],),
                                 ward=wards[i % len(wards)]) for i in range(counts["nurse"])]
    # portal patients spread over the wards (bed i of the layout is in ward i % wards)
    by_kind["portal"] = [UserPlan("portal", f"patient{i:03d}", "patient", patient=beds[i % len(beds)].patient)
                         for i in range(counts["portal"])]
    by_kind["fhir"] = [UserPlan("fhir", f"fhir{i:03d}", "physician", ("*",)) for i in range(counts["fhir"])]
    keyed = [((j + 0.5) / len(us), KINDS.index(k), u) for k, us in by_kind.items() for j, u in enumerate(us)]
    return [u for _pos, _k, u in sorted(keyed, key=lambda x: (x[0], x[1]))]


def vitals(index: int, seq: int) -> dict[str, float]:
    """A bed's 1 Hz reading (normal adult values, slowly varying); temperature each minute, NIBP each 15."""
    wave = math.sin((seq + index * 37) / 60.0)
    v: dict[str, float] = {"heart_rate": float(62 + index % 30 + round(4 * wave)),
                           "spo2": float(95 + (index + seq // 30) % 5), "resp_rate": float(13 + (index + seq // 20) % 6)}
    if (seq + index) % 60 == 0:
        v["temperature"] = round(36.6 + 0.4 * wave, 1)
    if (seq + index * 7) % 900 == 0:
        v.update(nibp_sys=float(112 + index % 20), nibp_dia=float(70 + index % 12), nibp_mean=float(85 + index % 14))
    return v


# -- publisher (child process) ---------------------------------------------------------------------
def _publisher_main(port: int, root: str, beds: list[tuple[int, str]], rate: float, seq0: int, ctl: Any,
                    out: Any) -> None:
    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-api-pub-{os.getpid()}", protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    topics = [f"{root}/devices/{device}/obs" for _i, device in beds]
    per_sec: dict[int, int] = defaultdict(int)
    period, n = 1.0 / rate, len(beds)
    out.put("connected")
    start, tick, behind, parent = time.monotonic(), 0, 0.0, os.getppid()
    while ctl.empty() and os.getppid() == parent:  # stops when told, or when the benchmark is gone
        t_tick = start + tick * period
        seq = seq0 + tick
        for j, (index, device) in enumerate(beds):
            delay = t_tick + period * j / n - time.monotonic()
            if delay > 0.002:
                time.sleep(delay)
            t = time.time_ns() // 1_000_000
            body = {"v": 1, "device": device, "seq": seq, "samples": [{"t": t, **vitals(index, seq)}]}
            c.publish(topics[j], orjson.dumps(body), qos=1)
            per_sec[t // 1000] += 1
        tick += 1
        behind = max(behind, time.monotonic() - (start + tick * period))
    c.loop_stop()
    c.disconnect()
    out.put((dict(per_sec), behind))


# -- users (this process) --------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    start: float  # time.monotonic()
    latency: float
    error: str | None


@dataclass
class Session:
    http: Any  # httpx.AsyncClient
    address: str = ""  # the workstation's own source address ("" = the default)
    access: str = ""
    refresh: str = ""
    renew_at: float = 0.0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class ScreenStats:
    ward: str
    messages: int = 0
    tiles: int = 0
    last: float = 0.0
    max_gap: float = 0.0
    reconnects: int = 0
    connected: bool = False


@dataclass
class Driver:
    base: str
    password: str
    patients_by_ward: dict[str, list[str]]
    all_patients: list[str]
    seed: int
    think_scale: float = 1.0
    own_addresses: bool = True
    samples: list[Sample] = field(default_factory=list)
    errors_seen: dict[tuple[str, str], str] = field(default_factory=dict)
    screens: list[ScreenStats] = field(default_factory=list)
    ready: int = 0
    failed: int = 0
    steady_start: float = math.inf
    steady_end: float = math.inf
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    lag: list[float] = field(default_factory=list)

    @staticmethod
    def address(index: int) -> str:
        """User ``index``'s workstation: its own loopback address (127.1.x.y; Linux answers all of 127/8)."""
        return f"127.{1 + index // 62_500}.{index // 250 % 250}.{index % 250 + 1}"

    # -- bookkeeping ---------------------------------------------------------------------------
    def record(self, kind: str, start: float, error: str | None = None, detail: str = "") -> None:
        self.samples.append(Sample(kind, start, time.monotonic() - start, error))
        if error is not None and (kind, error) not in self.errors_seen:
            self.errors_seen[(kind, error)] = detail[:200]

    def in_steady(self, t: float) -> bool:
        return self.steady_start <= t < self.steady_end

    def _ready(self, ok: bool) -> None:
        if ok:
            self.ready += 1
        else:
            self.failed += 1
        self.changed.set()

    async def think(self, rng: random.Random, lo: float, hi: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), rng.uniform(lo, hi) * self.think_scale)

    async def monitor_lag(self) -> None:
        """How late this process's event loop wakes up: a busy driver inflates every latency it measures."""
        while not self.stop.is_set():
            t = time.monotonic()
            await asyncio.sleep(0.05)
            if self.in_steady(t):
                self.lag.append(time.monotonic() - t - 0.05)

    # -- HTTP ----------------------------------------------------------------------------------
    async def request(self, s: Session, kind: str, method: str, url: str, *, auth: bool = True,
                      **kw: Any) -> Any | None:
        """One request, recorded; the response when 2xx, else ``None``."""
        import httpx

        t0 = time.monotonic()
        try:
            r = await s.http.request(method, url, headers=s.headers if auth else None, **kw)
        except httpx.HTTPError as exc:
            self.record(kind, t0, type(exc).__name__, str(exc))
            return None
        if r.status_code >= 400:
            self.record(kind, t0, f"HTTP {r.status_code}", r.text)
            return None
        self.record(kind, t0)
        return r

    async def login(self, s: Session, username: str) -> bool:
        r = await self.request(s, "login", "POST", "/api/v1/auth/token", auth=False, timeout=LOGIN_TIMEOUT_S,
                               data={"username": username, "password": self.password})
        if r is None:
            return False
        self._tokens(s, r.json())
        return True

    @staticmethod
    def _tokens(s: Session, body: dict[str, Any]) -> None:
        s.access, s.refresh = body["access_token"], body["refresh_token"]
        s.renew_at = time.monotonic() + max(5.0, float(body["expires_in"]) - 60.0)

    async def fresh(self, s: Session, username: str) -> bool:
        """Refresh the access token a minute before it expires (log in again if that fails)."""
        if time.monotonic() < s.renew_at:
            return True
        r = await self.request(s, "refresh", "POST", "/api/v1/auth/refresh", auth=False,
                               json={"refresh_token": s.refresh})
        if r is not None:
            self._tokens(s, r.json())
            return True
        return await self.login(s, username)

    # -- users ---------------------------------------------------------------------------------
    async def user(self, u: UserPlan, delay: float, index: int) -> None:
        import httpx

        await asyncio.sleep(delay)
        rng = random.Random(self.seed * 100_003 + index)
        transport = httpx.AsyncHTTPTransport(local_address=self.address(index)) if self.own_addresses else None
        async with httpx.AsyncClient(base_url=self.base, timeout=REQUEST_TIMEOUT_S, transport=transport) as http:
            s = Session(http, self.address(index) if self.own_addresses else "")
            if not await self.login(s, u.username):
                self._ready(False)
                return
            body: Callable[[Session, UserPlan, random.Random], Awaitable[None]] = {
                "station": self.station, "nurse": self.nurse, "portal": self.portal, "fhir": self.fhir}[u.kind]
            await body(s, u, rng)

    async def nurse(self, s: Session, u: UserPlan, rng: random.Random) -> None:
        self._ready(True)
        patients = self.patients_by_ward[u.ward]
        while not self.stop.is_set():
            if await self.fresh(s, u.username):
                hours = 1 if rng.random() < 2 / 3 else 8
                to = time.time_ns() // 1_000_000
                params = [("signal", sig) for sig in TREND_SIGNALS] + [("from", to - hours * 3_600_000), ("to", to)]
                await self.request(s, f"trend {hours}h", "GET", f"/api/v1/patients/{rng.choice(patients)}/vitals",
                                   params=params)
            await self.think(rng, 5, 15)

    async def portal(self, s: Session, u: UserPlan, rng: random.Random) -> None:
        self._ready(True)
        while not self.stop.is_set():
            if await self.fresh(s, u.username):
                await self.request(s, "portal summary", "GET", f"/api/v1/patients/{u.patient}/summary")
            await self.think(rng, 10, 30)

    async def fhir(self, s: Session, u: UserPlan, rng: random.Random) -> None:
        self._ready(True)
        while not self.stop.is_set():
            if await self.fresh(s, u.username):
                url: str | None = f"/api/v1/patients/{rng.choice(self.all_patients)}/fhir/Observation?_count=1000"
                pages = 0
                while url is not None and pages < 50:
                    r = await self.request(s, "fhir page", "GET", url)
                    pages += 1
                    url = next((lk["url"] for lk in r.json().get("link", []) if lk.get("relation") == "next"),
                               None) if r is not None else None
            await self.think(rng, 10, 20)

    async def station(self, s: Session, u: UserPlan, rng: random.Random) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, WebSocketException

        st = ScreenStats(u.ward)
        self.screens.append(st)
        first = True
        ws_base = "ws" + self.base.removeprefix("http")
        local: dict[str, Any] = {"local_addr": (s.address, 0)} if s.address else {}  # to create_connection
        while not self.stop.is_set():
            if not await self.fresh(s, u.username):
                await self.think(rng, 1, 2)
                continue
            r = await self.request(s, "ws ticket", "POST", "/api/v1/ws/ticket")
            if r is None:
                if first:
                    self._ready(False)
                    return
                await self.think(rng, 1, 2)
                continue
            t0 = time.monotonic()
            try:
                async with connect(f"{ws_base}/api/v1/ws/wards/{u.ward}?ticket={r.json()['ticket']}",
                                   origin=self.base, max_size=2**26, open_timeout=REQUEST_TIMEOUT_S,  # type: ignore[arg-type]
                                   **local) as ws:
                    raw = await asyncio.wait_for(ws.recv(), REQUEST_TIMEOUT_S)
                    head = raw[:200] if isinstance(raw, bytes) else raw[:200].encode()
                    if b'"snapshot"' not in head:
                        self.record("ws snapshot", t0, "first frame not a snapshot", head.decode(errors="replace"))
                    else:
                        self.record("ws snapshot", t0)
                    st.connected, st.last = True, time.monotonic()
                    if first:
                        first = False
                        self._ready(True)
                    async for raw in ws:
                        now = time.monotonic()
                        if self.in_steady(now):
                            gap = now - max(st.last, self.steady_start)
                            st.max_gap = max(st.max_gap, gap)
                            if gap > WS_SILENCE_S:
                                self.record("ws frames", now - gap, f"no frame for > {WS_SILENCE_S:g} s")
                            st.messages += 1
                            st.tiles += (raw.count(b'"type":"tile"') if isinstance(raw, bytes)
                                         else raw.count('"type":"tile"'))
                        st.last = now
                    if not self.stop.is_set():  # the server ended the stream cleanly
                        self.record("ws frames", time.monotonic(), f"closed {ws.close_code}", str(ws.close_reason))
            except ConnectionClosed as exc:
                st.connected = False
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code == 4401:  # the access token behind the ticket expired: refresh, new ticket
                    st.reconnects += 1
                    s.renew_at = 0.0
                    continue
                if not self.stop.is_set():
                    self.record("ws frames", time.monotonic(), f"closed {code}", str(exc))
            except (TimeoutError, OSError, WebSocketException) as exc:
                st.connected = False
                self.record("ws snapshot" if st.last == 0 else "ws frames", t0, type(exc).__name__, str(exc))
            if first:
                first = False
                self._ready(False)
                return
            if not self.stop.is_set():
                st.reconnects += 1
                await self.think(rng, 1, 2)


async def drive(driver: Driver, users: list[UserPlan], ramp: float, duration: float,
                on_steady: Callable[[float], None], on_end: Callable[[float], None]) -> float:
    """Run the users: ramp, then ``duration`` s of steady phase; returns the ramp's real length."""
    t0 = time.monotonic()
    lag_task = asyncio.create_task(driver.monitor_lag())
    n = len(users)
    tasks = [asyncio.create_task(driver.user(u, ramp * i / max(n, 1), i)) for i, u in enumerate(users)]
    deadline = t0 + ramp + LOGIN_TIMEOUT_S + 2 * REQUEST_TIMEOUT_S
    while driver.ready + driver.failed < n and time.monotonic() < deadline:
        driver.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(driver.changed.wait(), 1.0)
    await asyncio.sleep(max(0.0, t0 + ramp - time.monotonic()))
    ramp_s = time.monotonic() - t0
    driver.steady_start = time.monotonic()
    on_steady(driver.steady_start)
    await asyncio.sleep(duration)
    driver.steady_end = time.monotonic()
    on_end(driver.steady_end)
    for st in driver.screens:  # a screen silent until the end
        if st.last and driver.steady_end - max(st.last, driver.steady_start) > st.max_gap:
            st.max_gap = driver.steady_end - max(st.last, driver.steady_start)
            if st.max_gap > WS_SILENCE_S:
                driver.record("ws frames", max(st.last, driver.steady_start), f"no frame for > {WS_SILENCE_S:g} s")
    driver.stop.set()
    stations = [t for t, u in zip(tasks, users, strict=True) if u.kind == "station"]
    for t in stations:  # they only listen: nothing in flight to wait for
        t.cancel()
    others = [t for t in tasks if t not in stations]
    if others:  # requests in flight finish (and count); think times end at once
        _done, pending = await asyncio.wait(others, timeout=REQUEST_TIMEOUT_S + 5)
        for t in pending:
            t.cancel()
    await asyncio.gather(*tasks, lag_task, return_exceptions=True)
    return ramp_s


# -- report ----------------------------------------------------------------------------------------
def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (``nan`` for no samples)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def _row(name: str, xs: list[float], errors: int) -> str:
    return (f"  {name:<16}{len(xs) + errors:>7,}{pct(xs, 0.5):>9.3f}{pct(xs, 0.95):>9.3f}{pct(xs, 0.99):>9.3f}"
            f"{max(xs, default=float('nan')):>9.3f}{errors:>8,}")


def report(d: Driver, ramp_s: float, duration: float) -> list[str]:
    steady = [s for s in d.samples if d.in_steady(s.start)]
    header = f"  {'kind':<16}{'count':>7}{'p50 s':>9}{'p95 s':>9}{'p99 s':>9}{'max s':>9}{'errors':>8}"
    lines = [f"steady phase ({duration:g} s, requests started in it):", header]
    ok_all: list[float] = []
    err_all = 0
    for kind in STEADY_KINDS:
        xs = [s.latency for s in steady if s.kind == kind and s.error is None]
        errs = sum(1 for s in steady if s.kind == kind and s.error is not None)
        ok_all += xs
        err_all += errs
        lines.append(_row(kind, xs, errs))
    lines.append(_row("overall", ok_all, err_all))
    ws_err = [s for s in d.samples if s.kind == "ws frames" and s.error is not None and d.in_steady(s.start)]
    p95 = pct(ok_all, 0.95)
    errors = err_all + len(ws_err)
    verdict = ("meets" if p95 < TARGET_P95_S and errors == 0 else "MISSES") if ok_all else "cannot be compared with"
    lines.append(f"overall P95 {p95:.3f} s over {len(ok_all) + err_all:,} requests "
                 f"({(len(ok_all) + err_all) / duration:.1f}/s), {errors} errors (requests {err_all}, websockets "
                 f"{len(ws_err)}): {verdict} the target (P95 < {TARGET_P95_S:g} s, no errors)")
    lines.append(f"logins and connections, whole run (ramp {ramp_s:.1f} s until every user was in; {d.ready} ready, "
                 f"{d.failed} failed):")
    lines.append(header)
    for kind in RAMP_KINDS:
        xs = [s.latency for s in d.samples if s.kind == kind and s.error is None]
        errs = sum(1 for s in d.samples if s.kind == kind and s.error is not None)
        if xs or errs or kind != "refresh":
            lines.append(_row(kind, xs, errs))
    screens = d.screens
    if screens:
        secs = max(duration, 1e-9)
        per = [st.messages / secs for st in screens]
        tiles = [st.tiles / secs for st in screens]
        gaps = [st.max_gap for st in screens]
        lines.append(f"websockets: {len(screens)} stations, {sum(st.connected for st in screens)} connected at the end; "
                     f"per station {pct(per, 0.5):.1f} messages/s and {pct(tiles, 0.5):.1f} tile frames/s (median), "
                     f"longest silence {max(gaps):.2f} s (p50 {pct(gaps, 0.5):.2f} s), reconnects "
                     f"{sum(st.reconnects for st in screens)}, {len(ws_err)} errors")
    all_err = [s for s in d.samples if s.error is not None]
    lines.append(f"errors: {errors} in the steady phase, {len(all_err)} in the whole run")
    by = Counter((s.kind, s.error) for s in all_err)
    for (kind, err), n in sorted(by.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {n:>6,} x {kind}: {err}  {d.errors_seen.get((kind, err or ''), '')!r}")
    if d.lag:
        lines.append(f"driver event loop lag (this process; inflates what it measures): p99 {pct(d.lag, 0.99) * 1000:.0f} ms, "
                     f"max {max(d.lag) * 1000:.0f} ms")
    return lines


# -- CPU of the processes --------------------------------------------------------------------------
def _cpu_s(pid: int) -> float | None:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(c for p in pids if (c := _cpu_s(p)) is not None) for name, pids in groups.items()}


# -- the run ---------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    try:
        mix = parse_mix(args.mix)
    except ValueError as exc:
        print(f"smartward bench api: {exc}", file=sys.stderr)
        return 2
    if (args.users < 1 or args.beds < 1 or args.wards < 1 or args.rate <= 0 or args.duration <= 0 or args.ramp < 0
            or args.think_scale <= 0):
        print("smartward bench api: --users, --beds, --wards >= 1; --rate, --duration, --think-scale > 0; --ramp >= 0",
              file=sys.stderr)
        return 2
    bad = [e for e in args.serve_env if not e.startswith("SMARTWARD_") or "=" not in e]
    if bad:
        print(f"smartward bench api: --serve-env {bad[0]!r} is not SMARTWARD_NAME=VALUE", file=sys.stderr)
        return 2
    from devservers import InfluxDB, Mosquitto, ServiceUnavailable

    try:
        mosq = Mosquitto().start()
    except ServiceUnavailable as exc:
        print(f"cannot start Mosquitto: {exc}", file=sys.stderr)
        return 1
    try:
        influx = InfluxDB().start()
    except ServiceUnavailable as exc:
        mosq.close()
        print(f"cannot start InfluxDB: {exc}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="sw-bench-api-"))
    started: list[Any] = []

    def terminated(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM: clean up as for Ctrl-C (the finally below)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        return _run(args, mix, mosq, influx, tmp, started)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_all(started)
        mosq.close()
        influx.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _stop_all(started: list[Any]) -> None:
    """Stop what this run started: the publisher, then serve (SIGTERM stops its workers; after 30 s
    its own process group, which holds only serve and its workers, is killed)."""
    for p in reversed(started):
        if isinstance(p, subprocess.Popen):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)  # serve was started in a session of its own
                    p.wait(10)
        elif p.is_alive():
            p.terminate()
            p.join(10)
    started.clear()


def _run(args: argparse.Namespace, mix: dict[str, float], mosq: Any, influx: Any, tmp: Path,
         started: list[Any]) -> int:
    import httpx

    from dashboard_api import UserStore
    from devservers import free_port
    from ingest import Attributions, make_engine

    counts = split_users(args.users, mix)
    beds = layout(args.beds, args.wards)
    wards = sorted({b.ward for b in beds})
    users = plan_users(counts, beds)
    root = f"bapi{os.getpid()}/smartward/v1"
    db = "smartward_bench_api"
    state = f"sqlite:///{tmp}/state.sqlite3"
    ncpu = os.cpu_count() or 1
    print(f"smartward bench api: {len(users)} users ({', '.join(f'{counts[k]} {k}' for k in KINDS)}), "
          f"{len(beds):,} beds x {args.rate:g} Hz in {len(wards)} wards; ramp {args.ramp:g} s, steady {args.duration:g} s; "
          f"target P95 < {TARGET_P95_S:g} s and no errors; {ncpu} CPUs", flush=True)

    # state: beds bound and occupied, users
    t = time.perf_counter()
    attr = Attributions(make_engine(state))
    since = int(time.time() * 1000) - int(args.history_minutes * 60_000) - 600_000
    for b in beds:
        attr.assign_device(b.device, b.ward, b.bed, since)
        attr.admit(b.patient, b.ward, b.bed, since, new_stay=True)
    attr.engine.dispose()
    t_attr = time.perf_counter() - t
    t = time.perf_counter()
    password = secrets.token_urlsafe(18)
    store = UserStore(make_engine(state))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=ncpu) as pool:  # argon2id hashing releases the GIL
        list(pool.map(lambda u: store.add(u.username, u.role, password, u.wards, u.patient), users))
    store.engine.dispose()
    t_users = time.perf_counter() - t
    t = time.perf_counter()
    import logging

    logging.getLogger("ingest.stores.influx").setLevel(logging.WARNING)
    history_steps = int(args.history_minutes * 60 * args.rate)
    history = asyncio.run(_history(influx.store_url(db), beds, history_steps, args.rate))
    t_hist = time.perf_counter() - t
    print(f"setup: {len(beds):,} monitors bound and patients admitted in {t_attr:.1f} s; {len(users)} users "
          f"(argon2id) in {t_users:.1f} s; history {history:,} samples ({args.history_minutes:g} min per bed) "
          f"written in {t_hist:.1f} s", flush=True)

    # the platform, as users run it
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTWARD_")}
    env.update(SMARTWARD_ENVIRONMENT="production", SMARTWARD_SECRET_KEY=secrets.token_urlsafe(32),
               SMARTWARD_AUDIT_KEY=secrets.token_hex(32), SMARTWARD_DATA_DIR=str(tmp / "data"))
    env.update(e.split("=", 1) for e in args.serve_env)
    argv = [sys.executable, "-m", "smartward", "serve", "--broker", mosq.url, "--store", influx.store_url(db),
            "--state", state, "--http", f"127.0.0.1:{port}", "--data-dir", str(tmp / "data"), "--topic-root", root]
    if args.ingest_workers is not None:
        argv += ["--ingest-workers", str(args.ingest_workers)]
    log_path = tmp / "serve.log"
    t = time.perf_counter()
    with open(log_path, "wb") as log:
        serve = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp,
                                 start_new_session=True, preexec_fn=_die_with_parent)
    started.append(serve)
    while True:
        if serve.poll() is not None:
            print(f"smartward serve exited ({serve.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}",
                  file=sys.stderr)
            return 1
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        if time.perf_counter() - t > 120:
            print(f"smartward serve not ready after 120 s:\n{log_path.read_text(errors='replace')[-3000:]}",
                  file=sys.stderr)
            return 1
        time.sleep(0.2)
    first = log_path.read_text(errors="replace").splitlines()[0] if log_path.stat().st_size else ""
    extra = "".join(f", {e.split('=', 1)[0]}" for e in args.serve_env)
    print(f"serve ready in {time.perf_counter() - t:.1f} s: {first.removeprefix('smartward serve: ')} "
          f"(SMARTWARD_ENVIRONMENT=production, fresh secret and audit keys, HTTP on the loopback{extra})", flush=True)

    # ingest load
    ctx = mp.get_context("spawn")
    ctl, out = ctx.Queue(), ctx.Queue()
    pub = ctx.Process(target=_publisher_main, args=(mosq.port, root, [(b.index, b.device) for b in beds],
                                                    args.rate, history_steps + 1, ctl, out), daemon=True)
    started.append(pub)
    pub.start()
    out.get(True, 60)

    # users
    children = _descendants(serve.pid)
    apart = [p for p in children if "alerting.service_main" in _cmdline(p)]  # serve runs alerting apart
    groups = {"serve (API, hub)" if apart else "serve (API, hub, alerting)": [serve.pid],
              **({"alerting": apart} if apart else {}), "ingest workers": [p for p in children if p not in apart],
              "influxd": [influx.proc.pid], "mosquitto": [mosq.proc.pid], "publisher": [pub.pid],
              "driver (this process)": [os.getpid()]}
    marks: dict[str, Any] = {}

    def on_steady(_t: float) -> None:
        marks["wall0"], marks["cpu0"], marks["mono0"] = time.time(), cpu_snapshot(groups), time.monotonic()

    def on_end(_t: float) -> None:
        marks["wall1"], marks["cpu1"], marks["mono1"] = time.time(), cpu_snapshot(groups), time.monotonic()
        marks["load"] = os.getloadavg()

    by_ward: dict[str, list[str]] = defaultdict(list)
    for b in beds:
        by_ward[b.ward].append(b.patient)

    async def go() -> tuple[Driver, float]:
        d = Driver(base, password, dict(by_ward), [b.patient for b in beds], args.seed, args.think_scale,
                   not args.one_address)
        ramp_s = await drive(d, users, args.ramp, args.duration, on_steady, on_end)
        return d, ramp_s

    driver, ramp_s = asyncio.run(go())
    ctl.put("stop")
    per_sec, behind = out.get(True, 60)
    pub.join(10)

    # ingest: samples stamped in the steady phase's whole seconds, once the store has them all
    a, b = math.ceil(marks["wall0"]), math.floor(marks["wall1"])
    offered = sum(n for sec, n in per_sec.items() if a <= sec < b)
    stored, last, deadline = 0, -1, time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = _count(influx, db, a * 1000, b * 1000)
        if stored >= offered or stored == last:
            break
        last = stored
        time.sleep(2.0)

    steady_s = marks["mono1"] - marks["mono0"]
    for line in report(driver, ramp_s, args.duration):
        print(line)
    span = max(b - a, 1)
    print(f"ingest: offered {offered / span:,.0f} msg/s ({offered:,} messages stamped in {span} s of the steady phase; "
          f"publisher at most {behind:.2f} s behind its schedule), stored {stored / span:,.0f} samples/s "
          f"= {stored / offered if offered else float('nan'):.1%} of offered")
    cpu = {k: (marks["cpu1"][k] - marks["cpu0"][k]) / steady_s for k in groups}
    print(f"CPU in the steady phase (100 % = one core; {ncpu} CPUs): "
          + ", ".join(f"{k} {v:.0%}" for k, v in cpu.items()) + f"; total {sum(cpu.values()):.0%}")
    la = marks["load"]
    print(f"load average at the end of the steady phase: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {ncpu} CPUs "
          "(shared machine: other processes' load moves every figure)")
    return 0


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark process dies, even by SIGKILL (Linux)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _count(influx: Any, db: str, from_ms: int, to_ms: int) -> int:
    try:
        rows = influx.query(f'SELECT count("heart_rate") FROM "raw"."vitals" WHERE time >= {from_ms}ms '
                            f"AND time < {to_ms}ms", db)
    except Exception:  # noqa: BLE001 - nothing stored yet
        return 0
    return int(rows[0]["count"]) if rows else 0


async def _history(store_url: str, beds: list[Bed], steps: int, rate: float) -> int:
    """``steps`` readings per bed (at ``rate`` Hz) up to now, through the store's own encoder and write
    path; their ``seq`` are 0 .. steps-1 (the live stream goes on from ``steps + 1``)."""
    from device_profiles import AttributedObservation, Attribution, Observation
    from device_profiles import Sample as ObsSample
    from ingest.records import Batch
    from ingest.stores import open_store

    store = await open_store(store_url)
    now = int(time.time() * 1000)
    period_ms = int(1000 / rate)
    who = [Attribution(b.ward, b.bed, b.patient) for b in beds]
    n = 0
    pending: asyncio.Task[None] | None = None
    batch = Batch()
    try:
        for k in range(steps):
            t = now - (steps - k) * period_ms
            seq = k
            for b, w in zip(beds, who, strict=True):
                batch.add_obs(AttributedObservation(Observation(b.device, seq, [ObsSample(t, vitals(b.index, seq))]), w))
                n += 1
            if batch.lines >= 5000 or k == steps - 1:
                data = store.encode(batch)
                if pending is not None:
                    await pending
                pending = asyncio.create_task(store.write(data))
                batch = Batch()
        if pending is not None:
            await pending
    finally:
        await store.close()
    return n
