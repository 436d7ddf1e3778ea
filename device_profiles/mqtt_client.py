"""The aiomqtt client every SmartWard component uses: aiomqtt's, with a cancellation-safe wait.

aiomqtt waits for SUBACK/PUBACK/connect with ``asyncio.wait_for``. On Python 3.11 that loses a
cancellation which arrives as the awaited operation completes (CPython gh-86296, fixed in 3.12):
the task is left "cancelling" but runs on. A component whose TaskGroup is being stopped then
keeps retrying forever and the process never exits (seen as a hung platform shutdown under load,
right after a QoS 1 publish). ``asyncio.timeout`` does not have that race, so :class:`Client`
waits with it. Behaviour is otherwise aiomqtt's, including ``MqttError("Operation timed out")``,
except that aiomqtt's "There are N pending publish calls" warning starts at 500 in flight, not 10:
a burst of a dozen QoS 1 publishes (retained state at start-up, a drained outbox) is normal.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiomqtt

T = TypeVar("T")


class Client(aiomqtt.Client):
    """``aiomqtt.Client`` whose waits never swallow a cancellation."""

    PENDING_CALLS_WARNING = 500

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending_calls_threshold = self.PENDING_CALLS_WARNING

    async def _wait_for(self, fut: Awaitable[T], timeout: float | None) -> T:  # noqa: ASYNC109 (aiomqtt's signature)
        if timeout is None:
            timeout = self.timeout
        try:
            async with asyncio.timeout(None if timeout == math.inf else timeout):
                return await fut
        except TimeoutError:
            raise aiomqtt.MqttError("Operation timed out") from None
