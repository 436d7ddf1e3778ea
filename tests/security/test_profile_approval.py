"""Finding 8: a vendor uploads a device profile, only an admin makes it live (or rejects it), both
audited; uploads may not decode the platform's own topic tree, may not claim other vendors' device
ids, and must name the device id as one whole topic level so the broker ACL can check it."""

from __future__ import annotations

import aiomqtt
import httpx
import pytest

from dashboard_api.audit import AuditLog
from device_profiles import now_ms
from ingest import make_engine
from tests.integration.dashboard.conftest import Running, until
from tests.integration.profiles.test_vendor_onboarding import PROFILE, payload

pytestmark = pytest.mark.integration
YAML = {"Content-Type": "application/yaml"}
# the onboarding test's vendor format, with the device id (prefixed by the vendor account) as one topic level
GOOD = (PROFILE.replace("FMT", "epoch_ms")
        .replace('"zx/{site}/patch/{patch_id}/readings"', '"zx/{site}/patch/zephyr-{patch_id}/readings"')
        .replace('"zx-{patch_id}"', '"zephyr-{patch_id}"'))


def audit_actions(run: Running) -> list[tuple[str, str, str]]:
    return [(e["actor"], e["action"], e["resource"]) for e in AuditLog(make_engine(run.state_url)).entries()
            if e["action"].startswith("profile.")]


async def test_vendor_uploads_pending_admin_activates_or_rejects(platform_sqlite: Running, uid: str) -> None:
    run = platform_sqlite
    run.add_user("zephyr", "vendor")
    run.add_user("root1", "admin")
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as http:
        vendor, admin = await run.login(http, "zephyr"), await run.login(http, "root1")
        r = await http.post("/api/v1/device-profiles", content=GOOD, headers={**vendor, **YAML})
        assert r.status_code == 201, r.text
        assert (r.json()["state"], r.json()["active"]) == ("pending", False)

        # the vendor cannot make its own decoder live
        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/1/activate", headers=vendor)
        assert r.status_code == 403

        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/1/activate", headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["state"], body["active"], body["reviewed_by"]) == ("active", True, "root1")
        assert body["broker_acl"] == ["pattern write zx/+/patch/%u/readings"]

        # live: ingest decodes the device (its id is the topic level its broker account may write)
        t0 = (now_ms() // 1000) * 1000 - 30_000
        async with aiomqtt.Client("127.0.0.1", run.broker_port, identifier=f"zx-{uid}") as dev:
            async def sent_and_stored() -> object:
                await dev.publish("zx/east/patch/zephyr-ZX9-0100/readings", payload(t0), qos=1)
                return await run.platform.store.query_vitals(device="zephyr-ZX9-0100", from_ms=t0, to_ms=t0 + 2000)

            await until(sent_and_stored, "the approved profile decoding", 30)

        # a second version: the admin rejects it; a rejected version cannot be activated
        r = await http.post("/api/v1/device-profiles", content=GOOD.replace("ZX-9 chest patch", "ZX-9b"),
                            headers={**vendor, **YAML})
        assert r.status_code == 201 and r.json()["version"] == 2
        assert (await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/reject", headers=vendor,
                                json={"reason": "mine"})).status_code == 403
        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/reject", headers=admin,
                            json={"reason": "battery field unverified"})
        assert r.status_code == 200 and r.json()["state"] == "rejected"
        assert r.json()["review_reason"] == "battery field unverified"
        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/activate", headers=admin)
        assert r.status_code == 409 and "rejected" in r.json()["detail"]
        listed = (await http.get("/api/v1/device-profiles", headers=vendor)).json()
        assert [(v["version"], v["state"]) for v in listed] == [(1, "active"), (2, "rejected")]

    assert audit_actions(run) == [
        ("zephyr", "profile.upload", "device-profile/zephyr-zx9"),
        ("root1", "profile.activate", "device-profile/zephyr-zx9"),
        ("zephyr", "profile.upload", "device-profile/zephyr-zx9"),
        ("root1", "profile.reject", "device-profile/zephyr-zx9"),
    ]


@pytest.mark.parametrize(("topic", "device_id", "why"), [
    ("{root}/wards/zephyr-{sn}/spot", "zephyr-{sn}", "platform's own topic tree"),
    ("{root}/commands/zephyr-{sn}", "zephyr-{sn}", "platform's own topic tree"),
    ("{root}/control/zephyr-{sn}", "zephyr-{sn}", "platform's own topic tree"),
    ("+/+/+/alarms/zephyr-{sn}/#", "zephyr-{sn}", "platform's own topic tree"),  # the test root has 3 levels
    ("{sn}/#", "zephyr-{sn}", "platform's own topic tree"),
    ("vend/mon-{sn}/vitals", "mon-{sn}", "must start with 'zephyr-'"),
    ("vend/{sn}/vitals", "mon-{sn}", "must start with 'zephyr-'"),
    ("vend/{sn}/vitals", "zephyr-{sn}", "one whole topic level"),
    ("vend/{sn}/vitals", "{sn}", "must start with 'zephyr-'"),
])
async def test_upload_refuses_platform_topics_and_foreign_device_ids(
        platform_sqlite: Running, topic: str, device_id: str, why: str) -> None:
    run = platform_sqlite
    run.add_user("zephyr", "vendor")
    text = (GOOD.replace('"zx/{site}/patch/zephyr-{patch_id}/readings"', f'"{topic}"')
            .replace('"zephyr-{patch_id}"', f'"{device_id}"'))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as http:
        vendor = await run.login(http, "zephyr")
        r = await http.post("/api/v1/device-profiles", content=text, headers={**vendor, **YAML})
        assert r.status_code == 422, r.text
        assert any(why in i["message"] for i in r.json()["detail"]), r.json()
        r = await http.post("/api/v1/device-profiles/validate", content=text, headers={**vendor, **YAML})
        assert r.json()["valid"] is False and any(why in i["message"] for i in r.json()["issues"])


async def test_role_is_checked_before_the_body_is_read(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nurse1", "nurse", ("w1",))
    run.add_user("zephyr", "vendor")
    huge = b"x" * (2 * 1024 * 1024)

    async def chunks() -> object:
        for i in range(0, len(huge), 65536):
            yield huge[i:i + 65536]

    async with httpx.AsyncClient(base_url=run.base, timeout=10) as http:
        nurse, vendor = await run.login(http, "nurse1"), await run.login(http, "zephyr")
        r = await http.post("/api/v1/device-profiles", content=GOOD, headers={**nurse, **YAML})
        assert r.status_code == 403
        r = await http.post("/api/v1/device-profiles", content=huge[:200_000], headers={**nurse, **YAML})
        assert r.status_code == 403  # not 422: the body was never parsed
        r = await http.post("/api/v1/device-profiles", content=huge, headers={**nurse, **YAML})
        assert r.status_code in (403, 413)  # refused before reading it either way
        # no Content-Length (chunked): refused while streaming, not after buffering it all
        r = await http.post("/api/v1/device-profiles", content=chunks(), headers={**vendor, **YAML})  # type: ignore[arg-type]
        assert r.status_code == 413
