"""A live drill on the central station in real headless Chromium: the DRILL banner, the drill bed
marked DRILL beside a real patient's bed, the drill alarm marked DRILL and acknowledged with a click;
the driver measures that acknowledgement; when the drill ends the banner and the drill bed go."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from devservers import Mosquitto
from digital_twin.live_drill import LiveDrill, LiveDrillOptions
from tests.integration.dashboard.conftest import PASSWORD, obs, until
from tests.integration.twin.test_live_drill import api_secret, platform

from .conftest import login
from .scene import monitored_beds

pytestmark = [pytest.mark.integration, pytest.mark.browser]
__all__ = ["api_secret"]


async def badge_inside(page: Page, bed: str) -> bool:
    """The bed's NEWS2 badge box lies within its tile's box (nothing of it cut by the tile's edge).
    Measured in one go in the page: the tile is re-rendered every second."""
    return bool(await page.evaluate("""bed => {
      const tile = document.getElementById("bed-" + bed), badge = tile && tile.querySelector(".news");
      if (!badge) return false;
      const t = tile.getBoundingClientRect(), b = badge.getBoundingClientRect(), edge = 2;  // the tile's border
      return b.width > 0 && b.left >= t.left && b.top >= t.top && b.right <= t.right - edge && b.bottom <= t.bottom - edge;
    }""", bed))


async def test_drill_banner_marked_alarm_and_click_acknowledge(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                                              api_secret: str, browser: object) -> None:
    async with platform(mosquitto, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        run.add_user("carl", "charge_nurse", ("w1",))
        await monitored_beds(run, [("01", "mon-1", "P1001")], int(time.time() * 1000) - 60_000)
        await run.publish("devices/mon-1/obs", obs("mon-1", 1, int(time.time() * 1000), heart_rate=70, spo2=98))
        page: Page = await login(browser, run.base, "carl")  # type: ignore[assignment]
        await expect(page.locator("#bed-01 .v.spo2 .val")).to_have_text("98", timeout=15_000)
        await expect(page.locator("#drill-banner")).to_be_hidden()

        drill = LiveDrill(LiveDrillOptions(base_url=run.base, broker=mosquitto.url, ward="w1", username="carl",
                                           password=PASSWORD, root=topic_root, beds=1, duration_s=120, speed=30,
                                           rate=2))
        driver = asyncio.create_task(drill.run())
        await until(lambda: drill.drill or driver.done(), "the drill to start")
        drill_id = drill.drill["id"]
        await expect(page.locator("#drill-banner")).to_contain_text("DRILL in progress · 1 drill bed", timeout=10_000)
        await expect(page.locator("#drill-banner")).to_have_attribute("title", re.compile(drill_id))
        await expect(page.locator("#bed-DRILL-01")).to_have_class(re.compile(r"\bdrill\b"), timeout=10_000)
        await expect(page.locator("#bed-DRILL-01 .drill-tag")).to_have_text("DRILL")
        await expect(page.locator("#bed-DRILL-01 .pid")).to_have_attribute("title", "drill (simulated)")
        assert await page.locator("#bed-DRILL-01 header").evaluate("h => h.scrollWidth <= h.clientWidth")  # nothing squeezed
        # its NEWS2 badge lies within the tile on common screens too (the grid re-sizes with the window)
        badge = page.locator("#bed-DRILL-01 .news")
        await expect(badge).not_to_have_class(re.compile(r"\bnone\b"), timeout=30_000)
        for width, height in ((1280, 800), (1024, 768), (1920, 1080)):
            await page.set_viewport_size({"width": width, "height": height})
            await until(lambda: badge_inside(page, "DRILL-01"), f"the drill tile's NEWS2 badge inside the tile at {width}x{height}", 5)
            for control in ("#logout", "#drill-banner", ".ward-tabs button"):  # the top bar fits as well,
                await expect(page.locator(control).first).to_be_in_viewport(ratio=1)
            tall = await page.evaluate("() => [...document.querySelectorAll('.topbar > *, .ward-tabs button')]"
                                       ".filter(e => e.offsetParent && e.tagName !== 'SELECT'"  # one line, 44 px high
                                       " && e.getBoundingClientRect().height > 40)"
                                       ".map(e => e.id || e.className || e.textContent)")
            assert tall == [], (width, tall)  # on one line (no tab label or clock broken over two)
            # nothing pushed off the bar, whatever the audio state says (its text changes length; the
            # longest, "audio unavailable", is what a screen shows before anyone clicks), and the DRILL
            # banner keeps a readable width (it is the element that gives way, with an ellipsis)
            fit = await page.evaluate("""() => { const a = document.getElementById('audio-state');
                const before = a.textContent; a.textContent = '\\u{1F507} Audio unavailable \\u2014 click to enable';
                const bar = document.querySelector('.topbar'), d = document.getElementById('drill-banner');
                const r = [bar.scrollWidth - bar.clientWidth, d.getBoundingClientRect().width];
                a.textContent = before; return r; }""")
            assert fit[0] <= 0 and fit[1] >= 120, (width, fit)
        await expect(page.locator("#bed-01")).not_to_have_class(re.compile(r"\bdrill\b"))
        item = page.locator(".alarm.drill[data-bed='DRILL-01']").first
        await expect(item).to_be_visible(timeout=40_000)
        await expect(item.locator(".drill-tag")).to_have_text("DRILL")
        await item.locator("button.ack").click()
        await expect(item).to_have_class(re.compile("st-acknowledged"), timeout=10_000)
        await until(lambda: drill.log is not None and any(a.acknowledged_by == "carl" for a in drill.log.alarms.values()),
                    "the driver measuring the acknowledgement", 10)
        drill.stop()
        report = await asyncio.wait_for(driver, 40)
        assert any(a["acknowledged_by"] == "carl" and a["ack_s"] > 0 for a in report["alarms"])
        await expect(page.locator("#drill-banner")).to_be_hidden(timeout=10_000)
        await expect(page.locator("#bed-DRILL-01")).to_have_count(0, timeout=10_000)
        await expect(page.locator(".alarm.drill")).to_have_count(0, timeout=10_000)
        await expect(page.locator("#bed-01 .v.spo2 .val")).to_have_text("98")
