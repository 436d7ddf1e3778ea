"""Per-patient state and alarm conditions: the bridge from "this condition holds" to the lifecycle.

A condition is keyed ``(patient, kind, signal, family)``; it must hold ``delay_s`` (since it was first
seen, or since a nurse cleared its alarm) before :class:`~alerting.lifecycle.Lifecycle` raises it,
and ending it ends (or un-latches) the alarm. ``watch`` remembers which (patient, signal) pairs have
technical conditions pending or open, so the hot path skips the end checks for everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_profiles import Attribution

from .anomaly import Protected
from .events import Alarm, AlarmEvent
from .lifecycle import Key, Lifecycle
from .news2 import News2Result
from .technical import Reading

TECHNICAL_SIGNAL_CODES = ("quality", "artefact", "stale")


@dataclass(slots=True)
class Patient:
    """What the engine remembers about one patient (or one device at a bed with nobody admitted)."""

    key: str
    who: Attribution
    device: str
    last: dict[str, Reading] = field(default_factory=dict)
    spot: dict[str, tuple[int, Any]] = field(default_factory=dict)  # consciousness, supplemental_o2, scale
    news2: News2Result | None = None
    news2_dirty: bool = False
    news2_low_since: int = -1
    param_scores: dict[str, int | None] = field(default_factory=dict)  # NEWS2 score of each latest value
    window_start: int = -1
    window: dict[str, list[float]] = field(default_factory=dict)
    detector: Protected | None = None
    normal_windows: int = 0
    # expired signals whose "no data" alarm waits: (last value's time, last time a cause explained it)
    stale_since: dict[str, tuple[int, int]] = field(default_factory=dict)
    # sampling: the last gap between two samples of a signal and the staleness horizon it gives (ms)
    gaps: dict[str, int] = field(default_factory=dict)
    horizon: dict[str, int] = field(default_factory=dict)


class Conditions:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.pending: dict[Key, int] = {}
        self.watch: set[tuple[str, str]] = set()

    def active(self, key: Key) -> bool:
        """Pending or open."""
        return key in self.pending or key in self.lifecycle.by_key

    def set(self, p: Patient, kind: str, signal: str | None, code: str, on: bool, t: int, delay_s: float,
            priority: str = "low", reason: str = "", value: float | None = None,
            end_reason: str = "condition ended") -> list[AlarmEvent]:
        """The condition holds (``on``) or not at ``t``; ``{held}`` in ``reason`` becomes " for N s".
        ``value`` is the alarm's current value (when ``on``) or the value that ended the condition."""
        key: Key = (p.key, kind, signal, code.split(":")[0])
        if not on:
            self.pending.pop(key, None)
            return self.lifecycle.end_condition(key, t, end_reason, value) if key in self.lifecycle.by_key else []
        if kind == "technical" and signal is not None:
            self.watch.add((p.key, signal))
        since = self.pending.setdefault(key, t)
        cleared = self.lifecycle.cleared_at.get(key)
        if cleared is not None and since < cleared:
            since = self.pending[key] = cleared
        held = t - since
        if held < delay_s * 1000:
            return []
        if "{held}" in reason:
            reason = reason.replace("{held}", f" for {held / 1000:.0f} s" if held >= 1000 else "")
        proto = Alarm("", p.who.ward, p.who.bed, p.who.patient, p.device, kind, signal, code, priority, t,
                      reason, value, drill=p.who.drill)
        return self.lifecycle.assert_condition(proto, t)

    def end_if_open(self, p: Patient, kind: str, signal: str | None, code: str, t: int,
                    reason: str, value: float | None = None) -> list[AlarmEvent]:
        if self.active((p.key, kind, signal, code)):
            return self.set(p, kind, signal, code, False, t, 0, value=value, end_reason=reason)
        return []

    def unwatch_if_idle(self, p: Patient, signal: str) -> None:
        if not any(self.active((p.key, "technical", signal, c)) for c in TECHNICAL_SIGNAL_CODES):
            self.watch.discard((p.key, signal))
