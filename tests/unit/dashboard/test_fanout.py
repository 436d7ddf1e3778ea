"""Fan-out: every frame reaches every screen, coalesced per interval; alarms skip the wait; a screen
that falls too far behind is cut off (it reconnects for a fresh snapshot) instead of growing memory."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from dashboard_api import fanout
from dashboard_api.fanout import Fanout, Screen


async def test_all_frames_reach_all_screens_in_order() -> None:
    f = Fanout()
    screens = [Screen("w1", f"u{i}") for i in range(3)]
    other = Screen("w2", "x")
    for s in [*screens, other]:
        f.join(s)
    for k in range(100):
        f.send("w1", orjson.dumps({"k": k}))
    for s in screens:
        got: list[int] = []
        while len(got) < 100:
            text = await asyncio.wait_for(s.next_message(), 1)
            assert text is not None
            got += [x["k"] for x in orjson.loads(text)]
        assert got == list(range(100))
    assert other._frames == fanout.deque()


async def test_patient_screens_only_get_their_patient() -> None:
    f = Fanout()
    s = Screen("home", "pat")
    s.only_patient = "p1"
    f.join(s)
    f.send("home", b'{"p":"p2"}', patient="p2")
    f.send("home", b'{"p":"p1"}', patient="p1")
    assert await asyncio.wait_for(s.next_message(), 1) == '[{"p":"p1"}]'


async def test_urgent_frame_is_not_held_back() -> None:
    s = Screen("w1", "u")
    s.push(b"1")
    assert await s.next_message() == "[1]"
    s.push(b"2", urgent=True)  # within MIN_INTERVAL_S of the last send, but urgent
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await s.next_message() == "[2]"
    assert loop.time() - t0 < fanout.MIN_INTERVAL_S


async def test_urgent_frame_cuts_a_coalescing_pause_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "MIN_INTERVAL_S", 5.0)  # a pause far longer than the test may take
    s = Screen("w1", "u")
    s.push(b"1")
    assert await s.next_message() == "[1]"
    s.push(b"2")  # a tile update: the sender pauses to coalesce
    waiting = asyncio.create_task(s.next_message())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    s.push(b"3", urgent=True)  # an alarm arrives during the pause
    assert await asyncio.wait_for(waiting, 1) == "[2,3]"


async def test_overflow_cuts_the_screen_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "MAX_QUEUED", 5)
    s = Screen("w1", "u")
    for _ in range(6):
        s.push(b"{}")
    assert await s.next_message() is None
