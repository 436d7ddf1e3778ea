"""device_profiles.mqtt_client.Client: aiomqtt's waits without Python 3.11's lost cancellation.

The race is made deterministic by counting loop turns: the awaited operation completes, then the
task is cancelled before (or just as) it resumes. A cancel that was accepted (``cancel()`` returned
True) must end the task with CancelledError; plain aiomqtt on 3.11 returns normally for 0-2 turns
and the task runs on "cancelling" (a platform shutdown then hung)."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from device_profiles.mqtt_client import Client


@pytest.mark.parametrize("turns", range(5))
async def test_a_cancel_arriving_as_the_operation_completes_is_never_lost(turns: int) -> None:
    client = Client("127.0.0.1", 1)  # never connected: only the wait is exercised
    done = asyncio.Event()
    task = asyncio.create_task(client._wait_for(done.wait(), timeout=10))
    for _ in range(3):
        await asyncio.sleep(0)
    done.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    accepted = task.cancel()
    if accepted:
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        assert await task is True


async def test_a_wait_that_runs_out_is_aiomqtts_timeout_error() -> None:
    client = Client("127.0.0.1", 1)
    with pytest.raises(aiomqtt.MqttError, match="Operation timed out"):
        await client._wait_for(asyncio.Event().wait(), timeout=0.01)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_burst_of_publishes_is_not_warned_about() -> None:
    assert Client("127.0.0.1", 1).pending_calls_threshold == 500  # aiomqtt warns from 10 in flight
