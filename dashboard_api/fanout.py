"""Websocket fan-out: each screen has a bounded queue of pre-encoded frames and one sender task that
sends everything queued as one websocket message (a JSON array). A screen gets at most one message
per ``MIN_INTERVAL_S`` (20/s) unless an urgent frame (an alarm event) is queued: an idle ward's
update goes out at once, a busy ward's tile updates are coalesced into one message per interval, so
the cost per screen stays flat while every frame is still delivered and alarms never wait."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

MIN_INTERVAL_S = 0.05
MAX_QUEUED = 20_000  # frames; a screen this far behind is disconnected and reconnects with a snapshot


class Screen:
    """One connected websocket client of a ward."""

    def __init__(self, ward: str, username: str) -> None:
        self.ward = ward
        self.username = username
        self.watch: str | None = None  # bed whose waveforms this screen wants
        self.only_patient: str | None = None  # patient portal: only this patient's frames
        self._frames: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._urgent_wake = asyncio.Event()  # cuts a coalescing pause short when an alarm arrives
        self._last_send = 0.0
        self._urgent = False
        self.overflowed = False

    def push(self, frame: bytes, urgent: bool = False) -> None:
        if urgent:
            self._urgent = True
            self._urgent_wake.set()
        if len(self._frames) >= MAX_QUEUED:
            self.overflowed = True
            self._wake.set()
            return
        self._frames.append(frame)
        self._wake.set()

    async def next_message(self) -> str | None:
        """All queued frames as one JSON array text, or ``None`` when this screen overflowed."""
        await self._wake.wait()
        wait = self._last_send + MIN_INTERVAL_S - time.monotonic()
        if wait > 0 and not self._urgent:
            # Coalesce tile updates, but an alarm queued meanwhile goes out at once, not after the pause.
            self._urgent_wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._urgent_wake.wait()
        self._wake.clear()
        self._urgent = False
        self._last_send = time.monotonic()
        if self.overflowed:
            return None
        frames = b",".join(self._frames)
        self._frames.clear()
        return "[" + frames.decode() + "]"


class Fanout:
    def __init__(self) -> None:
        self.screens: dict[str, set[Screen]] = {}
        self.frames_sent = 0

    def join(self, screen: Screen) -> None:
        self.screens.setdefault(screen.ward, set()).add(screen)

    def leave(self, screen: Screen) -> None:
        self.screens.get(screen.ward, set()).discard(screen)

    def count(self) -> int:
        return sum(len(s) for s in self.screens.values())

    def send(self, ward: str, frame: bytes, bed_watch: str | None = None, patient: str = "",
             urgent: bool = False) -> None:
        """Queue ``frame`` for every screen of ``ward`` (only those watching ``bed_watch`` if given;
        patient screens only get frames of their own ``patient``)."""
        for s in self.screens.get(ward, ()):
            if (bed_watch is None or s.watch == bed_watch) and (s.only_patient is None or s.only_patient == patient):
                s.push(frame, urgent)
                self.frames_sent += 1
