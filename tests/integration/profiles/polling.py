"""Polling with a deadline (the only synchronisation these tests use; never fixed sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def until(cond: Callable[[], Any], what: str, deadline_s: float = 30,
                every: Callable[[], Awaitable[Any]] | None = None) -> Any:
    """Poll ``cond`` (in a thread) until truthy and return its value; ``every`` runs before each poll."""
    try:
        async with asyncio.timeout(deadline_s):
            while True:
                if every is not None:
                    await every()
                got = await asyncio.to_thread(cond)
                if got:
                    return got
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out after {deadline_s}s waiting for: {what}") from None
