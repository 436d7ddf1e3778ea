"""A patient's own alarm limits through the API on the real platform (Mosquitto, in-process ingest, alerting,
the HTTP app and its hub; SQLite store): who may read and set them (clinical staff of the patient's ward,
admins; not a nurse or physician of another ward, the patient, a vendor or a facility manager), what is
refused and how (422 naming the field, 409 for a patient in no bed, 404 for nothing to reset), the audit
entries with before and after, the custom-limits marker reaching another screen of the ward live, and
end to end: the override alerting applies decides whether the next samples raise an alarm."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from dashboard_api import AuditLog

from .conftest import Running, obs, until

pytestmark = pytest.mark.integration
REASON = "COPD, target 88-92 % (Dr Lee)"


async def _admit(run: Running, *placements: tuple[str, str, str, str]) -> None:
    """(patient, ward, bed, device) each: admitted and monitored since a minute ago; ingest knows the devices."""
    attr = run.platform.attributions
    since = int(time.time() * 1000) - 60_000
    for patient, ward, bed, device in placements:
        attr.assign_device(device, ward, bed, since)
        attr.admit(patient, ward, bed, since)
    await run.publish("control/assignments", {"changed": since})
    for _, ward, _, device in placements:
        await run.ingest_knows(device, ward)


def _hub(run: Running) -> Any:
    return next(c for c in run.platform.components if c.name == "dashboard-hub")


def _alerting(run: Running) -> Any:
    return next(c for c in run.platform.components if c.name == "alerting")


async def test_rights_validation_audit_and_the_live_marker(platform_sqlite: Running) -> None:
    run = platform_sqlite
    users = {"cn": ("charge_nurse", ("w1",), ""), "nina": ("nurse", ("w1",), ""), "doc": ("physician", ("w1",), ""),
             "root": ("admin", (), ""), "otto": ("nurse", ("w2",), ""), "doc2": ("physician", ("w2",), ""),
             "pat": ("patient", (), "p-1"), "vic": ("vendor", (), ""), "fm": ("facility_manager", (), "")}
    for name, (role, wards, patient) in users.items():
        run.add_user(name, role, wards, patient)
    await _admit(run, ("p-1", "w1", "01", "mon-1"), ("p-2", "w2", "01", "mon-2"))
    hub = _hub(run)
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = {name: await run.login(c, name) for name in users}
        url = "/api/v1/patients/p-1/limits"
        body = {"low": 88, "critical_low": 82, "reason": REASON}
        # -- who may read and set: the ward's clinical staff and admins; nobody else, whatever they ask
        for name in ("cn", "nina", "doc", "root"):
            r = await c.get(url, headers=h[name])
            assert r.status_code == 200, (name, r.text)
        for name, words in (("otto", "not in a ward of user otto"), ("doc2", "not in a ward of user doc2"),
                            ("pat", "role patient may not"), ("vic", "role vendor may not"),
                            ("fm", "role facility_manager may not")):
            for method, path, kw in (("GET", url, {}), ("PUT", url + "/spo2", {"json": body}),
                                     ("DELETE", url + "/spo2", {})):
                r = await c.request(method, path, headers=h[name], **kw)
                assert r.status_code == 403, (name, method, r.status_code, r.text)
                assert words in r.json()["detail"], (name, method, r.text)
        assert await _stored(hub) == []  # nothing any of them asked was stored
        got = (await c.get(url, headers=h["nina"])).json()
        spo2 = next(s for s in got["signals"] if s["signal"] == "spo2")
        assert (got["ward"], got["bed"], spo2["source"], spo2["default"]["low"], spo2["effective"]["low"]) == (
            "w1", "01", "ward", 90, 90)
        assert spo2["bounds"]["low"] == 84 and spo2["unit"] == "%"
        # -- refusals name the field; a refused change stores nothing
        for ask, field in (({"low": 83, "critical_low": 80, "reason": REASON}, "low"),
                           ({"low": 84, "reason": REASON}, "low"),  # the ward's critical low is 85
                           ({"critical_low": 79, "reason": REASON}, "critical_low"),
                           ({"low": 88}, "reason"), ({"reason": REASON}, "body")):
            r = await c.put(url + "/spo2", headers=h["nina"], json=ask)
            assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}: "), (ask, r.text)
        r = await c.put(url + "/heart_rate", headers=h["nina"], json={"low": 100, "high": 105, "reason": REASON})
        assert r.status_code == 422 and "twice the hysteresis" in r.json()["detail"], r.text
        r = await c.put(url + "/no_such", headers=h["nina"], json=body)
        assert r.status_code == 422 and r.json()["detail"].startswith("signal: unknown signal"), r.text
        r = await c.put(url + "/spo2", headers=h["nina"], json={**body, "enabled": False})
        assert r.status_code == 422, r.text  # limits only: the alarm cannot be switched off here
        r = await c.put("/api/v1/patients/p-9/limits/spo2", headers=h["root"], json=body)
        assert r.status_code == 409 and "not admitted" in r.json()["detail"], r.text
        assert await _stored(hub) == []

        # -- another screen of the ward is open: it sees the custom-limits marker arrive live
        ticket = (await c.post("/api/v1/ws/ticket", headers=h["cn"])).json()["ticket"]
        async with connect(run.base.replace("http", "ws") + f"/api/v1/ws/wards/w1?ticket={ticket}",
                           origin=run.base) as ws:  # type: ignore[arg-type]
            snap = orjson.loads(await ws.recv())[0]
            assert snap["type"] == "snapshot" and snap["beds"][0]["limits"] == {}
            r = await c.put(url + "/spo2", headers=h["nina"], json=body)
            assert r.status_code == 200, r.text
            out = r.json()
            assert (out["source"], out["set_by"], out["override"]["low"], out["effective"]["critical_low"]) == (
                "patient", "nina", 88, 82)

            async def marker() -> dict[str, Any] | None:
                for f in orjson.loads(await ws.recv()):
                    if f["type"] == "tile" and f["tile"]["bed"] == "01" and f["tile"]["limits"]:
                        return dict(f["tile"]["limits"])
                return None

            assert await until(marker, "the custom-limits marker on the other screen") == {
                "spo2": {"critical_low": 82, "low": 88}}
        got = (await c.get(url, headers=h["doc"])).json()
        spo2 = next(s for s in got["signals"] if s["signal"] == "spo2")
        assert (spo2["source"], spo2["set_by"], spo2["effective"]["low"], spo2["default"]["low"]) == (
            "patient", "nina", 88, 90) and spo2["set_t"] > 0
        r = await c.put(url + "/spo2", headers=h["doc"], json={"low": 92, "reason": "improving"})
        assert r.status_code == 200, r.text
        # -- reset: back to the ward default; the marker goes; a second reset has nothing to reset
        r = await c.delete(url + "/spo2", headers=h["cn"])
        assert r.status_code == 200 and r.json()["source"] == "ward" and r.json()["effective"]["low"] == 90, r.text
        await until(lambda: hub.state.wards["w1"]["01"].tile(0)["limits"] == {}, "the marker gone from the ward state")
        r = await c.delete(url + "/spo2", headers=h["cn"])
        assert r.status_code == 404 and "ward's already" in r.json()["detail"], r.text

    # -- every change audited with who, before, after and the reason; the reads too
    entries = [e for e in AuditLog(run.platform.attributions.engine).entries(limit=10_000)
               if e["resource"].startswith("patient/p-1/limits")]
    changes = [(e["actor"], e["action"], orjson.loads(e["detail"])) for e in entries if e["action"] != "read"]
    assert [(a, act, d["before"], d["after"], d.get("reason")) for a, act, d in changes] == [
        ("nina", "limits.set", None, {"critical_low": 82.0, "low": 88.0}, REASON),
        ("doc", "limits.set", {"critical_low": 82.0, "low": 88.0}, {"low": 92.0}, "improving"),
        ("cn", "limits.reset", {"low": 92.0}, None, None)]
    assert all(d["ward"] == "w1" and d["bed"] == "01" and d["signal"] == "spo2" for _, _, d in changes)
    readers = {e["actor"] for e in entries if e["action"] == "read"}
    assert {"cn", "nina", "doc", "root"} <= readers and not readers & {"otto", "doc2", "pat", "vic", "fm"}


async def _stored(hub: Any) -> list[Any]:
    return list(await asyncio.to_thread(hub.alarm_store.override_records))


async def test_an_override_decides_whether_the_next_samples_raise(platform_sqlite: Running) -> None:
    """SpO2 92 % is fine by the ward's limits (low 90). With the patient's low at 94 the same values raise
    an alarm; reset to the ward's limits, the next sample ends it and 30 s more of 92 % raise nothing."""
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    await _admit(run, ("p-1", "w1", "01", "mon-1"))
    alerting, hub = _alerting(run), _hub(run)
    base = int(time.time() * 1000)
    seq = iter(range(1, 100))

    async def sample(dt_s: int, **values: float) -> None:
        await run.publish("devices/mon-1/obs", obs("mon-1", next(seq), base + dt_s * 1000, **values))

    def spo2_alarms() -> list[dict[str, Any]]:
        return [a for a in hub.state.alarms.get("w1", {}).values() if a.get("signal") == "spo2" and a["kind"] == "limit"]

    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = await run.login(c, "nina")
        r = await c.put("/api/v1/patients/p-1/limits/spo2", headers=h, json={"low": 94, "reason": "post-op"})
        assert r.status_code == 200, r.text
        # the control message makes alerting reload at once (target: within a second; 1.5 s for a busy CI)
        await until(lambda: ("p-1", "spo2") in alerting.engine.overrides, "alerting applying the override", 1.5)
        for dt in (-60, -50, -40):  # 20 s of SpO2 92 % (the alarm delay is 15 s)
            await sample(dt, spo2=92, heart_rate=80)
        [alarm] = await until(spo2_alarms, "an SpO2 alarm under the patient's low of 94 %")
        assert "below 94 %" in alarm["reason"], alarm
        r = await c.delete("/api/v1/patients/p-1/limits/spo2", headers=h)
        assert r.status_code == 200, r.text
        await until(lambda: ("p-1", "spo2") not in alerting.engine.overrides, "alerting dropping the override", 1.5)
        await sample(-30, spo2=92, heart_rate=80)  # 92 is clear of the ward's 90 (+ hysteresis 2): it ends
        await until(lambda: not spo2_alarms(), "the SpO2 alarm ending under the ward's limits")
        for dt in (-20, -10):
            await sample(dt, spo2=92, heart_rate=80)
        await sample(0, spo2=92, heart_rate=80, nibp_sys=80)  # NIBP 80 < 90 alarms at once: every sample was judged

        def nibp() -> bool:
            return any(a.get("signal") == "nibp_sys" for a in hub.state.alarms.get("w1", {}).values())

        await until(nibp, "the NIBP marker alarm")
        assert spo2_alarms() == []
