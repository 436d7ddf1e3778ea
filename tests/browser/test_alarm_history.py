"""Alarm history and the printable shift report, in real headless Chromium against the real platform
(Mosquitto, ingest, alerting, API, state DB):

* real alarms (bed 01 SpO2 82 %: high; bed 02 HR 130: medium); the nurse acknowledges bed 01's on the
  station and records a spot observation in the bed view;
* the bed view's History shows bed 01's events only, with "acknowledged · nina"; Esc closes it and
  focus returns to its button while the bed view stays open;
* the alarm panel's History: filtering by priority (high only / medium and low only) changes the rows;
  keys typed in the dialog never reach the station's shortcuts (A acknowledges there); every control
  is at least 44 x 44 px; axe-core finds no serious or critical violation in the dialog;
* Shift report opens /report in a new tab: bed 01 with its patient, the alarm acknowledged by nina,
  the NEWS2 chart and the spot observation; Playwright renders it to an A4 PDF; axe-core on the page;
  the report tab never uses the station's refresh token (a reused one would end the station's session);
* a reader of Chinese sees the history's reasons (the acknowledgement's "已由 nina 确认", which only its
  key gives) and the report's alarm reason in Chinese.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from dashboard_api import AuditLog
from tests.integration.dashboard.conftest import PASSWORD, Running, until

from .conftest import axe_violations, login, small_targets
from .scene import monitored_beds
from .test_alarm_safety import VITALS, desaturate, hub_of

pytestmark = [pytest.mark.integration, pytest.mark.browser]
async def rows(page: Page) -> list[dict[str, str]]:
    return list(await page.evaluate("""() => [...document.querySelectorAll('#history tbody tr')].map(tr => ({
        alarm: tr.dataset.alarm, event: tr.dataset.event, bed: tr.children[1].textContent,
        priority: tr.className.match(/prio-(\\w+)/)[1], by: tr.children[5].textContent}))"""))


async def history_rows(page: Page) -> list[dict[str, str]]:
    await expect(page.locator("#history .hist-status")).not_to_have_text(re.compile("Loading"), timeout=10_000)
    return await rows(page)


async def test_history_dialog_and_shift_report_pdf(platform_sqlite: Running, browser: object, tmp_path: Path) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    now = int(time.time() * 1000)
    await monitored_beds(run, [("01", "mon-01", "P2001"), ("02", "mon-02", "P2002")], now - 2 * 3_600_000)
    # ten minutes of bed 01's vitals before its desaturation (stored: the report's NEWS2 is recomputed from them)
    history = [{"t": now - 600_000 + 15_000 * k, **VITALS, "resp_rate": 22, "spo2": 95} for k in range(38)]
    await run.publish("devices/mon-01/obs", {"v": 1, "device": "mon-01", "seq": 100, "samples": history})
    await run.stored("P2001", 38)
    page: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
    await expect(page.locator("#conn")).to_have_text("● live", timeout=15_000)
    await desaturate(run, "01")
    t = int(time.time() * 1000)
    await run.publish("devices/mon-02/obs", {"v": 1, "device": "mon-02", "seq": 1, "samples": [
        {"t": t - 20_000 + 1000 * k, **VITALS, "heart_rate": 130, "spo2": 97} for k in range(21)]})
    spo2 = page.locator(".alarm[data-bed='01']").filter(has_text="SpO₂")
    await expect(spo2).to_have_class(re.compile(r"\bst-active\b"), timeout=20_000)
    await expect(page.locator(".alarm[data-bed='02'].prio-medium")).to_be_visible(timeout=20_000)
    aid = str(await spo2.get_attribute("data-id"))
    await spo2.locator("button.ack").click()
    hub: Any = hub_of(run)
    await until(lambda: any(e["event"] == "acknowledged" and e["by"] == "nina" for e in hub.alarm_store.events(aid)),
                "alerting storing nina's acknowledgement")

    # the bed view: a spot observation, then the bed's own history
    await page.locator("#bed-01").click()
    await expect(page.locator("#bedview")).to_be_visible()
    await page.select_option("#bv-spot select[name=consciousness]", "A")
    await page.select_option("#bv-spot select[name=supplemental_o2]", "false")
    await page.locator("#bv-spot button[type=submit]").click()
    await until(lambda: hub.alarm_store.spots_between("w1", 0, int(time.time() * 1000) + 1), "the spot stored")
    await page.locator("#bv-history").click()
    dialog = page.locator("#history")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#hist-title")).to_contain_text("01")
    await expect(page.locator("#history tbody tr[data-event='acknowledged']")).to_have_count(1, timeout=10_000)
    got = await history_rows(page)
    assert got and {r["bed"] for r in got} == {"01"}, got
    ack = next(r for r in got if r["event"] == "acknowledged")
    assert (ack["alarm"], ack["by"], ack["priority"]) == (aid, "nina", "high"), ack
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#bedview")).to_be_visible()  # Esc closed the history, not the bed view
    assert await page.evaluate("document.activeElement.id") == "bv-history"
    await page.keyboard.press("Escape")
    await expect(page.locator("#bedview")).to_be_hidden()

    # the ward's history from the alarm panel: both beds; filter by priority
    await page.locator("#history-open").click()
    await expect(dialog).to_be_visible()
    assert await page.evaluate("document.getElementById('history').contains(document.activeElement)")
    await expect(page.locator("#history tbody tr[data-bed], #history tbody tr")).not_to_have_count(0, timeout=10_000)
    await until(lambda: _has_beds(page, {"01", "02"}), "both beds in the ward history")
    await dialog.get_by_role("checkbox", name=re.compile("High")).uncheck()
    await until(lambda: _only(page, {"medium", "low"}, need="02"), "medium and low rows only")
    await dialog.get_by_role("checkbox", name=re.compile("High")).check()
    await dialog.get_by_role("checkbox", name=re.compile("Medium")).uncheck()
    await dialog.get_by_role("checkbox", name=re.compile("Low")).uncheck()
    await until(lambda: _only(page, {"high"}, need="01"), "high rows only")
    got = await history_rows(page)
    assert any(r["alarm"] == aid and r["event"] == "acknowledged" and r["by"] == "nina" for r in got), got
    assert "02" not in {r["bed"] for r in got}
    # no priority chosen: said, and no row stays that the filters no longer describe
    await dialog.get_by_role("checkbox", name=re.compile("High")).uncheck()
    await expect(page.locator("#history tbody tr")).to_have_count(0, timeout=5_000)
    await dialog.get_by_role("checkbox", name=re.compile("High")).check()
    await until(lambda: _only(page, {"high"}, need="01"), "high rows again")
    # a key that acknowledges on the station does nothing while the dialog has focus
    await dialog.get_by_role("checkbox", name=re.compile("Low")).focus()
    for key in ("a", "e", "s", "ArrowDown", "a"):
        await page.keyboard.press(key)
    await page.wait_for_timeout(500)
    actions = [e for e in AuditLog(run.platform.attributions.engine).entries(limit=10_000)
               if e["action"] in ("alarm.acknowledge", "alarm.escalate", "alarm.silence")]
    assert [(e["actor"], e["action"], e["resource"]) for e in actions] == [("nina", "alarm.acknowledge", f"alarm/{aid}")]
    assert await small_targets(page, "#history button, #history .chk, #history select") == []
    assert await small_targets(page, ".alarm-tools button") == []
    assert await axe_violations(page, "#history") == []
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("document.activeElement.id") == "history-open"

    # the shift report in a new tab, printed to PDF
    async with page.context.expect_page() as popup:
        await page.locator("#report-open").click()
    report: Page = await popup.value
    await report.wait_for_selector("body[data-loaded='1']", timeout=20_000)
    bed1 = report.locator("#rp-bed-01")
    await expect(bed1.locator("h2")).to_contain_text("P2001")
    await expect(bed1.locator(f"tr[data-alarm='{aid}'] td.ack")).to_contain_text("nina")
    await expect(bed1.locator(f"tr[data-alarm='{aid}']")).to_contain_text("SpO₂")
    await expect(bed1.locator(".rp-chart tr.total th")).to_have_text("NEWS2")
    totals = await bed1.locator(".rp-chart tr.total td").all_inner_texts()
    assert re.fullmatch(r"≥?\d+", totals[-1]), totals  # the last column has a score
    assert totals[0] == "—", totals  # 12 h ago nothing was measured: no data, not 0
    await expect(bed1.locator(".rp-chart tr.consciousness td").last).to_have_text("A")
    text = await report.inner_text("body")
    for expected in ("Bed 01", "Bed 02", "P2002", "NEWS2", "nina", "Spot observations"):
        assert expected in text, expected
    await expect(report.locator("#rp-by")).to_have_text("nina (nurse)")
    pdf = await report.pdf(format="A4", print_background=True, path=str(tmp_path / "shift-report.pdf"))
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000, len(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
    assert await axe_violations(report) == []
    assert await small_targets(report, ".rp-controls button, .rp-controls input") == []
    # the report tab never holds the station's refresh token; the station's session lives on
    assert await report.evaluate("sessionStorage.getItem('sw.refresh')") is None
    assert await page.evaluate("sessionStorage.getItem('sw.refresh')") is not None
    await expect(page.locator("#conn")).to_have_text("● live")
    assert ("nina", "read", "ward/w1/shift-report") in {
        (e["actor"], e["action"], e["resource"]) for e in AuditLog(run.platform.attributions.engine).entries(limit=10_000)}
    english = await bed1.locator(f"tr[data-alarm='{aid}'] small.why").inner_text()

    # a reader of Chinese: the history's and the report's reasons in Chinese, written from their keys
    zh = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")  # type: ignore[attr-defined]
    zpage: Page = await zh.new_page()
    await zpage.goto(run.base + "/")
    await zpage.fill("input[name=username]", "nina")
    await zpage.fill("input[name=password]", PASSWORD)
    await zpage.click("button[type=submit]")
    await expect(zpage.locator(f".alarm[data-id='{aid}']")).to_be_visible(timeout=15_000)
    await zpage.locator("#history-open").click()
    ack_cell = zpage.locator(f"#history tbody tr[data-alarm='{aid}'][data-event='acknowledged'] td.a")
    # "acknowledged by nina" has no English form the station reads back: only its key writes it in Chinese
    await expect(ack_cell).to_have_attribute("title", "已由 nina 确认", timeout=10_000)
    await zpage.keyboard.press("Escape")
    async with zpage.context.expect_page() as popup:
        await zpage.locator("#report-open").click()
    zreport: Page = await popup.value
    await zreport.wait_for_selector("body[data-loaded='1']", timeout=20_000)
    why = zreport.locator(f"#rp-bed-01 tr[data-alarm='{aid}'] small.why")
    text = await why.inner_text()
    assert text != english and re.search(r"[\u4e00-\u9fff]", text), (text, english)
    assert await why.get_attribute("lang") is None, text
    await zh.close()


async def _has_beds(page: Page, beds: set[str]) -> bool:
    return beds <= {r["bed"] for r in await rows(page)}


async def _only(page: Page, priorities: set[str], need: str) -> bool:
    got = await rows(page)
    return bool(got) and {r["priority"] for r in got} <= priorities and need in {r["bed"] for r in got}
