"""The ward's alarm history and shift report over HTTP, on the real platform (Mosquitto, ingest, alerting,
state DB): a real SpO2 alarm acknowledged by a nurse shows in the history with who and when, each event's
reason also as a catalogue key + parameters (none for a reason known only by its text); filters
(bed, priority, time), paging without repeats, 422 naming the bad parameter, 403 for a nurse of another
ward, a patient, a vendor and a facility manager; each read is audited. The shift report lists the
ward's beds (layout and occupied), the alarm with its acknowledgement, a NEWS2 trajectory recomputed
from the stored vitals and the nurse's spot observation, and empty beds as empty (no score)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from alerting import Alarm
from dashboard_api import AuditLog

from .conftest import Running, obs, until

pytestmark = pytest.mark.integration
MIN = 60_000
OUTSIDERS = (("omar", "nurse", ("w2",), ""), ("pat", "patient", (), "p-1"), ("ven", "vendor", (), ""),
             ("fred", "facility_manager", (), ""))


def audited(run: Running) -> set[tuple[str, str, str]]:
    return {(e["actor"], e["action"], e["resource"]) for e in AuditLog(run.platform.attributions.engine).entries(limit=100_000)}


def hub_of(run: Running) -> Any:
    return next(c for c in run.platform.components if c.name == "dashboard-hub")


async def acknowledged_alarm(run: Running, c: httpx.AsyncClient, nina: dict[str, str]) -> str:
    """p-1 in w1/01 on mon-1 for 10 minutes of vitals, SpO2 80 for the last 20 s: a real alarm, which nina
    acknowledges (alerting's own event says so before this returns)."""
    attr = run.platform.attributions
    now = int(time.time() * 1000)
    attr.assign_device("mon-1", "w1", "01", now - 15 * MIN)
    attr.admit("p-1", "w1", "01", now - 15 * MIN)
    await run.publish("control/assignments", {"changed": now})
    await run.ingest_knows("mon-1", "w1")
    base = {"heart_rate": 96, "resp_rate": 22, "nibp_sys": 104, "temperature": 38.3}
    history = [{"t": now - 10 * MIN + 15_000 * k, **base, "spo2": 95} for k in range(38)]
    await run.publish("devices/mon-1/obs", {"v": 1, "device": "mon-1", "seq": 1, "samples": history})
    for seq, t in enumerate((now - 20_000, now - 10_000, now), 2):
        await run.publish("devices/mon-1/obs", obs("mon-1", seq, t, spo2=80, heart_rate=96))

    async def alarm() -> dict[str, Any] | None:
        r = await c.get("/api/v1/wards/w1/alarms", headers=nina)
        return next((a for a in r.json() if a["bed"] == "01" and a["kind"] == "limit" and a["signal"] == "spo2"), None)

    aid = str((await until(alarm, "an SpO2 alarm of bed 01", 30))["id"])
    r = await c.post(f"/api/v1/alarms/{aid}/acknowledge", headers=nina, json={"bed": "01"})
    assert r.status_code == 202, r.text
    store = hub_of(run).alarm_store
    await until(lambda: any(e["event"] == "acknowledged" and e["by"] == "nina" for e in store.events(aid)),
                "alerting storing nina's acknowledgement")
    return aid


def seed(run: Running, n: int, t0: int) -> None:
    """``n`` more alarms of w1 (beds 02..), low and medium, raised a minute apart, each with one event."""
    store = hub_of(run).alarm_store
    for k in range(n):
        prio = "low" if k % 2 else "medium"
        a = Alarm(id=f"seed-{k}", ward="w1", bed=f"{2 + k:02d}", patient=f"p-s{k}", device=f"mon-s{k}", kind="limit",
                  signal="heart_rate", code="high", priority=prio, raised_t=t0 + k * MIN, reason=f"HR 125 above 120 ({k})",
                  value=125.0, updated_t=t0 + k * MIN, condition_priority=prio)
        store.save([a], [a.event("raised", t0 + k * MIN)])


async def test_alarm_history_filters_pages_refuses_and_audits(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    for name, role, wards, patient in OUTSIDERS:
        run.add_user(name, role, wards, patient)
    async with httpx.AsyncClient(base_url=run.base, timeout=15) as c:
        nina = await run.login(c, "nina")
        aid = await acknowledged_alarm(run, c, nina)
        t0 = int(time.time() * 1000) - 30 * MIN
        seed(run, 5, t0)
        url = "/api/v1/wards/w1/alarm-history"

        r = await c.get(url, headers=nina)
        assert r.status_code == 200, r.text
        body = r.json()
        entries = body["entries"]
        ack = next(e for e in entries if e["alarm_id"] == aid and e["event"] == "acknowledged")
        assert (ack["by"], ack["bed"], ack["patient"], ack["signal"], ack["priority"]) == ("nina", "01", "p-1", "spo2",
                                                                                            ack["priority"])
        assert ack["priority"] in ("high", "medium")
        raised = next(e for e in entries if e["alarm_id"] == aid and e["event"] == "raised")
        assert raised["by"] is None and raised["value"] is not None and raised["value"] <= 85
        # the reasons as catalogue keys (what the dialog writes in the reader's language), beside the English
        assert raised["reason_key"].startswith("reason.") and raised["reason_params"], raised
        assert (ack["reason"], ack["reason_key"], ack["reason_params"]) == (
            "acknowledged by nina", "reason.acknowledgedBy", {"by": "nina"})
        assert ack["condition_key"].startswith("reason.") and ack["condition_params"], ack
        seeded = next(e for e in entries if e["alarm_id"] == "seed-0")  # a reason known only by its text
        assert (seeded["reason"], seeded["reason_key"], seeded["reason_params"]) == ("HR 125 above 120 (0)", "", {})
        times = [e["t"] for e in entries]
        assert times == sorted(times, reverse=True)  # newest first
        assert {f"seed-{k}" for k in range(5)} <= {e["alarm_id"] for e in entries}
        assert body["next"] is None

        # filters: bed, priority (repeatable), time window
        r = await c.get(url, headers=nina, params={"bed": "01"})
        assert {e["bed"] for e in r.json()["entries"]} == {"01"} and r.json()["entries"], r.text
        r = await c.get(url, headers=nina, params={"priority": "low"})
        low = r.json()["entries"]
        assert {e["alarm_id"] for e in low if e["alarm_id"].startswith("seed-")} == {"seed-1", "seed-3"}, r.text
        assert {e["priority"] for e in low} == {"low"} and aid not in {e["alarm_id"] for e in low}
        r = await c.get(url, headers=nina, params=[("priority", "low"), ("priority", "medium")])
        assert {"seed-0", "seed-1", "seed-2", "seed-3", "seed-4"} <= {e["alarm_id"] for e in r.json()["entries"]}
        assert {e["priority"] for e in r.json()["entries"]} <= {"low", "medium"}
        r = await c.get(url, headers=nina, params={"since": t0 + MIN, "until": t0 + 3 * MIN})
        assert [e["alarm_id"] for e in r.json()["entries"]] == ["seed-2", "seed-1"], r.text

        # pages of 3 follow each other to the end: every entry once, in the same order
        got, cursor = [], None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            r = await c.get(url, headers=nina, params=params)
            assert r.status_code == 200, r.text
            got += [e["seq"] for e in r.json()["entries"]]
            cursor = r.json()["next"]
            if cursor is None:
                break
        assert got == [e["seq"] for e in entries]

        # bad parameters: 422 naming the parameter
        now = int(time.time() * 1000)
        for params, word in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"priority": "urgent"}, "priority"),
                             ({"since": now, "until": now - 1}, "since"), ({"cursor": "yesterday"}, "cursor"),
                             ({"since": now - 8 * 24 * 3_600_000, "until": now}, "at most 168 h"),
                             ({"bed": "../01"}, "bed"), ({"drill": "maybe"}, "drill")):
            r = await c.get(url, headers=nina, params=params)
            assert r.status_code == 422, (params, r.status_code, r.text)
            assert word in r.text, (params, r.text)

        # refusals: another ward's nurse, the patient herself, a vendor, a facility manager; no login
        for name, *_ in OUTSIDERS:
            r = await c.get(url, headers=await run.login(c, name))
            assert r.status_code == 403, (name, r.status_code, r.text)
            assert "p-1" not in r.text and "nina" not in r.text
        assert (await c.get(url)).status_code == 401
        assert (await c.get("/api/v1/wards/w2/alarm-history", headers=nina)).status_code == 403

        # the portal's messages come from the same repository (moved off the table): the patient sees hers
        pat = await run.login(c, "pat")
        r = await c.get("/api/v1/patients/p-1/summary", headers=pat)
        assert r.status_code == 200 and r.json()["messages"], r.text
        # when the alarm store cannot be read, the portal is told so (null), never "no alerts" ([])
        store = run.platform.attributions.engine  # the state DB that alerting's tables live in
        with store.begin() as conn:
            conn.execute(sa.text("ALTER TABLE alerting_alarms RENAME TO alerting_alarms_away"))
        try:
            r = await c.get("/api/v1/patients/p-1/summary", headers=pat)
            assert r.status_code == 200 and r.json()["messages"] is None, r.text
        finally:
            with store.begin() as conn:
                conn.execute(sa.text("ALTER TABLE alerting_alarms_away RENAME TO alerting_alarms"))

    assert ("nina", "read", "ward/w1/alarm-history") in audited(run)
    assert not {a for a in audited(run) if a[2].endswith("alarm-history") and a[0] != "nina"}  # refusals read nothing


async def test_shift_report_per_bed_alarms_news2_and_spots(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("cn", "charge_nurse", ("w1",))
    for name, role, wards, patient in OUTSIDERS:
        run.add_user(name, role, wards, patient)
    async with httpx.AsyncClient(base_url=run.base, timeout=15) as c:
        nina = await run.login(c, "nina")
        r = await c.put("/api/v1/wards/w1/layout", headers=await run.login(c, "cn"),
                        json={"beds": [f"{i:02d}" for i in range(1, 9)]})
        assert r.status_code == 200, r.text
        aid = await acknowledged_alarm(run, c, nina)
        r = await c.post("/api/v1/patients/p-1/spot", headers=nina, json={"consciousness": "A", "supplemental_o2": False})
        assert r.status_code == 202, r.text
        store = hub_of(run).alarm_store
        await until(lambda: store.spots_between("w1", 0, int(time.time() * 1000) + 1), "alerting storing the spot")
        await run.stored("p-1", 38)
        url = "/api/v1/wards/w1/shift-report"

        async def report() -> dict[str, Any] | None:
            r = await c.get(url, headers=nina)
            assert r.status_code == 200, r.text
            bed = r.json()["beds"][0]
            points = bed["news2"]["points"] if bed["news2"] else []
            return r.json() if any(p["complete"] for p in points) else None

        body = await until(report, "a complete NEWS2 point in the shift report", 20)
        assert [b["bed"] for b in body["beds"]] == [f"{i:02d}" for i in range(1, 9)]  # the layout, empty beds too
        assert body["until"] - body["since"] == 12 * 3_600_000 and body["generated_by"] == "nina"
        assert "not stored" in body["news2_source"]
        bed = body["beds"][0]
        assert (bed["patient"], bed["device"]) == ("p-1", "mon-1")
        alarm = next(a for a in bed["alarms"]["items"] if a["id"] == aid)
        assert alarm["acknowledged_by"] == "nina" and alarm["acknowledged_t"] >= alarm["raised_t"]
        assert alarm["reason_key"].startswith("reason.") and alarm["reason_params"], alarm  # its reason as a key too
        assert sum(bed["alarms"]["counts"].values()) == len(bed["alarms"]["items"]) >= 1
        assert bed["alarms"]["counts"][alarm["priority"]] >= 1
        last = [p for p in bed["news2"]["points"] if p["total"] is not None][-1]
        # RR 22 (2) + SBP 104 (1) + HR 96 (1) + temperature 38.3 (1) + SpO2 (95 or the 80 of the alarm: 1..3), air, A
        assert last["complete"] and 6 <= last["total"] <= 8, last
        assert last["values"]["consciousness"] == "A" and last["values"]["supplemental_o2"] is False
        early = bed["news2"]["points"][0]
        assert early["total"] is None  # 12 h ago nothing was measured: no data, not a score of 0
        assert [s["values"] for s in bed["spots"]] == [{"consciousness": "A", "supplemental_o2": False}]
        assert bed["spots"][0]["by"] == "nina"
        empty = body["beds"][4]
        assert (empty["patient"], empty["news2"], empty["alarms"]["items"]) == ("", None, [])

        now = int(time.time() * 1000)
        r = await c.get(url, headers=nina, params={"since": now - 25 * 3_600_000, "until": now})
        assert r.status_code == 422 and "at most 24 h" in r.text, r.text
        r = await c.get(url, headers=nina, params={"since": "noon"})
        assert r.status_code == 422 and "since" in r.text, r.text
        for name, *_ in OUTSIDERS:
            r = await c.get(url, headers=await run.login(c, name))
            assert r.status_code == 403, (name, r.status_code, r.text)
        r = await c.get("/report")
        assert r.status_code == 200 and "report.js" in r.text
    assert ("nina", "read", "ward/w1/shift-report") in audited(run)
