"""The outbox for asyncio code: every call runs on one dedicated thread (SQLite's fsync stays off
the event loop), and publishers ``await wait_pending()`` instead of polling.

``await outbox.put(topic, payload, qos)`` is the :class:`~gateway_agent.hl7_gateway.Sink` the HL7
adapter needs: it returns once the message is on disk.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from .outbox import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, Entry, FullPolicy, Message, Outbox, OutboxStats

P = ParamSpec("P")
T = TypeVar("T")


class AsyncOutbox:
    def __init__(self, path: str | os.PathLike[str], *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES, on_full: FullPolicy = "reject") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._sync: Outbox | None = None
        self._args: dict[str, Any] = {"max_entries": max_entries, "max_bytes": max_bytes, "on_full": on_full}
        self._path = path
        self._listeners: list[asyncio.Event] = []

    @property
    def sync(self) -> Outbox:
        if self._sync is None:
            raise RuntimeError("AsyncOutbox is not open (use `async with` or await open())")
        return self._sync

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def open(self) -> AsyncOutbox:
        self._sync = await self._call(lambda: Outbox(self._path, **self._args))
        return self

    async def close(self) -> None:
        if self._sync is not None:
            await self._call(self._sync.close)
            self._sync = None
        self._pool.shutdown(wait=True)

    async def __aenter__(self) -> AsyncOutbox:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- producers -----------------------------------------------------------------------------
    async def append(self, messages: Sequence[Message]) -> list[int]:
        """Store durably (one fsync for the batch); returns the seqs. Raises ``OutboxFull``."""
        seqs = await self._call(self.sync.append, messages)
        self._notify()
        return seqs

    async def put(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """The HL7 adapter's sink: store an encoded message; returns once it is on disk."""
        await self._call(self.sync.put, topic, payload, qos)
        self._notify()

    # -- publishers ----------------------------------------------------------------------------
    def add_listener(self, event: asyncio.Event) -> None:
        """``event`` is set whenever something is appended (a publisher clears it before it peeks)."""
        self._listeners.append(event)

    def _notify(self) -> None:
        for ev in self._listeners:
            ev.set()

    async def peek(self, limit: int = 500, devices: Iterable[str] | None = None, after_id: int = 0) -> list[Entry]:
        devs = None if devices is None else tuple(devices)
        return await self._call(self.sync.peek, limit, devs, after_id)

    async def ack(self, ids: Sequence[int]) -> None:
        await self._call(self.sync.ack, list(ids))

    def stats(self) -> OutboxStats:
        """Counters kept in memory: cheap, safe to call from the loop."""
        return self.sync.stats()

    def next_seq(self, device: str) -> int:
        return self.sync.next_seq(device)
