"""The central station in real headless Chromium against the real platform (Mosquitto, ingest,
alerting, API): log in, see the ward, a tile updates live, a published desaturation appears as an
alarm within seconds on two screens, acknowledging it on one updates the other; the portal shows
only the patient's own data."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Page, expect

from dashboard_api import AuditLog, verify
from tests.integration.dashboard.conftest import Running, obs, until

from .conftest import login
from .scene import admit_home, admit_ward, live_feed, make_ward, notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]


async def test_ward_alarm_and_acknowledge_across_screens(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("carl", "charge_nurse", ("w1",))
    devices = admit_ward(run, "w1", 35)
    attr = run.platform.attributions
    now = int(time.time() * 1000)
    attr.assign_device("mon-9", "w1", "36", now - 60_000)
    attr.admit("P9009", "w1", "36", now - 60_000)
    await notify_adt(run, [*devices, "mon-9"])
    async with live_feed(run, [make_ward(run.root, beds=35, scenario="stable")]):
        a: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
        b: Page = await login(browser, run.base, "carl")  # type: ignore[assignment]
        for page in (a, b):
            await expect(page.locator("#bed-03 .v.heart_rate .val")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
        # 36 beds fit one 1080p screen, every tile fully visible beside the alarm list
        await expect(a.locator(".tile")).to_have_count(36)
        for bed in ("01", "09", "36"):
            box = await a.locator(f"#bed-{bed}").bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1920 - 380 and box["y"] + box["height"] <= 1080
            assert box["height"] >= 150 and box["width"] >= 150, box
        # a tile updates live from MQTT
        await run.publish("devices/mon-9/obs", obs("mon-9", 1, int(time.time() * 1000), heart_rate=61, spo2=97))
        await expect(a.locator("#bed-36 .v.heart_rate .val")).to_have_text("61", timeout=10_000)
        await run.publish("devices/mon-9/obs", obs("mon-9", 2, int(time.time() * 1000), heart_rate=64, spo2=97))
        await expect(a.locator("#bed-36 .v.heart_rate .val")).to_have_text("64", timeout=10_000)
        # desaturation: a gateway delivers the last 20 s at once (SpO2 82 %, below the critical 85 %)
        t1 = int(time.time() * 1000)
        samples = [{"t": t1 - 20_000 + 1000 * k, "heart_rate": 96, "spo2": 82} for k in range(21)]
        await run.publish("devices/mon-9/obs", {"v": 1, "device": "mon-9", "seq": 3, "samples": samples})
        item_a = a.locator(".alarm.prio-high.st-active[data-bed='36']").filter(has_text="SpO₂").first
        await expect(item_a).to_be_visible(timeout=15_000)
        await expect(a.locator("#bed-36")).to_have_class(re.compile(r"prio-high.*flash"))
        alarm_id = await item_a.get_attribute("data-id")
        item_b = b.locator(f".alarm[data-id='{alarm_id}']")
        await expect(item_b).to_have_class(re.compile("st-active"), timeout=10_000)
        # acknowledge on screen A (keyboard: select it, press A) -> screen B shows it acknowledged
        await item_a.click()
        await a.keyboard.press("Escape")
        await a.keyboard.press("a")
        await expect(item_b).to_have_class(re.compile("st-acknowledged"), timeout=10_000)
        await expect(item_b).to_contain_text("nina")
        await expect(a.locator(f".alarm[data-id='{alarm_id}']")).to_have_class(re.compile("st-acknowledged"))
    # the request and alerting's resulting event are both in the hash-chained audit log
    log = AuditLog(run.platform.attributions.engine)

    def audited() -> bool:
        acts = {(e["actor"], e["action"], e["resource"]) for e in log.entries()}
        return {("nina", "alarm.acknowledge", f"alarm/{alarm_id}"),
                ("nina", "alarm.acknowledged", f"alarm/{alarm_id}")} <= acts

    await until(audited, "acknowledgement in the audit log")
    assert verify(log.engine).ok


async def test_portal_shows_own_readings_and_refuses_the_station(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("pat", "patient", patient="P7001")
    await notify_adt(run, admit_home(run, ["P7001", "P7002"]))
    t = int(time.time() * 1000)
    await run.publish("devices/wear-P7001/obs", obs("wear-P7001", 1, t, heart_rate=71, spo2=96))
    await run.publish("devices/wear-P7002/obs", obs("wear-P7002", 1, t, heart_rate=99, spo2=91))
    await run.publish("devices/wear-P7001/status", {"online": True, "battery": 15})
    page: Page = await login(browser, run.base, "pat", "/portal", 1280, 900)  # type: ignore[assignment]
    await expect(page.locator(".reading").filter(has_text="Heart rate")).to_contain_text("71", timeout=15_000)
    await expect(page.locator("#device")).to_contain_text("15%", timeout=10_000)
    await expect(page.locator("#device")).to_contain_text("Please charge")
    assert "99" not in await page.locator("#readings").inner_text()
    station: Page = await login(browser, run.base, "pat")  # type: ignore[assignment]
    await expect(station.locator(".login .error")).to_contain_text("cannot use this screen")
