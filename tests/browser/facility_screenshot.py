"""Regenerate docs/screenshots/facility.png: ``python -m tests.browser.facility_screenshot`` (needs
mosquitto and /usr/bin/chromium). The example ward (``medsurg-4``, 30 beds) with patients admitted
and simulated monitors feeding alerting (NEWS2 bands), the time to evacuate now, one finished and
one running twin run."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import httpx

from devservers import Mosquitto
from tests.browser.conftest import CHROMIUM, FLAGS
from tests.browser.scene import admit_ward, backfill, live_feed, make_ward, notify_adt
from tests.integration.dashboard.conftest import PASSWORD, Running, running_platform, until

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WARD = "medsurg-4"


async def main() -> None:
    from playwright.async_api import async_playwright

    os.environ.setdefault("SMARTWARD_ENVIRONMENT", "development")  # a look/screenshot run: throw-away keys
    os.environ.setdefault("SMARTWARD_SECRET_KEY", secrets.token_urlsafe(32))
    OUT.mkdir(parents=True, exist_ok=True)
    m = Mosquitto().start()
    tmp = Path(tempfile.mkdtemp())
    root = "shots/smartward/v1"
    try:
        async with running_platform(m.url, m.port, f"sqlite:///{tmp}/v.sqlite3", root, tmp) as run:
            run.add_user("fiona", "facility_manager")
            await notify_adt(run, admit_ward(run, WARD, 30))
            sim = make_ward(root, ward=WARD, beds=30)
            await backfill(run, sim, 10)
            async with live_feed(run, [sim]), async_playwright() as p, httpx.AsyncClient(base_url=run.base) as c:
                h = await run.login(c, "fiona")
                await until(lambda: sum(1 for b in _hub(run).state.wards.get(WARD, {}).values()
                                        if b.news2_published) >= 20, "NEWS2 of most patients", 60)
                now = await c.get(f"/api/v1/twin/evacuation-now?ward={WARD}&wait=60", headers=h, timeout=70)
                assert now.json()["status"] == "ready", now.text
                done = (await c.post("/api/v1/twin/runs", headers=h, json={
                    "scenario": "evacuation", "ward": WARD, "census": "live", "replications": 1000, "seed": 7,
                    "parameters": {"shift": "night"}})).json()
                await until(lambda: _status(c, h, done["id"]), "the first run done", 120)
                await c.post("/api/v1/twin/runs", headers=h, json={
                    "scenario": "evacuation", "ward": WARD, "census": "live", "replications": 5000, "seed": 7,
                    "parameters": {"shift": "night", "nurses": 2}})
                b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = await (await b.new_context(viewport={"width": 1600, "height": 1000})).new_page()
                await page.goto(run.base + "/facility")
                await page.fill("input[name=username]", "fiona")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_function("() => Number(document.querySelector('#runs tr.run.st-running progress')"
                                             "?.value || 0) >= 1000", timeout=60_000)
                await page.wait_for_function("() => document.querySelector('.now').dataset.status === 'ready'")
                await page.screenshot(path=str(OUT / "facility.png"))
                await b.close()
            print(OUT / "facility.png")
    finally:
        m.close()


def _hub(run: Running) -> Any:
    return next(c for c in run.platform.components if c.name == "dashboard-hub")


async def _status(c: httpx.AsyncClient, h: dict[str, str], run_id: str) -> bool:
    return (await c.get(f"/api/v1/twin/runs/{run_id}", headers=h)).json()["status"] == "done"


if __name__ == "__main__":
    asyncio.run(main())
