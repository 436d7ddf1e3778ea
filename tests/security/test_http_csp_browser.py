"""Issue 13, finding 14 in a real browser: the central station and the portal run under the
Content-Security-Policy without a single violation, and their websockets connect with one-time
tickets (no access token in any websocket URL)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import browser, login
from tests.browser.scene import admit_ward, notify_adt, patient_id

from .conftest import Running, until

pytestmark = [pytest.mark.integration, pytest.mark.browser]
__all__ = ["browser"]

# collects every CSP violation of the page (blocked scripts, styles, connections)
WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.violatedDirective));"""


async def _open(browser: object, run: Running, user: str, path: str) -> tuple[Page, list[str]]:
    page: Page = await login(browser, run.base, user, path)  # type: ignore[assignment]
    await expect(page.locator("#login")).to_be_hidden(timeout=15_000)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.add_init_script(WATCH)
    await page.reload()  # logged in (session storage): the page starts again, watched from its first line
    return page, sockets


async def test_station_and_portal_run_under_the_policy(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("pat", "patient", patient=patient_id("w1", 1))
    await notify_adt(run, admit_ward(run, "w1", 3))
    station, station_ws = await _open(browser, run, "nina", "/")
    await expect(station.locator("#conn")).to_have_text("● live", timeout=15_000)
    await expect(station.locator(".tile")).to_have_count(3)
    portal, portal_ws = await _open(browser, run, "pat", "/portal")
    await expect(portal.locator(".card-head h2")).to_have_text("My trends")
    await until(lambda: portal_ws, "the portal's websocket")
    for page in (station, portal):
        assert await page.evaluate("window.__violations") == []
    sockets = station_ws + portal_ws
    assert len(sockets) >= 2 and all("?ticket=" in u and "token=" not in u for u in sockets), sockets
