"""The ingest link's read path (ingest/mqtt_link.py): complete QoS 0/1 PUBLISH packets are cut out of
each 256 KiB read in one loop; anything else, or a packet cut by the end of a read, goes through paho.
Driven over a real socket pair with the bytes a v5 broker sends."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from ingest.mqtt_link import _BufferedClient


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 127, n >> 7
        out.append(b | (128 if n else 0))
        if not n:
            return bytes(out)


def publish(topic: str, payload: bytes, qos: int, mid: int = 0, props: bytes = b"") -> bytes:
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + (mid.to_bytes(2, "big") if qos else b"") + varint(len(props)) + props + payload
    return bytes([0x30 | qos << 1]) + varint(len(body)) + body


def paho_publishes(c: _BufferedClient) -> list[int]:
    """Counts the PUBLISH packets paho's own state machine handles from now on (one entry each)."""
    by_paho: list[int] = []
    slow = c._handle_publish

    def counted() -> MQTTErrorCode:
        by_paho.append(1)
        return MQTTErrorCode(slow())

    c._handle_publish = counted  # type: ignore[method-assign]
    return by_paho


@pytest.fixture
def link() -> Iterator[tuple[_BufferedClient, socket.socket, list[tuple[str, bytes, int, int]]]]:
    ours, broker = socket.socketpair()
    ours.setblocking(False)
    c = _BufferedClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5)
    got: list[tuple[str, bytes, int, int]] = []
    c.fast_on_message = lambda topic, payload, mid, qos: got.append((topic, payload, mid, qos))
    c._sock = ours  # what paho's connect leaves: the socket it reads from
    yield c, broker, got
    ours.close()
    broker.close()


def test_every_publish_of_a_read_is_taken_in_order_whatever_packets_sit_between(link) -> None:  # type: ignore[no-untyped-def]
    c, broker, got = link
    big = b"x" * 300  # a remaining length of two bytes
    stream = (publish("a/1", b"one", 1, mid=7) + publish("a/2", b"two", 0)
              + bytes((0xD0, 0x00))  # PINGRESP: paho's
              + publish("a/3", big, 1, mid=65535, props=bytes((0x01, 0x01)))  # a property: skipped
              + publish("a/4", b"", 1, mid=9))
    broker.sendall(stream)
    by_paho = paho_publishes(c)
    assert c.loop_read() == mqtt.MQTT_ERR_SUCCESS
    assert by_paho == []  # paho only read the PINGRESP
    assert got == [("a/1", b"one", 7, 1), ("a/2", b"two", 0, 0), ("a/3", big, 65535, 1), ("a/4", b"", 9, 1)]


def test_a_packet_cut_by_the_end_of_a_read_is_finished_with_the_next_read(link) -> None:  # type: ignore[no-untyped-def]
    c, broker, got = link
    packets = [publish(f"d/{i}", str(i % 10).encode() * 200, 1, mid=i + 1) for i in range(200)]  # 2-byte lengths
    starts = [sum(len(p) for p in packets[:k]) for k in range(len(packets))]
    stream = b"".join(packets)
    # reads that end after a command byte, inside a remaining length, inside a topic length, in a payload
    cuts = sorted({starts[3] + 1, starts[7] + 2, starts[12] + 4, starts[20] + 50, len(stream)})
    sent = 0
    for cut in cuts:
        broker.sendall(stream[sent:cut])
        sent = cut
        assert c.loop_read() == mqtt.MQTT_ERR_SUCCESS
    assert [g[0] for g in got] == [f"d/{i}" for i in range(200)]
    assert all(payload == str(i % 10).encode() * 200 and mid == i + 1 for i, (_t, payload, mid, _q) in enumerate(got))


def test_a_malformed_publish_is_left_to_paho(link) -> None:  # type: ignore[no-untyped-def]
    c, broker, got = link
    bad_topic = publish("abc", b"x", 1, mid=2).replace(b"abc", b"\xff\xfe\xfd")  # a topic that is not UTF-8
    broker.sendall(publish("ok", b"1", 1, mid=1) + bad_topic)
    by_paho = paho_publishes(c)
    c.loop_read()
    assert got == [("ok", b"1", 1, 1)]  # the bad one is never handed over as a message
    assert by_paho == [1]  # it went to paho's own handling (a broker never sends one: MQTT topics are UTF-8)


def test_paho_closing_its_socket_after_the_loop_ended_is_quiet() -> None:
    """paho's ``Client.__del__`` closes the socket once more, after ``run`` ended and its loop closed
    (seen as "Exception ignored ... ValueError" at the end of ``bench ingest``)."""
    import asyncio
    import sys

    from device_profiles import parse_mqtt_url
    from ingest.mqtt_link import MqttLink

    link = MqttLink(parse_mqtt_url("mqtt://127.0.0.1:1"), "quiet", lambda *_: None, list)
    loop = asyncio.new_event_loop()
    a, b = socket.socketpair()
    unraisable: list[object] = []
    old, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        link._loop = loop
        loop.add_reader(a, lambda: None)
        link._socket_close(link._client, None, a)  # while the loop runs: the reader is removed
        assert not loop.remove_reader(a)
        loop.close()
        link._socket_close(link._client, None, a)  # loop closed
        link._unregister_write(link._client, None, a)
        a.close()
        link._loop = asyncio.new_event_loop()
        link._socket_close(link._client, None, a)  # socket closed (fd -1)
        link._unregister_write(link._client, None, a)
        link._loop.close()
    finally:
        sys.unraisablehook = old
        b.close()
    assert unraisable == []
