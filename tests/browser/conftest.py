"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and the platform fixture."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dashboard.conftest import PASSWORD, api_secret, platform_sqlite

CHROMIUM = os.environ.get("SMARTWARD_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
__all__ = ["api_secret", "platform_sqlite"]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


async def axe_violations(page: Any, *selectors: str) -> list[str]:
    """Serious and critical axe-core violations inside ``selectors`` (default: the whole page as it is,
    e.g. with a dialog open), animations paused. axe-core is injected once per page, through CDP (not an
    inline script, which the pages' CSP refuses)."""
    assert AXE.exists(), f"{AXE} missing: npm ci installs axe-core"
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[str] = await page.evaluate("""async (sel) => {
        for (const a of document.getAnimations()) a.pause();
        const r = await axe.run(sel.length ? {include: sel.map(s => [s])} : document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .flatMap(v => v.nodes.slice(0, 6).map(n => v.id + ': ' + n.target.join(' ') + ' :: ' + n.failureSummary));
    }""", list(selectors))
    return found


async def small_targets(page: Any, selector: str) -> list[str]:
    """The visible elements matching ``selector`` (controls) smaller than a 44 x 44 px target."""
    got: list[str] = await page.evaluate("""(sel) => [...document.querySelectorAll(sel)]
        .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
        .map(([e, r]) => `${e.tagName} ${e.id || e.className || e.getAttribute('name') || e.textContent} `
                         + `${Math.round(r.width)}x${Math.round(r.height)}`)""", selector)
    return got


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} missing in CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


async def login(browser: object, base: str, username: str, path: str = "/", width: int = 1920,
                height: int = 1080) -> object:
    """A fresh browser context (its own session storage) logged in as ``username``."""
    ctx = await browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = await ctx.new_page()
    await page.goto(base + path)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page
