"""The facility manager's page in real headless Chromium against the real platform: log in, see the
time to evacuate now from the live census, start a run, watch it finish, open and download its
report; keyboard: Escape closes the report."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from devservers import Mosquitto
from tests.integration.dashboard.conftest import Running, api_secret, running_platform

from .conftest import login
from .scene import notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]
__all__ = ["api_secret"]
WARD = "medsurg-4"


@pytest.fixture
async def fm_platform(mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str,
                      monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.setenv("SMARTWARD_TWIN_NOW_REPLICATIONS", "40")
    monkeypatch.setenv("SMARTWARD_TWIN_NOW_MIN_INTERVAL_S", "0")
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root,
                                tmp_path) as run:
        yield run


async def test_facility_manager_page(fm_platform: Running, browser: object, tmp_path: Path) -> None:
    run = fm_platform
    run.add_user("fiona", "facility_manager")
    attr = run.platform.attributions
    at = int(time.time() * 1000) - 60_000
    for i, bed in enumerate(("03", "04", "11"), start=1):
        attr.admit(f"P50{i}", WARD, bed, at)
    await notify_adt(run)
    page: Page = await login(browser, run.base, "fiona", "/facility", 1600, 1000)  # type: ignore[assignment]
    # the estimate from the live census: 3 of the layout's 30 beds
    await expect(page.locator("#now-census")).to_contain_text("3 of 30 beds occupied", timeout=60_000)
    await expect(page.locator("#now-mean")).to_have_text(re.compile(r"^\d+(\.\d)?$"))
    assert await page.locator("#now-stats").inner_text()
    # a facility manager is not shown the central station link
    await expect(page.locator("#station-link")).to_be_hidden()
    # start a run: scenario picker with parameters, a bad value is named
    await page.select_option("#scenario", "evacuation")
    await page.fill("input[name=replications]", "60")
    await page.fill("input[name=seed]", "5")
    await page.select_option("select[name='p.shift']", "day")
    # a bound the page knows (staff scale > 0) is said before sending, as the server would say it
    await page.fill("input[name='p.staff_scale']", "0")
    await page.click("#start button[type=submit]")
    assert await page.locator("input[name='p.staff_scale']").evaluate("i => i.validationMessage") == \
        "must be greater than 0"
    await page.fill("input[name='p.staff_scale']", "1")
    # one only the ward knows is the server's 422, named on the field; correcting it clears both
    await page.fill("input[name='p.census']", "99")
    await page.click("#start button[type=submit]")
    await expect(page.locator("#start-msg")).to_contain_text("parameters.census")
    census = page.locator(".params label[data-param='census']")
    await expect(census).to_have_class(re.compile("bad"))
    await page.fill("input[name='p.census']", "")
    await expect(census).not_to_have_class(re.compile("bad"))
    await expect(page.locator("#start-msg")).to_have_text("")
    await page.click("#start button[type=submit]")
    row = page.locator("#runs tr.run").first
    await expect(row).to_contain_text("shift=day")
    await expect(row).not_to_contain_text(re.compile(r"[a-z_]+=(,|\s|$)"))  # untouched (no-default) params: not sent
    await expect(row).to_have_class(re.compile("st-done"), timeout=90_000)
    # open the report (keyboard: Enter on the focused button, Escape closes)
    await row.locator("button.open").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#report")).to_be_visible()
    frame = page.frame_locator("#report-frame")
    await expect(frame.locator("body")).to_contain_text(re.compile("evacuat", re.I), timeout=10_000)
    async with page.expect_download() as dl_info:
        await page.click("#report-json")
    dl = await dl_info.value
    saved = tmp_path / "report.json"
    await dl.save_as(saved)
    doc = json.loads(saved.read_text())
    assert doc["scenario"] == "evacuation" and doc["seed"] == 5 and doc["replications"] == 60
    assert doc["parameters"]["shift"] == "day"
    await page.keyboard.press("Escape")
    await expect(page.locator("#report")).to_be_hidden()
    await expect(row.locator("button.open")).to_be_focused()


async def test_central_station_leads_to_the_facility_page(fm_platform: Running, browser: object) -> None:
    run = fm_platform
    run.add_user("fiona", "facility_manager")
    run.add_user("root", "admin")
    # a facility manager has no patient data: the central station sends them to /facility
    fm: Page = await login(browser, run.base, "fiona", "/", 1600, 1000)  # type: ignore[assignment]
    await expect(fm).to_have_url(re.compile(r"/facility$"), timeout=10_000)
    await expect(fm.locator("#now-title")).to_be_visible()
    await expect(fm.locator(".login")).to_be_hidden()
    # an admin sees the link in the central station's header and follows it with the keyboard
    admin: Page = await login(browser, run.base, "root", "/", 1600, 1000)  # type: ignore[assignment]
    link = admin.locator("#facility-link")
    await expect(link).to_be_visible(timeout=10_000)
    await link.focus()
    await admin.keyboard.press("Enter")
    await expect(admin).to_have_url(re.compile(r"/facility$"))
    await expect(admin.locator("#station-link")).to_be_visible()
    await expect(admin.locator("#who")).to_contain_text("root · admin")


# Every control of the page, and whether it is cut: its box must lie inside the viewport and inside its
# card (or the top bar), and a select must be wide enough for the text of its longest option.
CONTROLS_CUT = """() => {
  const cut = [], W = document.documentElement.clientWidth, ctx = document.createElement("canvas").getContext("2d");
  for (const el of document.querySelectorAll(".topbar select, .topbar button, .fm select, .fm input, .fm button")) {
    if (!el.offsetParent) continue;  // hidden
    const r = el.getBoundingClientRect(), box = el.closest(".fm-card, .topbar").getBoundingClientRect();
    const name = el.name || el.id || el.textContent.trim();
    if (r.left < 0 || r.right > W + 0.5) cut.push(`${name}: ${r.left}..${r.right} outside the viewport 0..${W}`);
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) cut.push(`${name}: ${r.left}..${r.right} outside its card ${box.left}..${box.right}`);
    if (el.tagName === "SELECT") {
      const cs = getComputedStyle(el);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const text = Math.max(...[...el.options].map(o => ctx.measureText(o.text).width));
      const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;  // 16: the arrow
      if (text > room + 0.5) cut.push(`${name}: option text ${Math.round(text)} px in ${Math.round(room)} px`);
    }
  }
  return cut;
}"""


async def test_facility_controls_fit_common_widths(fm_platform: Running, browser: object) -> None:
    """At 1280x800 and 1024x768 nothing is cut: the scenario form (its 'order' select in particular)
    and the top bar's ward picker, clock and log-out all fit."""
    run = fm_platform
    run.add_user("fiona", "facility_manager")
    page: Page = await login(browser, run.base, "fiona", "/facility", 1280, 800)  # type: ignore[assignment]
    order = page.locator("select[name='p.order']")
    await expect(order).to_be_attached(timeout=15_000)
    for width, height in ((1280, 800), (1024, 768)):
        await page.set_viewport_size({"width": width, "height": height})
        await order.scroll_into_view_if_needed()
        assert await page.evaluate(CONTROLS_CUT) == [], (width, height)
        assert await page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        box = await order.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        await expect(page.locator("#logout")).to_be_in_viewport()
