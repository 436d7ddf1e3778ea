"""Trend charts (patient portal, bed view) in real headless Chromium on a 2x (HiDPI) screen: drawn at
the device pixel ratio, drawn again when the window is resized (its texts then lie where the new size
puts them: not stretched from the old drawing), the SpO2 axis never past 100 %, and a legend that says
what the grey bands are."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import PASSWORD, Running

from .scene import home_patient_with_history, one_bed_with_an_hour_of_trend
from .test_trend_labels import overlaps

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# the canvas's pixels match its box at the ratio, and the drawing (swDrawn) is for the box as it is now
FITS = """c => c.clientWidth > 0 && c.width === Math.round(c.clientWidth * devicePixelRatio)
  && c.height === Math.round(c.clientHeight * devicePixelRatio) && c.swDrawn && c.swDrawn.w === c.clientWidth
  && c.swDrawn.h === c.clientHeight && (c.swLabels || []).some(b => b.text === 'HR' || b.text === 'Heart rate')"""
STATE = "c => ({boxes: c.swLabels, panels: c.swPanels, w: c.clientWidth, h: c.clientHeight, px: c.width})"


async def hidpi_login(browser: Any, base: str, username: str, path: str, width: int, height: int) -> Page:
    ctx = await browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=2)
    page: Page = await ctx.new_page()
    await page.goto(base + path)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page


async def drawn(page: Page, canvas: str, cond: str, arg: Any = None) -> None:
    """Wait until ``cond`` holds for the canvas; if it never does, fail with what the canvas shows."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_function(f"a => ({cond})(document.getElementById('{canvas}'), a)", arg=arg, timeout=20_000)
    except PlaywrightTimeout:
        state = await page.evaluate(f"""() => {{ const c = document.getElementById('{canvas}');
          return {{ px: [c.width, c.height], box: [c.clientWidth, c.clientHeight], drawn: c.swDrawn, dpr: devicePixelRatio,
                    texts: (c.swLabels || []).map(b => b.text), panels: c.swPanels,
                    range: document.querySelector('.bv-range button.on')?.dataset.range }}; }}""")
        raise AssertionError(f"#{canvas} never drawn as expected ({cond}): {state}") from None


def check_drawing(got: dict[str, Any]) -> None:
    boxes, w = got["boxes"], got["w"]
    assert got["px"] == w * 2
    assert overlaps(boxes, w, got["h"]) == [], overlaps(boxes, w, got["h"])
    # the last time label ends at the plot's right edge of *this* width (12 px margin): drawn for it
    last_time = max((b for b in boxes if ":" in b["text"]), key=lambda b: b["x"])
    assert w - 20 <= last_time["x"] + last_time["w"] <= w - 12 + 0.5, (w, last_time)
    spo2 = next(p for p in got["panels"] if p["sig"] == "spo2")
    assert spo2["hi"] <= 100 and spo2["lo"] >= 0, spo2
    assert "100" in {b["text"] for b in boxes} and "101" not in {b["text"] for b in boxes}
    assert any(b["text"].startswith("grey: no data") for b in boxes), [b["text"] for b in boxes]


async def test_portal_trend_redrawn_on_resize_at_device_pixel_ratio(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    now = int(time.time() * 1000)
    # SpO2 up to 100 %, and 10 minutes without data in the middle (a grey band)
    await home_patient_with_history(run, "P7001", [
        {"t": now - 3_000_000 + 60_000 * k, "heart_rate": 70 + k % 7, "spo2": 96 + k % 5, "resp_rate": 14 + k % 3,
         "temperature": 36.5 + (k % 5) / 10} for k in range(50) if not 20 <= k < 30])
    page = await hidpi_login(browser, run.base, "pat", "/portal", 1280, 1100)
    trend = page.locator("#trend")
    await expect(page.locator(".reading").filter(has_text="Temperature")).to_be_visible(timeout=15_000)
    await page.click(".bv-range button[data-range='1']")
    await drawn(page, "trend", f"c => ({FITS})(c) && c.swPanels.some(p => p.sig === 'spo2')")
    first = await trend.evaluate(STATE)
    check_drawing(first)
    for width in (900, 1180):  # narrower, then wider again: no click, no reload, only the window
        await page.set_viewport_size({"width": width, "height": 1100})
        await drawn(page, "trend", f"(c, w) => ({FITS})(c) && c.clientWidth !== w", first["w"])
        got = await trend.evaluate(STATE)
        check_drawing(got)
        first = got


async def test_bed_view_trend_redrawn_on_resize(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    await one_bed_with_an_hour_of_trend(run, spo2_base=96)
    page = await hidpi_login(browser, run.base, "nina", "/", 1600, 1000)
    await expect(page.locator("#bed-01 .v.heart_rate .val")).to_have_text("92", timeout=15_000)
    await page.click("#bed-01")
    trend = page.locator("#bv-trend")
    await drawn(page, "bv-trend", f"c => ({FITS})(c) && c.swLabels.some(b => b.text === 'NIBP')")
    before = await trend.evaluate(STATE)
    check_drawing(before)
    await page.set_viewport_size({"width": 1280, "height": 800})  # both the width and the height change
    await drawn(page, "bv-trend", f"(c, s) => ({FITS})(c) && c.clientHeight !== s.h", before)
    after = await trend.evaluate(STATE)
    check_drawing(after)
    assert after["w"] < before["w"] and after["h"] < before["h"]
    # the bottom time labels moved up with the new height (drawn for it, not squashed)
    assert max(b["y"] + b["h"] for b in after["boxes"]) <= after["h"] - 4
