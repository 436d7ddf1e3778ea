"""Duplicate detection by (device, seq): a bounded window of recently seen seqs per device.

Used for the ``duplicate`` count only: storage is idempotent anyway, so a duplicate's points are
still written (a device that restarts its ``seq`` at 0 must not lose data). With several workers,
each sees only its share of the stream, so duplicates routed to another worker count as ``stored``.
"""

from __future__ import annotations

from collections import deque


class SeqWindow:
    def __init__(self, per_device: int = 4096, max_devices: int = 100_000) -> None:
        self.per_device = per_device
        self.max_devices = max_devices
        self._seen: dict[str, tuple[set[int], deque[int]]] = {}

    def seen(self, device: str, seq: int) -> bool:
        """True when (device, seq) was seen before (and remember it otherwise)."""
        entry = self._seen.get(device)
        if entry is None:
            if len(self._seen) >= self.max_devices:
                self._seen.clear()
            entry = self._seen[device] = (set(), deque())
        s, order = entry
        if seq in s:
            return True
        s.add(seq)
        order.append(seq)
        if len(order) > self.per_device:
            s.discard(order.popleft())
        return False
