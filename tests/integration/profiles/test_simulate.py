"""`smartward profile simulate` publishes in the vendor's own format on a real Mosquitto, and what it
publishes decodes with the same profile."""

from __future__ import annotations

import asyncio
import sys

import aiomqtt
import pytest

from device_profiles import ProfileRegistry, now_ms
from device_profiles.registry import BUILTIN_DIR
from devservers import Mosquitto

pytestmark = pytest.mark.integration


async def test_simulate_wearable_in_vendor_format(mosquitto: Mosquitto, uid: str) -> None:
    serial = f"S{uid}"
    topic = f"wearables/homecare/{serial}/batch"
    got: list[bytes] = []
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"t-{uid}") as sub:
        await sub.subscribe(topic, qos=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartward", "profile", "simulate", str(BUILTIN_DIR / "home-wearable.yaml"),
            "--broker", mosquitto.url, "--device", serial, "--rate", "20", "--count", "3", "--batch", "4",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        assert "sent 3 messages" in out.decode()
        async with asyncio.timeout(20):
            async for msg in sub.messages:
                assert isinstance(msg.payload, bytes)
                got.append(msg.payload)
                if len(got) == 3:
                    break
    reg = ProfileRegistry()
    for payload in got:
        d = reg.decode(topic, payload, now_ms())
        assert d.profile == "home-wearable" and d.device == f"hw7-{serial}"
        assert d.observation is not None and len(d.observation.samples) == 4
        s = d.observation.samples[-1].values
        assert 34 < s["temperature"] < 40 and 90 < s["spo2"] <= 100 and 40 < s["heart_rate"] < 120
        assert b"tempF" in payload  # the vendor's own field names and unit, not canonical
