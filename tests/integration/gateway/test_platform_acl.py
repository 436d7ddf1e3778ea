"""`smartward serve`'s components on the SHIPPED broker ACL (deploy/mosquitto/, real Mosquitto):
with the `sw-platform` account the platform gets a device's data, raises its alarm, publishes and
shows NEWS2, serves waveforms, and ends a live drill leaving nothing retained; the drill driver's
`sw-drill` account publishes its virtual devices. Before this test the ACL had no NEWS2, waveform or
drill-cleanup rights: the platform ran, but the dashboard never got a published NEWS2. `sw-drill` may
publish only on the drill tree, and ingest takes nothing from there but devices of a running drill:
the drill account cannot pass data off as a real device's."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest

from device_profiles.mqtt_client import Client as MqttClient
from devservers import free_port
from tests.broker import retained
from tests.integration.dashboard.conftest import Running, api_secret, obs, running_platform, until

from .test_mosquitto_acl import DEPLOY, ProdMosquitto, add

pytestmark = pytest.mark.integration
ROOT = "smartward/v1"  # the ACL names this root
__all__ = ["api_secret"]


def mqtt(m: ProdMosquitto, user: str, password: str, cid: str) -> MqttClient:
    return MqttClient("127.0.0.1", m.port, username=user, password=password, identifier=cid,
                      protocol=aiomqtt.ProtocolVersion.V5)


async def test_platform_and_drill_on_the_shipped_acl(tmp_path: Path, api_secret: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dashboard_api.drills.EXPIRY_CHECK_S", 0.5)
    m = ProdMosquitto(port=free_port())
    (m.dir / "acl").write_text((DEPLOY / "acl").read_text())
    pw = {"mon-1": add(m.dir, "mon-1"), "sw-platform": add(m.dir, "--service", "sw-platform"),
          "sw-drill": add(m.dir, "--service", "sw-drill")}
    m.start()
    try:
        broker = f"mqtt://sw-platform:{pw['sw-platform']}@127.0.0.1:{m.port}"
        async with running_platform(broker, m.port, f"sqlite:///{tmp_path}/vitals.sqlite3", ROOT, tmp_path) as run:
            await clinical_path(run, m, pw)
            await drill_path(run, m, pw, tmp_path)
    finally:
        m.close()


async def clinical_path(run: Running, m: ProdMosquitto, pw: dict[str, str]) -> None:
    run.add_user("cn", "charge_nurse", ("w1",))
    hub = next(c for c in run.platform.components if c.name == "dashboard-hub")
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cn = await run.login(c, "cn")
        assert (await c.post("/api/v1/adt/admit", headers=cn, json={"patient_id": "p-1", "ward": "w1", "bed": "01"})
                ).status_code == 200
        assert (await c.post("/api/v1/devices/mon-1/assign", headers=cn, json={"ward": "w1", "bed": "01"})
                ).status_code == 200
        await run.ingest_knows("mon-1", "w1")
        # the monitor, with its own account: a full set of vitals, systolic 60 (critical, no delay)
        t = int(time.time() * 1000)
        body = obs("mon-1", 1, t, heart_rate=72, spo2=97, resp_rate=16, temperature=37.0, nibp_sys=60, nibp_dia=40)
        async with mqtt(m, "mon-1", pw["mon-1"], "mon-1") as dev:
            await dev.publish(f"{ROOT}/devices/mon-1/obs", orjson.dumps(body), qos=1)
            await dev.publish(f"{ROOT}/devices/mon-1/wave", orjson.dumps(
                {"v": 1, "device": "mon-1", "seq": 1, "signal": "ecg_ii", "fs": 250, "t0": t, "samples": [0.1] * 250}),
                qos=1)

        async def alarm() -> bool:
            r = (await c.get("/api/v1/wards/w1/alarms", headers=cn)).json()
            return any(a["signal"] == "nibp_sys" and a["bed"] == "01" for a in r)

        await until(alarm, "alerting's systolic alarm on the dashboard", 20)
        await until(lambda: hub.state.bed("w1", "01").news2_published is not None,  # type: ignore[attr-defined]
                    "alerting's published NEWS2 reaching the dashboard", 20)

        async def stored() -> list[Any]:
            return list((await c.get("/api/v1/patients/p-1/vitals?signal=nibp_sys", headers=cn)).json()["rows"])

        rows = await until(stored, "the observation in the store", 15)
        assert [r["values"]["nibp_sys"] for r in rows] == [60], rows


async def drill_path(run: Running, m: ProdMosquitto, pw: dict[str, str], data_dir: Path) -> None:
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cn = await run.login(c, "cn")
        r = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1", "beds": 1, "duration_s": 10})
        assert r.status_code == 201, r.text
        d = r.json()
        dev = d["beds"][0]["device"]
        # the driver's account publishes its virtual device on the drill tree (status retained, as the
        # driver does) and its will
        drill = f"{ROOT}/drill"
        now = int(time.time() * 1000)
        async with mqtt(m, "sw-drill", pw["sw-drill"], f"sw-{d['id']}") as drv:
            await drv.publish(f"{drill}/devices/{dev}/status", b'{"online": true, "battery": 80}', qos=1, retain=True)
            await drv.publish(f"{drill}/gateways/sw-{d['id']}/status", b'{"online": false}', qos=1, retain=True)
            # it cannot pass data off as a real device's: refused by the broker on the device topics, a
            # dead letter on the drill tree (each before an allowed message on the same connection)
            await drv.publish(f"{ROOT}/devices/mon-1/obs", orjson.dumps(obs("mon-1", 7, now, nibp_sys=200)), qos=1)
            await drv.publish(f"{drill}/devices/mon-1/obs", orjson.dumps(obs("mon-1", 8, now, nibp_sys=201)), qos=1)
            await drv.publish(f"{drill}/devices/{dev}/obs", orjson.dumps(obs(dev, 1, now, heart_rate=70)), qos=1)

        async def drill_bed_shows_it() -> bool:
            beds = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()["beds"]
            return any(b["device"] == dev and b["vitals"].get("heart_rate", {}).get("value") == 70 for b in beds)

        await until(drill_bed_shows_it, "the drill device's observation on its drill bed", 15)

        def dead_letters() -> list[tuple[str, str]]:  # stored with the batch (sealed within 1 s)
            with contextlib.closing(sqlite3.connect(data_dir / "deadletters.sqlite3")) as db:
                return db.execute("SELECT topic, reason FROM dead_letters").fetchall()

        letters = await until(dead_letters, "the drill-tree message of a real device as a dead letter", 15)
        assert [t for t, _ in letters] == [f"{drill}/devices/mon-1/obs"], letters
        assert "not a device of a drill running" in letters[0][1], letters
        rows = (await c.get("/api/v1/patients/p-1/vitals?signal=nibp_sys", headers=cn)).json()["rows"]
        assert [r["values"]["nibp_sys"] for r in rows] == [60], rows
        filters = [f"{drill}/devices/+/status", f"{drill}/gateways/+/status", f"{ROOT}/news2/#"]
        before = await retained(m.port, filters, "sw-platform", pw["sw-platform"])
        assert f"{drill}/devices/{dev}/status" in before, before

        async def ended() -> bool:
            return (await c.get(f"/api/v1/drills/{d['id']}", headers=cn)).json()["stopped_by"] == "system"

        await until(ended, "the platform ending the drill at its end time", 20)

        async def nothing_left() -> bool:
            left = await retained(m.port, filters, "sw-platform", pw["sw-platform"])
            return not [k for k in left if d["id"] in k]

        await until(nothing_left, "the drill's retained status and will cleared", 15)
