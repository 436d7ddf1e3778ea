"""Issue 12: an alarm action names the alarm it was aimed at, and a stale target is refused. On a real
SpO2 alarm of bed 01: acknowledging it "for bed 02" (the id is not the alarm the nurse saw) is a 409
naming both beds and nothing reaches alerting; for bed 01 it is accepted and answers with the bed.
Once the alarm has ended, acknowledge, silence and escalate are each a 409 saying it ended (they were
a 202 that alerting silently dropped); an unknown id stays a 404."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from .conftest import Running, obs, until

pytestmark = pytest.mark.integration


async def test_a_stale_or_mismatched_alarm_target_is_refused(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    attr = run.platform.attributions
    now = int(time.time() * 1000)
    attr.assign_device("mon-1", "w1", "01", now - 60_000)
    attr.admit("p-1", "w1", "01", now - 60_000)
    await run.publish("control/assignments", {"changed": now})
    await run.ingest_knows("mon-1", "w1")
    for seq, t in enumerate((now - 20_000, now - 10_000, now), 1):
        await run.publish("devices/mon-1/obs", obs("mon-1", seq, t, spo2=80, heart_rate=80))
    hub: Any = next(c for c in run.platform.components if c.name == "dashboard-hub")
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = await run.login(c, "nina")

        async def alarm() -> dict[str, Any] | None:
            r = await c.get("/api/v1/wards/w1/alarms", headers=h)
            return next((a for a in r.json() if a["bed"] == "01" and a["kind"] == "limit"), None)

        aid = (await until(alarm, "an SpO2 alarm of bed 01", 30))["id"]

        def events() -> list[tuple[str, str | None]]:
            return [(e["event"], e["by"]) for e in hub.alarm_store.events(aid)]

        # the id is not the alarm the nurse saw (it is bed 01's, the screen showed bed 02): refused
        r = await c.post(f"/api/v1/alarms/{aid}/acknowledge", headers=h, json={"bed": "02"})
        assert r.status_code == 409, r.text
        assert "bed 01" in r.json()["detail"] and "bed 02" in r.json()["detail"], r.text
        await asyncio.sleep(0.5)
        assert events() == [("raised", None)], events()
        # the right target is accepted and the answer names it
        r = await c.post(f"/api/v1/alarms/{aid}/acknowledge", headers=h, json={"bed": "01"})
        assert r.status_code == 202, r.text
        assert (r.json()["id"], r.json()["bed"], r.json()["patient"]) == (aid, "01", "p-1")
        await until(lambda: ("acknowledged", "nina") in events(), "the acknowledgement reaching alerting")
        # the condition ends (SpO2 back to 98): the acknowledged alarm clears
        t = int(time.time() * 1000)
        for k in range(3):
            await run.publish("devices/mon-1/obs", obs("mon-1", 10 + k, t + 1000 * k, spo2=98, heart_rate=80))
        await until(lambda: aid not in hub.state.alarms.get("w1", {}), "the alarm leaving the ward's open alarms", 30)
        before = events()
        for action, body in (("acknowledge", {"bed": "01"}), ("silence", {"minutes": 2, "bed": "01"}),
                             ("escalate", None)):
            r = await c.post(f"/api/v1/alarms/{aid}/{action}", headers=h, json=body)
            assert r.status_code == 409, (action, r.status_code, r.text)
            assert "already ended" in r.json()["detail"] and aid in r.json()["detail"], r.text
        await asyncio.sleep(0.5)
        assert events() == before, events()
        r = await c.post("/api/v1/alarms/no-such-alarm/acknowledge", headers=h)
        assert r.status_code == 404, r.text
