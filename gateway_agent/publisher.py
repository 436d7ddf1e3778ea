"""The MQTT publisher: drains the outbox to the broker at QoS 1 and removes entries only on PUBACK.

One :class:`Publisher` is one MQTT connection. ``devices={"mon-1"}`` makes it that device's own
connection (client id and username = device id, last will on the device's status topic: the
broker's ``%u`` ACL then lets it publish only as itself); ``devices=None`` is a gateway identity
publishing for every device in the outbox (last will on ``{root}/gateways/{client_id}/status``;
see docs/deployment.md for its ACL).

On every (re)connect it publishes each device's status ``{"online": true, "battery": …}`` retained,
then drains the outbox in order. Connection errors are retried forever with capped exponential
backoff and jitter. :meth:`close` marks the devices offline and disconnects cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiomqtt
import orjson
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device_profiles import parse_mqtt_url, topics
from device_profiles.errors import ProfileError
from device_profiles.mqtt_client import Client as MqttClient

from .async_outbox import AsyncOutbox
from .coalesce import Outgoing, coalesce
from .errors import GatewayError, PublisherError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    broker: str  # mqtt://[user[:password]@]host[:port] or mqtts://…
    client_id: str
    root: str = topics.ROOT
    devices: frozenset[str] | None = None  # None: gateway identity for every device in the outbox
    username: str | None = None  # overrides the URL's
    password: str | None = None
    mqtt_v5: bool = True
    keepalive: int = 30
    tls_ca: str | None = None  # CA bundle for mqtts:// (system CAs when None)
    tls_cert: str | None = None  # client certificate (mutual TLS)
    tls_key: str | None = None
    batch: int = 4000  # entries per peek
    max_inflight: int = 200  # QoS 1 messages awaiting PUBACK at once
    coalesce_samples: int = 60  # samples per merged backlog message (1 disables merging)
    backoff_initial: float = 0.5
    backoff_max: float = 15.0
    publish_timeout: float = 30.0
    forget_on_close: bool = False  # on close clear the retained statuses instead of 'offline' (virtual devices)

    @property
    def will_topic(self) -> str:
        if self.devices is not None and len(self.devices) == 1:
            return topics.device_status(next(iter(self.devices)), self.root)
        return topics.gateway_status(self.client_id, self.root)


class _Client(MqttClient):
    """aiomqtt ignores the PUBACK reason code; MQTT v5 brokers use it to refuse a publish (e.g. ACL)."""

    refusals = 0
    last_refusal = ""

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            self.refusals += 1
            self.last_refusal = str(reason_code)
        super()._on_publish(client, userdata, mid, reason_code, properties)


def backoff_delay(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """Capped exponential backoff with equal jitter: in [d/2, d], d = min(cap, initial * 2**attempt)."""
    d = min(cap, initial * float(2 ** min(attempt, 30)))
    return d / 2 + rng.random() * d / 2


class Publisher:
    def __init__(self, outbox: AsyncOutbox, options: PublisherOptions, rng: random.Random | None = None) -> None:
        try:
            self.url = parse_mqtt_url(options.broker)
        except ProfileError as exc:
            raise PublisherError(str(exc)) from exc
        self.outbox = outbox
        self.options = options
        self.rng = rng or random.Random()
        self.connected = asyncio.Event()
        self.delivered = 0  # outbox entries acknowledged by the broker
        self.messages = 0  # MQTT messages (merged backlog messages count once)
        self.connects = 0
        self.failures = 0  # connection attempts or sessions that ended in an error
        self._status: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self.outbox.add_listener(self._wake)
        self._closing = False
        self._progress = asyncio.Event()

    # -- status --------------------------------------------------------------------------------
    def set_status(self, device: str, **fields: Any) -> None:
        """Update a device's retained status (``online``, ``battery``, …); sent now or at (re)connect."""
        st = self._status.setdefault(device, {"online": True})
        st.update(fields)
        self._dirty.add(device)
        self._wake.set()

    def _devices(self) -> Iterable[str]:
        return self.options.devices if self.options.devices is not None else self._status.keys()

    # -- connection ------------------------------------------------------------------------------
    def _client(self) -> _Client:
        o = self.options
        will_payload = orjson.dumps({"online": False})
        tls: ssl.SSLContext | None = None
        if self.url.tls:
            tls = ssl.create_default_context(cafile=o.tls_ca)
            if o.tls_cert:
                tls.load_cert_chain(o.tls_cert, o.tls_key)
        props = None
        if o.mqtt_v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0
        client = _Client(
            self.url.host, self.url.port, identifier=o.client_id,
            username=o.username or self.url.username, password=o.password or self.url.password,
            protocol=aiomqtt.ProtocolVersion.V5 if o.mqtt_v5 else aiomqtt.ProtocolVersion.V311,
            will=aiomqtt.Will(o.will_topic, will_payload, qos=1, retain=True),
            clean_session=None if o.mqtt_v5 else True, keepalive=o.keepalive, tls_context=tls,
            max_inflight_messages=o.max_inflight, max_concurrent_outgoing_calls=o.max_inflight * 2,
            timeout=o.publish_timeout, properties=props)
        client.pending_calls_threshold = o.max_inflight * 4  # we pipeline on purpose: no warning per batch
        return client

    async def run(self) -> None:
        """Connect, drain, reconnect on loss; until cancelled or :meth:`close`."""
        attempt = 0
        while not self._closing:
            try:
                async with self._client() as client:
                    attempt = 0
                    self.connects += 1
                    self.connected.set()
                    log.info("publisher %s connected to %s", self.options.client_id, self.url)
                    await self._session(client)
                    return  # closed cleanly
            except aiomqtt.MqttError as exc:
                self.failures += 1
                if self.connected.is_set():
                    log.warning("publisher %s lost %s: %s", self.options.client_id, self.url, exc)
                elif attempt == 0:
                    log.warning("publisher %s cannot reach %s: %s (retrying)", self.options.client_id, self.url, exc)
            finally:
                self.connected.clear()
            delay = backoff_delay(attempt, self.options.backoff_initial, self.options.backoff_max, self.rng)
            attempt += 1
            log.debug("publisher %s: reconnect in %.2fs (attempt %d)", self.options.client_id, delay, attempt)
            await asyncio.sleep(delay)

    async def close(self) -> None:
        """Ask :meth:`run` to publish the devices offline and disconnect (it returns then)."""
        self._closing = True
        self._wake.set()

    async def _session(self, client: _Client) -> None:
        gone: asyncio.Future[None] = client._disconnected  # aiomqtt's own connection-loss future
        try:
            await self._serve(client, gone)
        finally:
            if gone.done() and not gone.cancelled():
                gone.exception()  # retrieved: the loss is reported by the MqttError we raise

    async def _serve(self, client: _Client, gone: asyncio.Future[None]) -> None:
        self._dirty.update(self._devices())
        if self.options.devices is None:
            await client.publish(self.options.will_topic, orjson.dumps({"online": True}), qos=1, retain=True)
        while True:
            self._wake.clear()
            await self._send_status(client, gone)
            while await self._drain_once(client, gone):
                pass
            if self._closing:
                if self.options.forget_on_close:  # the devices cease to exist: nothing retained stays behind
                    root = self.options.root
                    await self._publish(client, [Outgoing(topics.device_status(d, root), b"", 1, True, [])
                                                 for d in sorted(self._devices())], gone)
                else:
                    for d in list(self._devices()):
                        self.set_status(d, online=False)
                    await self._send_status(client, gone)
                if self.options.devices is None:
                    await client.publish(self.options.will_topic, b"" if self.options.forget_on_close else
                                         orjson.dumps({"online": False}), qos=1, retain=True)
                return
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait([waiter, gone], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if gone.done():
                raise aiomqtt.MqttError("connection lost") from (None if gone.cancelled() else gone.exception())

    async def _send_status(self, client: _Client, gone: asyncio.Future[None]) -> None:
        dirty, self._dirty = self._dirty, set()
        msgs = [Outgoing(topics.device_status(d, self.options.root), orjson.dumps(self._status.get(d, {"online": True})),
                         1, True, []) for d in sorted(dirty)]
        try:
            await self._publish(client, msgs, gone)
        except BaseException:
            self._dirty |= dirty
            raise

    async def _drain_once(self, client: _Client, gone: asyncio.Future[None]) -> bool:
        """Publish one batch of pending entries; ack what the broker confirmed. True if any was sent."""
        entries = await self.outbox.peek(self.options.batch, self.options.devices)
        if not entries:
            return False
        msgs = coalesce(entries, self.options.coalesce_samples)
        try:
            await self._publish(client, msgs, gone)
        finally:
            ids = [i for m in msgs if m.ids and m.acked for i in m.ids]
            if ids:
                await self.outbox.ack(ids)
                self.delivered += len(ids)
                self._progress.set()
        return True

    async def _publish(self, client: _Client, msgs: list[Outgoing], gone: asyncio.Future[None]) -> None:
        """Publish concurrently (pipelined on the one connection); mark the in-order prefix acked."""
        if not msgs:
            return
        refusals = client.refusals
        tasks = [asyncio.ensure_future(client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)) for m in msgs]
        try:
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending and not gone.done():
                _done, pending = await asyncio.wait([*pending, gone], return_when=asyncio.FIRST_COMPLETED)
                pending.discard(gone)
        finally:
            unfinished = [t for t in tasks if not t.done()]
            for t in unfinished:
                t.cancel()
            if unfinished:
                await asyncio.gather(*unfinished, return_exceptions=True)
        if client.refusals > refusals:  # keep the whole batch: a refused message must not be lost
            log.error("publisher %s: the broker refused %d messages (%s); check its ACL and this client's "
                      "credentials; the messages stay in the outbox", self.options.client_id,
                      client.refusals - refusals, client.last_refusal)
            raise aiomqtt.MqttError(f"broker refused publishes: {client.last_refusal}")
        for m, t in zip(msgs, tasks, strict=True):
            if t.cancelled() or t.exception() is not None:
                break
            m.acked = True
            self.messages += 1
        failed = next((t for t in tasks if t.cancelled() or t.exception() is not None), None)
        if failed is not None:
            exc = None if failed.cancelled() else failed.exception()
            if isinstance(exc, aiomqtt.MqttError) or exc is None:
                raise aiomqtt.MqttError(f"publish interrupted: {exc or 'connection lost'}")
            raise GatewayError(f"publish failed: {exc}") from exc

    def ready(self) -> bool:
        return self.connected.is_set()

    async def wait_drained(self) -> None:
        """Return once this publisher's devices have nothing pending (wrap in ``asyncio.timeout``)."""
        while await self.outbox.peek(1, self.options.devices):
            self._progress.clear()
            self._wake.set()
            await self._progress.wait()
