"""`/api/v1/device-profiles`: a vendor uploads (validated, versioned), an admin activates, and the
device's data flows through the running platform without a restart; errors name key and line; roles hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from device_profiles import now_ms
from device_profiles.registry import BUILTIN_DIR
from devservers import Mosquitto
from tests.integration.dashboard.conftest import api_secret, running_platform, until

from .test_vendor_onboarding import PROFILE, payload

pytestmark = pytest.mark.integration
YAML = {"Content-Type": "application/yaml"}
BUILTIN_WEARABLE = (BUILTIN_DIR / "home-wearable.yaml").read_text()
# uploads name the device id as one whole topic level, prefixed by the vendor account (issue 13, F8)
UPLOADED = (PROFILE.replace("zx/{site}/patch/{patch_id}/readings", "zx/{site}/patch/zephyr-{patch_id}/readings")
            .replace('"zx-{patch_id}"', '"zephyr-{patch_id}"'))


async def test_vendor_uploads_activates_and_data_flows(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                                       api_secret: str, uid: str) -> None:
    good = UPLOADED.replace("FMT", "epoch_ms")
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root,
                                tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as http:
        run.add_user("zephyr", "vendor")
        run.add_user("othervendor", "vendor")
        run.add_user("nurse1", "nurse", ("w1",))
        run.add_user("admin1", "admin")
        vendor, admin = await run.login(http, "zephyr"), await run.login(http, "admin1")

        # validation names key and line; nothing is stored
        bad = good.replace("unit: degF", "unit: degF, colour: red")
        r = await http.post("/api/v1/device-profiles/validate", content=bad, headers={**vendor, **YAML})
        assert r.status_code == 200 and r.json()["valid"] is False
        assert r.json()["issues"] == [{"where": "fields[2].colour", "line": 17, "message": "unknown key 'colour' in fields[2]"}]
        r = await http.post("/api/v1/device-profiles", content=bad, headers={**vendor, **YAML})
        assert r.status_code == 422 and r.json()["detail"][0]["line"] == 17
        r = await http.post("/api/v1/device-profiles", content="!!python/object/apply:os.system ['true']",
                            headers={**vendor, **YAML})
        assert r.status_code == 422 and "not allowed" in r.json()["detail"][0]["message"]

        # versions: upload twice, activate v2
        r1 = await http.post("/api/v1/device-profiles", content=UPLOADED.replace("FMT", "epoch_s"), headers={**vendor, **YAML})
        r2 = await http.post("/api/v1/device-profiles", content=good, headers={**vendor, **YAML})
        assert (r1.status_code, r2.status_code) == (201, 201)
        assert (r1.json()["version"], r2.json()["version"], r2.json()["active"]) == (1, 2, False)
        r = await http.get("/api/v1/device-profiles/zephyr-zx9/versions/2", headers=vendor)
        assert r.status_code == 200 and r.text == good and r.headers["content-type"].startswith("application/yaml")

        # other accounts: another vendor cannot touch it, a nurse cannot manage profiles, built-in ids are reserved
        other = await run.login(http, "othervendor")
        assert (await http.post("/api/v1/device-profiles", content=good, headers={**other, **YAML})).status_code == 403
        assert (await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/activate", headers=other)).status_code == 403
        assert (await http.get("/api/v1/device-profiles", headers=other)).json() == []
        nurse = await run.login(http, "nurse1")
        assert (await http.post("/api/v1/device-profiles", content=good, headers={**nurse, **YAML})).status_code == 403
        assert (await http.post("/api/v1/device-profiles", content=BUILTIN_WEARABLE, headers={**vendor, **YAML})).status_code == 403
        clash = good.replace("id: zephyr-zx9", "id: zephyr-clash").replace(
            "zx/{site}/patch/zephyr-{patch_id}/readings", "wearables/homecare/zephyr-{patch_id}/batch")
        r = await http.post("/api/v1/device-profiles", content=clash, headers={**vendor, **YAML})
        assert r.status_code == 201
        r = await http.post("/api/v1/device-profiles/zephyr-clash/versions/1/activate", headers=admin)
        assert r.status_code == 409 and "overlaps profile 'home-wearable'" in r.json()["detail"]

        # the vendor's upload waits for an admin: the vendor cannot make it live itself
        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/activate", headers=vendor)
        assert r.status_code == 403
        r = await http.post("/api/v1/device-profiles/zephyr-zx9/versions/2/activate", headers=admin)
        assert r.status_code == 200 and r.json()["active"] is True
        listed = (await http.get("/api/v1/device-profiles", headers=vendor)).json()
        assert [(v["profile_id"], v["version"], v["active"]) for v in listed] == [
            ("zephyr-clash", 1, False), ("zephyr-zx9", 1, False), ("zephyr-zx9", 2, True)]

        # the running ingest picked it up: the device's samples are stored in canonical units
        t0 = (now_ms() // 1000) * 1000 - 30_000
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"zx-{uid}") as dev:
            async def sent_and_stored() -> list[Any]:
                await dev.publish("zx/east/patch/zephyr-ZX9-0100/readings", payload(t0), qos=1)
                return await run.platform.store.query_vitals(device="zephyr-ZX9-0100", from_ms=t0, to_ms=t0 + 2000)

            rows = await until(sent_and_stored, "the new vendor's samples stored", 30)
        assert [(r.t, r.values) for r in rows] == [
            (t0, {"heart_rate": 88, "spo2": 96.1, "temperature": 38.0, "resp_rate": 18}),
            (t0 + 1000, {"heart_rate": 91, "spo2": 95.5, "temperature": 38.111, "resp_rate": 19})]


__all__ = ["api_secret"]  # the fixture, imported for pytest
