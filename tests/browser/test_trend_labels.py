"""Trend charts (patient portal, bed view) in real headless Chromium: no text of the chart overlaps
another (signal name, unit, axis values, times) and all of it lies inside the canvas. The chart
records the box of every text it draws (``canvas.swLabels``; canvas text has no DOM box)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import Running

from .conftest import login
from .scene import home_patient_with_history, one_bed_with_an_hour_of_trend

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def overlaps(boxes: list[dict[str, Any]], width: float, height: float) -> list[str]:
    bad = [f"{b['text']!r} outside the canvas" for b in boxes
           if b["x"] < 0 or b["y"] < 0 or b["x"] + b["w"] > width or b["y"] + b["h"] > height]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                    and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]):
                bad.append(f"{a['text']!r} overlaps {b['text']!r}")
    return bad


async def chart_labels(page: Page, selector: str, names: frozenset[str] = frozenset({"HR", "SpO₂", "Temp"})) -> list[str]:
    got = await page.locator(selector).evaluate("c => ({boxes: c.swLabels || [], w: c.clientWidth, h: c.clientHeight})")
    texts = {b["text"] for b in got["boxes"]}
    assert names <= texts, texts  # the chart was drawn with these panels
    return overlaps(got["boxes"], got["w"], got["h"])


async def test_portal_trend_labels_do_not_overlap(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    now = int(time.time() * 1000)
    await home_patient_with_history(run, "P7001", [
        {"t": now - 3_000_000 + 60_000 * k, "heart_rate": 70 + k % 7, "spo2": 95 + k % 4, "resp_rate": 14 + k % 3,
         "temperature": 36.5 + (k % 5) / 10} for k in range(50)])
    page: Page = await login(browser, run.base, "pat", "/portal", 1280, 1100)  # type: ignore[assignment]
    await expect(page.locator(".reading").filter(has_text="Temperature")).to_be_visible(timeout=15_000)
    for hours, width in (("1", 1280), ("8", 1280), ("1", 800), ("1", 390)):
        await page.set_viewport_size({"width": width, "height": 1100})
        await page.evaluate("() => { document.getElementById('trend').swLabels = null; }")  # wait for a fresh drawing
        await page.click(f".bv-range button[data-range='{hours}']")
        await page.wait_for_function("() => (document.getElementById('trend').swLabels || []).some(b => b.text === 'Temperature')"
                                     " && document.querySelector(\".bv-range button.on\")?.dataset.range === '" + hours + "'")
        plain = frozenset({"Heart rate", "Oxygen level", "Temperature"})  # plain names on the patient's chart
        assert await chart_labels(page, "#trend", plain) == [], (hours, width)


async def test_bed_view_trend_labels_do_not_overlap(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    await one_bed_with_an_hour_of_trend(run, spo2_base=93)
    page: Page = await login(browser, run.base, "nina", "/", 1280, 800)  # type: ignore[assignment]
    await expect(page.locator("#bed-01 .v.heart_rate .val")).to_have_text("92", timeout=15_000)
    await page.click("#bed-01")
    await page.wait_for_function("() => (document.getElementById('bv-trend').swLabels || []).some(b => b.text === 'NIBP')")
    assert await chart_labels(page, "#bv-trend") == []
