"""Regenerate docs/screenshots/central-station-drill.png: ``python -m tests.browser.drill_screenshot``
(needs /usr/bin/chromium). A live drill on the demo ward, as a user gets it: ``smartward demo --beds 4``
and ``smartward drill start`` (two drill beds: bradycardia, desaturation) as subprocesses, the central
station photographed at 1600x900 once a drill alarm is up."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devservers import free_port
from tests.browser.conftest import CHROMIUM, FLAGS

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "screenshots" / "central-station-drill.png"


def _wait_for(path: Path, pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, path.read_text())
        if m:
            return m
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {pattern!r} in {path}:\n{path.read_text()[-2000:]}")


async def photograph(port: int, user: str, password: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await (await b.new_context(viewport={"width": 1600, "height": 900})).new_page()
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.fill("input[name=username]", user)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#bed-DRILL-02 .news:not(.none)", timeout=120_000)
        await page.wait_for_selector(".alarm.drill", timeout=180_000)  # a drill alarm (bradycardia first)
        await asyncio.sleep(4)
        await page.screenshot(path=str(OUT))
        await b.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    log = tmp / "demo.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "smartward", "demo", "--http", f"127.0.0.1:{port}", "--beds", "4",
                                 "--data-dir", str(tmp / "demo")], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    drill = None
    try:
        broker = _wait_for(log, r"broker (mqtt://\S+)", 60).group(1)
        m = _wait_for(log, r"open http://\S+  and log in as (\S+) / (\S+)", 60)
        user, password = m.group(1), m.group(2)
        with open(tmp / "drill.log", "wb") as out:
            drill = subprocess.Popen([sys.executable, "-m", "smartward", "drill", "start", "--url", f"http://127.0.0.1:{port}",
                                      "--broker", broker, "--mqtt311", "--username", user, "--ward", "w1", "--beds", "2",
                                      "--scenario", "bradycardia", "--scenario", "desaturation", "--speed", "10",
                                      "--duration", "5m", "--out", str(tmp / "drill")],
                                     cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                     env={**env, "SMARTWARD_TWIN_PASSWORD": password}, start_new_session=True)
        asyncio.run(photograph(port, user, password))
        print(OUT)
    finally:
        for proc in (drill, demo):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT if proc is drill else signal.SIGTERM)
                try:
                    proc.wait(40)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


if __name__ == "__main__":
    main()
