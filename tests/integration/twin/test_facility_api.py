"""The facility manager's twin API on the real platform (Mosquitto, in-process ingest + alerting, the
HTTP app): roles and audit, 422s naming the key, a run in a worker process whose report.json is the
runner's own for the same seed and survives a restart, the live census (ADT + NEWS2 band) and "time
to evacuate now" recomputed when the census changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from dashboard_api import AuditLog, verify
from devservers import Mosquitto
from tests.integration.dashboard.conftest import PASSWORD, Running, api_secret, running_platform, until

pytestmark = pytest.mark.integration
__all__ = ["api_secret"]
WARD = "medsurg-4"  # the id of digital_twin/wards/example.yaml, the default layout
EXAMPLE_FILE = str(Path(__file__).resolve().parents[3] / "digital_twin" / "wards" / "example.yaml")


@pytest.fixture
def twin_env(monkeypatch: pytest.MonkeyPatch, api_secret: str) -> None:
    monkeypatch.setenv("SMARTWARD_TWIN_NOW_REPLICATIONS", "40")
    monkeypatch.setenv("SMARTWARD_TWIN_NOW_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("SMARTWARD_TWIN_MAX_QUEUED", "3")
    monkeypatch.setenv("SMARTWARD_TWIN_MAX_REPLICATIONS", "5000")


@pytest.fixture
async def fm(mosquitto: Mosquitto, topic_root: str, tmp_path: Path, twin_env: None) -> AsyncIterator[Running]:
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root,
                                tmp_path) as run:
        run.add_user("fiona", "facility_manager")
        run.add_user("root", "admin")
        run.add_user("nina", "nurse", (WARD,))
        yield run


async def wait_done(c: httpx.AsyncClient, h: dict[str, str], run_id: str, limit_s: float = 90) -> dict[str, Any]:
    seen: list[tuple[str, int]] = []

    async def finished() -> dict[str, Any] | None:
        r = (await c.get(f"/api/v1/twin/runs/{run_id}", headers=h)).json()
        seen.append((r["status"], r["done"]))
        return r if r["status"] in ("done", "failed") else None

    rec: dict[str, Any] = await until(finished, f"run {run_id} finished", limit_s)
    rec["seen"] = seen
    return rec


async def test_roles_and_bad_input(fm: Running) -> None:
    async with httpx.AsyncClient(base_url=fm.base, timeout=10) as c:
        for path in ("/api/v1/twin/scenarios", "/api/v1/twin/runs", f"/api/v1/twin/census/{WARD}",
                     f"/api/v1/twin/evacuation-now?ward={WARD}"):
            assert (await c.get(path)).status_code == 401, path
        nurse = await fm.login(c, "nina")
        r = await c.get("/api/v1/twin/scenarios", headers=nurse)
        assert r.status_code == 403 and "nurse" in r.json()["detail"]
        assert (await c.post("/api/v1/twin/runs", headers=nurse, json={"scenario": "evacuation", "ward": WARD})
                ).status_code == 403
        h = await fm.login(c, "fiona")
        scen = {s["name"]: s for s in (await c.get("/api/v1/twin/scenarios", headers=h)).json()}
        assert "evacuation" in scen
        params = {p["name"]: p for p in scen["evacuation"]["params"]}
        assert params and all("default" in p for p in params.values())
        assert params["shift"]["enum"] == ["day", "night"] and params["order"]["enum"][0] == "least_dependent_first"
        assert params["speed_bed"]["minimum"] == 0 and params["speed_bed"]["exclusive_minimum"] is True
        wards = (await c.get("/api/v1/twin/wards", headers=h)).json()
        assert [w["id"] for w in wards] == [WARD] and wards[0]["beds"] == 30

        async def refused(body: dict[str, Any]) -> list[Any]:
            r = await c.post("/api/v1/twin/runs", headers=h, json={"scenario": "evacuation", "ward": WARD} | body)
            assert r.status_code == 422, r.text
            return list(r.json()["detail"][0]["loc"])

        assert await refused({"scenario": "fire-drill"}) == ["body", "scenario"]
        assert await refused({"ward": "icu-9"}) == ["body", "ward"]
        assert await refused({"replications": 5001}) == ["body", "replications"]
        assert await refused({"replications": 0}) == ["body", "replications"]
        assert await refused({"parameters": {"no_such_knob": 1}}) == ["body", "parameters", "no_such_knob"]
        numeric = next(n for n, p in params.items() if p["type"] in ("integer", "number"))
        assert await refused({"parameters": {numeric: "lots"}}) == ["body", "parameters", numeric]
        assert await refused({"census": "yesterday"}) == ["body", "census"]
        # nobody admitted yet: a live census is refused, not simulated as an empty ward
        r = await c.post("/api/v1/twin/runs", headers=h, json={"scenario": "evacuation", "ward": WARD, "census": "live"})
        assert r.status_code == 422 and "has no beds on the platform" in r.json()["detail"][0]["msg"], r.text
        r = await c.get("/api/v1/twin/census/icu-9", headers=h)  # a typo: neither a platform ward nor a layout
        assert r.status_code == 404 and "no ward 'icu-9'" in r.json()["detail"], r.text
        assert (await c.get(f"/api/v1/twin/census/{WARD}", headers=h)).json()["beds"] == []  # a layout: empty
        assert (await c.get("/api/v1/twin/runs/r-20260101-000000-abcdef", headers=h)).status_code == 404
        assert (await c.get("/api/v1/twin/runs/..%2F..%2Fetc", headers=h)).status_code in (404, 422)
        # the scenario's own check against the ward (Scenario.check): refused before any run, naming what the
        # ward has (the CLI gives the same message, tests/unit/twin/test_twin_cli.py)
        for scenario, key, value, msg in (
                ("code-blue", "bed", "nope", "code-blue: parameter 'bed': no bed 'nope' in ward 'medsurg-4'; its beds: "
                                             "01, 02, 03, 04, 05, 06, 07, 08 and 22 more"),
                ("evacuation", "census", 99, "census 99 exceeds the 30 beds of ward 'medsurg-4'"),
                ("network-outage", "gateway", "gw-9", "no gateway 'gw-9' in ward medsurg-4; its gateways: gw-west")):
            r = await c.post("/api/v1/twin/runs", headers=h, json={"scenario": scenario, "ward": WARD,
                                                                   "parameters": {key: value}})
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", "parameters", key] and msg in r.json()["detail"][0]["msg"]
        assert (await c.get("/api/v1/twin/runs", headers=h)).json() == []  # nothing refused was queued
        # at most 3 runs wait: the fifth long run in a row is refused (one may be running already)
        posted = [await c.post("/api/v1/twin/runs", headers=h, json={"scenario": "evacuation", "ward": WARD,
                                                                     "replications": 5000}) for _ in range(5)]
        codes = [r.status_code for r in posted]
        assert codes[:3] == [202] * 3 and codes[4] == 429, codes
        # cancel them: the running one's worker is killed, the queued ones never start; audited
        for r in posted:
            if r.status_code == 202:
                x = await c.delete(f"/api/v1/twin/runs/{r.json()['id']}", headers=h)
                assert x.status_code == 200 and x.json()["status"] == "failed", x.text
                assert x.json()["error"] == "cancelled by fiona"
                report = await c.get(f"/api/v1/twin/runs/{r.json()['id']}/report.json", headers=h)
                assert report.status_code == 409 and "failed" in report.json()["detail"]
                assert (await c.delete(f"/api/v1/twin/runs/{r.json()['id']}", headers=h)).status_code == 409
        statuses = {x["status"] for x in (await c.get("/api/v1/twin/runs", headers=h)).json()}
        assert statuses == {"failed"}
        log = AuditLog(fm.platform.attributions.engine)
        assert sum(1 for e in log.entries() if e["action"] == "twin.run.cancel") == codes.count(202)


async def test_run_matches_the_runner_is_audited_and_survives_restarts(mosquitto: Mosquitto, topic_root: str,
                                                                       tmp_path: Path, twin_env: None) -> None:
    from digital_twin.model import example_ward_path, load_ward
    from digital_twin.report_html import write_reports
    from digital_twin.runner import run as run_twin

    args = (mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path)
    spec = {"scenario": "evacuation", "ward": WARD, "census": "layout", "replications": 300, "seed": 11,
            "parameters": {"shift": "day", "nurses": 3, "prep_sigma": 0.4}}
    async with running_platform(*args) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        run.add_user("fiona", "facility_manager")
        h = await run.login(c, "fiona")
        r = await c.post("/api/v1/twin/runs", headers=h, json=spec)
        assert r.status_code == 202, r.text
        first = r.json()
        assert first["status"] in ("queued", "running") and first["total"] == 300
        assert first["parameters"] == {"shift": "day", "nurses": "3", "prep_sigma": "0.4"}
        # a long run queued behind it (one run at a time); it is interrupted by the stop below
        r = await c.post("/api/v1/twin/runs", headers=h, json=spec | {"replications": 2500, "seed": 12})
        long_id = r.json()["id"]
        assert (await c.get(f"/api/v1/twin/runs/{long_id}/report.json", headers=h)).status_code == 409
        done = await wait_done(c, h, first["id"])
        assert done["status"] == "done", done["error"]
        assert done["done"] == 300 and done["census_used"]["occupied"] == 30
        served = (await c.get(f"/api/v1/twin/runs/{first['id']}/report.json", headers=h)).content
        html = await c.get(f"/api/v1/twin/runs/{first['id']}/report.html?download=true", headers=h)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert html.headers["content-disposition"].startswith("attachment")
        assert "default-src 'none'" in html.headers["content-security-policy"]
        assert b"data:image/png;base64," in html.content  # self-contained plots
        # the long run starts once the first is done; progress is visible while it runs
        await until(lambda: _running_with_progress(c, h, long_id), "the long run running with progress", 60)
        log = AuditLog(run.platform.attributions.engine)
        starts = [e for e in log.entries() if e["action"] == "twin.run.start"]
        assert [(e["actor"], e["role"], e["resource"]) for e in starts] == [
            ("fiona", "facility_manager", f"twin-run/{first['id']}"), ("fiona", "facility_manager", f"twin-run/{long_id}")]
        detail = orjson.loads(starts[0]["detail"])
        assert detail["seed"] == 11 and detail["parameters"]["nurses"] == "3"
        assert verify(log.engine).ok
    stopped = orjson.loads((tmp_path / "twin" / "runs" / long_id / "run.json").read_bytes())
    assert stopped["status"] == "running" and stopped["done"] < 2500  # interrupted by the stop
    # the CLI's runner on the same ward, scenario, parameters and seed writes the same report.json
    local = run_twin("evacuation", load_ward(example_ward_path()), replications=300, seed=11,
                     overrides={"shift": "day", "nurses": "3", "prep_sigma": "0.4"}, workers=2)
    write_reports(local, tmp_path / "cli")
    assert "census" not in orjson.loads((tmp_path / "cli" / "report.json").read_bytes())  # not told where from
    served_doc = orjson.loads(served)  # the server says where the census came from: its layout file
    assert served_doc.pop("census") == {"source": "file", "path": EXAMPLE_FILE,
                                        "ward": WARD}
    assert served_doc == orjson.loads((tmp_path / "cli" / "report.json").read_bytes())
    # after a restart: the finished run and its report are still there; the interrupted one runs again
    async with running_platform(*args) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = await run.login(c, "fiona")
        listed = {x["id"]: x for x in (await c.get("/api/v1/twin/runs", headers=h)).json()}
        assert list(listed) == [long_id, first["id"]]  # newest first
        assert listed[first["id"]]["status"] == "done"
        assert (await c.get(f"/api/v1/twin/runs/{first['id']}/report.json", headers=h)).content == served
        again = await wait_done(c, h, long_id)
        assert again["status"] == "done" and again["done"] == 2500, again["error"]


async def _running_with_progress(c: httpx.AsyncClient, h: dict[str, str], run_id: str) -> bool:
    r = (await c.get(f"/api/v1/twin/runs/{run_id}", headers=h)).json()
    return bool(r["status"] == "running" and 0 < r["done"] < r["total"])


async def test_evacuation_now_follows_the_live_census(fm: Running) -> None:
    async with httpx.AsyncClient(base_url=fm.base, timeout=30) as c:
        admin = await fm.login(c, "root")
        h = await fm.login(c, "fiona")
        # nobody on the platform in this ward yet: no estimate, not "0 min"
        empty = (await c.get("/api/v1/twin/evacuation-now", headers=h, params={"ward": WARD, "wait": 5})).json()
        assert empty["status"] == "failed" and "no beds in ward" in empty["error"] and "mean" not in empty, empty
        for patient, bed in (("P100", "03"), ("P200", "11")):  # admit two patients (ADT API)
            r = await c.post("/api/v1/adt/admit", headers=admin, json={"patient_id": patient, "ward": WARD, "bed": bed})
            assert r.status_code == 200, r.text
        # alerting's NEWS2 of P200: high (retained, as alerting publishes it)
        await fm.publish(f"news2/{WARD}/P200", {"total": 8, "risk": "high", "complete": True, "missing": [],
                                               "ward": WARD, "bed": "11", "patient": "P200", "t": int(time.time() * 1000)}, qos=1)

        async def now(**q: Any) -> dict[str, Any]:
            params = {k: v for k, v in ({"ward": WARD, "shift": "night", "wait": 30} | q).items() if v is not None}
            r = await c.get("/api/v1/twin/evacuation-now", headers=h, params=params)
            assert r.status_code == 200, r.text
            return dict(r.json())

        async def census_with_high() -> dict[str, Any] | None:
            n = await now()
            return n if n["status"] == "ready" and n["census"]["acuity"].get("high") == 1 else None

        est = await until(census_with_high, "an estimate with P200's high NEWS2 band", 30)
        assert est["census"]["occupied"] == 2 and est["census"]["beds"] == 30 and est["census"]["platform_beds"] == 2
        assert est["census"]["staff_on_shift"] == 7 and est["shift"] == "night"  # 4 RN + 1 charge + 2 HCA
        assert est["metric"] == "total_min" and est["unit"] == "min" and est["replications"] == 40
        assert est["p50"] <= est["p95"] and est["ci95"][0] <= est["mean"] <= est["ci95"][1]
        assert not est["stale"] and not est["census_changed"]
        # unchanged census: the cached estimate (same computation time)
        assert (await now())["computed_at"] == est["computed_at"]
        # the census endpoint: no patient ids for a facility manager, ids for an admin; audited
        beds = {b["bed"]: b for b in (await c.get(f"/api/v1/twin/census/{WARD}", headers=h)).json()["beds"]}
        assert beds["11"]["occupied"] and beds["11"]["news2_risk"] == "high" and beds["11"]["patient"] is None
        admin_beds = (await c.get(f"/api/v1/twin/census/{WARD}", headers=admin)).json()["beds"]
        assert sorted(b["patient"] for b in admin_beds if b["occupied"]) == ["P100", "P200"]
        log = AuditLog(fm.platform.attributions.engine)
        assert {(e["actor"], e["action"]) for e in log.entries() if e["action"] == "twin.census"} == {
            ("fiona", "twin.census"), ("root", "twin.census")}
        # a third admission changes the census: a new estimate on 3 patients
        r = await c.post("/api/v1/adt/admit", headers=admin, json={"patient_id": "P300", "ward": WARD, "bed": "20"})
        assert r.status_code == 200
        after = await now()
        assert after["status"] == "ready" and after["census"]["occupied"] == 3, after
        assert after["computed_at"] > est["computed_at"]
        # day shift: the day roster (3 patients do not keep 7 staff busy: no faster than at night)
        day = await now(shift="day")
        assert day["shift"] == "day" and day["census"]["staff_on_shift"] == 10 and day["mean"] <= after["mean"]
        # the shift by the clock when not given
        assert (await now(shift=None, wait=0))["shift_source"] == "clock"
        r = await c.get("/api/v1/twin/evacuation-now", headers=h, params={"ward": "icu-9"})
        assert r.status_code == 404 and "icu-9" in r.json()["detail"]


async def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``smartward`` in a subprocess without blocking the loop that serves the platform."""
    import os
    import sys

    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "smartward", *args, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_live_census_gives_the_same_report_as_the_api(fm: Running, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=fm.base, timeout=30) as c:
        admin = await fm.login(c, "root")
        for patient, bed in (("P100", "03"), ("P200", "11"), ("P300", "27")):
            r = await c.post("/api/v1/adt/admit", headers=admin, json={"patient_id": patient, "ward": WARD, "bed": bed})
            assert r.status_code == 200, r.text
        h = await fm.login(c, "fiona")
        r = await c.post("/api/v1/twin/runs", headers=h, json={"scenario": "evacuation", "ward": WARD, "census": "live",
                                                               "replications": 100, "seed": 3})
        rec = await wait_done(c, h, r.json()["id"])
        assert rec["status"] == "done" and rec["census_used"]["occupied"] == 3
        api_json = (await c.get(f"/api/v1/twin/runs/{rec['id']}/report.json", headers=h)).content
    out = tmp_path / "cli-live"
    rc, stdout, stderr = await cli("twin", "run", "evacuation", "--live", fm.base, "--username", "fiona",
                                   "--replications", "100", "--seed", "3", "--out", str(out), "--no-progress",
                                   stdin=PASSWORD + "\n")
    assert rc == 0, stderr
    assert f"live census of {WARD}" in stderr and "3 of 30 beds occupied" in stderr and "wrote" in stdout
    # the same report; each says it used the live census of this platform (at its own time)
    cli_doc, api_doc = orjson.loads((out / "report.json").read_bytes()), orjson.loads(api_json)
    cli_census, api_census = cli_doc.pop("census"), api_doc.pop("census")
    assert cli_doc == api_doc
    for census in (cli_census, api_census):
        assert census["source"] == "live" and census["url"] == fm.base and census["ward"] == WARD
        assert census["layout"] == EXAMPLE_FILE
        assert abs(census["t"] - time.time() * 1000) < 300_000 and census["time"].endswith("Z")
    assert f"Census taken live from {fm.base} (ward {WARD}) at " in (out / "report.html").read_text()
    # a token instead of a password; a wrong password is named, nothing written
    async with httpx.AsyncClient(base_url=fm.base) as c:
        token = (await fm.login(c, "fiona"))["Authorization"].split()[1]
    rc, _, stderr = await cli("twin", "run", "evacuation", "--live", fm.base, "--replications", "10", "--out",
                              str(tmp_path / "tok"), env={"SMARTWARD_TWIN_TOKEN": token})
    assert rc == 0, stderr
    rc, _, stderr = await cli("twin", "run", "evacuation", "--live", fm.base, "--username", "fiona", "--out",
                              str(tmp_path / "bad"), stdin="wrong-password\n")
    assert rc == 1 and "login as 'fiona' refused (401)" in stderr and not (tmp_path / "bad").exists()
