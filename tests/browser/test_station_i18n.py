"""The central station in Simplified Chinese, in real headless Chromium against the real platform: a
browser whose language is zh-CN gets the login page, tiles, alarm list, alarm actions, bed view and
COMMUNICATION LOST in Chinese (clinical abbreviations HR, SpO₂, NIBP, NEWS2 as Chinese monitors show
them; "Temp" as 体温), with ``<html lang>`` set; axe-core finds no serious or critical violation on the
login page, the station and the bed view in Chinese; the top bar's language switch turns the whole
screen English and the choice is remembered across a reload (the browser still asks for Chinese)."""

# ruff: noqa: RUF001  (the Chinese texts are written with full-width commas and colons)
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.integration.dashboard.conftest import PASSWORD, Running, obs

from .scene import monitored_beds

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VITALS = {"heart_rate": 72, "spo2": 97, "resp_rate": 16, "temperature": 37.0, "nibp_sys": 124, "nibp_dia": 78}
SERIOUS = """async () => {
    const r = await axe.run(document, {resultTypes: ['violations']});
    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary).join(' | '));
}"""
SMALL = """sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null)
    .map(e => ({e: e.id || e.textContent.trim().slice(0, 20), r: e.getBoundingClientRect()}))
    .filter(x => x.r.width < 44 || x.r.height < 44).map(x => `${x.e} ${x.r.width}x${x.r.height}`)"""


def alarm_event(aid: str, bed: str, priority: str = "high", **extra: Any) -> dict[str, Any]:
    """A heart-rate limit alarm as alerting publishes it."""
    now = int(time.time() * 1000)
    return {"v": 1, "id": aid, "ward": "w1", "bed": bed, "patient": f"P20{bed}", "device": f"mon-{bed}",
            "kind": "limit", "signal": "heart_rate", "priority": priority, "event": "raised", "state": "active",
            "t": now, "value": 150, "reason": "HR 150 /min above 140 /min for 10 s", "by": None, "escalation_level": 0,
            "drill": "", "code": "high", "worst": 150, "condition": True, "ended_t": None,
            "condition_reason": "HR 150 /min above 140 /min for 10 s", **extra}


async def serious(page: Page) -> list[str]:
    await page.evaluate(AXE.read_text(encoding="utf-8"))  # through CDP: not an inline script the CSP refuses
    found: list[str] = await page.evaluate(SERIOUS)
    return found


async def test_station_in_chinese_switches_to_english_and_remembers(platform_sqlite: Running, browser: Any) -> None:
    assert AXE.exists(), "node_modules/axe-core missing: run npm ci"
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    await monitored_beds(run, [(b, f"mon-{b}", f"P20{b}") for b in ("01", "02")], int(time.time() * 1000) - 120_000)
    t = int(time.time() * 1000)
    for i in range(3):
        await run.publish("devices/mon-01/obs", obs("mon-01", 1 + i, t - 10_000 + i * 5000, **VITALS))
    await run.publish("alarms/w1/a1", alarm_event("a1", "01"))
    await run.publish("alarms/w1/a2", alarm_event("a2", "02", "medium", condition=False, latched=True, ended_t=t))

    ctx = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page: Page = await ctx.new_page()
    cut = {"on": False}

    async def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda m: None if cut["on"] else ws.send(m))  # the server's frames stop arriving

    await page.route_web_socket(re.compile(r"/api/v1/ws/wards/"), relay)
    await page.goto(run.base + "/")
    # the login page: Chinese, as the browser asks
    await expect(page.locator(".login button[type=submit]")).to_have_text("登录", timeout=15_000)
    await expect(page.locator(".login h1")).to_have_text("中央监护站")
    assert await page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert await page.title() == "SmartWard — 中央监护站"
    assert await serious(page) == [], "login"
    await page.fill("input[name=username]", "nina")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")

    # top bar, tiles, alarm list
    await expect(page.locator("#conn")).to_have_text("● 实时", timeout=15_000)
    await expect(page.locator(".ward-tabs button").first).to_have_text("w1 病区")
    await expect(page.locator("#who")).to_have_text("nina · 护士")
    await expect(page.locator("#lang")).to_have_value("zh-CN")
    await expect(page.locator("#audio-state")).to_have_text("🔔 高优先级报警响铃中 · 暂停 2 分钟")  # the login's click enabled it
    await expect(page.locator("#bed-01 .v.heart_rate .val")).to_have_text("72", timeout=15_000)
    await expect(page.locator("#bed-01 .v.heart_rate .lbl")).to_contain_text("HR")  # the monitor's abbreviation
    await expect(page.locator("#bed-01 .v.temperature .lbl")).to_contain_text("体温")
    await expect(page.locator("#bed-01 .v.heart_rate .age")).to_have_text(re.compile(r"^\d+(秒|分)$"))
    await expect(page.locator("#bed-01 .n2-inc")).to_have_text("不完整", timeout=15_000)
    await expect(page.locator("#bed-01 .n2-miss")).to_have_text(re.compile(r"^缺 "))
    label = await page.locator("#bed-01").get_attribute("aria-label") or ""
    assert label.startswith("01 床，患者 P2001，NEWS2 不完整：至少") and "意识水平" in label and "高优先级报警" in label, label
    await expect(page.locator("#bed-01 .alarm-text")).to_have_text("▲ HR 150")
    await expect(page.locator("#alarm-list .alarm")).to_have_count(2, timeout=15_000)
    first, ended = page.locator(".alarm[data-id='a1']"), page.locator(".alarm[data-id='a2']")
    await expect(first.locator(".chip")).to_have_text("高")
    await expect(first.locator(".where")).to_have_text("01 床")
    await expect(first.locator("button.ack")).to_have_text("确认")
    await expect(first.locator("button.sil")).to_have_text("静音 2 分钟")
    await expect(first.locator("button.esc")).to_have_text("升级")
    await expect(first.locator("button.ack")).to_have_attribute("aria-label", "确认：HR 150，01 床")
    await expect(ended.locator(".state")).to_contain_text("报警保持：确认后清除")
    await expect(first.locator(".reason")).to_have_text("HR 150 /min 高于上限 140 /min，持续 10 秒")  # alerting's English, read
    await expect(page.locator(".keys")).to_contain_text("快捷键：")
    assert await page.evaluate(SMALL, "#lang") == []  # the language switch is a 44 px target
    assert await serious(page) == [], "station"

    # an action's confirmation
    await first.locator("button.ack").click()
    await expect(page.locator("#alarm-confirm")).to_have_text("已确认：HR 150，01 床", timeout=10_000)

    # the bed view
    await page.click("#bed-01")
    await expect(page.locator("#bv-title")).to_have_text("01 床 · P2001 · mon-01")
    await expect(page.locator("#bv-spot strong")).to_have_text("人工录入观察项")
    await expect(page.locator("#bv-now .big.news .lbl")).to_have_text("NEWS2 · 不完整")
    await expect(page.locator("#bv-now .big").nth(1).locator(".age")).to_have_text(re.compile(r"^\d+(秒|分)前$"))
    await expect(page.locator(".bv-range button").first).to_have_text("1 小时")
    await page.wait_for_function("() => (document.getElementById('bv-trend').swLabels || []).some(b => b.text === '体温')")
    assert await page.locator("#bv-close").get_attribute("aria-label") == "关闭"
    assert await serious(page) == [], "bed view"
    await page.keyboard.press("Escape")
    await expect(page.locator("#bedview")).to_be_hidden()

    # COMMUNICATION LOST, in Chinese
    cut["on"] = True
    await expect(page.locator("#comm-lost")).to_be_visible(timeout=6_000)
    await expect(page.locator("#comm-lost strong")).to_have_text("通信中断")
    await expect(page.locator("#comm-lost-why")).to_contain_text("本屏幕上的数值和报警不是当前的")
    await expect(page.locator("#conn")).to_have_text("● 通信中断")
    cut["on"] = False
    await expect(page.locator("#comm-lost")).to_be_hidden(timeout=20_000)

    # switched to English: the whole screen at once; remembered across a reload
    await page.select_option("#lang", "en")
    await expect(page.locator("#bed-01 .v.temperature .lbl")).to_contain_text("Temp")
    await expect(first.locator("button.ack")).to_have_text("Acknowledge")
    await expect(page.locator(".ward-tabs button").first).to_have_text("Ward w1")
    await expect(page.locator("#conn")).to_have_text("● live")
    await expect(page.locator(".alarms h2")).to_contain_text("Alarms")
    await expect(first.locator(".reason")).to_have_text("HR 150 /min above 140 /min for 10 s")  # alerting's own text
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await page.reload()
    await expect(page.locator("#conn")).to_have_text("● live", timeout=15_000)
    await expect(page.locator("#lang")).to_have_value("en")
    await expect(first.locator("button.ack")).to_have_text("Acknowledge", timeout=15_000)
    await expect(page.locator("#bed-01 .n2-inc")).to_have_text("incomplete")
    await expect(page.locator("#audio-state")).to_have_text(
        re.compile(r"^(🔇 Audio unavailable — click to enable|🔔 HIGH alarm sounding · pause 2 min)$"))
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await ctx.close()


async def test_facility_page_in_chinese(platform_sqlite: Running, browser: Any) -> None:
    """The facility page too: Chinese for a Chinese browser (the twin's scenario names stay its own),
    axe-core clean, the language switch on its top bar."""
    run = platform_sqlite
    run.add_user("fiona", "facility_manager")
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page: Page = await ctx.new_page()
    await page.goto(run.base + "/facility")
    await expect(page.locator(".login h1")).to_have_text("设施管理", timeout=15_000)
    await page.fill("input[name=username]", "fiona")
    await page.fill("input[name=password]", PASSWORD)
    await page.click(".login button[type=submit]")
    await expect(page.locator("#who")).to_have_text("fiona · 设施管理员", timeout=15_000)
    await expect(page.locator(".page-title")).to_have_text("设施管理 · 数字孪生")
    await expect(page.locator("#start button[type=submit]")).to_have_text("开始模拟")
    await expect(page.locator("#params legend")).to_have_text("参数", timeout=15_000)
    await expect(page.locator(".runs-table thead th").first).to_have_text("开始时间")
    # no beds admitted: the estimate says so in Chinese (the twin's own reason after the colon)
    await expect(page.locator("#now-state")).to_have_text(re.compile(r"^(正在根据实时床位占用计算…|未能计算：.+)$"))
    assert await page.evaluate(SMALL, "#lang") == []
    assert await serious(page) == [], "facility"
    await page.select_option("#lang", "en")
    await expect(page.locator(".page-title")).to_have_text("Facility · digital twin")
    await expect(page.locator("#who")).to_have_text("fiona · facility manager")
    await expect(page.locator("#params legend")).to_have_text("Parameters")
    await ctx.close()
