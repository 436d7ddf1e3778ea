"""Stopping the platform (or any component) a test started in its own loop."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any


async def stop_task(task: asyncio.Task[Any], what: str, limit_s: float = 30.0) -> None:
    """Cancel ``task`` and wait for it, at most ``limit_s``: a component that ignores the cancel
    fails the test naming the tasks still running (with their stacks) instead of hanging it."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=limit_s)
    if not done:
        out = io.StringIO()
        for t in asyncio.all_tasks():
            if t is not asyncio.current_task():
                print(f"- {t.get_name()}: {t!r}", file=out)
                t.print_stack(limit=8, file=out)
        raise AssertionError(f"{what} did not stop within {limit_s:.0f} s of being cancelled; still running:\n"
                             f"{out.getvalue()}")
    with contextlib.suppress(asyncio.CancelledError):
        await task
