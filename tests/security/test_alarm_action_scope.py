"""Issue 13, gap 1: the ward check on alarm actions. On a real alarm of a ward-A patient, a nurse of
another ward, the patient, a vendor and a facility manager are each refused (403, nothing reaches
alerting) acknowledge, silence, escalate and a spot value; the ward-A nurse's actions are accepted.
Deleting ``require_clinical(user, ward)`` from ``routes/alarms.py`` makes this test fail."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from .conftest import Running, obs, until

pytestmark = pytest.mark.integration

OUTSIDERS = (("otto", "nurse", ("w2",), ""), ("pat", "patient", (), "p-1"), ("vera", "vendor", (), ""),
             ("fred", "facility_manager", (), ""))


async def raise_alarm(run: Running, c: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    """Admit p-1 to w1/01 with monitor mon-1 (a minute ago) and hold SpO2 at 80 past the alarm delay
    (sample times 20 s apart): a real alarm."""
    now = int(time.time() * 1000)
    r = await c.post("/api/v1/adt/admit", headers=h,
                     json={"patient_id": "p-1", "ward": "w1", "bed": "01", "at": now - 60_000})
    assert r.status_code == 200, r.text
    r = await c.post("/api/v1/devices/mon-1/assign", headers=h, json={"ward": "w1", "bed": "01", "at": now - 60_000})
    assert r.status_code == 200, r.text
    await run.ingest_knows("mon-1", "w1")
    for seq, t in enumerate((now - 20_000, now - 10_000, now), 1):
        await run.publish("devices/mon-1/obs", obs("mon-1", seq, t, spo2=80, heart_rate=80))

    async def alarm() -> dict[str, Any] | None:
        r = await c.get("/api/v1/wards/w1/alarms", headers=h)
        assert r.status_code == 200, r.text
        return next((a for a in r.json() if a["patient"] == "p-1" and a["state"] == "active"), None)

    return dict(await until(alarm, "an SpO2 alarm of p-1 in w1", 30))


async def test_alarm_actions_and_spot_values_are_refused_outside_the_patients_ward(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cn", "charge_nurse", ("w1",))
    run.add_user("nina", "nurse", ("w1",))
    for name, role, wards, patient in OUTSIDERS:
        run.add_user(name, role, wards, patient)
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        alarm = await raise_alarm(run, c, await run.login(c, "cn"))
        aid = alarm["id"]
        actions = (("acknowledge", None), ("silence", {"minutes": 1}), ("escalate", None))
        for name, role, _, _ in OUTSIDERS:
            h = await run.login(c, name)
            for action, body in actions:
                r = await c.post(f"/api/v1/alarms/{aid}/{action}", headers=h, json=body)
                assert r.status_code == 403, (name, role, action, r.status_code, r.text)
                assert "w1" in r.text or "may not" in r.text, r.text  # says why
            r = await c.post("/api/v1/patients/p-1/spot", headers=h, json={"consciousness": "V"})
            assert r.status_code == 403, (name, role, "spot", r.status_code, r.text)
        # nothing the outsiders sent reached alerting: the alarm's log holds only its raising
        hub: Any = next(comp for comp in run.platform.components if comp.name == "dashboard-hub")

        def events() -> list[tuple[str, str | None]]:
            return [(e["event"], e["by"]) for e in hub.alarm_store.events(aid)]

        await asyncio.sleep(1)
        assert events() == [("raised", None)], events()
        nina = await run.login(c, "nina")
        for action, body in actions:
            r = await c.post(f"/api/v1/alarms/{aid}/{action}", headers=nina, json=body)
            assert r.status_code == 202 and r.json()["ward"] == "w1", r.text
        r = await c.post("/api/v1/patients/p-1/spot", headers=nina, json={"consciousness": "A"})
        assert r.status_code == 202, r.text
        await until(lambda: ("acknowledged", "nina") in events(), "nina's acknowledgement reaching alerting")
