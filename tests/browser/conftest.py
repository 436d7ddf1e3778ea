"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and the platform fixture."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest

from tests.integration.dashboard.conftest import PASSWORD, api_secret, platform_sqlite

CHROMIUM = os.environ.get("SMARTWARD_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
__all__ = ["api_secret", "platform_sqlite"]


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
