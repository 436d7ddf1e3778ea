"""A lean paho-mqtt (MQTT v5) client on the asyncio loop, with manual acknowledgements.

Why not aiomqtt: ingest must acknowledge each QoS 1 message only after it is durably stored
(``manual_ack``) and must not pay an asyncio queue hop per message. paho's socket callbacks hook
the client into the running loop (``add_reader``/``add_writer``), and ``on_message`` is called
synchronously for each message, straight from the socket read.

The session is persistent: fixed client id, ``clean_start=False`` and a long session expiry, so
the broker keeps queueing our share of the stream while the process restarts, and redelivers every
message we had not acknowledged. Receive Maximum 65535 lets the broker keep that many unacked
messages in flight to us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from device_profiles import MqttUrl
from device_profiles.retry import Backoff

from .errors import IngestError

log = logging.getLogger(__name__)
SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535
KEEPALIVE_S = 30
# Short: a restarted Mosquitto 2.0.11 has forgotten shared subscriptions until we subscribe again.
RECONNECT_MAX_S = 2.0
OnMessage = Callable[[str, bytes, int, int], None]  # (topic, payload, mid, qos)
_PUBACK_HEADER = bytes((0x40, 0x02))


def _publish_header(buf: bytes | bytearray, i: int, qos: int) -> tuple[str, int, int]:
    """A v5 PUBLISH's variable header at ``buf[i:]``: (topic, packet id or 0, where the payload starts).
    The properties are skipped (ingest needs none). Raises IndexError or UnicodeDecodeError when malformed."""
    tp = i + 2 + ((buf[i] << 8) | buf[i + 1])
    topic = buf[i + 2:tp].decode("utf-8")
    mid = 0
    if qos:
        mid = (buf[tp] << 8) | buf[tp + 1]
        tp += 2
    plen, mult = 0, 1
    while True:  # properties length: a variable byte integer
        b = buf[tp]
        tp += 1
        plen += (b & 127) * mult
        mult <<= 7
        if b < 128:
            return topic, mid, tp + plen


class _BufferedClient(mqtt.Client):
    """paho, with three hot spots made lean for ingest (each overrides one protected method):

    - reads: paho reads a packet with three or more ``recv`` calls; this reads 256 KiB at a time,
      and :meth:`_fast_publishes` cuts the complete QoS 0/1 PUBLISH packets out of that buffer in one
      loop (paho's per-packet state machine cost more than ingest's own handling of a message); any
      other packet, a packet cut by the end of the buffer, or one that does not parse goes to paho;
    - QoS 0/1 PUBLISH in MQTT v5: topic, packet id and payload are sliced out directly and handed
      to ``fast_on_message``; paho's generic path builds Properties, ReasonCode and MQTTMessage
      objects and walks its callback table for every message;
    - acks: :meth:`ack_many` writes a batch's PUBACKs (reason "success", which v5 lets us send as
      the 2-byte short form) as one buffer, instead of one queued packet and one ``send`` each;
    - PUBACKs of our own republishes: paho's bookkeeping only (no ReasonCode/Properties objects).
    """

    _rb: bytes = b""
    _rpos: int = 0
    fast_on_message: OnMessage | None = None

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        on_message = self.fast_on_message
        if on_message is None or qos == 2 or self._protocol != mqtt.MQTTv5:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            topic, mid, start = _publish_header(packet, 0, qos)
        except (IndexError, UnicodeDecodeError):
            return super()._handle_publish()  # paho's own handling (and logging) of a malformed packet
        on_message(topic, bytes(packet[start:]), mid, qos)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_pubackcomp(self, cmd: Literal["PUBACK", "PUBCOMP"]) -> MQTTErrorCode:
        """PUBACK of our republishes: paho's bookkeeping without building ReasonCode/Properties."""
        if cmd != "PUBACK" or self.on_publish is not None:
            return super()._handle_pubackcomp(cmd)
        packet = self._in_packet["packet"]
        mid = (packet[0] << 8) | packet[1]
        with self._out_message_mutex:
            msg = self._out_messages.pop(mid, None)
            if msg is not None:
                msg.info._set_as_published()
                if msg.qos > 0:
                    self._inflight_messages -= 1
                    if self._max_inflight_messages > 0:
                        return self._update_inflight()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK every QoS 1 packet id in ``mids`` with one buffer (in the order given)."""
        if mids and self._sock is not None:
            data = b"".join(_PUBACK_HEADER + mid.to_bytes(2, "big") for mid in mids)
            self._packet_queue(PUBACK, data, 0, 0)

    def reset_buffer(self) -> None:
        self._rb, self._rpos = b"", 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rb):
            data = super()._sock_recv(262144)
            if not data:
                return data
            self._rb, self._rpos = data, 0
        end = self._rpos + bufsize
        out = self._rb[self._rpos:end]
        self._rpos = min(end, len(self._rb))
        return out

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if self._rpos >= len(self._rb) and self._sock is not None and self.fast_on_message is not None:
            try:  # fill the buffer here, so that its first packet is not paho's either
                data = super()._sock_recv(262144)
            except OSError:  # BlockingIOError (nothing to read) included: paho's read below reports it
                data = b""
            if data:
                self._rb, self._rpos = data, 0
                if self._fast_publishes() and self._rpos >= len(self._rb):
                    return MQTTErrorCode.MQTT_ERR_SUCCESS  # the whole read taken
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._rpos < len(self._rb) and self._sock is not None:
            if self._fast_publishes():
                continue
            rc = super().loop_read(max_packets)
        return rc

    def _fast_publishes(self) -> bool:
        """Hand the complete QoS 0/1 PUBLISH packets at the front of the buffer to ``fast_on_message``
        (MQTT v5 only, and only between packets: while paho holds part of one, it finishes it). Returns
        whether any was taken; stops at the first packet it leaves to paho."""
        on_message = self.fast_on_message
        if on_message is None or self._protocol != mqtt.MQTTv5 or self._in_packet["command"]:
            return False
        buf, pos = self._rb, self._rpos
        end, start = len(buf), pos
        while pos < end:
            cmd = buf[pos]
            if cmd & 0xF0 != 0x30 or cmd & 0x06 == 0x06 or cmd & 0x06 == 0x04:
                break  # not a PUBLISH, or QoS 2 (or the invalid QoS 3): paho's
            try:
                i, rl, mult = pos + 1, 0, 1
                while True:  # remaining length: a variable byte integer of at most 4 bytes
                    b = buf[i]
                    i += 1
                    rl += (b & 127) * mult
                    if b < 128:
                        break
                    mult <<= 7
                    if mult > 2_097_152:
                        raise IndexError  # malformed: paho reports it
                last = i + rl
                if last > end:
                    break  # cut by the end of the read: paho reads the rest
                topic, mid, tp = _publish_header(buf, i, cmd & 0x02)
                if tp > last:
                    raise IndexError
            except (IndexError, UnicodeDecodeError):
                break  # paho's own handling (and logging) of a malformed packet
            pos = self._rpos = last
            on_message(topic, buf[tp:last], mid, (cmd & 0x06) >> 1)
        if pos == start:
            return False
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return True


class MqttLink:
    """One persistent MQTT v5 session. ``run()`` connects and reconnects until cancelled."""

    def __init__(self, url: MqttUrl, client_id: str, on_message: OnMessage,
                 filters: Callable[[], Sequence[str]], session_expiry_s: int = SESSION_EXPIRY_S,
                 on_connected: Callable[[], None] | None = None, v5: bool = True,
                 on_state: Callable[[bool], None] | None = None) -> None:
        self.url = url
        self.client_id = client_id
        self._filters = filters
        self._subscribed: set[str] = set()
        self._on_connected = on_connected
        self._on_state = on_state  # True once subscribed (SUBACK), False when the connection is lost
        self.subscribed = False
        self.end_session = False  # True: the final disconnect asks the broker to drop our session
        self.session_expiry_s = session_expiry_s
        self.v5 = v5  # False: MQTT 3.1.1 with clean_session=False (brokers without v5, e.g. amqtt)
        self.connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._write_idle = asyncio.Event()
        self._write_idle.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id = threading.get_ident()
        if v5:
            c = _BufferedClient(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        else:
            c = _BufferedClient(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                                clean_session=False, manual_ack=True)
        if url.username:
            c.username_pw_set(url.username, url.password)
        tls = url.tls_context()  # the same TLS as every other client (device_profiles.mqtt_url)
        if tls is not None:
            c.tls_set_context(tls)
        c.max_inflight_messages_set(0)  # our republishes: bounded by the broker's Receive Maximum only
        c.max_queued_messages_set(0)
        c.fast_on_message = on_message
        c.on_message = lambda _c, _u, m: on_message(m.topic, bytes(m.payload), m.mid, m.qos)  # QoS 2, MQTT 3.1.1
        c.on_connect = self._handle_connect
        c.on_disconnect = self._handle_disconnect
        c.on_subscribe = self._handle_subscribe
        c.on_socket_open = self._socket_open
        c.on_socket_close = self._socket_close
        c.on_socket_register_write = self._register_write
        c.on_socket_unregister_write = self._unregister_write
        self._client = c
        self._connect_error: str | None = None

    # -- socket plumbing (paho -> asyncio) --------------------------------------------------------
    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        if threading.get_ident() == self._thread_id:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _socket_open(self, client: mqtt.Client, _ud: Any, sock: Any) -> None:
        self._client.reset_buffer()
        assert self._loop is not None
        self._call(self._loop.add_reader, sock, self._read)

    def _read(self) -> None:
        self._client.loop_read()

    def _loop_gone(self) -> bool:
        """paho's ``__del__`` closes its socket again after :meth:`run` ended, when the loop may be closed:
        nothing is registered any more (without this, "Exception ignored" lines)."""
        return self._loop is None or self._loop.is_closed()

    def _socket_close(self, client: mqtt.Client, _ud: Any, sock: Any) -> None:
        if self._loop_gone() or sock.fileno() < 0:  # already closed: removed from the loop by run()
            return
        assert self._loop is not None
        self._call(self._loop.remove_reader, sock)
        self._call(self._loop.remove_writer, sock)

    def _register_write(self, client: mqtt.Client, _ud: Any, sock: Any) -> None:
        assert self._loop is not None
        self._call(self._write_idle.clear)
        self._call(self._loop.add_writer, sock, client.loop_write)

    def _unregister_write(self, client: mqtt.Client, _ud: Any, sock: Any) -> None:
        if self._loop_gone():
            return
        assert self._loop is not None
        if sock.fileno() >= 0:
            self._call(self._loop.remove_writer, sock)
        self._call(self._write_idle.set)  # nothing more can be written on this socket: not waited for

    # -- callbacks --------------------------------------------------------------------------------
    def _handle_connect(self, client: mqtt.Client, _ud: Any, flags: Any, rc: ReasonCode, _props: Any) -> None:
        if rc.is_failure:
            self._connect_error = str(rc)
            log.error("broker %s refused %s: %s", self.url, self.client_id, rc)
            self._lost.set()
            return
        log.info("connected to %s as %s (session present: %s)", self.url, self.client_id, flags.session_present)
        self._subscribed = set()
        self.sync_subscriptions()
        self.connected.set()
        if self._on_connected is not None:
            self._on_connected()

    def _handle_subscribe(self, client: mqtt.Client, _ud: Any, mid: int, codes: list[ReasonCode], _p: Any) -> None:
        failed = [str(c) for c in codes if c.is_failure]
        if failed:
            log.error("%s: broker refused a subscription: %s", self.client_id, ", ".join(failed))
            return
        if not self.subscribed:
            self.subscribed = True
            if self._on_state is not None:
                self._on_state(True)

    def _handle_disconnect(self, client: mqtt.Client, _ud: Any, _flags: Any, rc: ReasonCode, _props: Any) -> None:
        if self.subscribed:
            self.subscribed = False
            if self._on_state is not None:
                self._on_state(False)
        self.connected.clear()
        self._lost.set()
        log.warning("disconnected from %s (%s)", self.url, rc)

    # -- API --------------------------------------------------------------------------------------
    def sync_subscriptions(self) -> None:
        """Subscribe to new filters and unsubscribe dropped ones (after a registry change)."""
        want = set(self._filters())
        new = sorted(want - self._subscribed)
        gone = sorted(self._subscribed - want)
        if new:
            if self.v5:
                self._client.subscribe([(f, SubscribeOptions(qos=1)) for f in new])
            else:
                self._client.subscribe([(f, 1) for f in new])
            log.info("%s subscribed to %s", self.client_id, ", ".join(new))
        if gone:
            self._client.unsubscribe(gone)
            log.info("%s unsubscribed from %s", self.client_id, ", ".join(gone))
        self._subscribed = want

    def unsubscribe(self, filters: Sequence[str]) -> None:
        if filters:
            self._client.unsubscribe(list(filters))
            self._subscribed -= set(filters)

    def ack(self, mid: int, qos: int) -> None:
        if qos and self.connected.is_set():
            self._client.ack(mid, qos)

    def ack_all(self, acks: list[tuple[int, int]]) -> None:
        """Acknowledge a batch, in order (QoS 1 as one buffer; QoS 2 / MQTT 3.1.1 one by one)."""
        if not self.connected.is_set():
            return  # the broker redelivers to this session; storage is idempotent
        if self.v5 and all(q == 1 for _m, q in acks):
            self._client.ack_many([m for m, _q in acks])
            return
        for mid, qos in acks:
            self._client.ack(mid, qos)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    async def run(self) -> None:
        """Connect, keep the session alive, reconnect with capped exponential backoff; until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        backoff = Backoff(0.2, RECONNECT_MAX_S)
        props: Properties | None = None
        if self.v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.session_expiry_s
            props.ReceiveMaximum = RECEIVE_MAXIMUM
        try:
            while True:
                self._lost.clear()
                self._connect_error = None
                try:
                    if self.v5:
                        await asyncio.to_thread(self._client.connect, self.url.host, self.url.port, KEEPALIVE_S,
                                                clean_start=False, properties=props)
                    else:
                        await asyncio.to_thread(self._client.connect, self.url.host, self.url.port, KEEPALIVE_S)
                except (OSError, mqtt.WebsocketConnectionError) as exc:
                    log.warning("broker %s unreachable (%s); retry in %.1fs", self.url, exc, backoff.delay)
                    await backoff.wait()
                    continue
                misc = asyncio.create_task(self._misc_loop())
                try:
                    await self._lost.wait()
                finally:
                    misc.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await misc
                if self._connect_error is not None and "not authorized" in self._connect_error.lower():
                    raise IngestError(f"broker {self.url} refused {self.client_id}: {self._connect_error}")
                if self.connected.is_set() or self._connect_error is None:
                    backoff.reset()
                await backoff.wait()
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                if self.end_session and self.v5:
                    gone = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
                    gone.SessionExpiryInterval = 0
                    self._client.disconnect(properties=gone)
                else:
                    self._client.disconnect()
            sock = self._client.socket()
            if sock is not None and self._loop is not None:
                self._loop.remove_reader(sock)
                self._loop.remove_writer(sock)

    async def _misc_loop(self) -> None:
        """paho's keepalive / retry housekeeping, once a second (``loop_misc``)."""
        while True:
            await asyncio.sleep(1.0)
            if self._client.loop_misc() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._lost.set()
                return

    async def flush_out(self, limit_s: float = 5.0) -> None:
        """Wait until outgoing packets (acks, republishes) have left, before a clean shutdown."""
        if self.connected.is_set() and self._client.want_write():
            self._write_idle.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit_s):
                    await self._write_idle.wait()
