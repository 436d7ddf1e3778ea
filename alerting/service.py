"""The alerting service: the engine on MQTT and the state DB, one asyncio loop.

Subscribes to the attributed stream (``{root}/wards/+/obs``, ``…/status``, ``…/device_alarms``), nurse spot values
(``{root}/wards/+/spot``), alarm commands (``{root}/commands/alarms/+``) and
``{root}/control/alarms`` (``{"changed": t}``: reload limit overrides and escalation policies from
the state DB). Every alarm event is first stored (alarm row + event row, off the loop in a worker
thread) and then published at QoS 1 on ``{root}/alarms/{ward}/{alarm_id}`` (a drill's alarm events also
on ``{root}/drill/alarms/{ward}/{alarm_id}``, the only alarms the drill account may read); events that
could not be published while the broker was away are published after reconnecting. Open alarms,
overrides, policies and the last 12 h of spot values are loaded on start, so lifecycle and
escalation survive a restart. The current NEWS2 of each patient (total, scores, risk, complete,
missing, frequency, response) is published retained on ``{root}/news2/{ward}/{patient}`` whenever
it changes. The engine costs tens of microseconds per observation, so it runs on
the loop; nothing here waits on ingest.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import aiomqtt
import orjson

from device_profiles import (
    Attribution,
    DeviceAlarm,
    DeviceStatusMessage,
    DrillStateMessage,
    News2Message,
    PayloadError,
    decode_attributed,
    decode_device_alarm,
    now_ms,
    parse_mqtt_url,
    topics,
)
from device_profiles.mqtt_client import Client
from device_profiles.mqtt_factory import stay_subscribed
from device_profiles.platform_settings import PlatformSettings
from device_profiles.retry import Backoff

from .config import AlarmConfig
from .engine import Engine
from .errors import InputError, StateError
from .events import Alarm, AlarmEvent
from .spot import SpotObservation, parse_command, parse_spot
from .store import AlarmStore

log = logging.getLogger(__name__)
SPOT_RESTORE_MS = 12 * 3600 * 1000
BACKOFF_MAX_S = 30.0


# the topics alerting listens and speaks on (built in device_profiles.topics; these names stay for callers)
control_alarms = topics.control_alarms
command_topic = topics.alarm_commands
news2_topic = topics.news2
spot_topic = topics.ward_spot


class AlertingService:
    """``await AlertingService(broker, state, root, config).run()`` until cancelled."""

    name = "alerting"

    def __init__(self, broker_url: str, state_url: str, topic_root: str = topics.ROOT,
                 config: AlarmConfig | None = None, client_id: str = "smartward-alerting",
                 tick_s: float = 1.0, wards: Sequence[str] | None = None) -> None:
        self.url = parse_mqtt_url(broker_url)
        self.state_url = state_url
        self.root = topic_root
        self.engine = Engine(config or AlarmConfig(), new_id=lambda: uuid.uuid4().hex[:20])
        self.client_id = client_id
        self.tick_s = tick_s
        self.wards = list(wards) if wards else ["+"]  # alerting partitioned by ward: one instance per set
        self.store: AlarmStore | None = None
        self._client: aiomqtt.Client | None = None
        self._subscribed = False
        self._queue: asyncio.Queue[tuple[list[Alarm], list[AlarmEvent], list[SpotObservation]]] = asyncio.Queue()
        self._unpublished: deque[AlarmEvent] = deque()
        self._bg: set[asyncio.Task[None]] = set()
        self._reloads: set[asyncio.Task[None]] = set()
        self.engine.news2.drain()  # track NEWS2 changes from the first observation on
        self._news2_pending: dict[str, bytes] = {}  # topic -> latest NEWS2 payload not yet sent
        self._news2_inflight: dict[str, bytes] = {}  # topic -> the latest payload being published
        self.counts = {"obs": 0, "status": 0, "device_alarm": 0, "spot": 0, "command": 0, "rejected": 0,
                       "events": 0}

    @property
    def unpublished(self) -> int:
        """Stored alarm events not yet acknowledged by the broker (they go out after reconnecting)."""
        return len(self._unpublished)

    def ready(self) -> bool:
        return self.store is not None and self._subscribed

    async def run(self) -> None:
        self.store = await asyncio.to_thread(self._load)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._mqtt_loop())
            tg.create_task(self._ticker())
            tg.create_task(self._writer())

    def _load(self) -> AlarmStore:
        store = AlarmStore.open(self.state_url)
        open_alarms = store.open_alarms()
        self.engine.restore(open_alarms)
        for (patient, signal), o in store.overrides().items():
            self.engine.set_override(patient, signal, o)
        for ward, policy in store.policies().items():
            self.engine.set_policy(ward, policy)
        for spot in store.latest_spots(now_ms() - SPOT_RESTORE_MS):
            self.engine.remember_spot(spot)
        log.info("alerting: restored %s open alarm(s) from the state DB", len(open_alarms))
        return store

    # -- MQTT -------------------------------------------------------------------------------------
    async def _mqtt_loop(self) -> None:
        filters = [topics.ward_filter(kind, w, self.root) for w in self.wards for kind in topics.WARD_KINDS]
        filters += [topics.alarm_commands(w, self.root) for w in self.wards] + [topics.control_alarms(self.root)]
        filters += [topics.drill_state(w, self.root) for w in self.wards]  # live drill on/off (retained)

        async def session(client: Client) -> None:
            self._client = client
            self._subscribed = True
            log.info("alerting: connected to %s, subscribed under %s", self.url, self.root)
            await self._flush_unpublished()
            self._publish_news2()  # scores that changed while disconnected
            if self.store is not None:  # limits or policies changed while the control message could not reach us
                self._reload_soon()
            async for message in client.messages:
                self._handle(message.topic.value, message.payload)

        def disconnected() -> None:
            self._client = None
            self._subscribed = False

        await stay_subscribed(self.url, [(f, 1) for f in filters], session, name="alerting",
                              identifier=self.client_id, mqtt_v5=False, backoff=Backoff(0.5, BACKOFF_MAX_S),
                              on_disconnect=disconnected, clean_session=False, max_queued_outgoing_messages=100_000)

    def _handle(self, topic: str, payload: Any) -> None:
        data = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        where = topics.parse(topic, self.root)
        try:
            if where is not None and where.kind == "ward":
                ward = where.ward
                if where.name == "obs":
                    self.counts["obs"] += 1
                    if ward or not self.engine.ignores_unassigned:  # else the engine would drop every sample:
                        self._emit(self.engine.observe(decode_attributed(bytes(data))))  # not even decoded
                elif where.name == "status":
                    self.counts["status"] += 1
                    self._emit(self.engine.status(DeviceStatusMessage.from_json(orjson.loads(data), now_ms())))
                elif where.name == "device_alarms":
                    self.counts["device_alarm"] += 1
                    alarm, who = _device_alarm(data)
                    self._emit(self.engine.device_alarm(alarm, who))
                elif where.name == "spot":
                    self.counts["spot"] += 1
                    spot = parse_spot(orjson.loads(data))
                    if not spot.ward and ward:
                        spot = spot.model_copy(update={"ward": ward})
                    self._emit(self.engine.spot(spot), [spot])
            elif where is not None and where.kind == "alarm_commands":
                self.counts["command"] += 1
                cmd = parse_command(orjson.loads(data))
                self._emit(self.engine.command(cmd, now_ms()))
            elif where == topics.Topic("control", name="alarms"):
                self._reload_soon()
            elif where is not None and where.kind == "drill" and data:
                drill = DrillStateMessage.from_json(orjson.loads(data))
                if not drill.active:
                    self._emit(self.engine.end_drill(drill.drill, now_ms()))
        except (PayloadError, InputError, orjson.JSONDecodeError, KeyError, ValueError) as exc:
            self.counts["rejected"] += 1
            log.warning("alerting: rejected message on %s: %s", topic, exc)
        except Exception:  # the supervisor of one message: one bad message must not stop alarms
            self.counts["rejected"] += 1
            log.exception("alerting: failed on a message on %s; continuing", topic)
        self._publish_news2()

    def _publish_news2(self) -> None:
        """Current NEWS2 of patients whose score changed: retained on ``{root}/news2/{ward}/{patient}``.
        A score that changed while disconnected, or whose publish failed, goes out after reconnecting
        (the latest per patient): the retained score is never left behind the engine's."""
        for p, t in self.engine.news2.drain():
            r = p.news2
            if r is None or not p.who.ward:
                continue
            body = News2Message(total=r.total, risk=r.risk, complete=r.complete, scores=dict(r.scores),
                                missing=list(r.missing), suspended=r.suspended, frequency=r.frequency,
                                response=r.response, t=t, ward=p.who.ward, bed=p.who.bed, patient=p.who.patient,
                                device=p.device)
            self._news2_pending[topics.news2(p.who.ward, p.who.patient or p.device, self.root)] = body.encode()
        if not self._news2_pending or self._client is None:
            return
        client, pending, self._news2_pending = self._client, self._news2_pending, {}
        for topic, payload in pending.items():
            task = asyncio.get_running_loop().create_task(self._send_news2(client, topic, payload))
            self._bg.add(task)
            task.add_done_callback(self._bg.discard)

    async def _send_news2(self, client: aiomqtt.Client, topic: str, payload: bytes) -> None:
        self._news2_inflight[topic] = payload
        try:
            await client.publish(topic, payload, qos=1, retain=True)
        except aiomqtt.MqttError as exc:
            if self._news2_inflight.get(topic) is payload:  # no newer score went out meanwhile
                self._news2_pending.setdefault(topic, payload)  # nor is one waiting
                log.warning("alerting: NEWS2 on %s not published (%s); sent after reconnecting", topic, exc)
        finally:
            if self._news2_inflight.get(topic) is payload:
                del self._news2_inflight[topic]

    def _emit(self, events: list[AlarmEvent], spots: list[SpotObservation] | None = None) -> None:
        if events or spots:
            self.counts["events"] += len(events)
            self._queue.put_nowait((self.engine.lifecycle.alarms_of(events), events, spots or []))

    def _reload_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._reload_logged())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload_logged(self) -> None:
        try:
            await self._reload()
        except StateError as exc:
            log.error("alerting: limit overrides and policies not reloaded (%s); kept the previous ones", exc)

    async def _reload(self) -> None:
        assert self.store is not None
        ov, pol = await asyncio.gather(asyncio.to_thread(self.store.overrides), asyncio.to_thread(self.store.policies))
        # an override the state DB no longer holds goes back to the alarm file's (``patients:``), or to none
        in_file = {(p, s): o for p, sigs in self.engine.config.patients.items() for s, o in sigs.items()}
        for (patient, signal) in list(self.engine.overrides):
            if (patient, signal) not in ov:
                self.engine.set_override(patient, signal, in_file.get((patient, signal)))
        for (patient, signal), o in ov.items():
            self.engine.set_override(patient, signal, o)
        for ward, p in pol.items():
            self.engine.set_policy(ward, p)
        log.info("alerting: reloaded %s override(s) and %s polic(ies)", len(ov), len(pol))

    # -- time and output --------------------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self._emit(self.engine.tick(now_ms()))
            self._publish_news2()

    async def _writer(self) -> None:
        assert self.store is not None
        while True:
            alarms, events, spots = await self._queue.get()
            batch_alarms: dict[str, Alarm] = {a.id: a for a in alarms}
            batch_events, batch_spots = list(events), list(spots)
            while not self._queue.empty():
                more_a, more_e, more_s = self._queue.get_nowait()
                batch_alarms.update({a.id: a for a in more_a})
                batch_events += more_e
                batch_spots += more_s
            store = self.store
            backoff = Backoff(0.5, BACKOFF_MAX_S)
            while True:  # stored before published; a state DB outage delays alarms, never drops them
                try:
                    await asyncio.to_thread(self._save, store, list(batch_alarms.values()), batch_events,
                                            batch_spots)
                    break
                except StateError as exc:
                    log.error("alerting: storing %d alarm event(s) failed (%s); retrying in %.1f s",
                              len(batch_events), exc, backoff.delay)
                    await backoff.wait()
            self._unpublished.extend(batch_events)
            await self._flush_unpublished()

    @staticmethod
    def _save(store: AlarmStore, alarms: list[Alarm], events: list[AlarmEvent], spots: list[SpotObservation]) -> None:
        for s in spots:
            store.add_spot(s)
        store.save(alarms, events)

    async def _flush_unpublished(self) -> None:
        while self._unpublished and self._client is not None:
            e = self._unpublished[0]
            try:
                payload = e.encode()
                await self._client.publish(topics.alarm(e.ward, e.id, self.root), payload, qos=1)
                if e.drill:  # the drill driver's account reads only the drill tree
                    await self._client.publish(topics.drill_alarm(e.ward, e.id, self.root), payload, qos=1)
            except aiomqtt.MqttError as exc:
                log.warning("alerting: publishing alarm %s failed (%s); retrying after reconnect", e.id, exc)
                return
            self._unpublished.popleft()


class Host(Protocol):
    """What alerting receives from the composition (``smartward.compose.Platform``, structurally)."""

    @property
    def config(self) -> PlatformSettings: ...


def create_service(platform: Host) -> AlertingService:
    """The composition hook ``smartward/compose.py`` looks for: one alerting component for ``serve``
    and ``demo``. Reads ``platform.config`` (``broker``, ``state``, ``topic_root``, ``client_prefix``)
    and an optional alarm configuration file at ``platform.config.extra["alarm_config"]``."""
    from .config import load_config

    cfg = platform.config
    path = cfg.extra.get("alarm_config") if isinstance(cfg.extra, dict) else None
    return AlertingService(cfg.broker, cfg.state, cfg.topic_root, load_config(path),
                           client_id=f"{cfg.client_prefix}smartward-alerting")


def _device_alarm(data: bytes | bytearray) -> tuple[DeviceAlarm, Attribution]:
    msg = orjson.loads(data)
    if not isinstance(msg, dict):
        raise InputError("$", "expected a JSON object")
    who = Attribution(*(str(msg.pop(k, "") or "") for k in ("ward", "bed", "patient", "drill")))
    return decode_device_alarm(orjson.dumps(msg), now=now_ms()), who
