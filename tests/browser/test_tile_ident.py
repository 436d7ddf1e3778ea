"""Central-station tiles in real headless Chromium against the real platform, at 12, 24 and 32 beds on a
1920x1080 screen: every tile shows its patient's whole id (not cut: a nurse identifies the patient by
it; an id too long for any tile keeps its distinguishing end: "…0032"), the whole id is in the tile's
title and accessible name, an incomplete NEWS2 names what is missing on the tile
itself ("no ACVPU, O₂"), and none of that pushes the vitals or the footer out of the tile."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import Running

from .conftest import login
from .scene import notify_adt

pytestmark = [pytest.mark.integration, pytest.mark.browser]
WARDS = {"w1": 12, "w2": 24, "w3": 32}
LONG = "NHS-943-476-5919-ADMISSION-2026-11-23-0032"
VITALS = {"heart_rate": 72, "spo2": 97, "resp_rate": 16, "temperature": 37.0, "nibp_sys": 124, "nibp_dia": 78}

# Measured in one page evaluation (tiles re-render every second): per tile, what is cut or outside it.
MEASURE = """() => [...document.querySelectorAll('.tile')].map(tile => {
  const t = tile.getBoundingClientRect(), edge = 2;  // the tile's border
  const inside = e => { const r = e.getBoundingClientRect();
    return r.width > 0 && r.left >= t.left && r.top >= t.top && r.right <= t.right - edge && r.bottom <= t.bottom - edge; };
  const pid = tile.querySelector('.pid'), hint = tile.querySelector('.n2-miss');
  const parts = [pid, hint, ...tile.querySelectorAll('.v .val, footer .dev, header .news')].filter(Boolean);
  return { bed: tile.dataset.bed, pid: pid.textContent, cut: pid.scrollWidth > pid.clientWidth,
           hint: hint ? hint.textContent : null, hintCut: hint ? hint.scrollWidth > hint.clientWidth : false,
           outside: parts.filter(e => !inside(e)).map(e => e.className || e.textContent),
           label: tile.getAttribute('aria-label'), width: Math.round(t.width), height: Math.round(t.height) };
})"""


def patient(ward: str, bed: int | str) -> str:
    """The ids `smartward demo` gives; the last bed of the 32 has an id too long for any tile."""
    return LONG if (ward, int(bed)) == ("w3", 32) else f"DEMO-{ward}-{int(bed):02d}"


async def test_patient_id_and_news2_hint_readable_at_12_24_32_beds(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "charge_nurse", tuple(WARDS))
    attr = run.platform.attributions
    at = int(time.time() * 1000) - 60_000
    devices = []
    for ward, beds in WARDS.items():
        for i in range(1, beds + 1):
            devices.append(f"mon-{ward}-{i:02d}")
            attr.assign_device(devices[-1], ward, f"{i:02d}", at)
            attr.admit(patient(ward, i), ward, f"{i:02d}", at)
    await notify_adt(run, devices)
    t = int(time.time() * 1000)
    for k, device in enumerate(devices):  # measured vitals, but no nurse observations: NEWS2 incomplete
        stream = [{"t": t - 10_000 + 5000 * i, **VITALS} for i in range(3)]  # NEWS2: >= 3 samples 5 s apart
        await run.publish(f"devices/{device}/obs", {"v": 1, "device": device, "seq": k + 1, "samples": stream})
    page: Page = await login(browser, run.base, "nina", "/", 1920, 1080)  # type: ignore[assignment]
    for ward, beds in WARDS.items():
        await page.click(f".ward-tabs button[data-ward='{ward}']")
        last = f"#bed-{beds:02d}"
        await expect(page.locator(".tile")).to_have_count(beds, timeout=15_000)
        await expect(page.locator(f"{last} .news")).to_have_class(re.compile(r"\bpartial\b"), timeout=15_000)
        await expect(page.locator(f"{last} .pid")).to_have_text(re.compile(re.escape(patient(ward, beds)[-4:]) + "$"))
        tiles: list[dict[str, Any]] = await page.evaluate(MEASURE)
        assert len(tiles) == beds
        for tile in tiles:
            bed = tile["bed"]
            if patient(ward, bed) == LONG:  # its distinguishing end, whole
                assert tile["pid"].startswith("…") and LONG.endswith(tile["pid"][1:]) and len(tile["pid"]) > 5, tile
            else:
                assert tile["pid"] == patient(ward, bed), (ward, tile)
            assert not tile["cut"], (ward, tile)
            assert f"patient {patient(ward, bed)}," in tile["label"], tile
            assert tile["hint"] in ("no ACVPU, O₂", "no O₂, ACVPU") and not tile["hintCut"], (ward, tile)
            assert tile["outside"] == [], (ward, tile)
        await expect(page.locator(f"{last} .pid")).to_have_attribute("title", patient(ward, beds))
        title = await page.locator(f"{last} .n2-miss").get_attribute("title") or ""
        assert "consciousness" in title and "air or oxygen" in title, title
