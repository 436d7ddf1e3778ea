"""The live hub: subscribes to the attributed stream, device status, spot observations, alarm
events and canonical waveforms (aiomqtt, one loop, reconnect with capped backoff), keeps the
:class:`WardState` and fans tile/alarm/wave frames out to the ward's websockets.

On start and after every reconnect the state is reloaded from the ADT tables, the vitals store
(latest values of the last 24 h), alerting's open alarms and the patients' own alarm limits (again on
every ``{root}/control/alarms``: the tiles' custom-limits marker), so a screen never misses what
happened while the hub was away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import aiomqtt
import orjson
import sqlalchemy as sa

from alerting import AlarmStore, StateError
from device_profiles import (
    AlarmEvent,
    AlarmEventType,
    DeviceStatusMessage,
    DrillStateMessage,
    News2Message,
    PayloadError,
    decode_waveform,
    now_ms,
    parse_mqtt_url,
    topics,
)
from device_profiles.mqtt_client import Client
from device_profiles.mqtt_factory import stay_subscribed
from device_profiles.retry import Backoff
from ingest import StoreError
from ingest.platform import PlatformServices

from .audit import AuditLog
from .drills import expire_drills
from .errors import AuditError
from .fanout import Fanout
from .patient_limits import tile_limits
from .wardstate import WardState

log = logging.getLogger(__name__)
BACKOFF_MAX_S = 30.0
RESTORE_MS = 24 * 3600 * 1000


class Hub:
    """A platform component (``name``, ``run``, ``ready``)."""

    name = "dashboard-hub"

    def __init__(self, platform: PlatformServices, client_id: str | None = None, audit: AuditLog | None = None) -> None:
        self.platform = platform
        cfg = platform.config
        self.root = cfg.topic_root
        self.url = parse_mqtt_url(cfg.broker)
        self.client_id = client_id
        self.state = WardState()
        self.fanout = Fanout()
        self.alarm_store = AlarmStore(platform.attributions.engine)
        self.audit = audit
        self._alarm_events = asyncio.Event()  # set when an alarm event arrived: import them into the audit log
        self.client: aiomqtt.Client | None = None
        self._subscribed = False
        self.counts = {"obs": 0, "status": 0, "alarm": 0, "spot": 0, "wave": 0, "news2": 0, "bad": 0}

    def ready(self) -> bool:
        return self._subscribed

    # -- state loading ----------------------------------------------------------------------------
    def _read_assignments(self) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str],
                                         dict[tuple[str, str], str]]:
        now = self.platform.attributions.current(now_ms())
        return now.devices, now.patients, now.drill_beds

    async def refresh_assignments(self) -> None:
        """Re-read the ADT tables (after an ADT change) and push the beds that changed."""
        devs, pats, drill_beds = await asyncio.to_thread(self._read_assignments)
        now = now_ms()
        for ward, bed in self.state.set_assignments(devs, pats, drill_beds):
            if bed not in self.state.wards.get(ward, {}):  # an ended drill's bed: screens reload
                self.fanout.send(ward, b'{"type":"resync"}')
                continue
            b = self.state.bed(ward, bed)
            self.fanout.send(ward, orjson.dumps({"type": "tile", "tile": b.tile(now)}), patient=b.patient)

    async def refresh_limits(self) -> None:
        """Re-read the patients' own alarm limits (after ``{root}/control/alarms``) and push the beds whose
        custom-limits marker changed."""
        try:
            records = await asyncio.to_thread(self.alarm_store.override_records)
        except StateError as exc:
            log.warning("dashboard: patients' alarm limits not loaded: %s", exc)
            return
        limits: dict[str, dict[str, dict[str, float]]] = {}
        for r in records:
            limits.setdefault(r.patient, {})[r.signal] = tile_limits(r.override)
        now = now_ms()
        for b in self.state.set_limits(limits):
            self.fanout.send(b.ward, orjson.dumps({"type": "tile", "tile": b.tile(now)}), patient=b.patient)

    async def reload(self) -> None:
        await self.refresh_limits()
        await self.refresh_assignments()
        now = now_ms()
        alarms = await asyncio.to_thread(self.alarm_store.open_alarms)
        for a in alarms:
            ev = a.event(AlarmEventType.RESTORED, a.updated_t or a.raised_t)
            self.state.alarm_event(dataclasses.replace(ev, t=a.raised_t))
        for ward in list(self.state.wards):
            try:
                latest = await self.platform.store.latest(ward=ward, since_ms=now - RESTORE_MS)
            except StoreError as exc:
                log.warning("dashboard: latest values of ward %s not loaded: %s", ward, exc)
                continue
            for lv in latest:
                if lv.bed and lv.bed in self.state.wards[ward]:
                    b = self.state.wards[ward][lv.bed]
                    if b.device == lv.device:
                        self.state.observe({"ward": ward, "bed": lv.bed, "device": lv.device, "patient": None,
                                            "samples": [{"t": lv.t, lv.signal: lv.value}]})
        for ward in self.state.wards:  # screens re-request their snapshot (filtered per screen)
            self.fanout.send(ward, b'{"type":"resync"}')

    # -- MQTT -------------------------------------------------------------------------------------
    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._mqtt_loop())
            tg.create_task(expire_drills(self, self.platform.attributions, self.audit))
            if self.audit is not None:
                tg.create_task(self._audit_alarm_events(self.audit))

    async def _audit_alarm_events(self, audit: AuditLog) -> None:
        """Append alerting's alarm events to the hash-chained audit log, in order, once per burst."""
        self._alarm_events.set()  # catch up on start
        while True:
            await self._alarm_events.wait()
            self._alarm_events.clear()
            try:
                since = await asyncio.to_thread(audit.cursor, "alerting_alarm_events")
                events = await asyncio.to_thread(self.alarm_store.events, None, since)
                n = await asyncio.to_thread(audit.import_alarm_events, events[:5000])
                if n == 5000:
                    self._alarm_events.set()
            except (AuditError, StateError, sa.exc.SQLAlchemyError) as exc:
                log.warning("dashboard: alarm events not yet in the audit log (%s); retrying on the next event", exc)

    async def _mqtt_loop(self) -> None:
        r = self.root
        filters = [(topics.ward_filter("obs", root=r), 0), (topics.ward_filter("status", root=r), 0),
                   (topics.ward_filter("spot", root=r), 0), (topics.alarm_filter(r), 1), (topics.news2_filter(r), 0),
                   (topics.device_filter("wave", r), 0), (topics.control_assignments(r), 0),
                   (topics.control_alarms(r), 1),
                   (topics.drill_state("+", r), 1)]

        async def session(client: Client) -> None:
            self.client = client
            try:
                await self.reload()
            except (sa.exc.SQLAlchemyError, OSError) as exc:
                log.warning("dashboard: state reload failed: %s", exc)
            self._subscribed = True
            log.info("dashboard hub: connected to %s under %s", self.url, self.root)
            async for message in client.messages:
                payload = message.payload
                self.handle(message.topic.value, bytes(payload) if isinstance(payload, bytes | bytearray) else b"")

        def disconnected() -> None:
            self.client = None
            self._subscribed = False

        await stay_subscribed(self.url, filters, session, name="dashboard hub", identifier=self.client_id,
                              mqtt_v5=False, backoff=Backoff(0.5, BACKOFF_MAX_S), on_disconnect=disconnected)

    def handle(self, topic: str, payload: bytes) -> None:
        where = topics.parse(topic, self.root)
        kind = where.kind if where is not None else ""
        try:
            if where is not None and kind == "ward":
                self._ward_message(where.ward, where.name, payload)
            elif kind == "alarm":
                self.counts["alarm"] += 1
                self._alarm_events.set()
                # keep_alarm: a message the screens cannot render from its key never costs the alarm
                ev = AlarmEvent.from_json(orjson.loads(payload), now_ms(), keep_alarm=True)
                screen, b = self.state.alarm_event(ev)
                self.fanout.send(ev.ward, orjson.dumps({"type": "alarm", "alarm": screen}), patient=ev.patient,
                                 urgent=True)
                if b is not None:
                    self.fanout.send(ev.ward, orjson.dumps({"type": "tile", "tile": b.tile(now_ms())}), patient=b.patient)
            elif kind == "news2" and payload:  # empty: a retained NEWS2 cleared
                self.counts["news2"] += 1
                b = self.state.news2(News2Message.from_json(orjson.loads(payload), now_ms()))
                if b is not None:
                    self.fanout.send(b.ward, orjson.dumps({"type": "tile", "tile": b.tile(now_ms())}), patient=b.patient)
            elif where is not None and kind == "device" and where.name == "wave":
                self._wave(where.device, payload)
            elif where == topics.Topic("control", name="assignments"):
                asyncio.get_running_loop().create_task(self.refresh_assignments())
            elif where == topics.Topic("control", name="alarms"):  # a patient's own limits changed
                asyncio.get_running_loop().create_task(self.refresh_limits())
            elif where is not None and kind == "drill":  # live drill on/off (retained): the DRILL banner
                state = DrillStateMessage.from_json(orjson.loads(payload)) if payload else None  # empty: cleared
                drill = self.state.set_drill(where.ward, state)
                self.fanout.send(where.ward, orjson.dumps({"type": "drill", "drill": drill}), urgent=True)
        except (PayloadError, orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as exc:
            self.counts["bad"] += 1
            log.warning("dashboard hub: ignored message on %s: %s", topic, exc)

    def _ward_message(self, ward: str, kind: str, payload: bytes) -> None:
        if not ward:  # data of a device bound to no ward (topics.UNASSIGNED) never reaches a screen
            return
        msg = orjson.loads(payload)
        if not isinstance(msg, dict):
            raise ValueError("payload is not an object")
        if kind == "obs":
            self.counts["obs"] += 1
            b = self.state.observe(msg)
        elif kind == "status":
            self.counts["status"] += 1
            b = self.state.status(DeviceStatusMessage.from_json(msg, now_ms()))
        elif kind == "spot":
            self.counts["spot"] += 1
            b = self.state.spot(ward, msg)
        else:
            return
        if b is not None:
            self.fanout.send(b.ward, orjson.dumps({"type": "tile", "tile": b.tile(now_ms())}), patient=b.patient)

    def _wave(self, device: str, payload: bytes) -> None:
        where = self.state.device_bed.get(device)
        if where is None or not any(s.watch == where[1] for s in self.fanout.screens.get(where[0], ())):
            return
        self.counts["wave"] += 1
        c = decode_waveform(payload, device)
        frame = {"type": "wave", "bed": where[1], "signal": c.signal, "fs": c.fs, "t0": c.t0, "samples": c.samples}
        self.fanout.send(where[0], orjson.dumps(frame), bed_watch=where[1],
                         patient=self.state.bed(where[0], where[1]).patient)

    async def publish(self, topic: str, body: dict[str, Any], qos: int = 1) -> None:
        """Publish a command / spot observation / control message (503 upstream when disconnected)."""
        client = self.client
        if client is None:
            raise aiomqtt.MqttError("not connected to the broker")
        await client.publish(topic, orjson.dumps(body), qos=qos)
