"""Regenerate docs/screenshots/*.png: ``python -m tests.browser.screenshots`` (needs mosquitto and
/usr/bin/chromium). Builds the scene of :mod:`tests.browser.scene` (32 beds, 30 min of history, live
1 Hz feed, home wearables), then photographs the central station (English and Chinese), a bed view and its dialogs (alarm limits,
transfer), the alarm history, the bed layout editor, the shift report (and its PDF) and the patient portal."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path

import orjson

from devservers import Mosquitto
from gateway_agent.ward import SimulatedWard, WardOptions
from tests.browser.conftest import CHROMIUM, FLAGS
from tests.browser.scene import admit_ward, backfill, live_feed, make_ward, notify_adt, patient_id
from tests.integration.dashboard.conftest import PASSWORD, Running, running_platform

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def spots(run: Running, ward: str, beds: int) -> None:
    t = int(time.time() * 1000)
    for i in range(1, beds + 1):
        if i % 11 == 0:
            continue
        body = {"patient": patient_id(ward, i), "ward": ward, "bed": f"{i:02d}", "t": t, "by": "nina",
                "consciousness": "A", "supplemental_o2": i % 7 == 0}
        await run.publish(f"wards/{ward}/spot", body)


async def main() -> None:
    from playwright.async_api import async_playwright

    os.environ.setdefault("SMARTWARD_ENVIRONMENT", "development")  # a look/screenshot run: throw-away keys
    os.environ.setdefault("SMARTWARD_SECRET_KEY", secrets.token_urlsafe(32))
    OUT.mkdir(parents=True, exist_ok=True)
    m = Mosquitto().start()
    tmp = Path(tempfile.mkdtemp())
    root = "shots/smartward/v1"
    try:
        async with running_platform(m.url, m.port, f"sqlite:///{tmp}/v.sqlite3", root, tmp) as run:
            run.add_user("nina", "charge_nurse", ("w1", "home"))
            home = SimulatedWard(WardOptions(beds=3, ward="home", scenario="mixed", seed=5, root=root,
                                    device_pattern="wear-{index}"))
            home_patients = ["P2207", "P2318", "P2429"]
            at = int(time.time() * 1000) - 3_600_000
            for p, dev in zip(home_patients, home.devices, strict=True):
                run.platform.attributions.admit(p, "home", p, at)
                run.platform.attributions.assign_device(dev, "home", p, at)
            run.add_user("pat", "patient", patient="P2318")
            await notify_adt(run, admit_ward(run, "w1", 32) + list(home.devices))
            w1 = make_ward(root, waves=4)
            await backfill(run, w1, 40)
            await backfill(run, home, 40)
            await spots(run, "w1", 32)
            async with live_feed(run, [w1, home]), async_playwright() as p:
                await asyncio.sleep(8)
                b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                ctx = await b.new_context(viewport={"width": 1920, "height": 1080})
                page = await ctx.new_page()
                await page.goto(run.base + "/")
                await page.fill("input[name=username]", "nina")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_selector("#bed-32 .v.heart_rate")
                # a charge nurse has acknowledged two alarms already
                for item in (await page.locator(".alarm.st-active").all())[2:4]:
                    await item.locator(".ack").click()
                await asyncio.sleep(4)
                await page.screenshot(path=str(OUT / "central-station.png"))
                await page.click("#bed-02")
                await asyncio.sleep(4)
                await page.screenshot(path=str(OUT / "bed-view.png"))
                # the bed view's dialogs: per-patient limits, transfer (charge nurse), the bed's history
                await page.click("#bv-limits summary")
                await page.locator('#bv-limits [data-edit="spo2"]').click()
                await asyncio.sleep(1)
                await page.screenshot(path=str(OUT / "bed-limits-dialog.png"))
                await page.keyboard.press("Escape")
                await page.locator("#bv-adt .adt-transfer").click()
                await asyncio.sleep(1)
                await page.screenshot(path=str(OUT / "adt-transfer-dialog.png"))
                await page.keyboard.press("Escape")
                await page.keyboard.press("Escape")
                await page.click("#history-open")
                await asyncio.sleep(2)
                await page.screenshot(path=str(OUT / "alarm-history.png"))
                await page.keyboard.press("Escape")
                await page.click("#layout-edit")
                await asyncio.sleep(1)
                await page.screenshot(path=str(OUT / "bed-layout-editor.png"))
                await page.keyboard.press("Escape")
                async with ctx.expect_page() as popup:
                    await page.click("#report-open")
                report = await popup.value
                await report.wait_for_selector("body[data-loaded='1']", timeout=30_000)
                await report.screenshot(path=str(OUT / "shift-report.png"))
                await report.pdf(path=str(OUT / "shift-report.pdf"), format="A4")
                await report.close()
                zh = await b.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
                zpage = await zh.new_page()
                await zpage.goto(run.base + "/")
                await zpage.fill("input[name=username]", "nina")
                await zpage.fill("input[name=password]", PASSWORD)
                await zpage.click("button[type=submit]")
                await zpage.wait_for_selector("#bed-32 .v.heart_rate")
                await asyncio.sleep(3)
                await zpage.screenshot(path=str(OUT / "central-station-zh-CN.png"))
                await zh.close()
                await page.click(".ward-tabs button:has-text('Virtual ward')")
                await asyncio.sleep(3)
                await page.screenshot(path=str(OUT / "virtual-ward.png"))
                for locale, suffix in (("en-GB", ""), ("zh-CN", "-zh-CN")):  # the portal in both languages
                    for width, height, size in ((1280, 1100, ""), (390, 844, "-phone")):
                        ctx = await b.new_context(viewport={"width": width, "height": height}, locale=locale)
                        portal = await ctx.new_page()
                        await portal.goto(run.base + "/portal")
                        await portal.fill("input[name=username]", "pat")
                        await portal.fill("input[name=password]", PASSWORD)
                        await portal.click("button[type=submit]")
                        await asyncio.sleep(3)
                        await portal.click(".bv-range button[data-range='1']")
                        await asyncio.sleep(2)
                        await portal.screenshot(path=str(OUT / f"patient-portal{suffix}{size}.png"), full_page=True)
                        await ctx.close()
                await b.close()
            print(orjson.dumps(sorted(x.name for x in OUT.iterdir())).decode())
    finally:
        m.close()


if __name__ == "__main__":
    asyncio.run(main())
