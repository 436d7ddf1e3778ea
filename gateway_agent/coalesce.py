"""Backlog batching: several pending ``obs`` entries of one device become one canonical message.

After an outage the outbox holds thousands of one-sample messages per device. The canonical payload
allows several samples per message, so the publisher sends them as a few large messages instead:
the backlog drains at the broker's message rate times the samples per message. Per-device order is
kept (a group is sent at the position of its first entry and closed by any other kind of message of
that device); the merged message carries the seq of its LAST entry, so seqs stay increasing.
In steady state each peek sees one entry per device and nothing is merged (no added latency).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .outbox import Entry

MAX_MESSAGE_BYTES = 60_000  # below the ingest's 64 KiB limit


@dataclass(slots=True)
class Outgoing:
    """One MQTT message to publish and the outbox entries it delivers."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    ids: list[int]
    samples: list[Any] = field(default_factory=list)  # merged obs only
    head: dict[str, Any] | None = None
    size: int = 0
    acked: bool = False  # set by the publisher on PUBACK

    def finish(self) -> None:
        if self.head is not None and len(self.ids) > 1:
            self.payload = orjson.dumps({**self.head, "samples": self.samples})
        self.samples = []
        self.head = None


def _mergeable(e: Entry) -> dict[str, Any] | None:
    if e.kind != "obs" or e.seq is None or e.qos != 1 or e.retain:
        return None
    try:
        body = orjson.loads(e.payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("samples"), list):
        return None
    return body


def coalesce(entries: Sequence[Entry], max_samples: int = 50, max_bytes: int = MAX_MESSAGE_BYTES) -> list[Outgoing]:
    """Group ``entries`` (oldest first) into messages; ``max_samples <= 1`` sends them one by one."""
    out: list[Outgoing] = []
    open_: dict[str, Outgoing] = {}
    for e in entries:
        body = _mergeable(e) if max_samples > 1 else None
        group = open_.get(e.device)
        if body is None:
            if group is not None:
                group.finish()
                del open_[e.device]
            out.append(Outgoing(e.topic, e.payload, e.qos, e.retain, [e.id]))
            continue
        samples = body["samples"]
        if (group is not None and group.topic == e.topic and len(group.samples) + len(samples) <= max_samples
                and group.size + len(e.payload) <= max_bytes):
            group.samples.extend(samples)
            group.ids.append(e.id)
            group.size += len(e.payload)
            group.head = {**body, "samples": None}
            continue
        if group is not None:
            group.finish()
        group = Outgoing(e.topic, e.payload, e.qos, e.retain, [e.id], list(samples), {**body, "samples": None},
                         len(e.payload))
        open_[e.device] = group
        out.append(group)
    for g in open_.values():
        g.finish()
    return out
