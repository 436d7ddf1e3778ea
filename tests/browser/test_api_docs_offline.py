"""The API docs pages work on an offline hospital network: in real Chromium with every request that
leaves the server refused, Swagger UI (/docs) lists the routes and ReDoc (/redoc) renders, and no page
asked for anything outside the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Route

from tests.integration.dashboard.conftest import Running

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def docs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_API_DOCS", "1")


@pytest.fixture
async def offline_page(docs_on: None, platform_sqlite: Running, browser: object) -> AsyncIterator[tuple[object, list[str]]]:
    own = urlsplit(platform_sqlite.base).netloc
    outside: list[str] = []

    async def only_the_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc in (own, ""):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    ctx = await browser.new_context()  # type: ignore[attr-defined]
    await ctx.route("**/*", only_the_server)
    page = await ctx.new_page()
    try:
        yield page, outside
    finally:
        await ctx.close()


async def test_swagger_ui_and_redoc_render_without_the_internet(
        docs_on: None, platform_sqlite: Running, offline_page: tuple[object, list[str]]) -> None:
    page, outside = offline_page
    await page.goto(platform_sqlite.base + "/docs")  # type: ignore[attr-defined]
    ops = page.locator(".opblock-summary-path")  # type: ignore[attr-defined]
    await ops.first.wait_for(timeout=20_000)
    paths = await ops.all_inner_texts()
    assert any("/api/v1/auth/token" in p for p in paths), paths[:10]
    await page.goto(platform_sqlite.base + "/redoc")  # type: ignore[attr-defined]
    await page.locator("h1").first.wait_for(timeout=20_000)  # type: ignore[attr-defined]
    assert "SmartWard" in await page.locator("h1").first.inner_text()  # type: ignore[attr-defined]
    assert outside == [], outside
