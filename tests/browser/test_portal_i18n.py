"""The patient portal and its login page in real headless Chromium, in English and Simplified Chinese
(chosen by the browser's language, switchable and remembered), at 1080p and on a 390 x 844 phone:
axe-core finds no serious or critical violation; the chart's readings are also in a table; the
large-text switch is remembered across a reload; every control is at least 44 x 44 px; a care-team
message says what happens next and which number to call."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from alerting.store import alarms
from tests.integration.dashboard.conftest import PASSWORD, Running

from .scene import home_patient_with_history

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = [(1920, 1080), (390, 844)]
SERIOUS = """async () => {
    const r = await axe.run(document, {resultTypes: ['violations']});
    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary).join(' | '));
}"""
SMALL = """() => [...document.querySelectorAll('button, select, summary, a[href], input')]
    .filter(e => e.offsetParent !== null && !e.closest('[hidden]'))
    .map(e => ({e: (e.id || e.textContent || e.name || e.tagName).trim().slice(0, 30), r: e.getBoundingClientRect()}))
    .filter(x => x.r.width < 44 || x.r.height < 44).map(x => `${x.e} ${x.r.width}x${x.r.height}`)"""


async def history(run: Running) -> int:
    now = int(time.time() * 1000)
    start = now - 3_000_000
    await home_patient_with_history(run, "P7001", [
        {"t": start + 60_000 * k, "heart_rate": 70 + k % 7, "spo2": 95 + k % 4, "resp_rate": 14 + k % 3,
         "temperature": 36.5 + (k % 5) / 10} for k in range(50)])
    return start


async def open_portal(browser: Any, base: str, width: int, height: int, locale: str) -> Page:
    ctx = await browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page: Page = await ctx.new_page()
    await page.goto(base + "/portal")
    return page


async def serious(page: Page) -> list[str]:
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[str] = await page.evaluate(SERIOUS)
    return found


async def test_portal_and_login_accessible_in_both_languages(platform_sqlite: Running, browser: object) -> None:
    assert AXE.exists(), "node_modules/axe-core missing: run npm ci"
    run = platform_sqlite
    await history(run)
    for locale, heading, submit in (("en-GB", "My latest readings", "Log in"), ("zh-CN", "我的最新测量数据", "登录")):
        for width, height in SIZES:
            page = await open_portal(browser, run.base, width, height, locale)
            await expect(page.locator("button[type=submit]")).to_have_text(submit, timeout=15_000)
            assert await serious(page) == [], (locale, width, "login")
            assert await page.evaluate(SMALL) == [], (locale, width, "login")
            await page.fill("input[name=username]", "pat")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page.locator(".card h2").first).to_have_text(heading, timeout=15_000)
            await expect(page.locator(".reading")).to_have_count(4, timeout=15_000)
            await page.wait_for_function("() => (document.getElementById('trend').swLabels || []).length > 0")
            assert await page.evaluate("() => document.documentElement.lang") == ("zh-CN" if locale == "zh-CN" else "en")
            assert await serious(page) == [], (locale, width, "portal")
            assert await page.evaluate(SMALL) == [], (locale, width, "portal")
            await page.context.close()


async def test_table_matches_the_chart_and_switches_are_remembered(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    start = await history(run)
    page = await open_portal(browser, run.base, 390, 844, "en-US")
    # the range is chosen while the page still loads (its catalogue held back): it is the range drawn,
    # not a click lost before the buttons were wired
    held: list[Any] = []
    await page.route("**/api/v1/catalogue", lambda route: held.append(route))
    await page.fill("input[name=username]", "pat")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_function("() => document.querySelector('form button[type=submit]').offsetParent === null")
    await page.click(".bv-range button[data-range='1']")
    for _ in range(100):
        if held:
            break
        await page.wait_for_timeout(50)
    assert held, "the catalogue request"
    for route in held:
        await route.continue_()
    await page.unroute("**/api/v1/catalogue")
    await page.wait_for_function("() => document.getElementById('trend').swRange?.to - "
                                 "document.getElementById('trend').swRange?.from === 3600000"
                                 " && document.querySelectorAll('#trend-table tbody tr').length > 0")
    # the chart's names are plain; the table has the same readings as the chart's data, row by row
    texts = await page.locator("#trend").evaluate("c => c.swLabels.map(b => b.text)")
    assert {"Heart rate", "Oxygen level", "Breathing rate", "Temperature"} <= set(texts), texts
    assert any(x.startswith("swatch green") for x in texts), texts  # the normal range's legend (shortened on a phone)
    await page.click("#trend-table-box summary")
    heads = await page.locator("#trend-table thead th").all_inner_texts()
    assert heads[1].startswith("Heart rate (per minute)") and "[51\u201390]" in heads[1], heads
    rows = await page.locator("#trend-table tbody tr").evaluate_all(
        "trs => trs.map(tr => ({t: Number(tr.dataset.t), v: [...tr.querySelectorAll('td')].map(td => td.textContent)}))")
    assert len(rows) >= 10
    for r in rows:
        k = (r["t"] - start) // 60_000
        assert r["v"] == [str(70 + k % 7), str(95 + k % 4), str(14 + k % 3), f"{36.5 + (k % 5) / 10:.1f}"], (k, r)
    # large text and Chinese: chosen, then still chosen after a reload
    await page.click("#large")
    await page.select_option("#lang", "zh-CN")
    await expect(page.locator(".card h2").first).to_have_text("我的最新测量数据")
    await page.reload()
    await expect(page.locator(".card h2").first).to_have_text("我的最新测量数据", timeout=15_000)
    assert await page.evaluate("() => document.documentElement.classList.contains('large')")
    await expect(page.locator("#large")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator(".reading").first.locator(".name")).to_have_text("心率", timeout=15_000)
    await page.context.close()


async def test_messages_say_what_to_do_and_whom_to_call(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    await history(run)
    now = int(time.time() * 1000)
    engine = run.platform.attributions.engine  # the alerting store's table, as the alerting service writes it
    alarms.metadata.create_all(engine, tables=[alarms])
    with engine.begin() as conn:
        for aid, kind, code, priority, signal in (("m1", "limit", "critical_low", "high", "spo2"),
                                                  ("m2", "device", "battery_low", "low", None)):
            conn.execute(alarms.insert().values(
                id=aid, ward="home", bed="", patient="P7001", device="wear-P7001", kind=kind, signal=signal, code=code,
                priority=priority, condition_priority=priority, raised_t=now, reason="x", value=85, state="active",
                condition=True, updated_t=now, escalation_level=0, escalated_t=now, drill=""))
    page = await open_portal(browser, run.base, 390, 844, "zh-CN")
    await page.fill("input[name=username]", "pat")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    items = page.locator("#messages li")
    await expect(items).to_have_count(2, timeout=20_000)
    urgent = page.locator("#messages li.urgent")
    await expect(urgent).to_have_count(1)  # only "call now" is red
    await expect(urgent).to_contain_text("请立即拨打 112")
    await expect(urgent).to_contain_text("您的血氧低于预期")
    await expect(page.locator("#messages li:not(.urgent)")).to_contain_text("护士会给您打电话")
    assert await urgent.locator("a.call").get_attribute("href") == "tel:112"
    await page.context.close()
