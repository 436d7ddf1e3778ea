"""Republishing the attributed stream (``{root}/wards/{ward}/obs``) with fewer MQTT messages.

Ingest takes device messages a socket read at a time (a read holds up to 256 KiB: hundreds of
messages under load, one when the ward is quiet). Every accepted observation used to be republished
as one MQTT message, so the broker, the worker's own client and every consumer (alerting, the
dashboard hub) handled each message three to five times over. Here the observations taken in one
read are merged per device and attribution into one canonical attributed observation (the same
payload, several samples in arrival order, ``seq`` of the last message; a message may always carry
several samples, DESIGN.md) and published once the read is handled (``loop.call_soon``).

Under a burst (a gateway's backlog after an outage, a load test), reads follow each other within
a millisecond, and merging per read still left one message for every three or four samples: the
broker, the hub and alerting then spent more on the republished stream than ingest did on the
devices' (measured with ``side_by_side.sh``). So flushes are at least ``window_s`` (50 ms) apart:
when the last flush is older than that, the queue leaves right after the read, as before (a quiet
ward's observation is never held back); otherwise it leaves when the window ends. That bounds the
stream to one message per device and attribution per window and worker, and adds at most 50 ms to
an observation's way to alerting and the screens, against an alarm budget of seconds.

Order is kept: whatever else the worker republishes (a device status, a device alarm) first flushes
what is queued (:meth:`flush`), so consumers see a device's messages in the order ingest took them.

An observation alone in its group keeps its original bytes (the device's payload with the attribution
spliced in, not re-encoded; the splice is done only then, at the flush, since under a burst almost
every observation is merged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from device_profiles import AttributedObservation, Attribution, Observation
from device_profiles.canonical import MAX_PAYLOAD_BYTES

Send = Callable[[str, bytes], None]
MAX_MERGED = 500  # device messages per merged message: consumers decode a message whole
# and never more bytes than a consumer decodes (device_profiles.canonical refuses larger payloads): a
# merged message alerting refused would leave its patient unscored
MAX_MERGED_BYTES = MAX_PAYLOAD_BYTES
WINDOW_S = 0.05  # least time between two flushes under a burst


def splice(raw: bytes, who: Attribution) -> bytes:
    """The attributed payload without re-encoding: the validated canonical object plus our keys.

    Our keys come last, so they win over any same-named key a device put in (JSON decoders keep
    the last duplicate); the ids are validated (``[A-Za-z0-9_.-]``) and need no escaping.
    """
    body = raw.rstrip()
    extra = f',"ward":"{who.ward}","bed":"{who.bed}","patient":"{who.patient}"'
    if who.drill:
        extra += f',"drill":"{who.drill}"'
    return body[:-1] + extra.encode() + b"}"


class Republisher:
    """Collects the attributed observations of one socket read; :meth:`flush` publishes them."""

    def __init__(self, send: Send, loop: asyncio.AbstractEventLoop | None = None, window_s: float = WINDOW_S) -> None:
        self._send = send
        self._loop = loop
        self._window = window_s
        self._groups: dict[tuple[str, str, str, str, str, str], list[tuple[AttributedObservation, bytes | None]]] = {}
        self._scheduled: asyncio.Handle | None = None
        self._last = float("-inf")  # loop time of the last flush
        self.messages = 0  # MQTT messages sent (for the counters)

    def obs(self, topic: str, a: AttributedObservation, raw: bytes | None) -> None:
        """Queue one attributed observation for ``topic``. ``raw``: the device's canonical payload when
        ``a`` is that whole message (validated: it is spliced if it leaves alone), else ``None``."""
        w = a.who
        self._groups.setdefault((topic, a.obs.device, w.ward, w.bed, w.patient, w.drill), []).append((a, raw))
        if self._scheduled is None:
            loop = self._loop
            if loop is None:
                try:
                    loop = self._loop = asyncio.get_running_loop()
                except RuntimeError:  # no loop (a synchronous caller): nothing to coalesce with
                    self.flush()
                    return
            wait = self._last + self._window - loop.time()
            self._scheduled = loop.call_soon(self.flush) if wait <= 0 else loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Publish what is queued: one message per group (its samples merged), in first-arrival order."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if not self._groups:
            return
        if self._loop is not None:
            self._last = self._loop.time()
        groups, self._groups = self._groups, {}
        for (topic, *_), items in groups.items():
            if len(items) == 1:
                a, raw = items[0]
                self._send(topic, splice(raw, a.who) if raw is not None else a.encode())
                self.messages += 1
                continue
            for i in range(0, len(items), MAX_MERGED):
                for body in _bounded(items[i:i + MAX_MERGED]):
                    self._send(topic, body)
                    self.messages += 1

    @property
    def pending(self) -> int:
        return sum(len(v) for v in self._groups.values())


def _bounded(items: list[tuple[AttributedObservation, bytes | None]]) -> list[bytes]:
    """``items`` merged into as few messages as fit :data:`MAX_MERGED_BYTES` each (halved until they do;
    a single device message is under the limit: ingest refuses larger ones)."""
    body = _merged(items)
    if len(body) <= MAX_MERGED_BYTES or len(items) == 1:
        return [body]
    half = len(items) // 2
    return _bounded(items[:half]) + _bounded(items[half:])


def _merged(items: list[tuple[AttributedObservation, bytes | None]]) -> bytes:
    first = items[0][0]
    samples = [s for a, _ in items for s in a.obs.samples]
    return AttributedObservation(Observation(first.obs.device, items[-1][0].obs.seq, samples), first.who).encode()
