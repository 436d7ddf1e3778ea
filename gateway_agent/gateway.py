"""A gateway in one call: durable outbox + one publisher (gateway identity), for adapters.

    async with open_outbox("/var/lib/smartward/outbox", "mqtt://gw-3:secret@central:1883") as (sink, drain):
        adapter = Hl7Gateway(decoder, sink, root)   # sink.put(topic, payload, qos) returns once on disk
        async with asyncio.TaskGroup() as tg:
            tg.create_task(drain())                 # publishes until cancelled, reconnecting forever
            ...
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from device_profiles import topics

from .async_outbox import AsyncOutbox
from .outbox import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, FullPolicy, resolve_path
from .publisher import Publisher, PublisherOptions


@contextlib.asynccontextmanager
async def open_outbox(path: str | os.PathLike[str], broker: str, *, root: str = topics.ROOT,
                      client_id: str | None = None, options: PublisherOptions | None = None,
                      max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES,
                      on_full: FullPolicy = "reject") -> AsyncIterator[tuple[AsyncOutbox, Callable[[], Awaitable[None]]]]:
    """Yield ``(outbox, drain)``: ``await outbox.put(topic, payload, qos)`` stores durably, ``drain()``
    runs the publisher (QoS 1, removes entries on PUBACK) until cancelled."""
    # default: stable per outbox (one process owns an outbox), so two gateways on one host never
    # take over each other's MQTT session
    digest = hashlib.sha1(str(resolve_path(path).resolve()).encode()).hexdigest()[:8]
    cid = client_id or f"sw-gw-{os.uname().nodename[:40]}-{digest}"
    opts = replace(options or PublisherOptions(broker=broker, client_id=cid), broker=broker, client_id=cid,
                   root=root, devices=None)
    async with AsyncOutbox(path, max_entries=max_entries, max_bytes=max_bytes, on_full=on_full) as outbox:
        publisher = Publisher(outbox, opts)
        yield outbox, publisher.run
