"""Issue 12, the central station's grid holds still, in real headless Chromium against the real platform
(Mosquitto, ingest, the API's hub and its state DB):

* a charge nurse stores ward w1's bed layout (12 beds) through the API (8-64 beds, each once; a nurse
  may not; audited); the station shows every bed of it in its place, an empty bed as an empty tile;
* an admission to an empty bed of the layout, an admission to a bed the layout does not list and a
  live drill's bed each appear without moving any bed already shown (bounding boxes compared); the
  two beds beyond the layout's screen are named on a button that scrolls to them;
* after a reload every bed is in the same cell (row, column) and in sight; a second screen shows another ward (w2, no
  stored layout), where a new bed is appended and moves nothing either;
* axe-core: no serious or critical violation on ``/`` with empty beds shown.
* the ward's charge nurse edits the layout on the station ("Bed layout…"; a nurse has no button): too
  few beds is said in the dialog and nothing is sent; remove, add, reorder and columns are stored
  (audited) and the grid is laid out anew; "Back to name order" forgets it; axe-core on the dialog.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from dashboard_api import AuditLog
from tests.integration.dashboard.conftest import Running

from .conftest import axe_violations, login
from .scene import monitored_beds, notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LAYOUT = [f"{i:02d}" for i in range(1, 13)]


async def boxes(page: Page) -> dict[str, dict[str, float]]:
    """Every bed tile's box, measured in one go (tiles are re-rendered every second)."""
    got: dict[str, Any] = await page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#grid .tile')]
        .map(t => { const r = t.getBoundingClientRect(); return [t.id, {x: r.x, y: r.y, w: r.width, h: r.height}]; }))""")
    return got


def same(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> list[str]:
    """The beds of ``before`` that moved or changed size in ``after``."""
    return [k for k, b in before.items() if k not in after or any(abs(b[d] - after[k][d]) > 0.5 for d in "xywh")]


async def test_new_beds_do_not_move_the_beds_shown(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("carl", "charge_nurse", ("w1", "w2"))
    run.add_user("nina", "nurse", ("w1", "w2"))
    now = int(time.time() * 1000)
    await monitored_beds(run, [("01", "mon-01", "P3001"), ("02", "mon-02", "P3002"), ("05", "mon-05", "P3005")],
                         now - 120_000)
    await monitored_beds(run, [("02", "mon-w2-02", "P3102"), ("04", "mon-w2-04", "P3104")], now - 120_000, ward="w2")
    async with httpx.AsyncClient() as c:
        carl, nina = await run.login(c, "carl"), await run.login(c, "nina")
        url = f"{run.base}/api/v1/wards/w1/layout"
        r = await c.get(url, headers=nina)
        assert r.status_code == 200 and r.json()["configured"] is False and r.json()["beds"] == ["01", "02", "05"], r.text
        r = await c.put(url, headers=nina, json={"beds": LAYOUT})
        assert r.status_code == 403, r.text  # a nurse may not lay out the ward
        r = await c.put(url, headers=carl, json={"beds": LAYOUT[:7]})
        assert r.status_code == 422 and "beds" in r.text, r.text  # at least 8 beds
        r = await c.put(url, headers=carl, json={"beds": [*LAYOUT[:11], "01"]})
        assert r.status_code == 422 and "'01' is listed twice" in r.text, r.text
        r = await c.put(url, headers=carl, json={"beds": LAYOUT, "columns": 4})
        assert r.status_code == 200, r.text
        assert (r.json()["configured"], r.json()["beds"], r.json()["columns"], r.json()["updated_by"]) == (
            True, LAYOUT, 4, "carl")
        assert (await c.get(url, headers=nina)).json()["beds"] == LAYOUT
    entries = [e for e in AuditLog(run.platform.attributions.engine).entries() if e["action"] == "ward.layout"]
    assert [(e["actor"], e["resource"]) for e in entries] == [("carl", "ward/w1/layout")], entries

    page: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
    await expect(page.locator("#conn")).to_have_text("● live", timeout=15_000)
    tiles = page.locator("#grid .tile")
    await expect(tiles).to_have_count(12, timeout=10_000)
    assert [await t.get_attribute("id") for t in await tiles.all()] == [f"bed-{b}" for b in LAYOUT]
    await expect(page.locator("#bed-03")).to_have_class(re.compile(r"\bplaceholder\b"))
    await expect(page.locator("#bed-03")).to_have_attribute("aria-label", "Bed 03, empty: no patient, no device")
    await expect(page.locator("#bed-05 .pid")).to_have_text("P3005")
    # four columns, as stored: bed 05 starts the second row under bed 01
    first = await boxes(page)
    assert first["bed-05"]["x"] == first["bed-01"]["x"] and first["bed-05"]["y"] > first["bed-01"]["y"], first

    # an admission to the empty bed 03: it fills its own place, nothing moves
    await monitored_beds(run, [("03", "mon-03", "P3003")], int(time.time() * 1000) - 1000)
    await expect(page.locator("#bed-03 .pid")).to_have_text("P3003", timeout=10_000)
    await expect(page.locator("#bed-03")).not_to_have_class(re.compile(r"\bplaceholder\b"))
    assert same(first, await boxes(page)) == []

    # an admission to bed 14, which the layout does not list: after the layout's beds, nothing moves
    await monitored_beds(run, [("14", "mon-14", "P3014")], int(time.time() * 1000) - 1000)
    await expect(page.locator("#bed-14 .pid")).to_have_text("P3014", timeout=10_000)
    after = await boxes(page)
    assert same(first, after) == []
    assert [await t.get_attribute("id") for t in await tiles.all()][-1] == "bed-14"

    # a live drill's bed: after them, nothing moves
    run.platform.attributions.assign_device("drill-t-01", "w1", "DRILL-01", int(time.time() * 1000) - 1000,
                                            drill="drill-t")
    await notify_adt(run, ["drill-t-01"])
    await expect(page.locator("#bed-DRILL-01")).to_have_class(re.compile(r"\bdrill\b"), timeout=10_000)
    assert same(after, await boxes(page)) == []
    # they are below the layout's three rows (the grid scrolls rather than shrink the beds): a button
    # names them and scrolls to them
    more = page.locator("#grid-more")
    await expect(more).to_have_text("▼ 2 more beds below: 14, DRILL-01", timeout=5_000)

    # empty beds shown: no serious or critical accessibility violation on /
    assert AXE.exists(), f"{AXE} missing: npm ci installs axe-core"
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    bad = await page.evaluate("""async () => {
        for (const a of document.getAnimations()) a.pause();
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + n.failureSummary).join(' | '));
    }""")
    assert bad == [], bad
    await more.click()
    await expect(page.locator("#bed-14")).to_be_in_viewport()
    await expect(page.locator("#bed-14")).to_be_focused()

    # after a reload the layout's beds are where they were (the layout is the server's)
    await page.reload()
    await expect(page.locator("#bed-03 .pid")).to_have_text("P3003", timeout=15_000)
    await expect(page.locator("#bed-DRILL-01")).to_be_visible()
    # every bed in the same cell (row, column) as before; the tiles are sized for all 14 beds now, so
    # none is out of sight (the size may differ, the places do not)
    order = [await t.get_attribute("id") for t in await tiles.all()]
    assert order == [*(f"bed-{b}" for b in LAYOUT), "bed-14", "bed-DRILL-01"], order
    reloaded = await boxes(page)
    cols = sorted({round(b["x"]) for b in reloaded.values()})
    assert len(cols) == 4, reloaded  # the stored four columns
    for i, b in enumerate(LAYOUT):
        assert cols.index(round(reloaded[f"bed-{b}"]["x"])) == i % 4, (b, reloaded)
    assert all(b["y"] + b["h"] <= 1080 for b in reloaded.values()), reloaded  # every bed in sight
    await expect(more).to_be_hidden()

    # a second screen shows ward w2 (no stored layout: its beds in name order, new ones appended)
    ctx2 = await browser.new_context(viewport={"width": 1920, "height": 1080})  # type: ignore[attr-defined]
    second: Page = await ctx2.new_page()
    await second.goto(run.base + "/#ward=w2")
    await second.fill("input[name=username]", "nina")
    await second.fill("input[name=password]", "correct horse battery")
    await second.click("button[type=submit]")
    await expect(second.locator("#grid .tile")).to_have_count(2, timeout=15_000)
    assert [await t.get_attribute("id") for t in await second.locator("#grid .tile").all()] == ["bed-02", "bed-04"]
    w2 = await boxes(second)
    await monitored_beds(run, [("01", "mon-w2-01", "P3101")], int(time.time() * 1000) - 1000, ward="w2")
    await expect(second.locator("#bed-01 .pid")).to_have_text("P3101", timeout=10_000)
    assert same(w2, await boxes(second)) == []  # bed 01 came after 04, it did not push 02 and 04 along
    await expect(page.locator("#bed-01 .pid")).to_have_text("P3001")  # the first screen still shows w1
    await ctx2.close()

    # the layout is edited on the station by the ward's charge nurse (a nurse has no button for it)
    await expect(page.locator("#layout-edit")).to_be_hidden()
    cn: Page = await login(browser, run.base, "carl", "/#ward=w1")  # type: ignore[assignment]
    await expect(cn.locator("#bed-03 .pid")).to_have_text("P3003", timeout=15_000)
    await cn.click("#layout-edit")
    dlg = cn.locator("#layout-dialog")
    await expect(dlg).to_be_visible()
    await expect(cn.locator("#layout-add-name")).to_be_focused()
    await expect(dlg.locator("#layout-beds li")).to_have_count(12)
    await expect(cn.locator("#layout-columns")).to_have_value("4")
    # too few beds is said in the dialog, and nothing is sent
    for b in LAYOUT[:5]:
        await dlg.get_by_role("button", name=f"Remove bed {b} from the layout").click()
    await cn.click("#layout-save")
    await expect(cn.locator("#layout-problem")).to_have_text("A layout has 8\u201364 beds; this one has 7.")
    await cn.click("#layout-cancel")
    await expect(dlg).to_be_hidden()
    await expect(cn.locator("#layout-edit")).to_be_focused()  # focus back where it was
    # the dialog opens on the stored layout again: bed 12 removed, bed 14 added and moved first, 6 columns
    await cn.click("#layout-edit")
    await expect(dlg.locator("#layout-beds li")).to_have_count(12)
    await dlg.get_by_role("button", name="Remove bed 12 from the layout").click()
    await cn.fill("#layout-add-name", "14")
    await cn.keyboard.press("Enter")
    for _ in range(11):
        await dlg.get_by_role("button", name="Move bed 14 earlier").click()
    await cn.fill("#layout-columns", "6")
    assert await axe_violations(cn, "#layout-dialog") == []
    await cn.click("#layout-save")
    await expect(dlg).to_be_hidden()
    edited = ["14", *LAYOUT[:11]]
    want = [f"bed-{b}" for b in edited]
    await expect(cn.locator("#grid .tile").first).to_have_id("bed-14", timeout=5_000)
    got = [await t.get_attribute("id") for t in await cn.locator("#grid .tile").all()]
    assert got[:12] == want, got  # bed 12 (empty, no longer in the layout) is gone, the drill bed follows
    placed = await boxes(cn)
    assert len(sorted({round(b["x"]) for b in placed.values()})) == 6, placed
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{run.base}/api/v1/wards/w1/layout", headers=await run.login(c, "nina"))
        assert (r.json()["beds"], r.json()["columns"], r.json()["updated_by"]) == (edited, 6, "carl"), r.text
    entries = [e for e in AuditLog(run.platform.attributions.engine).entries() if e["action"] == "ward.layout"]
    assert [e["actor"] for e in entries] == ["carl", "carl"], entries
    # back to name order: the stored layout is forgotten (audited)
    await cn.click("#layout-edit")
    cn.once("dialog", lambda d: d.accept())
    await cn.click("#layout-reset")
    await expect(dlg).to_be_hidden()
    await expect(cn.locator("#grid .tile").first).to_have_id("bed-01", timeout=5_000)
    assert [e["action"] for e in AuditLog(run.platform.attributions.engine).entries()
            if e["action"].startswith("ward.layout")][-1] == "ward.layout.delete"
    await cn.context.close()
