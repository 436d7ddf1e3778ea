"""Alarm titles on the central station agree with the alarm's text, in real headless Chromium against the
real platform (alerting included): a limit alarm's title shows the current value and its worst one
("SpO₂ 89 (min 84)") and its text starts with the same value; a NEWS2 alarm's title is the score its
text starts with; a probe-off technical alarm is titled by its condition ("SpO₂ probe off"), never
"SpO2 0 %"; a live-drill alarm sits below every real patient's alarm, whatever its priority."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import Running

from .conftest import login
from .scene import monitored_beds

pytestmark = [pytest.mark.integration, pytest.mark.browser]
VITALS = {"heart_rate": 72, "resp_rate": 16, "temperature": 37.0, "nibp_sys": 124, "nibp_dia": 78}


def samples(t0: int, n: int, **values: float) -> list[dict[str, object]]:
    return [{"t": t0 + 1000 * k, **VITALS, **values} for k in range(n)]


async def test_alarm_titles_agree_with_their_text(platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    at = int(time.time() * 1000) - 120_000
    await monitored_beds(run, [(bed, f"mon-{bed}", f"P10{bed}") for bed in ("01", "02", "03")], at)
    t = int(time.time() * 1000) - 70_000
    # bed 01: the SpO2 probe came off 30 s ago (SpO2 0, flagged invalid, no pulse rate)
    off = samples(t + 40_000, 30, spo2=0)
    for s in off:
        s["q"] = {"spo2": "invalid"}
    await run.publish("devices/mon-01/obs", {"v": 1, "device": "mon-01", "seq": 1,
                                             "samples": samples(t, 40, spo2=97) + off})
    # bed 02: SpO2 88 for 20 s, 84 (critical) for 3 s, then 89: one alarm, high, now 89, lowest 84
    spo2 = samples(t, 20, spo2=88) + samples(t + 20_000, 3, spo2=84) + samples(t + 23_000, 40, spo2=89)
    await run.publish("devices/mon-02/obs", {"v": 1, "device": "mon-02", "seq": 1, "samples": spo2})
    # bed 03: breathing 26 /min at SpO2 92 % for 70 s: NEWS2 alarm on an incomplete set (at least 5)
    await run.publish("devices/mon-03/obs", {"v": 1, "device": "mon-03", "seq": 1,
                                             "samples": samples(t, 70, resp_rate=26, spo2=92)})
    # a live drill's high-priority, escalated alarm (as alerting publishes it for a drill bed)
    now = int(time.time() * 1000)
    await run.publish("alarms/w1/drill-a1", {
        "v": 1, "id": "drill-a1", "ward": "w1", "bed": "D2", "patient": "", "device": "drill-mon-2",
        "kind": "limit", "signal": "spo2", "priority": "high", "event": "escalated", "state": "active", "t": now,
        "value": 80, "reason": "SpO2 80 % below critical limit 85 % for 20 s", "by": None,
        "escalation_level": 2, "drill": "DRILL-02", "code": "low", "worst": 80, "condition": True,
        "ended_t": None, "condition_reason": "SpO2 80 % below critical limit 85 % for 20 s"})

    page: Page = await login(browser, run.base, "nina", "/", 1920, 1080)  # type: ignore[assignment]
    probe = page.locator(".alarm[data-bed='01']").filter(has_text="probe off")
    await expect(probe.locator(".label")).to_have_text(re.compile(r"^SpO₂ probe off\b"), timeout=20_000)
    # (the invalid-quality flag raises its own technical alarm; neither is titled by a value)
    await expect(page.locator("#bed-01 .alarm-text")).to_have_text(re.compile(r"^▲ SpO₂ (probe off|signal quality)$"))
    for label in await page.locator(".alarm[data-bed='01'] .label").all_text_contents():
        assert not re.search(r"\d", label.split(" · ")[0]), label

    limit = page.locator(".alarm[data-bed='02']").filter(has_text="SpO₂")
    await expect(limit.locator(".label")).to_have_text(re.compile(r"^SpO₂ 89 \(min 84\)"), timeout=20_000)
    await expect(limit.locator(".chip")).to_have_text("HIGH")
    reason = await limit.locator(".reason").text_content() or ""
    assert reason.startswith("SpO2 89 % below 90 %") and "(lowest 84 %)" in reason, reason
    await expect(page.locator("#bed-02 .alarm-text")).to_have_text(re.compile(r"^▲ SpO₂ 89 \(min 84\)"))

    news = page.locator(".alarm[data-bed='03']").filter(has_text="NEWS2")
    await expect(news.locator(".label")).to_have_text(re.compile(r"^NEWS2 ≥\d+"), timeout=20_000)
    title = await news.locator(".label").text_content() or ""
    body = await news.locator(".reason").text_content() or ""
    m1, m2 = re.match(r"NEWS2 ≥(\d+)", title), re.match(r"NEWS2 at least (\d+) \(incomplete", body)
    assert m1 and m2 and m1.group(1) == m2.group(1), (title, body)

    # every limit / NEWS2 alarm on the screen: the title's number is the number its text starts with
    for item in await page.locator("#alarm-list .alarm").all():
        label = await item.locator(".label").text_content() or ""
        text = await item.locator(".reason").text_content() or ""
        lm = re.match(r"(?:SpO₂|HR|RR|NEWS2) ≥?(\d+)", label)
        if lm:
            tm = re.match(r"\S+ (?:at least )?(\d+)", text)  # "SpO2 89 % …", "NEWS2 at least 5 (…"
            assert tm and tm.group(1) == lm.group(1), (label, text)

    # the drill alarm (high, escalated to rapid response) is listed after every real alarm
    items = page.locator("#alarm-list .alarm")
    await expect(items.last).to_have_class(re.compile(r"\bdrill\b"), timeout=10_000)
    classes = [await i.get_attribute("class") or "" for i in await items.all()]
    drill_at = [k for k, c in enumerate(classes) if re.search(r"\bdrill\b", c)]
    assert drill_at == [len(classes) - 1] and len(classes) >= 4, classes
    # and the API (the hub's ward state) orders them the same way; its limit alarm's value and text agree
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{run.base}/api/v1/wards/w1/alarms", headers=await run.login(client, "nina"))
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [bool(a["drill"]) for a in listed] == [False] * (len(listed) - 1) + [True], listed
    [spo2] = [a for a in listed if a["bed"] == "02" and a["kind"] == "limit"]
    assert (spo2["value"], spo2["worst"], spo2["priority"]) == (89, 84, "high")
    assert spo2["reason"].startswith("SpO2 89 %"), spo2
