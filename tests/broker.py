"""What a broker holds, read by a fresh subscriber (tests)."""

from __future__ import annotations

import asyncio
import contextlib

import aiomqtt

from device_profiles.mqtt_client import Client as MqttClient


async def retained(port: int, filters: list[str], username: str | None = None, password: str | None = None,
                   listen_s: float = 1.5) -> dict[str, bytes]:
    """The non-empty retained messages under ``filters`` on the broker at 127.0.0.1:``port`` (MQTT v5)."""
    got: dict[str, bytes] = {}
    async with MqttClient("127.0.0.1", port, username=username, password=password, identifier="retained-check",
                          protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe([(f, 1) for f in filters])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(listen_s):
                async for m in client.messages:
                    if m.retain and isinstance(m.payload, bytes) and m.payload:
                        got[m.topic.value] = m.payload
    return got
