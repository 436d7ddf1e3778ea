"""Finding 1 (critical): ADT and device assignment checked rights only on the *target* ward.

A ward-A user could end ward B's stay by admitting B's patient again, take B's monitor, bind a device
into B's bed through a home-wearable assignment, and back-date any of it to 2000. Now: rights on the
patient's and the device's current ward, admit refuses an admitted patient (transfer rules apply),
``at`` within 24 h of now (an admin may back-date further, audited), ADT only for charge nurses,
admins and the HL7 feed account (``adt_feed``, HL7 route only). Refusals are audited as
``adt.refused``."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from dashboard_api import AuditLog

from .conftest import Running

pytestmark = pytest.mark.integration
HOUR = 3_600_000
HL7 = "x-application/hl7-v2+er7"


def now() -> int:
    return int(time.time() * 1000)


def a01(patient: str, location: str, event: str = "A01") -> str:
    ts = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return (f"MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|{ts}||ADT^{event}|M{patient}{event}|P|2.5\r"
            f"EVN|{event}|{ts}\rPID|1||{patient}^^^HOSP^MR\rPV1|1|I|{location}\r")


def audit(run: Running, action: str) -> list[dict[str, Any]]:
    return [e | {"detail": orjson.loads(e["detail"])} for e in AuditLog(run.platform.attributions.engine).entries()
            if e["action"] == action]


async def logins(run: Running, c: httpx.AsyncClient, *users: str) -> list[dict[str, str]]:
    return [await run.login(c, u) for u in users]


async def test_admit_of_a_patient_admitted_elsewhere_is_refused_and_the_stay_kept(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cara", "charge_nurse", ("w1",))
    run.add_user("bert", "charge_nurse", ("w2",))
    run.add_user("root", "admin")
    attr = run.platform.attributions
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cara, bert, root = await logins(run, c, "cara", "bert", "root")
        r = await c.post("/api/v1/adt/admit", headers=bert, json={"patient_id": "P-1", "ward": "w2", "bed": "01"})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/adt/admit", headers=cara, json={"patient_id": "P-1", "ward": "w1", "bed": "01"})
        assert r.status_code == 409, r.text
        assert "P-1 is admitted in ward w2" in r.text and "transfer" in r.text
        assert attr.bed_of("P-1") == ("w2", "01")
        # even with rights on both wards, admit is not a silent transfer
        r = await c.post("/api/v1/adt/admit", headers=root, json={"patient_id": "P-1", "ward": "w1", "bed": "02"})
        assert r.status_code == 409 and "transfer" in r.text
        # back-dating the admit to before ward B's stay does not get around it either
        r = await c.post("/api/v1/adt/admit", headers=cara,
                         json={"patient_id": "P-1", "ward": "w1", "bed": "01", "at": now() - HOUR})
        assert r.status_code == 409, r.text
        assert attr.bed_of("P-1") == ("w2", "01")
        # transfer (and discharge) out of ward B need rights on ward B
        r = await c.post("/api/v1/adt/transfer", headers=cara, json={"patient_id": "P-1", "ward": "w1", "bed": "01"})
        assert r.status_code == 403 and "w2" in r.text
        r = await c.post("/api/v1/adt/discharge", headers=cara, json={"patient_id": "P-1"})
        assert r.status_code == 403 and "w2" in r.text
        assert (await c.get("/api/v1/patients/P-1/vitals", headers=bert)).status_code == 200
        r = await c.post("/api/v1/adt/transfer", headers=root, json={"patient_id": "P-1", "ward": "w1", "bed": "02"})
        assert r.status_code == 200, r.text
    refused = audit(run, "adt.refused")
    assert [e["actor"] for e in refused] == ["cara", "root", "cara", "cara", "cara"]
    assert refused[0]["detail"]["attempt"] == "adt.admit" and "w2" in refused[0]["detail"]["reason"]


async def test_device_bound_in_another_ward_needs_rights_there(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nora", "nurse", ("w1",))
    run.add_user("bert", "charge_nurse", ("w2",))
    run.add_user("both", "nurse", ("w1", "w2"))
    attr = run.platform.attributions
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        nora, bert, both = await logins(run, c, "nora", "bert", "both")
        r = await c.post("/api/v1/devices/mon-1/assign", headers=bert, json={"ward": "w2", "bed": "01"})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/devices/mon-1/assign", headers=nora, json={"ward": "w1", "bed": "02"})
        assert r.status_code == 403, r.text
        assert "mon-1 is bound to ward w2" in r.text
        assert attr.lookup("mon-1", now()).ward == "w2"
        # a nurse of both wards moves it (bedside work stays with nurses)
        r = await c.post("/api/v1/devices/mon-1/assign", headers=both, json={"ward": "w1", "bed": "02"})
        assert r.status_code == 200, r.text
        assert attr.lookup("mon-1", now()).ward == "w1"
        # a device bound to nothing: the target ward's nurse alone
        r = await c.post("/api/v1/devices/mon-9/assign", headers=nora, json={"ward": "w1", "bed": "03"})
        assert r.status_code == 200, r.text


async def test_home_assignment_of_a_patient_admitted_in_a_ward_needs_rights_there(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("hana", "charge_nurse", ("home",))
    run.add_user("bert", "charge_nurse", ("w2",))
    attr = run.platform.attributions
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        hana, bert = await logins(run, c, "hana", "bert")
        r = await c.post("/api/v1/adt/admit", headers=bert, json={"patient_id": "P-2", "ward": "w2", "bed": "02"})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/devices/wear-1/assign", headers=hana, json={"patient_id": "P-2"})
        assert r.status_code == 403, r.text
        assert "P-2 is admitted in ward w2" in r.text
        assert not attr.known("wear-1")
        r = await c.post("/api/v1/devices/wear-2/assign", headers=hana, json={"patient_id": "P-3"})
        assert r.status_code == 200 and r.json()["ward"] == "home", r.text


async def test_at_is_bounded_to_a_day_and_wider_only_for_admins_audited(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cara", "charge_nurse", ("w1",))
    run.add_user("nora", "nurse", ("w1",))
    run.add_user("root", "admin")
    attr = run.platform.attributions
    y2000 = 946_684_800_000
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cara, nora, root = await logins(run, c, "cara", "nora", "root")
        for path, body, h in (("/api/v1/adt/admit", {"patient_id": "P-4", "ward": "w1", "bed": "04"}, cara),
                              ("/api/v1/devices/mon-4/assign", {"ward": "w1", "bed": "04"}, nora),
                              ("/api/v1/adt/admit", {"patient_id": "P-4", "ward": "w1", "bed": "04"}, root)):
            r = await c.post(path, headers=h, json=body | {"at": y2000})
            assert r.status_code == 422, r.text
            assert "at" in r.text and "24 h" in r.text
        r = await c.post("/api/v1/adt/admit", headers=cara,
                         json={"patient_id": "P-4", "ward": "w1", "bed": "04", "at": now() + 2 * 24 * HOUR})
        assert r.status_code == 422
        assert attr.bed_of("P-4", y2000 + 1) is None and not attr.known("mon-4")
        r = await c.post("/api/v1/adt/admit", headers=cara,
                         json={"patient_id": "P-4", "ward": "w1", "bed": "04", "at": now() - 2 * 24 * HOUR})
        assert r.status_code == 422
        three_days_ago = now() - 3 * 24 * HOUR
        r = await c.post("/api/v1/adt/admit", headers=root,
                         json={"patient_id": "P-4", "ward": "w1", "bed": "04", "at": three_days_ago})
        assert r.status_code == 200, r.text
        hour_ago = now() - HOUR
        r = await c.post("/api/v1/devices/mon-4/assign", headers=nora, json={"ward": "w1", "bed": "04", "at": hour_ago})
        assert r.status_code == 200, r.text
    admits = audit(run, "adt.admit")
    assert admits[-1]["actor"] == "root"
    assert admits[-1]["detail"]["at"] == three_days_ago and admits[-1]["detail"]["at_outside_window"] is True
    assigns = audit(run, "device.assign")
    assert assigns[-1]["detail"]["at"] == hour_ago and assigns[-1]["detail"]["at_outside_window"] is False


async def test_adt_only_for_charge_nurses_admins_and_the_hl7_feed(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cara", "charge_nurse", ("w1",))
    run.add_user("nora", "nurse", ("w1",))
    run.add_user("phil", "physician", ("w1",))
    run.add_user("feed", "adt_feed")
    attr = run.platform.attributions
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        cara, nora, phil, feed = await logins(run, c, "cara", "nora", "phil", "feed")
        for h in (nora, phil):
            r = await c.post("/api/v1/adt/admit", headers=h, json={"patient_id": "P-5", "ward": "w1", "bed": "05"})
            assert r.status_code == 403, r.text
            assert "charge_nurse" in r.text
        r = await c.post("/api/v1/adt/hl7", headers=nora | {"Content-Type": HL7}, content=a01("P-5", "w1^^05"))
        assert r.status_code == 403, r.text
        assert attr.bed_of("P-5") is None
        r = await c.post("/api/v1/adt/admit", headers=cara, json={"patient_id": "P-5", "ward": "w1", "bed": "05"})
        assert r.status_code == 200, r.text
        for path, body in (("/api/v1/adt/transfer", {"patient_id": "P-5", "ward": "w1", "bed": "06"}),
                           ("/api/v1/adt/discharge", {"patient_id": "P-5"})):
            r = await c.post(path, headers=nora, json=body)
            assert r.status_code == 403, r.text
        # the hospital's ADT interface account: every ward, but only through the HL7 route
        r = await c.post("/api/v1/adt/hl7", headers=feed | {"Content-Type": HL7}, content=a01("P-6", "w7^^01"))
        assert r.status_code == 200 and "MSA|AA" in r.text, r.text
        assert attr.bed_of("P-6") == ("w7", "01")
        r = await c.post("/api/v1/adt/hl7", headers=feed | {"Content-Type": HL7}, content=a01("P-6", "w8^^01"))
        assert r.status_code == 409 and "MSA|AE" in r.text and "transfer" in r.text
        r = await c.post("/api/v1/adt/hl7", headers=feed | {"Content-Type": HL7}, content=a01("P-6", "w8^^01", "A02"))
        assert r.status_code == 200 and "MSA|AA" in r.text, r.text
        r = await c.post("/api/v1/adt/admit", headers=feed, json={"patient_id": "P-7", "ward": "w1", "bed": "07"})
        assert r.status_code == 403 and "/api/v1/adt/hl7" in r.text
        r = await c.post("/api/v1/devices/mon-7/assign", headers=feed, json={"ward": "w1", "bed": "07"})
        assert r.status_code == 403
        assert (await c.get("/api/v1/wards/w1/beds", headers=feed)).status_code == 403
        assert (await c.get("/api/v1/patients/P-6/vitals", headers=feed)).status_code == 403
    assert {e["actor"] for e in audit(run, "adt.refused")} == {"nora", "phil", "feed"}


async def test_hl7_role_is_checked_before_the_body_is_read(platform_sqlite: Running) -> None:
    """A nurse (no ADT rights) announcing a body (under the size limit) and sending almost none of it is
    refused at once: the server does not wait for (or buffer) the body before the role check."""
    run = platform_sqlite
    run.add_user("nora", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        token = (await run.login(c, "nora"))["Authorization"]
    url = urlsplit(run.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write((f"POST /api/v1/adt/hl7 HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {token}\r\n"
                      f"Content-Type: {HL7}\r\nContent-Length: 900000\r\n\r\nMSH|").encode())
        await writer.drain()
        async with asyncio.timeout(5):
            status_line = await reader.readline()
    finally:
        writer.close()
    assert status_line.split()[1] == b"403", status_line
