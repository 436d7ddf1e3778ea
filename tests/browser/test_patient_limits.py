"""A patient's own alarm limits at the bed view, in real headless Chromium against the real platform
(Mosquitto, ingest, alerting, the API's hub, its state DB):

* a nurse opens bed 01's "Alarm limits", edits SpO₂ in the dialog (focus moves into it; Esc closes only
  the dialog and gives the focus back to its button; every target at least 44 x 44 px; axe-core finds no
  serious or critical violation on the section and the dialog);
* a value the server refuses (low 84 % under the ward's critical low of 85 %) is said in the dialog
  and the named field is marked; low 88 % with a reason is reviewed ("Low: 90 % → 88 %"), confirmed
  and applied: alerting has it, the section shows it as the patient's own;
* the tile shows the "custom limits" marker (its title lists them) on this screen and, live, on another
  screen of the ward; the reset (focus on Cancel first) takes it away on both; both changes audited.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from dashboard_api import AuditLog
from tests.integration.dashboard.conftest import Running, until

from .conftest import axe_violations, login, small_targets
from .scene import monitored_beds

pytestmark = [pytest.mark.integration, pytest.mark.browser]


async def test_set_a_limit_at_the_bed_view_see_the_marker_and_reset(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("carl", "charge_nurse", ("w1",))
    now = int(time.time() * 1000)
    await monitored_beds(run, [("01", "mon-01", "P1001"), ("02", "mon-02", "P1002")], now - 120_000)
    for i, bed in enumerate(("01", "02"), 1):
        await run.publish(f"devices/mon-{bed}/obs", {"v": 1, "device": f"mon-{bed}", "seq": i, "samples": [
            {"t": now, "heart_rate": 72, "spo2": 95, "resp_rate": 16}]})
    alerting: Any = next(c for c in run.platform.components if c.name == "alerting")

    other: Page = await login(browser, run.base, "carl")  # type: ignore[assignment]  # another screen of the ward
    page: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
    await expect(page.locator("#bed-01 .v.spo2 .val")).to_have_text("95", timeout=15_000)
    await expect(page.locator("#bed-01 .own-limits")).to_have_count(0)
    await page.click("#bed-01")
    await expect(page.locator("#bedview")).to_be_visible()
    await page.click("#bv-limits summary")
    edit = page.locator('#bv-limits [data-edit="spo2"]')
    await expect(edit).to_be_visible(timeout=10_000)
    # the open section does not squeeze the trend away (it did: 0 px of trend left at 1080p)
    assert await page.locator("#bv-trend").evaluate("c => c.getBoundingClientRect().height") >= 150
    await expect(page.locator('#bv-limits tr[data-signal="spo2"] td').nth(1)).to_contain_text("90 %")  # the ward's low
    await expect(page.locator("#bv-limits .limits-sum")).to_have_text("ward defaults")

    # -- the dialog: focus moves in, Esc closes it (not the bed view) and gives the focus back
    await edit.click()
    dialog = page.locator("#limits-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("h2")).to_have_text("SpO₂ alarm limits · bed 01 · P1001")
    assert await page.evaluate("document.getElementById('limits-dialog').contains(document.activeElement)")
    assert await axe_violations(page, "#limits-dialog", "#bv-limits") == []
    assert await small_targets(page, "#limits-dialog button, #limits-dialog input, #limits-dialog textarea, "
                                     "#bv-limits button, #bv-limits summary") == []
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#bedview")).to_be_visible()
    assert await page.evaluate("document.activeElement.dataset.edit") == "spo2"

    # -- by keyboard: a refusal the server names, then low 88 % reviewed, confirmed and applied
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    low = dialog.locator('input[name="low"]')
    await expect(low).to_be_focused()
    await page.keyboard.type("84")
    await dialog.locator('textarea[name="reason"]').fill("COPD, target 88-92 %")
    await dialog.locator("button.ld-primary").click()  # review
    await expect(dialog.locator(".ld-confirm")).to_contain_text("Low: 90 % → 84 %")
    await dialog.locator("button.ld-primary").click()  # confirm: the ward's critical low is 85 %
    await expect(dialog.locator(".ld-error")).to_contain_text("low: SpO2 low 84 % must be at or above critical low 85 %")
    await expect(low).to_have_attribute("aria-invalid", "true")
    await expect(low).to_be_focused()
    assert await axe_violations(page, "#limits-dialog") == []
    await low.fill("88")
    await dialog.locator("button.ld-primary").click()
    await expect(dialog.locator(".ld-confirm")).to_contain_text("Low: 90 % → 88 %")
    await expect(dialog.locator(".ld-confirm")).to_contain_text("Reason: COPD, target 88-92 %")
    assert await axe_violations(page, "#limits-dialog") == []
    await dialog.locator("button.ld-primary").click()
    await expect(dialog).to_be_hidden()
    await until(lambda: ("P1001", "spo2") in alerting.engine.overrides, "alerting applying the override", 5)
    assert alerting.engine.overrides[("P1001", "spo2")].low == 88
    row = page.locator('#bv-limits tr[data-signal="spo2"]')
    await expect(row.locator("td.own")).to_contain_text("88 %")
    await expect(row.locator("td.own")).to_contain_text("ward 90 %")
    await expect(row.locator("td.who")).to_contain_text("nina")
    await expect(page.locator("#bv-limits .limits-sum")).to_have_text("patient's own: SpO₂")
    await expect(page.locator("#bv-limits .limits-msg")).to_have_text("SpO₂ limits of P1001 applied")

    # -- the marker on this screen's tile and, live, on the other screen's; bed 02 has none
    for p in (page, other):
        badge = p.locator("#bed-01 .own-limits")
        await expect(badge).to_have_text("custom limits", timeout=10_000)
        await expect(badge).to_have_attribute("title", "Custom alarm limits: SpO₂ low 88 %")
        await expect(p.locator("#bed-02 .own-limits")).to_have_count(0)
    assert "custom alarm limits: SpO₂ low 88 %" in (await other.locator("#bed-01").get_attribute("aria-label") or "")

    # -- reset: focus on Cancel first; confirmed, the marker goes on both screens
    await page.locator('#bv-limits [data-reset="spo2"]').click()
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("button.ld-cancel")).to_be_focused()
    await expect(dialog).to_contain_text("Back to the ward default: critical low 85 %, low 90 %.")
    assert await axe_violations(page, "#limits-dialog") == []
    await dialog.locator("button.ld-primary").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#bv-limits .limits-sum")).to_have_text("ward defaults")
    for p in (page, other):
        await expect(p.locator("#bed-01 .own-limits")).to_have_count(0, timeout=10_000)
    await until(lambda: ("P1001", "spo2") not in alerting.engine.overrides, "alerting dropping the override", 5)
    assert await page.evaluate("document.activeElement.dataset.edit") == "spo2"  # Reset is gone: focus on Edit

    acts = [(e["actor"], e["action"]) for e in AuditLog(run.platform.attributions.engine).entries(limit=10_000)
            if e["resource"] == "patient/P1001/limits/spo2"]
    assert acts == [("nina", "limits.set"), ("nina", "limits.reset")], acts
