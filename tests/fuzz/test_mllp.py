"""Target 3: MLLP framing. A real :class:`gateway_agent.mllp.MllpServer` on loopback is fed arbitrary
byte streams (frames, junk before start blocks, partial and oversized frames, random bytes) written
in arbitrary chunks: every complete frame is handed on exactly (or refused as oversized) and answered
with one framed reply, nothing over the limit reaches the handler, and the server closes the
connection promptly after the sender's EOF (a hang fails the test after 5 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings

from benchmarks.fuzz_targets import END, MLLP_LIMIT, START, MllpHarness, mllp_streams
from tests.fuzz import FUZZ_PROFILE


@pytest.fixture(scope="module")
def mllp() -> Iterator[tuple[asyncio.AbstractEventLoop, MllpHarness]]:
    loop = asyncio.new_event_loop()
    harness = MllpHarness()
    loop.run_until_complete(harness.start())
    try:
        yield loop, harness
    finally:
        loop.run_until_complete(harness.close())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def test_frames_in_one_byte_chunks_are_each_answered(mllp: tuple[asyncio.AbstractEventLoop, MllpHarness]) -> None:
    loop, h = mllp
    data = START + b"MSH|1" + END + b"junk" + START + b"MSH|2" + END + START + b"A" * (2 * MLLP_LIMIT) + END
    assert loop.run_until_complete(h.check(data, [1] * 64)) == "1 oversized"
    assert h.received == [b"MSH|1", b"MSH|2"]


@settings(settings.get_profile(FUZZ_PROFILE), max_examples=150)
@given(mllp_streams())
@example((START + b"x" * (MLLP_LIMIT + 1) + END + START + b"MSH|after" + END, [MLLP_LIMIT // 2, 3]))
@example((START + b"\x1c" + END + b"\x0b\x0b" + END, [1, 1, 1]))
def test_mllp_frames_or_refuses_and_never_hangs(mllp: tuple[asyncio.AbstractEventLoop, MllpHarness],
                                               stream: tuple[bytes, list[int]]) -> None:
    loop, h = mllp
    data, cuts = stream
    loop.run_until_complete(h.check(data, cuts))
