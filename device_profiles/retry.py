"""The one retry pacing of the platform: capped exponential backoff.

    backoff = Backoff(initial=0.5, cap=30.0)
    while True:
        try:
            ...                      # connect / store / restart
            backoff.reset()          # it worked: the next failure waits ``initial`` again
        except SomeError as exc:
            log.warning("...; retrying in %.1f s", backoff.delay)
            await backoff.wait()     # sleeps ``delay``, then doubles it up to ``cap``

Components keep their own log lines and what counts as success; only the pacing lives here.
"""

from __future__ import annotations

import asyncio


class Backoff:
    """``delay`` starts at ``initial``; each :meth:`wait` sleeps it and doubles it, capped at ``cap``."""

    __slots__ = ("cap", "delay", "initial")

    def __init__(self, initial: float = 0.5, cap: float = 30.0) -> None:
        if not 0 < initial <= cap:
            raise ValueError(f"backoff needs 0 < initial <= cap, got {initial} and {cap}")
        self.initial = initial
        self.cap = cap
        self.delay = initial

    def reset(self) -> None:
        self.delay = self.initial

    def step(self) -> float:
        """The delay to wait now; the next one doubles (capped)."""
        d = self.delay
        self.delay = min(self.delay * 2, self.cap)
        return d

    async def wait(self) -> None:
        await asyncio.sleep(self.step())
