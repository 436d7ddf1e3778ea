"""Trend answers that arrive out of order (real headless Chromium, real platform; the browser holds one
real answer back): the chart shows what was asked last, never an overtaken answer: not the 8 h range
after the patient chose 1 h (portal), not the previous bed's patient in the bed view."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from tests.integration.dashboard.conftest import PASSWORD, Running, until

from .conftest import login
from .scene import admit_home, notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SETTLED = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"


class HoldFirst:
    """Holds the first trend answer back until released; later ones pass at once."""

    def __init__(self) -> None:
        self.held: list[Route] = []
        self.release = asyncio.Event()
        self.done = False

    async def __call__(self, route: Route) -> None:
        if self.held or self.done:
            await route.continue_()
            return
        self.held.append(route)
        await self.release.wait()
        await route.continue_()
        self.done = True


def history(base: dict[str, float]) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"t": now - 3_000_000 + 60_000 * k, **{s: v + k % 3 for s, v in base.items()}} for k in range(50)]


async def test_portal_draws_the_range_asked_last(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("pat", "patient", patient="P7001")
    await notify_adt(run, admit_home(run, ["P7001"]))
    samples = history({"heart_rate": 70, "spo2": 96})
    await run.publish("devices/wear-P7001/obs", {"v": 1, "device": "wear-P7001", "seq": 1, "samples": samples})
    hold = HoldFirst()
    ctx = await browser.new_context(viewport={"width": 1280, "height": 1100})  # type: ignore[attr-defined]
    page: Page = await ctx.new_page()
    await page.route("**/api/v1/patients/*/vitals?*", hold)  # the portal's first (8 h) trend request is held
    await page.goto(run.base + "/portal")
    await page.fill("input[name=username]", "pat")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await until(lambda: hold.held, "the 8 h trend request")
    await page.click(".bv-range button[data-range='1']")
    await page.wait_for_function("() => document.getElementById('trend').swRange?.to - "
                                 "document.getElementById('trend').swRange?.from === 3600000")
    async with page.expect_response(lambda r: "/vitals?" in r.url and r.request == hold.held[0].request):
        hold.release.set()
    await page.evaluate(SETTLED)
    span = await page.locator("#trend").evaluate("c => c.swRange.to - c.swRange.from")
    assert span == 3_600_000, f"the overtaken 8 h answer was drawn over the 1 h trend ({span} ms)"


async def test_bed_view_never_draws_the_previous_beds_trend(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    attr = run.platform.attributions
    at = int(time.time() * 1000) - 3_600_000
    for bed in ("01", "02"):
        attr.assign_device(f"mon-{bed}", "w1", bed, at)
        attr.admit(f"P10{bed}", "w1", bed, at)
    await notify_adt(run, ["mon-01", "mon-02"])
    for bed, hr in (("01", 50), ("02", 130)):
        await run.publish(f"devices/mon-{bed}/obs", {"v": 1, "device": f"mon-{bed}", "seq": 1,
                                                     "samples": history({"heart_rate": hr, "spo2": 96})})
    page: Page = await login(browser, run.base, "nina", "/", 1600, 1000)  # type: ignore[assignment]
    await expect(page.locator("#bed-02 .v.heart_rate .val")).to_have_text("131", timeout=15_000)
    hold = HoldFirst()
    await page.route("**/api/v1/patients/*/vitals?*", hold)
    await page.click("#bed-01")  # bed 01's trend answer is held back ...
    await until(lambda: hold.held, "bed 01's trend request")
    await page.keyboard.press("Escape")
    await page.click("#bed-02")  # ... while the nurse opens bed 02
    hr_top = "() => document.getElementById('bv-trend').swPanels?.find(p => p.sig === 'heart_rate')?.hi"
    await page.wait_for_function(f"() => ({hr_top})() > 100")
    async with page.expect_response(lambda r: r.request == hold.held[0].request):
        hold.release.set()
    await page.evaluate(SETTLED)
    assert await page.evaluate(hr_top) > 100, "bed 01's trend was drawn in bed 02's view"
    await expect(page.locator("#bv-title")).to_contain_text("P1002")
