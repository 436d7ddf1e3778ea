"""Helpers for gateway integration tests: a subscriber that survives broker restarts."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import aiomqtt
import orjson
import pytest

from devservers import Mosquitto
from tests.prereq import missing

# Mosquitto started as root drops to user "mosquitto" and then cannot write its persistence file in
# the fixture's root-owned temp dir ("Error: Permission denied" at shutdown): sessions and queued
# messages would not survive a restart. Tests that restart the broker keep it as root.
STAY_ROOT = "user root\n" if os.geteuid() == 0 else ""


@pytest.fixture
def restartable_mosquitto() -> Iterator[Mosquitto]:
    """Like ``private_mosquitto``, but its persistence works when the tests run as root."""
    if not Mosquitto.available():
        missing("mosquitto")
    m = Mosquitto().start()
    yield m
    m.close()


@dataclass
class Collector:
    """Every sample received per device, in arrival order (persistent session, QoS 1, reconnects)."""

    port: int
    root: str
    client_id: str
    times: dict[str, list[int]] = field(default_factory=dict)
    seqs: dict[str, list[int]] = field(default_factory=dict)
    status: dict[str, dict[str, object]] = field(default_factory=dict)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self) -> int:
        return sum(len(v) for v in self.times.values())

    async def run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, identifier=self.client_id, clean_session=False,
                                          protocol=aiomqtt.ProtocolVersion.V311) as c:
                    await c.subscribe(f"{self.root}/devices/+/+", qos=1)
                    self.subscribed.set()
                    async for m in c.messages:
                        assert isinstance(m.payload, bytes)
                        body = orjson.loads(m.payload)
                        device, kind = str(m.topic).split("/")[-2:]
                        if kind == "obs":
                            self.times.setdefault(device, []).extend(s["t"] for s in body["samples"])
                            self.seqs.setdefault(device, []).append(body["seq"])
                        elif kind == "status":
                            self.status[device] = body
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def collecting(port: int, root: str, client_id: str) -> AsyncIterator[Collector]:
    col = Collector(port, root, client_id)
    task = asyncio.create_task(col.run())
    try:
        async with asyncio.timeout(10):
            await col.subscribed.wait()
        yield col
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(cond: object, timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Poll ``cond()`` until truthy, or fail naming ``what``."""
    assert callable(cond)
    try:
        async with asyncio.timeout(timeout):
            while not cond():  # noqa: ASYNC110 - polling a condition with a deadline
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None
