"""The live-drill driver: a drill on the RUNNING platform, measured from its real alarm events.

0. connects to the broker once in the drill's protocol (:func:`~digital_twin.broker_probe.probe_broker`):
   a broker that refuses it (e.g. MQTT v5 to ``smartward demo``'s MQTT 3.1.1 broker) fails the drill
   before it exists on the platform;
1. ``POST /api/v1/drills`` on the platform: it binds simulated devices to virtual beds
   ``DRILL-nn`` of a real ward with the drill tag and raises the DRILL banner;
2. runs gateway_agent's simulator for those devices (each tick stored in a durable outbox, drained
   to the broker by a :class:`~gateway_agent.Publisher`) on the drill's own device tree
   ``{root}/drill/devices/{id}/…`` (the only device topics the drill account may write; ingest takes
   nothing from there but devices of a running drill), while listening to
   ``{root}/drill/alarms/{ward}/+`` for the drill's alarm events (alerting publishes them there besides the
   clinical ``{root}/alarms/…``, which the drill account may not read), which nurses acknowledge as usual;
3. at the end (duration, or someone stops the drill: retained ``{root}/drill/{ward}`` inactive)
   ``DELETE /api/v1/drills/{id}``, waits for alerting to clear the drill's alarms, merges the alarm
   log (``GET /api/v1/drills/{id}/alarm-events``: events the live subscription missed) and returns
   the report (:mod:`digital_twin.drill_report`) with measured acknowledgement and resolution times.
   ``samples`` in the report counts samples the broker acknowledged (QoS 1), not samples generated; a
   drill none of whose samples reached the broker is an error (the drill is stopped on the platform).

:func:`report_from_log` rebuilds the report of any past drill from the alarm log alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from device_profiles import DrillStateMessage, PayloadError, now_ms, parse_mqtt_url, topics
from device_profiles.mqtt_client import Client
from device_profiles.mqtt_factory import stay_subscribed
from device_profiles.retry import Backoff
from gateway_agent import AsyncOutbox, GatewayError, Publisher, PublisherOptions, SimulatedWard, WardOptions
from gateway_agent.scenarios import get as get_scenario

from .api_errors import api_error
from .broker_probe import PROBE_TIMEOUT_S, BrokerRefused, probe_broker, protocol_name
from .drill_report import AlarmLog, build_report, render_html
from .errors import TwinError

log = logging.getLogger(__name__)


SUBSCRIBE_TIMEOUT_S = 15.0
BACKOFF_MAX_S = 15.0
# what a drill may ask for (the API's POST /drills and `smartward drill start` check the same bounds)
BEDS_MAX = 16
DURATION_MIN_S, DURATION_MAX_S = 10.0, 8 * 3600.0
SPEED_MAX = 100.0  # scenario seconds per second (above 0)
RATE_MAX = 10.0  # samples per second per bed (above 0)


class LiveDrillError(TwinError):
    """The platform refused the drill, or could not be reached."""


@dataclass(frozen=True, slots=True)
class LiveDrillOptions:
    base_url: str  # the platform's HTTP API, e.g. http://127.0.0.1:8000
    broker: str  # mqtt://host:port (the platform's broker)
    ward: str
    token: str | None = None  # or username + password
    username: str | None = None
    password: str | None = None
    root: str = "smartward/v1"
    beds: int = 2
    scenarios: tuple[str, ...] = ("desaturation",)
    duration_s: float = 600.0
    speed: float = 1.0
    seed: int = 0
    rate: float = 1.0  # samples per second per bed
    outbox: str | None = None  # default: a temporary file
    mqtt_v5: bool = True  # False for MQTT 3.1.1-only brokers (amqtt in `smartward demo`)
    settle_s: float = 10.0  # after stopping: wait this long for the drill's last alarm events


@dataclass
class LiveDrill:
    """A running drill; :meth:`stop` ends it early (from another task)."""

    options: LiveDrillOptions
    on_event: Callable[[dict[str, Any]], None] | None = None  # every drill alarm event (progress output)
    on_start: Callable[[dict[str, Any]], None] | None = None  # the API's drill record, once started
    drill: dict[str, Any] = field(default_factory=dict)  # the API's answer to POST /drills
    log: AlarmLog | None = None
    samples: int = 0  # samples the broker acknowledged
    generated: int = 0  # samples the simulator produced (stored in the outbox)
    _pub: Publisher | None = None
    _ended_elsewhere: bool = False  # the platform ended the drill (its devices are unbound already)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _event: asyncio.Event = field(default_factory=asyncio.Event)  # a drill alarm event arrived
    _subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _headers: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> dict[str, Any]:
        """Start, drive, stop; returns ``report.json`` as a dict."""
        o = self.options
        parse_mqtt_url(o.broker)  # a bad URL is refused before anything starts
        async with httpx.AsyncClient(base_url=o.base_url, timeout=15.0) as http:
            self._headers = await login(http, o.token, o.username, o.password)
            try:  # a broker that will not take the drill's samples fails it before it exists on the platform
                await probe_broker(o.broker, mqtt_v5=o.mqtt_v5)
            except BrokerRefused as exc:
                raise LiveDrillError(str(exc)) from None
            try:
                async with asyncio.TaskGroup() as tg:
                    listener = tg.create_task(self._listen())
                    try:  # listen first: no alarm event of the drill may pass unseen
                        async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                            await self._subscribed.wait()
                    except TimeoutError:
                        raise LiveDrillError(f"broker {o.broker} not reachable within {SUBSCRIBE_TIMEOUT_S:.0f} s") \
                            from None
                    self.drill = await self._call(http, "POST", "/api/v1/drills", {
                        "ward": o.ward, "beds": o.beds, "scenarios": list(o.scenarios), "duration_s": o.duration_s,
                        "speed": o.speed, "seed": o.seed, "rate": o.rate})
                    self.log = AlarmLog(self.drill["id"])
                    if self.on_start is not None:
                        self.on_start(self.drill)
                    log.info("live drill %s started in ward %s (%d beds)", self.drill["id"], o.ward,
                             len(self.drill["beds"]))
                    await self._simulate(http)
                    await self._settle()
                    listener.cancel()
            except* (LiveDrillError, GatewayError) as eg:
                raise _first(eg) from None
            finally:
                if self.drill and self.drill.get("stopped") is None:
                    with contextlib.suppress(LiveDrillError, httpx.HTTPError):
                        await self._stop_drill(http)
            assert self.log is not None
            for ev in await call(http, self._headers, "GET", f"/api/v1/drills/{self.drill['id']}/alarm-events"):
                self.log.add(ev)  # the alarm log: events the subscription missed (redeliveries are harmless)
        record = self.drill if self.drill.get("samples") is not None else self.drill | {"samples": self.samples}
        if self.generated and not self.samples:
            raise LiveDrillError(f"drill {self.drill['id']}: none of its {self.generated} samples reached the broker "
                                 f"at {parse_mqtt_url(o.broker)} ({protocol_name(o.mqtt_v5)}); the drill was stopped "
                                 "and measured nothing")
        report = build_report(self.log, ward=o.ward, seed=o.seed, parameters=parameters(record))
        if self.samples < self.generated:
            report["parameters"]["samples_generated"] = self.generated
            report["summary"].insert(0, f"Only {self.samples} of the {self.generated} samples generated reached the "
                                     f"broker at {parse_mqtt_url(o.broker)}: the drill's measurements cover less "
                                     "than it ran.")
        return report

    async def _call(self, http: httpx.AsyncClient, method: str, path: str,
                    body: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = await call(http, self._headers, method, path, body)
        if method == "DELETE":
            self.drill = data
        return data

    async def _stop_drill(self, http: httpx.AsyncClient) -> None:
        """Stop the drill on the platform, recording the samples the broker acknowledged (the report shows
        them, and a report rebuilt later from the platform shows the same)."""
        if self._pub is not None:
            self.samples = self._pub.delivered  # one outbox entry per sample (the drill sends no waveforms)
        await self._call(http, "DELETE", f"/api/v1/drills/{self.drill['id']}?samples={self.samples}")

    # -- simulation --------------------------------------------------------------------------------
    def _ward(self) -> SimulatedWard:
        o = self.options
        beds = self.drill["beds"]
        ward = SimulatedWard(WardOptions(beds=len(beds), ward=o.ward, scenario="stable", seed=o.seed,
                                device_pattern=self.drill["id"] + "-{bed:02d}", root=topics.drill_root(o.root),
                                speed=o.speed))
        for sim_bed, plan in zip(ward.beds, beds, strict=True):
            if sim_bed.device != plan["device"]:
                raise LiveDrillError(f"device {sim_bed.device} does not match the drill's {plan['device']}")
            sim_bed.scenario_name, sim_bed.scenario = plan["scenario"], get_scenario(plan["scenario"])
        return ward

    async def _simulate(self, http: httpx.AsyncClient) -> None:
        """Produce until the drill ends, stop it on the platform, then let the publisher finish."""
        o = self.options
        ward = self._ward()
        with tempfile.TemporaryDirectory(prefix="sw-drill-") as tmp:
            path = o.outbox or str(Path(tmp) / "outbox.sqlite3")
            async with AsyncOutbox(path) as outbox:
                pub = Publisher(outbox, PublisherOptions(broker=o.broker, client_id=f"sw-{self.drill['id']}",
                                                         root=topics.drill_root(o.root), mqtt_v5=o.mqtt_v5,
                                                         forget_on_close=True))
                self._pub = pub
                for b in ward.beds:
                    pub.set_status(b.device, online=True, battery=round(b.battery))
                async with asyncio.TaskGroup() as tg:
                    task = tg.create_task(pub.run())
                    try:  # the probe connected moments ago: a publisher that cannot fails the drill now
                        async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                            await pub.connected.wait()
                    except TimeoutError:
                        raise LiveDrillError(f"the drill's publisher could not connect to the broker at {pub.url} "
                                             f"with {protocol_name(o.mqtt_v5)} within {SUBSCRIBE_TIMEOUT_S:.0f} s") \
                            from None
                    await self._produce(ward, outbox, pub)
                    if self._ended_elsewhere:
                        await self._discard_pending(outbox, [b.device for b in ward.beds])
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(10):
                            await pub.wait_drained()
                    if self.drill.get("stopped") is None:  # unbind BEFORE the devices go offline
                        await self._stop_drill(http)
                    await pub.close()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(5):
                            await asyncio.shield(task)
                    task.cancel()

    async def _discard_pending(self, outbox: AsyncOutbox, devices: list[str]) -> None:
        """The platform ended the drill and unbound its devices: samples still queued would arrive as data
        of no drill (stored as clinical data of an unknown device), so they are not sent (not counted)."""
        dropped = 0
        while entries := await outbox.peek(500, devices):
            await outbox.ack([e.id for e in entries])
            dropped += len(entries)
        self.generated -= dropped
        if dropped:
            log.info("live drill %s ended on the platform: %d queued sample(s) not sent", self.drill["id"], dropped)

    async def _produce(self, ward: SimulatedWard, outbox: AsyncOutbox, pub: Publisher) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.options.rate
        t0_wall, t0_ms = loop.time(), now_ms()
        ends_wall = t0_wall + (int(self.drill["ends"]) - t0_ms) / 1000
        k = 0
        while not self._stop.is_set():
            due = t0_wall + k * period
            if due >= ends_wall:  # no sample left before the end time: the drill still runs until then
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, ends_wall - loop.time())):
                        await self._stop.wait()
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, due - loop.time())):
                    await self._stop.wait()
                    return
            tick = ward.tick(t0_ms + round(k * period * 1000), period)
            try:
                await outbox.append(tick.messages)
            except GatewayError as exc:
                log.error("live drill %s: outbox refused a tick: %s", self.drill["id"], exc)
            else:
                self.generated += tick.samples
            for device, fields in tick.status:
                pub.set_status(device, **fields)
            k += 1

    # -- alarm events ------------------------------------------------------------------------------
    async def _listen(self) -> None:
        """Alarm events and the drill state, over a reconnecting subscription (capped backoff); what
        it misses while away is merged from the alarm log at the end."""
        o = self.options

        async def session(mqtt: Client) -> None:
            self._subscribed.set()
            async for message in mqtt.messages:
                self._message(message.topic.value, message.payload)

        await stay_subscribed(parse_mqtt_url(o.broker), [(topics.drill_alarm(o.ward, "+", o.root), 1),
                                                         (topics.drill_state(o.ward, o.root), 1)],
                              session, name="live drill", identifier=None, mqtt_v5=o.mqtt_v5,
                              backoff=Backoff(0.5, BACKOFF_MAX_S), timeout=PROBE_TIMEOUT_S)

    def _message(self, topic: str, payload: Any) -> None:
        if self.log is None or not isinstance(payload, bytes | bytearray) or not payload:
            return  # before the drill exists nothing can be its event
        try:
            ev = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(ev, dict):
            return
        if topic == topics.drill_state(self.options.ward, self.options.root):
            try:
                state = DrillStateMessage.from_json(ev)
            except PayloadError as exc:
                log.warning("live drill: ignored a drill state on %s: %s", topic, exc)
                return
            if state.drill == self.log.drill and not state.active:
                self._ended_elsewhere = True  # stopped from elsewhere (API, central station, `drill stop`)
                self._stop.set()
            return
        if self.log.add(ev):
            self._event.set()
            if self.on_event is not None:
                self.on_event(ev)

    async def _settle(self) -> None:
        """After the stop: wait (bounded) until alerting has cleared every alarm of the drill."""
        assert self.log is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.options.settle_s):
                while self.log.open_ids():
                    self._event.clear()
                    await self._event.wait()


def _first(eg: BaseExceptionGroup[Any]) -> BaseException:
    """The first leaf of (nested) exception groups: a task group inside a task group nests them."""
    exc: BaseException = eg
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def login(http: httpx.AsyncClient, token: str | None, username: str | None,
                password: str | None) -> dict[str, str]:
    """The ``Authorization`` header: the token, or one from the OAuth2 password flow."""
    if token is None:
        if not username or password is None:
            raise LiveDrillError("give an access token or a username and password")
        try:
            r = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
        except httpx.HTTPError as exc:
            raise LiveDrillError(f"{http.base_url}: {exc}") from exc
        if r.status_code != 200:
            raise LiveDrillError(f"login as {username} refused ({r.status_code}): {api_error(r)}")
        token = str(r.json()["access_token"])
    return {"Authorization": f"Bearer {token}"}


async def call(http: httpx.AsyncClient, headers: dict[str, str], method: str, path: str,
               body: dict[str, Any] | None = None) -> Any:
    try:
        r = await http.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise LiveDrillError(f"{method} {path}: {exc}") from exc
    if r.status_code >= 300:
        raise LiveDrillError(f"{method} {path} refused ({r.status_code}): {api_error(r)}")
    return r.json()


def parameters(drill: dict[str, Any]) -> dict[str, Any]:
    """The report's ``parameters`` from the API's drill record (the same at the end of the drill and when
    the report is rebuilt later: ``rate`` and ``samples`` are kept in the record)."""
    return {"drill": drill["id"], "beds": [f"{b['bed']}:{b['scenario']}" for b in drill["beds"]],
            "duration_s": round((int(drill["ends"]) - int(drill["started"])) / 1000, 3), "speed": drill["speed"],
            "started": drill["started"], "stopped": drill.get("stopped"), "rate": drill.get("rate"),
            "samples": drill.get("samples")}


async def report_from_log(base_url: str, drill_id: str, *, token: str | None = None, username: str | None = None,
                          password: str | None = None) -> dict[str, Any]:
    """The report of a past (or running) drill from the platform's alarm log alone."""
    async with httpx.AsyncClient(base_url=base_url, timeout=15.0) as http:
        headers = await login(http, token, username, password)
        drill = await call(http, headers, "GET", f"/api/v1/drills/{drill_id}")
        log_ = AlarmLog(drill_id)
        for ev in await call(http, headers, "GET", f"/api/v1/drills/{drill_id}/alarm-events"):
            log_.add(ev)
    return build_report(log_, ward=drill["ward"], seed=int(drill["seed"]), parameters=parameters(drill))


def write_report(report: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """``report.json`` (sorted keys) and ``report.html`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    j, h = out / "report.json", out / "report.html"
    j.write_bytes(orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    h.write_text(render_html(report), encoding="utf-8")
    return j, h
