"""Stale values on the central station in real headless Chromium against the real platform: a value
older than its signal's expiry (heart rate, SpO2: 30 s; respiratory rate: 60 s) is shown greyed, struck
through and with a ⏱ age, on the tile and in the bed view, while a fresh one beside it is not; and a
value that was fresh goes stale on screen when its device stops sending (no new message needed); the
patient portal says such a reading is "not current"."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import Running

from .conftest import login
from .scene import admit_home, notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]
STALE = re.compile(r"\bstale\b")


async def test_value_older_than_its_expiry_shows_stale(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    attr = run.platform.attributions
    at = int(time.time() * 1000) - 120_000
    attr.assign_device("mon-01", "w1", "01", at)
    attr.admit("P1001", "w1", "01", at)
    await notify_adt(run, ["mon-01"])
    now = int(time.time() * 1000)
    # heart rate last measured 45 s ago (expiry 30 s); SpO2 20 s ago (fresh for ~10 s more); RR just now
    samples = [{"t": now - 45_000, "heart_rate": 71}, {"t": now - 20_000, "spo2": 97}, {"t": now, "resp_rate": 15}]
    await run.publish("devices/mon-01/obs", {"v": 1, "device": "mon-01", "seq": 1, "samples": samples})
    page: Page = await login(browser, run.base, "nina", "/", 1920, 1080)  # type: ignore[assignment]
    hr, spo2, rr = (page.locator(f"#bed-01 .v.{s}") for s in ("heart_rate", "spo2", "resp_rate"))
    await expect(rr.locator(".val")).to_have_text("15", timeout=15_000)
    await expect(hr).to_have_class(STALE)
    await expect(hr.locator(".val")).to_have_text("71")  # still shown (last known), but marked
    await expect(hr.locator(".age")).to_have_text(re.compile(r"^⏱ "))
    await expect(hr).to_have_attribute("title", re.compile(r"\(stale\)"))
    await expect(rr).not_to_have_class(STALE)
    await expect(rr.locator(".age")).not_to_have_text(re.compile("⏱"))
    # greyed and struck through: not the colour of a current heart rate
    style = await hr.locator(".val").evaluate("e => { const s = getComputedStyle(e); return [s.color, s.textDecorationLine]; }")
    fresh_colour = await rr.locator(".val").evaluate("e => getComputedStyle(e).color")
    assert style[0] == "rgb(100, 116, 139)" and style[0] != fresh_colour and "line-through" in style[1], style
    # the SpO2 expires while the page is open, with no new message from the device
    await expect(spo2).not_to_have_class(STALE)
    await expect(spo2).to_have_class(STALE, timeout=20_000)
    await expect(rr).not_to_have_class(STALE)
    # the bed view marks the same values
    await page.click("#bed-01")
    cells = page.locator("#bv-now .big:not(.news)")
    await expect(cells.filter(has_text="HR")).to_have_class(STALE)
    await expect(cells.filter(has_text="RR")).not_to_have_class(STALE)


async def test_portal_reading_older_than_its_expiry_says_not_current(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("pat", "patient", patient="P7001")
    await notify_adt(run, admit_home(run, ["P7001"]))
    now = int(time.time() * 1000)
    samples = [{"t": now - 45_000, "heart_rate": 71}, {"t": now, "resp_rate": 15}]
    await run.publish("devices/wear-P7001/obs", {"v": 1, "device": "wear-P7001", "seq": 1, "samples": samples})
    page: Page = await login(browser, run.base, "pat", "/portal", 1280, 900)  # type: ignore[assignment]
    hr, rr = (page.locator(".reading").filter(has_text=name) for name in ("Heart rate", "Breathing rate"))
    await expect(rr).to_contain_text("15", timeout=15_000)
    await expect(hr).to_have_class(STALE)
    await expect(hr.locator(".when")).to_contain_text("not current")
    await expect(rr).not_to_have_class(STALE)
