"""Issue 13, finding 9 and gap 2: what the audit log must hold, and that it holds the data back when it
cannot be written. Logins, spot entries, silence/escalate/acknowledge and drill stop/purge each leave an
entry naming actor, role, action and resource, and the keyed chain verifies; with the audit table
gone (a real failure of the state DB, not a mock) a patient-data read answers 503 and returns no data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dashboard_api import AuditLog, verify

from .conftest import Running, until
from .test_alarm_action_scope import raise_alarm

pytestmark = pytest.mark.integration


def audited(run: Running) -> set[tuple[str, str, str, str]]:
    return {(e["actor"], e["role"], e["action"], e["resource"])
            for e in AuditLog(run.platform.attributions.engine).entries(limit=100_000)}


async def test_logins_spot_alarm_actions_and_drills_are_audited(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cn", "charge_nurse", ("w1",))
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("fred", "facility_manager")
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cn = await run.login(c, "cn")
        aid = (await raise_alarm(run, c, cn))["id"]
        nina = await run.login(c, "nina")
        for action, body in (("silence", {"minutes": 1}), ("escalate", None), ("acknowledge", None)):
            r = await c.post(f"/api/v1/alarms/{aid}/{action}", headers=nina, json=body)
            assert r.status_code == 202, r.text
        r = await c.post("/api/v1/patients/p-1/spot", headers=nina, json={"consciousness": "A", "resp_rate": 18})
        assert r.status_code == 202, r.text
        r = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1", "beds": 1, "duration_s": 600})
        assert r.status_code == 201, r.text
        drill = r.json()["id"]
        assert (await c.delete(f"/api/v1/drills/{drill}", headers=cn)).status_code == 200
        fred = await run.login(c, "fred")
        r = await c.post("/api/v1/drills/purge", headers=fred, json={"drill": drill})
        assert r.status_code == 200, r.text
    expected = {
        ("cn", "charge_nurse", "login", "user/cn"), ("nina", "nurse", "login", "user/nina"),
        ("fred", "facility_manager", "login", "user/fred"),
        ("nina", "nurse", "alarm.silence", f"alarm/{aid}"), ("nina", "nurse", "alarm.escalate", f"alarm/{aid}"),
        ("nina", "nurse", "alarm.acknowledge", f"alarm/{aid}"), ("nina", "nurse", "spot.enter", "patient/p-1"),
        ("cn", "charge_nurse", "drill.start", f"drill/{drill}"), ("cn", "charge_nurse", "drill.stop", f"drill/{drill}"),
        ("fred", "facility_manager", "drill.purge", f"drill/{drill}"),
        # alerting's resulting alarm event, imported by the hub
        ("nina", "user", "alarm.acknowledged", f"alarm/{aid}"),
    }
    await until(lambda: expected <= audited(run), f"audit entries {sorted(expected - audited(run))}")
    res = verify(run.platform.attributions.engine)  # the key: SMARTWARD_AUDIT_KEY, set by the fixture
    assert res.ok and res.legacy == 0 and len(res.key_ids) == 1, res


READS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/patients/p-1/vitals", {"signal": "spo2"}), ("/api/v1/patients/p-1/summary", {}),
    ("/api/v1/patients/p-1/fhir/Observation", {}), ("/api/v1/wards/w1/beds", {})]


async def reads_without_an_audit_table(run: Running) -> list[httpx.Response]:
    """p-1 with stored vitals, readable; then the audit table is dropped and every read is tried again."""
    run.add_user("cn", "charge_nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cn = await run.login(c, "cn")
        await raise_alarm(run, c, cn)
        await run.stored("p-1", 1)
        r = await c.get("/api/v1/patients/p-1/vitals", headers=cn, params={"signal": "spo2"})
        assert r.status_code == 200 and r.json()["rows"], r.text
        with run.platform.attributions.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE dashboard_audit"))
        return [await c.get(path, headers=cn, params=params) for path, params in READS]


async def test_a_failed_audit_write_returns_no_data(platform_sqlite: Running) -> None:
    for (path, _), r in zip(READS, await reads_without_an_audit_table(platform_sqlite), strict=True):
        assert r.status_code >= 500, (path, r.status_code, r.text[:300])
        assert "p-1" not in r.text and "spo2" not in r.text.lower() and "rows" not in r.text, (path, r.text)


async def test_a_failed_audit_write_answers_503(platform_sqlite: Running) -> None:
    for (path, _), r in zip(READS, await reads_without_an_audit_table(platform_sqlite), strict=True):
        assert r.status_code == 503 and "audit" in r.text.lower(), (path, r.status_code, r.text[:300])
