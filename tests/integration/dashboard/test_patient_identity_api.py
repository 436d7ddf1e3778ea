"""Patient identification against the real platform (Mosquitto, in-process ingest + alerting, SQLite):
name and MRN come with an admission (REST or HL7 PID-5 / PID-3 typed MR), are kept in the state DB
only, and are shown to clinical users of the patient's ward (``GET /wards/{ward}/identities``, audited)
and to the patient in their own portal summary; never to another ward, another patient, a vendor, a
facility manager or the HL7 feed account, and never in websocket frames, ``/beds``, metrics, audit
details or the server's log."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect

from dashboard_api import AuditLog
from dashboard_api.identities import identities

from .conftest import Running, until
from .test_api_live import ws_url

pytestmark = pytest.mark.integration
NAME, MRN = "Zhang Wei 张伟", "MRN-0042"
HL7 = "x-application/hl7-v2+er7"


def audit(run: Running) -> list[dict[str, Any]]:
    return [e | {"detail": orjson.loads(e["detail"])} for e in AuditLog(run.platform.attributions.engine).entries()]


def hl7(event: str, pid3: str, pid5: str, location: str) -> str:
    ts = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return (f"MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|{ts}||ADT^{event}|M{event}{len(pid5)}|P|2.5\r"
            f"EVN|{event}|{ts}\rPID|1||{pid3}||{pid5}\rPV1|1|I|{location}\r")


async def test_identity_is_shown_to_the_wards_clinicians_and_the_patient_only(
        platform_sqlite: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run = platform_sqlite
    for user, role, wards, patient in (
            ("cara", "charge_nurse", ("w1",), ""), ("nina", "nurse", ("w1",), ""), ("otto", "nurse", ("w2",), ""),
            ("phil", "physician", ("w1",), ""), ("root", "admin", (), ""), ("pat", "patient", (), "P-ID1"),
            ("pia", "patient", (), "P-ID2"), ("vic", "vendor", (), ""), ("fred", "facility_manager", (), ""),
            ("feed", "adt_feed", (), "")):
        run.add_user(user, role, wards, patient)
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = {u: await run.login(c, u) for u in ("cara", "nina", "otto", "phil", "root", "pat", "pia", "vic", "fred",
                                                  "feed")}
        nina_token = h["nina"]["Authorization"][7:]
        async with connect(await ws_url(run, "/api/v1/ws/wards/w1", nina_token)) as ws:
            frames: list[bytes | str] = [await ws.recv()]  # the snapshot (the ward has no bed yet)

            # a nurse may not admit (the refusal is audited without the name)
            r = await c.post("/api/v1/adt/admit", headers=h["nina"],
                             json={"patient_id": "P-ID1", "ward": "w1", "bed": "01", "name": NAME, "mrn": MRN})
            assert r.status_code == 403, r.text
            # a blank name or a bad MRN names the field; nothing is admitted
            for bad, field in (({"name": "   "}, "name"), ({"mrn": "00 42"}, "mrn"), ({"name": "x" * 201}, "name")):
                r = await c.post("/api/v1/adt/admit", headers=h["cara"],
                                 json={"patient_id": "P-ID1", "ward": "w1", "bed": "01", **bad})
                assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, r.text
            assert run.platform.attributions.bed_of("P-ID1") is None
            r = await c.post("/api/v1/adt/admit", headers=h["cara"],
                             json={"patient_id": "P-ID1", "ward": "w1", "bed": "01", "name": f"  {NAME} ", "mrn": MRN})
            assert r.status_code == 200, r.text
            r = await c.post("/api/v1/adt/admit", headers=h["cara"], json={"patient_id": "P-ID2", "ward": "w1", "bed": "02"})
            assert r.status_code == 200, r.text

            async def tiles() -> bool:  # both admissions reached nina's screen
                frames.append(await asyncio.wait_for(ws.recv(), 5))
                got = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
                return b'"P-ID1"' in got and b'"P-ID2"' in got

            await until(tiles, "tile frames of both admissions")

        # clinical users of the ward see name and MRN beside the pseudonym; a pseudonymous patient has no entry
        for user in ("cara", "nina", "phil", "root"):
            r = await c.get("/api/v1/wards/w1/identities", headers=h[user])
            assert r.status_code == 200, (user, r.text)
            assert r.json() == {"ward": "w1", "identities": [
                {"bed": "01", "patient": "P-ID1", "name": NAME, "mrn": MRN}]}, user
        # another ward's nurse, patients, a vendor, a facility manager, the HL7 feed: refused, naming why
        for user, why in (("otto", "no access to ward w1"), ("pat", "may not do this"), ("vic", "role vendor"),
                          ("fred", "role facility_manager"), ("feed", "role adt_feed")):
            r = await c.get("/api/v1/wards/w1/identities", headers=h[user])
            assert r.status_code == 403 and why in r.json()["detail"], (user, r.text)
        # the patient sees their own name in the portal summary, and only their own
        r = await c.get("/api/v1/patients/P-ID1/summary", headers=h["pat"])
        assert r.status_code == 200 and r.json()["name"] == NAME, r.text
        assert (await c.get("/api/v1/patients/P-ID1/summary", headers=h["pia"])).status_code == 403
        r = await c.get("/api/v1/patients/P-ID2/summary", headers=h["pia"])
        assert r.status_code == 200 and r.json()["name"] is None

        # the shared surfaces never carry it
        beds = await c.get("/api/v1/wards/w1/beds", headers=h["nina"])
        assert beds.status_code == 200 and "P-ID1" in beds.text and NAME not in beds.text and MRN not in beds.text
        metrics = await c.get("/metrics")
        assert NAME not in metrics.text and MRN not in metrics.text
        async with connect(await ws_url(run, "/api/v1/ws/wards/w1", nina_token)) as ws:
            frames.append(await ws.recv())  # a new screen's snapshot
        everything = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames).decode()
        assert "P-ID1" in everything and NAME not in everything and MRN not in everything and "Zhang" not in everything

        # a transfer without identity keeps it; to an occupied bed it is refused, naming the bed
        r = await c.post("/api/v1/adt/transfer", headers=h["cara"], json={"patient_id": "P-ID1", "ward": "w1", "bed": "02"})
        assert r.status_code == 409 and "bed w1/02 is occupied" in r.json()["detail"], r.text
        r = await c.post("/api/v1/adt/transfer", headers=h["cara"], json={"patient_id": "P-ID1", "ward": "w1", "bed": "03"})
        assert r.status_code == 200, r.text
        r = await c.get("/api/v1/wards/w1/identities", headers=h["nina"])
        assert r.json()["identities"] == [{"bed": "03", "patient": "P-ID1", "name": NAME, "mrn": MRN}]
        # discharge: off the ward's list, the record kept (a re-admission under the same id shows it again)
        assert (await c.post("/api/v1/adt/discharge", headers=h["cara"], json={"patient_id": "P-ID1"})).status_code == 200
        assert (await c.get("/api/v1/wards/w1/identities", headers=h["nina"])).json()["identities"] == []
        r = await c.post("/api/v1/adt/admit", headers=h["cara"], json={"patient_id": "P-ID1", "ward": "w1", "bed": "04"})
        assert r.status_code == 200, r.text
        r = await c.get("/api/v1/wards/w1/identities", headers=h["root"])
        assert r.json()["identities"] == [{"bed": "04", "patient": "P-ID1", "name": NAME, "mrn": MRN}]

    entries = audit(run)
    reads = [e for e in entries if e["resource"] == "ward/w1/identities"]
    assert [(e["actor"], e["detail"]["patients"]) for e in reads[:4]] == [
        ("cara", ["P-ID1"]), ("nina", ["P-ID1"]), ("phil", ["P-ID1"]), ("root", ["P-ID1"])]
    assert all(e["action"] == "read" for e in reads) and len(reads) == 7  # the refused reads returned nothing
    admits = [e for e in entries if e["action"] == "adt.admit"]
    assert [e["detail"].get("identity") for e in admits] == [["name", "mrn"], None, None]
    refused = [e for e in entries if e["action"] == "adt.refused"]
    assert refused and refused[0]["actor"] == "nina" and refused[0]["detail"]["identity"] == ["name", "mrn"]
    dump = repr(entries)  # every column, the details decoded
    assert NAME not in dump and "Zhang" not in dump and MRN not in dump  # the audit log says which, never what
    log_text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "attributions reloaded" in log_text  # the capture sees the server's log (ingest on each ADT change)
    assert NAME not in log_text and "Zhang" not in log_text and MRN not in log_text


async def test_hl7_pid5_and_pid3_mr_carry_name_and_mrn(platform_sqlite: Running,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run = platform_sqlite
    run.add_user("feed", "adt_feed")
    run.add_user("nina", "nurse", ("w1",))
    engine = run.platform.attributions.engine
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        feed = {**(await run.login(c, "feed")), "Content-Type": HL7}
        nina = await run.login(c, "nina")
        # the pseudonym first (type PI), the MRN as a repetition typed MR, the name in PID-5
        r = await c.post("/api/v1/adt/hl7", headers=feed,
                         content=hl7("A01", "PS-77^^^SW^PI~000123^^^HOSP^MR", "WANG^XIAO^LI", "w1^^05"))
        assert r.status_code == 200 and "MSA|AA" in r.text, r.text
        r = await c.get("/api/v1/wards/w1/identities", headers=nina)
        assert r.json()["identities"] == [{"bed": "05", "patient": "PS-77", "name": "WANG, XIAO LI", "mrn": "000123"}]
        # A02 without PID-5 keeps the name; with a new PID-5 it is updated
        r = await c.post("/api/v1/adt/hl7", headers=feed, content=hl7("A02", "PS-77^^^SW^PI", "", "w1^^06"))
        assert "MSA|AA" in r.text, r.text
        assert identities(engine).get("PS-77").name == "WANG, XIAO LI"  # type: ignore[union-attr]
        r = await c.post("/api/v1/adt/hl7", headers=feed, content=hl7("A02", "PS-77^^^SW^PI", "WANG^XIAOLI", "w1^^07"))
        assert "MSA|AA" in r.text
        r = await c.get("/api/v1/wards/w1/identities", headers=nina)
        assert r.json()["identities"] == [{"bed": "07", "patient": "PS-77", "name": "WANG, XIAOLI", "mrn": "000123"}]
        # a name or MRN the platform cannot keep is refused (AR), naming the field, and nothing is admitted
        for pid3, pid5, where in (("PS-78", "A" * 201, "PID-5"), ("PS-78~12 34^^^HOSP^MR", "LI^NA", "PID-3")):
            r = await c.post("/api/v1/adt/hl7", headers=feed, content=hl7("A01", pid3, pid5, "w1^^08"))
            assert r.status_code == 422 and "MSA|AR" in r.text and where in r.text, r.text
            assert "A" * 50 not in r.text
        assert run.platform.attributions.bed_of("PS-78") is None and identities(engine).get("PS-78") is None
        # A03 discharges; the identity is kept (history), off the ward's list
        r = await c.post("/api/v1/adt/hl7", headers=feed, content=hl7("A03", "PS-77^^^SW^PI", "WANG^XIAOLI", ""))
        assert "MSA|AA" in r.text
        assert (await c.get("/api/v1/wards/w1/identities", headers=nina)).json()["identities"] == []
        assert identities(engine).get("PS-77") is not None
    entries = audit(run)
    assert [e["detail"].get("identity") for e in entries if e["action"] in ("adt.admit", "adt.transfer")] == [
        ["name", "mrn"], None, ["name"]]
    dump = repr(entries) + "\n".join(r.getMessage() for r in caplog.records)
    assert "WANG" not in dump and "000123" not in dump
    await identity_retention(run)
    # a read that cannot be audited returns no identity
    r2 = await identities_read_without_audit(run)
    assert r2.status_code == 503 and "audit" in r2.text and "WANG" not in r2.text and "PS-" not in r2.text, r2.text


async def identities_read_without_audit(run: Running) -> httpx.Response:
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        nina = await run.login(c, "nina")
        assert (await c.post("/api/v1/adt/hl7", headers={**(await run.login(c, "feed")), "Content-Type": HL7},
                             content=hl7("A01", "PS-79^^^SW^PI", "WANG^MEI", "w1^^09"))).status_code == 200
        with run.platform.attributions.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE dashboard_audit"))
        return await c.get("/api/v1/wards/w1/identities", headers=nina)


async def identity_retention(run: Running) -> None:
    """An identity whose patient left more than 30 days ago (and was not written since) is deleted at the
    next ADT change, audited by id; one discharged 29 days ago stays."""
    run.add_user("root", "admin")
    engine = run.platform.attributions.engine
    day, now = 86_400_000, int(time.time() * 1000)
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        root = await run.login(c, "root")
        for patient, bed, left in (("P-GONE", "20", 31), ("P-RECENT", "21", 29)):  # an admin may back-date
            r = await c.post("/api/v1/adt/admit", headers=root, json={
                "patient_id": patient, "ward": "w1", "bed": bed, "at": now - 40 * day, "name": "Old Name"})
            assert r.status_code == 200, r.text
            r = await c.post("/api/v1/adt/discharge", headers=root, json={"patient_id": patient, "at": now - left * day})
            assert r.status_code == 200, r.text
        with engine.begin() as conn:  # both written 40 days ago
            conn.execute(sa.text("UPDATE dashboard_patient_identities SET updated_t = :t WHERE patient LIKE 'P-%'"),
                         {"t": now - 40 * day})
        r = await c.post("/api/v1/devices/mon-9/assign", headers=root, json={"ward": "w1", "bed": "22"})
        assert r.status_code == 200, r.text
    assert identities(engine).get("P-GONE") is None and identities(engine).get("P-RECENT") is not None
    purged = [e for e in audit(run) if e["action"] == "patient.identity.purge"]
    assert [(e["actor"], e["detail"]) for e in purged] == [("system", {"patients": ["P-GONE"], "retention_days": 30})]
