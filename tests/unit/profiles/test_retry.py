"""device_profiles.retry.Backoff: doubles from initial up to the cap, reset starts again, bad bounds refused."""

from __future__ import annotations

import pytest

from device_profiles.retry import Backoff


def test_doubles_up_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, 3.0)
    assert [b.step() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    b.reset()
    assert b.delay == 0.5 and b.step() == 0.5 and b.delay == 1.0


@pytest.mark.parametrize(("initial", "cap"), [(0, 1), (-1, 1), (2, 1)])
def test_bad_bounds_are_refused(initial: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(initial, cap)


async def test_wait_sleeps_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    monkeypatch.setattr("device_profiles.retry.asyncio.sleep", sleep)
    b = Backoff(1.0, 4.0)
    for _ in range(4):
        await b.wait()
    assert slept == [1.0, 2.0, 4.0, 4.0]
