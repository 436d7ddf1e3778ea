"""The API against the real platform (Mosquitto, in-process ingest + alerting, SQLite store):
websocket auth (one-time tickets) and streaming, login lockout, spot observations reaching alerting,
home wearables in the virtual ward, /readyz following the broker, /metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dashboard_api import AuditLog, create_app
from devservers import Mosquitto
from smartward.settings import load_api_config

from .conftest import Running, obs, running_platform, until

pytestmark = pytest.mark.integration


async def ws_url(run: Running, path: str, token: str | None) -> str:
    """``path`` with a one-time ticket taken with ``token`` (a refused token is sent as the ticket)."""
    url = run.base.replace("http", "ws") + path
    if token is None:
        return url
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        r = await c.post("/api/v1/ws/ticket", headers={"Authorization": f"Bearer {token}"})
    return url + f"?ticket={r.json()['ticket'] if r.status_code == 200 else token}"


async def token(run: Running, c: httpx.AsyncClient, user: str) -> str:
    return (await run.login(c, user))["Authorization"][7:]


async def test_websocket_auth_and_live_tiles(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("otto", "nurse", ("w2",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        nina, otto = await token(run, c, "nina"), await token(run, c, "otto")
        r = await c.post("/api/v1/devices/mon-1/assign", headers={"Authorization": f"Bearer {nina}"},
                         json={"ward": "w1", "bed": "03"})
        assert r.status_code == 200
        await run.ingest_knows("mon-1", "w1")
    for tok, code in ((None, 4401), ("garbage", 4401), (otto, 4403)):
        async with connect(await ws_url(run, "/api/v1/ws/wards/w1", tok)) as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == code
    async with connect(await ws_url(run, "/api/v1/ws/wards/w1", nina)) as ws:
        first = orjson.loads(await ws.recv())
        assert first[0]["type"] == "snapshot" and [b["bed"] for b in first[0]["beds"]] == ["03"]
        await run.publish("devices/mon-1/obs", obs("mon-1", 1, int(time.time() * 1000), heart_rate=88))

        async def tile_with_hr() -> dict[str, object] | None:
            for f in orjson.loads(await ws.recv()):
                if f["type"] == "tile" and "heart_rate" in f["tile"]["vitals"]:
                    return dict(f["tile"])
            return None

        tile = await until(tile_with_hr, "tile frame with the heart rate")
        assert tile["bed"] == "03" and tile["vitals"]["heart_rate"]["value"] == 88  # type: ignore[index]
        # the bed view asks for waveforms of bed 03: canonical chunks from its device arrive as wave frames
        await ws.send(orjson.dumps({"watch": "03"}).decode())
        chunk = {"v": 1, "device": "mon-1", "seq": 2, "signal": "ecg_ii", "fs": 250.0,
                 "t0": int(time.time() * 1000), "samples": [0.1, 0.4, 1.2, 0.3]}

        async def wave() -> dict[str, object] | None:
            await run.publish("devices/mon-1/wave", chunk, qos=0)
            try:
                async with asyncio.timeout(0.5):
                    for f in orjson.loads(await ws.recv()):
                        if f["type"] == "wave":
                            return dict(f)
            except TimeoutError:
                return None
            return None

        frame = await until(wave, "a wave frame for the watched bed")
        assert frame["bed"] == "03" and frame["signal"] == "ecg_ii" and frame["samples"] == [0.1, 0.4, 1.2, 0.3]


async def test_login_lockout_and_refresh(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "correct horse battery"})
        refresh = r.json()["refresh_token"]
        for _ in range(5):
            r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "guess-guess"})
            assert r.status_code == 401
        r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "correct horse battery"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        r = await c.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
        assert r.status_code == 200
        me = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.json() == {"username": "nina", "role": "nurse", "wards": ["w1"], "patient": ""}
        r = await c.post("/api/v1/auth/refresh", json={"refresh_token": r.json()["access_token"]})
        assert r.status_code == 401


async def test_spot_observation_feeds_news2_and_home_wearable_joins_virtual_ward(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "charge_nurse", ("w1", "home"))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = await run.login(c, "nina")
        assert (await c.post("/api/v1/adt/admit", headers=h, json={"patient_id": "p-5", "ward": "w1", "bed": "05"})).status_code == 200
        assert (await c.post("/api/v1/devices/mon-5/assign", headers=h, json={"ward": "w1", "bed": "05"})).status_code == 200
        r = await c.post("/api/v1/devices/wear-9/assign", headers=h, json={"patient_id": "p-9"})
        assert r.status_code == 200 and r.json()["ward"] == "home" and r.json()["bed"] == "p-9"
        bad = await c.post("/api/v1/devices/wear-9/assign", headers=h, json={"patient_id": "p-9", "bed": "01"})
        assert bad.status_code == 422
        await run.ingest_knows("mon-5", "w1")
        await run.ingest_knows("wear-9", "home")
        t = int(time.time() * 1000)
        for i in range(3):  # a monitor's stream: NEWS2 takes the median of >= 3 samples, 5 s apart (issue 11)
            await run.publish("devices/mon-5/obs", obs("mon-5", 1 + i, t + i * 5000, heart_rate=95, spo2=95,
                                                       resp_rate=22, nibp_sys=115, temperature=38.2))
        await run.publish("devices/wear-9/obs", obs("wear-9", 1, t, heart_rate=70))
        r = await c.post("/api/v1/patients/p-5/spot", headers=h, json={"consciousness": "A", "supplemental_o2": False})
        assert r.status_code == 202, r.text
        r = await c.post("/api/v1/patients/p-5/spot", headers=h, json={"consciousness": "Z"})
        assert r.status_code == 422 and "consciousness" in r.text

        async def news2() -> dict[str, object] | None:
            beds = (await c.get("/api/v1/wards/w1/beds", headers=h)).json()["beds"]
            n = beds[0]["news2"]
            return n if n and n["complete"] else None

        assert await until(news2, "complete NEWS2 after the spot observation") == {
            "total": 5, "risk": "medium", "complete": True, "missing": []}

        async def home() -> bool:
            beds = (await c.get("/api/v1/wards/home/beds", headers=h)).json()["beds"]
            return bool(beds) and "heart_rate" in beds[0]["vitals"]

        await until(home, "home wearable in the virtual ward")
        wards = {w["ward"]: w for w in (await c.get("/api/v1/wards", headers=h)).json()}
        assert wards["home"]["virtual"] is True and wards["w1"]["occupied"] == 1
        alerting = next(c for c in run.platform.components if c.name == "alerting")
        spots = await until(lambda: alerting.counts["spot"], "alerting received the spot")  # type: ignore[attr-defined]
        assert spots == 1


async def test_metrics_and_openapi(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("ada", "admin")
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        assert (await c.get("/metrics")).status_code == 401  # Prometheus sends SMARTWARD_METRICS_TOKEN
        m = await c.get("/metrics", headers=await run.login(c, "ada"))
        assert m.status_code == 200 and "smartward_ingest_messages_total" in m.text
        assert "smartward_dashboard_websockets" in m.text
        # production serves no API docs unless SMARTWARD_API_DOCS=1; the schema is there in-process
        assert (await c.get("/openapi.json")).status_code == 404
        spec = create_app(run.platform, load_api_config(), own_hub=True).openapi()
        paths = spec["paths"]
        for p in ("/api/v1/auth/token", "/api/v1/wards/{ward}/beds", "/api/v1/patients/{patient}/vitals",
                  "/api/v1/patients/{patient}/fhir/Observation", "/api/v1/adt/admit", "/api/v1/adt/transfer",
                  "/api/v1/adt/discharge", "/api/v1/devices/{device_id}/assign",
                  "/api/v1/alarms/{alarm_id}/acknowledge", "/api/v1/patients/{patient}/spot", "/readyz",
                  "/metrics", "/api/v1/ws/ticket"):
            assert p in paths, p
        assert "OAuth2PasswordBearer" in spec["components"]["securitySchemes"]
        assert (await c.get("/")).status_code == 200 and (await c.get("/portal")).status_code == 200


async def test_readyz_follows_the_broker(private_mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                         api_secret: str) -> None:
    async with running_platform(private_mosquitto.url, private_mosquitto.port, f"sqlite:///{tmp_path}/v.sqlite3",
                                topic_root, tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        assert (await c.get("/readyz")).status_code == 200
        private_mosquitto.stop()

        async def not_ready() -> dict[str, object] | None:
            r = await c.get("/readyz")
            return dict(r.json()) if r.status_code == 503 else None

        body = await until(not_ready, "/readyz 503 with the broker down")
        assert body["checks"]["broker"] is False  # type: ignore[index]
        assert (await c.get("/healthz")).status_code == 200
        private_mosquitto.start()
        await until(lambda: c.get("/readyz"), "ready again")  # returns a response object (truthy)

        async def ready() -> bool:
            return (await c.get("/readyz")).status_code == 200

        await until(ready, "/readyz 200 after the broker returned", 40)


async def test_websocket_closes_when_the_token_expires(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                                       api_secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_ACCESS_TOKEN_MINUTES", "0.05")  # 3 s
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/v.sqlite3", topic_root,
                                tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        run.add_user("nina", "nurse", ("w1",))
        tok = await token(run, c, "nina")
        async with connect(await ws_url(run, "/api/v1/ws/wards/w1", tok)) as ws:
            assert orjson.loads(await ws.recv())[0]["type"] == "snapshot"
            with pytest.raises(ConnectionClosed) as info:
                async with asyncio.timeout(15):
                    while True:
                        await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401


async def test_hl7_adt_admit_transfer_discharge(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "charge_nurse", ("w1",))
    now = time.strftime("%Y%m%d%H%M%S", time.gmtime())

    def adt(event: str, location: str) -> str:
        return (f"MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|{now}||ADT^{event}|M{event}|P|2.5\r"
                f"EVN|{event}|{now}\rPID|1||P777^^^HOSP^MR\rPV1|1|I|{location}\r")

    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = {**(await run.login(c, "nina")), "Content-Type": "x-application/hl7-v2+er7"}

        async def beds() -> dict[str, str]:
            r = await c.get("/api/v1/wards/w1/beds", headers=h)
            return {b["bed"]: b["patient"] for b in r.json()["beds"]}

        r = await c.post("/api/v1/adt/hl7", headers=h, content=adt("A01", "w1^^04"))
        assert r.status_code == 200 and "MSA|AA|MA01" in r.text, r.text
        assert (await beds()).get("04") == "P777"
        r = await c.post("/api/v1/adt/hl7", headers=h, content=adt("A01", "w1^^05"))
        assert r.status_code == 409 and "MSA|AE|MA01" in r.text and "transfer" in r.text  # moving is A02
        r = await c.post("/api/v1/adt/hl7", headers=h, content=adt("A02", "w2^^01"))
        assert r.status_code == 403 and "MSA|AE|MA02" in r.text  # nina is not on w2
        r = await c.post("/api/v1/adt/hl7", headers=h, content=adt("A02", "w1^^06"))
        assert "MSA|AA" in r.text and (await beds()).get("06") == "P777"
        r = await c.post("/api/v1/adt/hl7", headers=h, content=adt("A03", ""))
        assert "MSA|AA" in r.text and "P777" not in (await beds()).values()
        r = await c.post("/api/v1/adt/hl7", headers=h, content="hello")
        assert r.status_code == 422 and "MSA|AR" in r.text
        actions = [e["action"] for e in AuditLog(run.platform.attributions.engine).entries()]
        assert actions.count("adt.admit") == 1 and "adt.transfer" in actions and "adt.discharge" in actions
