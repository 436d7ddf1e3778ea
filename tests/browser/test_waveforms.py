"""Issue 12, the bed view's live waveforms, in real headless Chromium against the real platform
(Mosquitto, ingest, the API's hub): a monitor publishes 1 s ECG II chunks (250 Hz) and, 40 ms after
each, 1 s pleth chunks (125 Hz) — the interleaving that used to empty the old single strip — and

* each signal has its own channel, with at least 5 s of continuous trace, its lead / signal label, the
  ECG's gain (10 mm/mV) and the sweep speed (25 mm/s);
* "Freeze 10 s" keeps a 10 s strip that is saved as a PNG download (checked byte for byte: a PNG of
  10 s at 25 mm/s) and printed alone ("Print / PDF": the print stylesheet hides the rest; rendered to
  a PDF);
* when the chunks stop, each channel says NO SIGNAL and its trace moves off the screen: stale samples
  never look live;
* axe-core: no serious or critical violation on the bed view with a frozen strip open.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import time
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
from playwright.async_api import Page, expect

from gateway_agent.waveforms import ECG_FS, PLETH_FS, WaveState, ecg_chunk, pleth_chunk
from tests.integration.dashboard.conftest import Running

from .conftest import login
from .scene import monitored_beds

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PX_PER_MM = 96 / 25.4


async def monitor(run: Running, device: str, stop: asyncio.Event) -> int:
    """Publish, once a second, the ECG chunk of the second just past, then 40 ms later its pleth chunk
    (each chunk's t0 is where the previous one ended). Returns the chunks sent."""
    ecg, pleth, rng = WaveState(), WaveState(), random.Random(7)
    topic = f"{run.root}/devices/{device}/wave"
    t0 = int(time.time() * 1000) - 1000
    sent = 0
    async with aiomqtt.Client("127.0.0.1", run.broker_port) as c:
        while not stop.is_set():
            for signal, fs, data in (("ecg_ii", ECG_FS, ecg_chunk(ecg, 72, rng)),
                                     ("pleth", PLETH_FS, pleth_chunk(pleth, 72, 2.5, rng))):
                body = {"v": 1, "device": device, "seq": sent + 1, "signal": signal, "fs": fs, "t0": t0,
                        "samples": data}
                await c.publish(topic, orjson.dumps(body), qos=0)
                sent += 1
                await asyncio.sleep(0.04)
            t0 += 1000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, (t0 + 1000) / 1000 - time.time()))
    return sent


async def channels(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("document.getElementById('bv-wave').swChannels || []"))


async def test_ecg_and_pleth_each_on_its_channel_frozen_strip_saved(platform_sqlite: Running,
                                                                    browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    await monitored_beds(run, [("01", "mon-01", "P2001")], int(time.time() * 1000) - 120_000)
    await run.publish("devices/mon-01/obs", {"v": 1, "device": "mon-01", "seq": 1, "samples": [
        {"t": int(time.time() * 1000), "heart_rate": 72, "spo2": 97, "resp_rate": 16}]})
    page: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
    await expect(page.locator("#conn")).to_have_text("● live", timeout=15_000)
    await page.locator("#bed-01").click()
    await expect(page.locator("#bedview")).to_be_visible()
    await expect(page.locator("#bv-title")).to_contain_text("Bed 01")

    stop = asyncio.Event()
    sender = asyncio.create_task(monitor(run, "mon-01", stop))
    try:
        # both channels fill in side by side: neither signal empties the other
        await page.wait_for_function("""() => {
            const cs = document.getElementById('bv-wave').swChannels || [];
            const by = Object.fromEntries(cs.map(c => [c.signal, c]));
            return by.ecg_ii && by.pleth && by.ecg_ii.continuous_s >= 5 && by.pleth.continuous_s >= 5
                && by.ecg_ii.live && by.pleth.live;
        }""", timeout=25_000)
        shown = await channels(page)
        assert [c["signal"] for c in shown] == ["ecg_ii", "pleth"], shown
        ecg, pl = shown
        assert (ecg["label"], ecg["gain"], ecg["speed"]) == ("ECG II", "10 mm/mV", "25 mm/s"), ecg
        assert (pl["label"], pl["speed"]) == ("Pleth (SpO₂)", "25 mm/s"), pl
        # still continuous a few chunks later (the window moves on, the trace does not break)
        await page.wait_for_timeout(2500)
        again = {c["signal"]: c for c in await channels(page)}
        assert again["ecg_ii"]["continuous_s"] >= 5 and again["pleth"]["continuous_s"] >= 5, again
        assert again["ecg_ii"]["live"] and again["pleth"]["live"], again

        # a frozen 10 s strip: shown, and saved as a PNG of 10 s at 25 mm/s (2 device pixels per CSS px)
        await page.wait_for_function("""() => (document.getElementById('bv-wave').swChannels || [])
            .every(c => c.continuous_s >= 10)""", timeout=15_000)
        await page.locator("#bv-freeze").click()
        frozen = page.locator("#bv-frozen")
        await expect(frozen).to_be_visible()
        alt = await page.locator("#bv-frozen-img").get_attribute("alt") or ""
        assert alt.startswith("Frozen 10 s strip, Bed 01 · P2001 · mon-01, "), alt
        assert alt.endswith(": ECG II (10 mm/mV), Pleth (SpO₂) (auto scale), 25 mm/s"), alt
        assert await page.locator("#bv-frozen-img").evaluate("i => i.complete && i.naturalWidth") > 0
        async with page.expect_download() as dl_info:
            await page.locator("#bv-frozen-save").click()
        download = await dl_info.value
        assert download.suggested_filename.startswith("strip-bed-01-") and download.suggested_filename.endswith(".png")
        png = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", png[:16]
        width, height = struct.unpack(">II", png[16:24])
        assert width == 2 * (round(10 * 25 * PX_PER_MM) + 36), width  # 10 s at 25 mm/s and the 1 mV mark
        assert height >= 2 * (26 + 2 * 120), height  # a caption line and two channels

        # "Print / PDF" prints the strip alone: the page is marked while window.print() runs, and the
        # print stylesheet then hides all but the strip (rendered to a PDF here, as "Save as PDF" does)
        await page.evaluate("""() => { window.swPrinted = [];
            window.print = () => window.swPrinted.push(document.body.classList.contains('printing-strip')); }""")
        await page.locator("#bv-frozen-print").click()
        assert await page.evaluate("window.swPrinted") == [True]
        assert not await page.evaluate("document.body.classList.contains('printing-strip')")
        await page.evaluate("document.body.classList.add('printing-strip')")
        await page.emulate_media(media="print")
        seen = await page.evaluate("""() => ['grid', 'bv-trend', 'bv-frozen-img', 'bv-frozen-print']
            .map(id => getComputedStyle(document.getElementById(id)).visibility)""")
        assert seen[:3] == ["hidden", "hidden", "visible"], seen
        pdf = await page.pdf(format="A4", landscape=True)
        assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000, len(pdf)  # the strip is an image: a page with it
        await page.emulate_media(media="screen")
        await page.evaluate("document.body.classList.remove('printing-strip')")

        if AXE.exists():
            await page.evaluate(AXE.read_text(encoding="utf-8"))
            bad = await page.evaluate("""async () => {
                const r = await axe.run(document.getElementById('bedview'), {resultTypes: ['violations']});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', '));
            }""")
            assert bad == [], bad
        else:
            pytest.fail(f"{AXE} missing: npm ci installs axe-core")
        await page.locator("#bv-frozen-close").click()
        await expect(frozen).to_be_hidden()
    finally:
        stop.set()
        sent = await sender
    assert sent >= 16

    # the device stops: each channel says NO SIGNAL; its last samples move off, never repeated as live
    await page.wait_for_function("""() => {
        const cs = document.getElementById('bv-wave').swChannels || [];
        return cs.length === 2 && cs.every(c => !c.live && c.silent_s >= 1);
    }""", timeout=10_000)
    before = {c["signal"]: c["continuous_s"] for c in await channels(page)}
    await page.wait_for_timeout(2000)
    after = {c["signal"]: c for c in await channels(page)}
    assert all(not c["live"] for c in after.values()), after
    # the old trace moves out of the window: what is left of it shrinks, nothing new is drawn
    for s, c in after.items():
        assert c["continuous_s"] <= before[s] + 0.1, (s, before[s], c)
        assert c["silent_s"] >= 2.5, c  # it counts on

    # closing the bed view stops the strip; another bed opens with empty channels
    await page.locator("#bv-close").click()
    await expect(page.locator("#bedview")).to_be_hidden()
