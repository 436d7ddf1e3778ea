"""Issue 5 acceptance with real Mosquitto and InfluxDB: CLI users log in, admit + assign, published
vitals appear in /beds, scoping (403/401), FHIR Bundle validated by fhir.resources, audit verify."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fhir.resources.bundle import Bundle

from dashboard_api.routes.patients import VitalsOut
from devservers import InfluxDB, Mosquitto
from smartward.cli import main

from .conftest import PASSWORD, Running, obs, running_platform, until

pytestmark = pytest.mark.integration


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartward", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.fixture
async def platform_influx(mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, topic_root: str, tmp_path: Path,
                          api_secret: str) -> AsyncIterator[Running]:
    async with running_platform(mosquitto.url, mosquitto.port, influxdb.store_url(influx_db), topic_root,
                                tmp_path) as run:
        yield run


async def test_users_adt_vitals_scoping_fhir_and_audit(platform_influx: Running, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = platform_influx
    for user, role, extra in (("nina", "charge_nurse", ["--ward", "w1"]), ("pat", "patient", ["--patient", "p-1"])):
        r = cli("users", "add", "--state", run.state_url, "--username", user, "--role", role, "--password-stdin",
                *extra, stdin=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    run.add_user("otto", "nurse", ("w2",))
    run.add_user("paul", "patient", patient="p-2")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "--state", run.state_url, "--username", "x", "--role", "nurse",
                 "--password-stdin"]) == 1
    assert "--ward" in capsys.readouterr().err
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        assert (await c.get("/api/v1/wards/w1/beds")).status_code == 401
        r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "wrong-password"})
        assert r.status_code == 401
        nina = await run.login(c, "nina")
        r = await c.post("/api/v1/adt/admit", headers=nina, json={"patient_id": "p-1", "ward": "w1", "bed": "07"})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/devices/mon-1/assign", headers=nina, json={"ward": "w1", "bed": "07"})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/adt/admit", headers=nina, json={"patient_id": "p-9", "ward": "w2", "bed": "01"})
        assert r.status_code == 403  # nina is not on w2
        await run.ingest_knows("mon-1", "w1")
        now = int(time.time() * 1000)
        await run.publish("devices/mon-1/obs", obs("mon-1", 1, now, heart_rate=72, spo2=97, resp_rate=16))

        async def tile() -> dict[str, object] | None:
            r = await c.get("/api/v1/wards/w1/beds", headers=nina)
            assert r.status_code == 200
            beds = {b["bed"]: b for b in r.json()["beds"]}
            b = beds.get("07")
            return b if b and "heart_rate" in b["vitals"] else None

        bed = await until(tile, "heart rate in /beds")
        assert bed["patient"] == "p-1" and bed["device"] == "mon-1"
        hr = bed["vitals"]["heart_rate"]  # type: ignore[index]
        assert hr["value"] == 72 and hr["unit"] == "/min" and hr["stale"] is False and hr["age_s"] < 30
        otto = await run.login(c, "otto")
        assert (await c.get("/api/v1/wards/w1/beds", headers=otto)).status_code == 403
        assert (await c.get("/api/v1/patients/p-1/vitals", headers=otto)).status_code == 403
        paul = await run.login(c, "paul")
        assert (await c.get("/api/v1/patients/p-1/vitals", headers=paul)).status_code == 403
        pat = await run.login(c, "pat")

        async def stored() -> list[object]:
            r = await c.get("/api/v1/patients/p-1/vitals", headers=pat, params={"signal": "heart_rate"})
            assert r.status_code == 200, r.text
            VitalsOut.model_validate_json(r.content, strict=True)  # the route writes its JSON itself
            return list(r.json()["rows"])

        rows = await until(stored, "vitals in InfluxDB")
        assert rows[0]["values"]["heart_rate"] == 72  # type: ignore[index]
        r = await c.get("/api/v1/patients/p-1/fhir/Observation", headers=nina)
        assert r.status_code == 200
        bundle = Bundle.model_validate(r.json())
        assert bundle.type == "searchset" and bundle.entry
        codes = {(cd.system, cd.code) for e in bundle.entry for cd in e.resource.code.coding}  # type: ignore[union-attr]
        assert ("http://loinc.org", "8867-4") in codes and ("urn:iso:std:iso:11073:10101", "147842") in codes
        hr_obs = next(e.resource for e in bundle.entry if e.resource.code.coding[0].code == "8867-4")  # type: ignore[union-attr]
        assert hr_obs.valueQuantity.code == "/min" and hr_obs.valueQuantity.system == "http://unitsofmeasure.org"  # type: ignore[union-attr]
        assert (await c.get("/api/v1/wards/w1/beds", headers={"Authorization": "Bearer nonsense"})).status_code == 401

    ok = cli("audit", "verify", "--state", run.state_url)
    assert ok.returncode == 0, ok.stderr
    engine = sa.create_engine(run.state_url)
    with engine.begin() as conn:
        actions = [r[0] for r in conn.execute(sa.text("SELECT action FROM dashboard_audit ORDER BY seq"))]
        assert "adt.admit" in actions and "device.assign" in actions and actions.count("read") >= 3
        conn.execute(sa.text("UPDATE dashboard_audit SET resource = 'patient/p-2/vitals' WHERE seq = 5"))
    broken = cli("audit", "verify", "--state", run.state_url)
    assert broken.returncode == 1 and "entry 5" in broken.stderr
    engine.dispose()
