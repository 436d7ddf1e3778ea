"""A live drill on the running platform (issue 6, deliverable 5), end to end on real Mosquitto and
InfluxDB: the driver starts the drill through the API and publishes simulated desaturation through
its outbox; ingest stores the drill's points in the ``drill`` retention policy; alerting raises a
drill alarm; the central station (API + websocket) shows the DRILL banner, the DRILL bed and the
alarm marked; a charge nurse acknowledges it through the API; the report carries the measured
acknowledgement time; afterwards no clinical query sees drill data, and purge removes it."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from devservers import InfluxDB, Mosquitto, free_port
from digital_twin.live_drill import LiveDrill, LiveDrillOptions, report_from_log, write_report
from smartward.compose import Platform, PlatformConfig, run_platform
from tests.broker import retained
from tests.integration.dashboard.conftest import PASSWORD, Running, obs, until
from tests.integration.twin.test_facility_api import cli
from tests.tasks import stop_task

pytestmark = pytest.mark.integration
ALARMS_YAML = """limits:
  spo2: {low: 90, critical_low: 85, delay_s: 2, hysteresis: 2}
"""


@pytest.fixture
def api_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    key = secrets.token_urlsafe(32)
    monkeypatch.setenv("SMARTWARD_SECRET_KEY", key)
    monkeypatch.setenv("SMARTWARD_ENVIRONMENT", "production")
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", secrets.token_hex(32))  # production needs the audit-log key
    return key


@contextlib.asynccontextmanager
async def platform(mosquitto: Mosquitto, store: str, root: str, tmp: Path) -> AsyncIterator[Running]:
    """The whole platform in this loop (as tests/integration/dashboard), with a 2 s SpO2 alarm delay."""
    (tmp / "alarms.yaml").write_text(ALARMS_YAML)
    port = free_port()
    state = f"sqlite:///{tmp}/state.sqlite3"
    cfg = PlatformConfig(broker=mosquitto.url, store=store, state=state, data_dir=str(tmp), http=f"127.0.0.1:{port}",
                         topic_root=root, ingest_workers=0, client_prefix=f"{root[:12]}-",
                         extra={"alarm_config": str(tmp / "alarms.yaml")})
    ready: asyncio.Future[Platform] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_platform(cfg, on_ready=ready.set_result))
    try:
        p = await asyncio.wait_for(asyncio.shield(ready), 20)
        run = Running(f"http://127.0.0.1:{port}", p, state, root, mosquitto.port)

        async def is_ready() -> bool:
            if task.done():
                task.result()
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{run.base}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        await until(is_ready, "platform /readyz", 30)
        yield run
    finally:
        await stop_task(task, "the platform")


async def influx(server: InfluxDB, db: str, q: str) -> list[list[Any]]:
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{server.url}/query", data={"q": q, "db": db, "epoch": "ms"})
    r.raise_for_status()
    return [v for res in r.json()["results"] for s in res.get("series", []) for v in s["values"]]


async def test_live_drill_alarm_acknowledged_measured_and_kept_apart(
        mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, topic_root: str, tmp_path: Path,
        api_secret: str) -> None:
    async with platform(mosquitto, influxdb.store_url(influx_db), topic_root, tmp_path) as run:
        run.add_user("fm", "facility_manager")
        run.add_user("cn", "charge_nurse", ("w1",))
        run.add_user("nn", "nurse", ("w1",))
        async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
            cn = await run.login(c, "cn")
            # a real patient with a real monitor in the same ward: the drill must not touch their data
            assert (await c.post("/api/v1/adt/admit", headers=cn,
                                 json={"patient_id": "p-1", "ward": "w1", "bed": "01"})).status_code == 200
            assert (await c.post("/api/v1/devices/mon-1/assign", headers=cn,
                                 json={"ward": "w1", "bed": "01"})).status_code == 200
            await run.ingest_knows("mon-1", "w1")
            t_clinical = int(time.time() * 1000)
            await run.publish("devices/mon-1/obs", obs("mon-1", 1, t_clinical, heart_rate=72, spo2=97))
            # a nurse may not start a drill
            nn = await run.login(c, "nn")
            assert (await c.post("/api/v1/drills", headers=nn, json={"ward": "w1"})).status_code == 403
            bad = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1", "scenarios": ["tornado"]})
            assert bad.status_code == 422 and "tornado" in bad.text
            fm_h = await run.login(c, "fm")  # a ward the platform does not have: refused, naming the ones it has
            nope = await c.post("/api/v1/drills", headers=fm_h, json={"ward": "nope"})
            assert nope.status_code == 422 and "no ward 'nope' on the platform" in nope.text and "w1" in nope.text
            # the CLI: the refusal in one line naming the field, and no "starting drill" banner before it
            creds = {"SMARTWARD_TWIN_PASSWORD": PASSWORD}
            rc, out, err = await cli("drill", "start", "--ward", "nope", "--url", run.base, "--username", "fm",
                                     "--broker", mosquitto.url, "--topic-root", topic_root,
                                     "--out", str(tmp_path / "nope"), env=creds)
            assert (rc, out) == (1, ""), (out, err)
            assert err.strip().splitlines()[-1] == (
                "smartward drill start: error: POST /api/v1/drills refused (422): ward: no ward 'nope' on the "
                "platform (no beds); wards with beds: w1"), err

            events: list[dict[str, Any]] = []
            drill = LiveDrill(LiveDrillOptions(
                base_url=run.base, broker=mosquitto.url, ward="w1", username="fm", password="correct horse battery",
                root=topic_root, beds=1, scenarios=("desaturation",), duration_s=120, speed=30, rate=2),
                on_event=events.append)
            driver = asyncio.create_task(drill.run())
            await until(lambda: drill.drill or driver.done(), "the drill to start")
            drill_id = drill.drill["id"]
            assert drill.drill["beds"] == [{"bed": "DRILL-01", "device": f"{drill_id}-01", "scenario": "desaturation"}]
            # one drill per ward at a time
            again = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1"})
            assert again.status_code == 409 and drill_id in again.text

            async def drill_alarm() -> dict[str, Any] | None:
                r = await c.get("/api/v1/wards/w1/alarms?drill=only", headers=cn)
                found = [a for a in r.json() if a["drill"] == drill_id and a["signal"] == "spo2"]
                return found[0] if found else None

            alarm = await until(drill_alarm, "a drill SpO2 alarm on ward w1", 60)
            assert alarm["bed"] == "DRILL-01" and alarm["patient"] == ""
            clinical_only = (await c.get("/api/v1/wards/w1/alarms?drill=exclude", headers=cn)).json()
            assert all(not a.get("drill") for a in clinical_only)
            beds = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()
            assert beds["drill"]["drill"] == drill_id and beds["drill"]["active"] is True
            tiles = {b["bed"]: b for b in beds["beds"]}
            assert tiles["DRILL-01"]["drill"] == drill_id and tiles["DRILL-01"]["patient"] == ""
            assert tiles["01"]["drill"] == "" and tiles["01"]["patient"] == "p-1"
            assert all(v["value"] > 90 for k, v in tiles["01"]["vitals"].items() if k == "spo2")
            # the central station's websocket: DRILL banner in the snapshot, the alarm marked
            ticket = (await c.post("/api/v1/ws/ticket", headers=cn)).json()["ticket"]
            async with connect(run.base.replace("http", "ws") + f"/api/v1/ws/wards/w1?ticket={ticket}") as ws:
                snap = orjson.loads(await ws.recv())[0]
                assert snap["type"] == "snapshot" and snap["drill"]["drill"] == drill_id
                assert any(a["id"] == alarm["id"] and a["drill"] == drill_id for a in snap["alarms"])
                # acknowledged as usual, through the alarm commands (audited)
                r = await c.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=cn)
                assert r.status_code == 202

                async def ack_frame() -> bool:
                    return any(f["type"] == "alarm" and f["alarm"]["id"] == alarm["id"]
                               and f["alarm"]["event"] == "acknowledged" and f["alarm"]["drill"] == drill_id
                               for f in orjson.loads(await ws.recv()))

                await until(ack_frame, "the acknowledged drill alarm on the websocket", 15)
            await until(lambda: any(e["event"] == "acknowledged" for e in events), "the driver seeing the ack", 10)
            # stopped from elsewhere (`smartward drill stop`): the driver sees it, records its samples, reports
            rc, out, err = await cli("drill", "stop", drill_id, "--url", run.base, "--username", "cn", env=creds)
            assert rc == 0 and out.startswith(f"drill {drill_id} in ward w1 stopped at 20"), (out, err)
            report = await asyncio.wait_for(driver, 40)
            write_report(report, tmp_path / "report")

            # the report: measured acknowledgement time of the real alarm
            mine = next(a for a in report["alarms"] if a["id"] == alarm["id"])
            assert mine["acknowledged_by"] == "cn" and mine["ack_s"] is not None and 0 < mine["ack_s"] < 60
            assert report["metrics"]["ack_s"]["n"] >= 1 and report["metrics"]["ack_s"]["unit"] == "s"
            assert report["drill"] == drill_id and report["replications"] == len(report["alarms"])
            # the same figures rebuilt from the platform's alarm log alone (`smartward drill report`)
            logged = await report_from_log(run.base, drill_id, username="nn", password="correct horse battery")
            assert [(a["id"], a["ack_s"], a["acknowledged_by"]) for a in logged["alarms"]] == \
                [(a["id"], a["ack_s"], a["acknowledged_by"]) for a in report["alarms"]]
            # … and the same parameters, the sample rate and the samples the driver published included
            assert report["parameters"]["rate"] == 2 and report["parameters"]["samples"] >= 2
            assert logged["parameters"] == report["parameters"]
            assert logged == report  # the same report either way
            html = (tmp_path / "report" / "report.html").read_text()
            assert "DRILL" in html and alarm["id"] in html and "http" not in html.replace("http-equiv", "")

            # after the drill: no banner, no drill bed, no open drill alarm
            async def drill_gone() -> bool:
                b = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()
                return b["drill"] is None and all(t["bed"] != "DRILL-01" for t in b["beds"]) \
                    and not any(a.get("drill") for a in b["alarms"])

            await until(drill_gone, "the drill bed, banner and alarms gone", 15)
            listed = (await c.get(f"/api/v1/drills/{drill_id}", headers=cn)).json()
            assert listed["active"] is False and listed["stopped_by"] == "cn"
            # stopping it again: says it already ended, when, by whom and how to get its report
            rc, out, err = await cli("drill", "stop", drill_id, "--url", run.base, "--username", "cn", env=creds)
            assert rc == 0, err
            assert out.startswith(f"drill {drill_id} in ward w1 already ended: it was stopped by cn at 20"), out
            assert f"`smartward drill report {drill_id} --out DIR --url {run.base} --username cn`" in out
            # nothing retained of the drill's virtual devices or its driver stays on the broker
            left = await retained(mosquitto.port, [f"{topic_root}/drill/devices/+/status",
                                                   f"{topic_root}/drill/gateways/+/status", f"{topic_root}/devices/+/status",
                                                   f"{topic_root}/news2/#", f"{topic_root}/wards/+/status"])
            assert not [t for t in left if drill_id in t], left

            # clinical data never saw the drill: raw RP, downsample, patient API, FHIR, latest per ward
            db = f'"{influx_db}"'
            drill_points = await influx(influxdb, influx_db, f'SELECT count("spo2") FROM {db}."drill"."vitals"')
            assert drill_points and drill_points[0][1] > 0
            assert await influx(influxdb, influx_db, f'SELECT * FROM {db}."raw"."vitals" WHERE "drill" != \'\'') == []
            assert await influx(influxdb, influx_db,
                                f'SELECT * FROM {db}."raw"."vitals" WHERE "device" =~ /^{drill_id}/') == []
            assert await influx(influxdb, influx_db, f'SELECT * FROM {db}."raw"."alarms" WHERE "drill" != \'\'') == []
            store = run.platform.store
            await store.backfill_downsample(t_clinical - 60_000, int(time.time() * 1000))  # what the CQ computes
            assert await influx(influxdb, influx_db,
                                f'SELECT * FROM {db}."minute"."vitals_1m" WHERE "device" =~ /^{drill_id}/') == []
            latest = await store.latest(ward="w1")
            assert {v.device for v in latest} == {"mon-1"}
            vit = (await c.get("/api/v1/patients/p-1/vitals", headers=cn)).json()
            assert {r["device"] for r in vit["rows"]} == {"mon-1"}
            fhir = (await c.get("/api/v1/patients/p-1/fhir/Observation", headers=cn)).json()
            assert drill_id not in orjson.dumps(fhir).decode()

            # purge: the drill's points are gone (and only they)
            fm = await run.login(c, "fm")
            assert (await c.post("/api/v1/drills/purge", headers=fm, json={"drill": drill_id})).status_code == 200
            assert await influx(influxdb, influx_db, f'SELECT count("spo2") FROM {db}."drill"."vitals"') == []
            assert {v.device for v in await store.latest(ward="w1")} == {"mon-1"}


@pytest.mark.timeout(120)
async def test_a_drill_nobody_stops_ends_at_its_end_time(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                                         api_secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver died (or never ran): the hub ends the drill at ``ends`` (unbinds, banner off, audited)."""
    monkeypatch.setattr("dashboard_api.drills.EXPIRY_CHECK_S", 0.5)
    async with platform(mosquitto, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        run.add_user("cn", "charge_nurse", ("w1",))
        async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
            cn = await run.login(c, "cn")
            r = await c.post("/api/v1/drills", headers=cn, json={"ward": "w1", "beds": 2, "duration_s": 10})
            assert r.status_code == 201, r.text
            d = r.json()
            assert [b["bed"] for b in d["beds"]] == ["DRILL-01", "DRILL-02"] and d["active"]
            attr = run.platform.attributions
            assert attr.lookup(d["beds"][0]["device"], int(time.time() * 1000)).drill == d["id"]
            beds = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()
            assert beds["drill"]["drill"] == d["id"] and {t["bed"] for t in beds["beds"]} == {"DRILL-01", "DRILL-02"}

            async def ended() -> bool:
                got = (await c.get(f"/api/v1/drills/{d['id']}", headers=cn)).json()
                return got["stopped_by"] == "system" and not got["active"]

            await until(ended, "the hub ending the drill at its end time", 20)
            rc, out, err = await cli("drill", "stop", d["id"], "--url", run.base, "--username", "cn",
                                     env={"SMARTWARD_TWIN_PASSWORD": PASSWORD})
            assert rc == 0 and f"drill {d['id']} in ward w1 already ended: it ended at its end time at " in out, err

            async def gone() -> bool:
                beds = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()
                return beds["drill"] is None and beds["beds"] == []

            await until(gone, "the banner and the drill beds gone", 10)
            attr.reload()
            assert attr.lookup(d["beds"][0]["device"], int(time.time() * 1000)).ward == ""
            from dashboard_api import AuditLog

            actions = {(e["actor"], e["action"]) for e in AuditLog(attr.engine).entries()}
            assert {("cn", "drill.start"), ("system", "drill.expire")} <= actions


async def test_influx_purge_of_all_drill_data_keeps_clinical_data_and_the_drill_policy(
        influxdb: InfluxDB, influx_db: str) -> None:
    from device_profiles import AttributedObservation, Attribution, Observation, Sample
    from ingest.records import Batch
    from ingest.stores import open_store

    store = await open_store(influxdb.store_url(influx_db))
    t = int(time.time() * 1000)

    def batch(seq: int) -> Batch:
        b = Batch()
        b.add_obs(AttributedObservation(Observation("mon-1", seq, [Sample(t + seq, {"spo2": 97.0})]),
                                        Attribution("w1", "01", "p1")))
        b.add_obs(AttributedObservation(Observation("drill-x-01", seq, [Sample(t + seq, {"spo2": 84.0})]),
                                        Attribution("w1", "DRILL-01", "", "drill-x")))
        return b

    try:
        await store.write(store.encode(batch(1)))
        db = f'"{influx_db}"'
        count = f'SELECT count("spo2") FROM {db}."drill"."vitals"'
        assert (await influx(influxdb, influx_db, count))[0][1] == 1
        await store.purge_drill()
        assert await influx(influxdb, influx_db, count) == []
        assert await store.count("vitals") == 1  # clinical (rp raw) untouched
        await store.write(store.encode(batch(2)))  # the drill policy is back: drill writes keep working
        assert (await influx(influxdb, influx_db, count))[0][1] == 1
    finally:
        await store.close()
