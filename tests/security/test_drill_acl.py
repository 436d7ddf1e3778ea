"""Finding 7: the facility managers' drill account ``sw-drill`` could read ``{root}/alarms/#``, so anyone
holding it saw every real patient's alarms (patient id, value, reason). Now the shipped ACL lets it read
the drill tree only, and alerting publishes a drill's alarm events (also) on
``{root}/drill/alarms/{ward}/{id}``, where the drill driver listens. Real Mosquitto, the SHIPPED ACL,
the platform with its ``sw-platform`` account."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiomqtt
import httpx
import orjson
import pytest

from device_profiles.mqtt_client import Client as MqttClient
from devservers import free_port
from tests.integration.dashboard.conftest import api_secret, obs, running_platform, until
from tests.integration.gateway.test_mosquitto_acl import DEPLOY, ProdMosquitto, add

pytestmark = pytest.mark.integration
ROOT = "smartward/v1"  # the ACL names this root
__all__ = ["api_secret"]


async def test_drill_account_sees_drill_alarms_only(tmp_path: Path, api_secret: str) -> None:
    m = ProdMosquitto(port=free_port())
    (m.dir / "acl").write_text((DEPLOY / "acl").read_text())
    pw = {"mon-1": add(m.dir, "mon-1"), "sw-platform": add(m.dir, "--service", "sw-platform"),
          "sw-drill": add(m.dir, "--service", "sw-drill")}
    m.start()
    got: list[tuple[str, bytes]] = []

    async def listen(client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):  # the broker going away at the end
            async for msg in client.messages:
                got.append((msg.topic.value, bytes(msg.payload) if isinstance(msg.payload, bytes) else b""))

    stack = contextlib.ExitStack()
    try:
        broker = f"mqtt://sw-platform:{pw['sw-platform']}@127.0.0.1:{m.port}"
        async with (running_platform(broker, m.port, f"sqlite:///{tmp_path}/vitals.sqlite3", ROOT, tmp_path) as run,
                    MqttClient("127.0.0.1", m.port, username="sw-drill", password=pw["sw-drill"], identifier="drill-spy",
                               protocol=aiomqtt.ProtocolVersion.V5) as spy,
                    httpx.AsyncClient(base_url=run.base, timeout=10) as c):
            # everything the drill account may try to read of alarms
            await spy.subscribe([(f"{ROOT}/alarms/#", 1), (f"{ROOT}/drill/#", 1), ("#", 1)])
            listener = asyncio.create_task(listen(spy))
            stack.callback(listener.cancel)
            run.add_user("cn", "charge_nurse", ("w1",))
            cn = await run.login(c, "cn")
            assert (await c.post("/api/v1/adt/admit", headers=cn, json={"patient_id": "p-real-1", "ward": "w1",
                                                                         "bed": "01"})).status_code == 200
            assert (await c.post("/api/v1/devices/mon-1/assign", headers=cn, json={"ward": "w1", "bed": "01"})
                    ).status_code == 200
            await run.ingest_knows("mon-1", "w1")
            t = int(time.time() * 1000)
            async with MqttClient("127.0.0.1", m.port, username="mon-1", password=pw["mon-1"], identifier="mon-1",
                                  protocol=aiomqtt.ProtocolVersion.V5) as dev:
                await dev.publish(f"{ROOT}/devices/mon-1/obs", orjson.dumps(obs("mon-1", 1, t, nibp_sys=61)), qos=1)

            async def real_alarm() -> bool:
                r = (await c.get("/api/v1/wards/w1/alarms", headers=cn)).json()
                return any(a["signal"] == "nibp_sys" and a["patient"] == "p-real-1" for a in r)

            await until(real_alarm, "the real patient's systolic alarm on the dashboard", 20)
            await asyncio.sleep(1.0)  # had the broker routed it to the drill account, it would be here
            assert leaked(got) == [], leaked(got)
            # a drill in the same ward: its virtual device raises a drill alarm
            r = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1", "beds": 1, "duration_s": 30})
            assert r.status_code == 201, r.text
            drill = r.json()
            dev_id = drill["beds"][0]["device"]
            async with MqttClient("127.0.0.1", m.port, username="sw-drill", password=pw["sw-drill"],
                                  identifier=f"sw-{drill['id']}", protocol=aiomqtt.ProtocolVersion.V5) as drv:
                await drv.publish(f"{ROOT}/drill/devices/{dev_id}/obs",
                                  orjson.dumps(obs(dev_id, 1, int(time.time() * 1000), nibp_sys=62)), qos=1)

            def drill_alarms() -> list[dict[str, object]]:
                return [orjson.loads(p) for tp, p in got if tp.startswith(f"{ROOT}/drill/alarms/w1/") and p]

            events = await until(drill_alarms, "the drill's alarm on the drill tree, read by sw-drill", 20)
            assert all(e["drill"] == drill["id"] and e["device"] == dev_id for e in events), events
            await asyncio.sleep(1.0)  # anything else routed to the drill account has arrived by now
            assert leaked(got) == [], leaked(got)
            stack.close()
    finally:
        stack.close()
        m.close()


def leaked(got: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """What the drill account received of the real patient, or anything at all from the clinical alarm tree."""
    return [(tp, p) for tp, p in got if b"p-real-1" in p or b"mon-1" in p or tp.startswith(f"{ROOT}/alarms/")]
