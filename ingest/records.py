"""What ingest stores: attributed observations, waveform chunks and alarm events, gathered in batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_profiles import AttributedObservation, Attribution, PayloadError, WaveformChunk, check_id
from device_profiles.canonical import check_time

ALARM_TAGS = ("ward", "bed", "patient", "device", "kind", "signal", "priority", "event", "drill")


@dataclass(slots=True)
class AlarmEvent:
    """An alarm state change from ``{root}/alarms/{ward}/{alarm_id}`` (see docs/architecture.md)."""

    id: str
    t: int
    tags: dict[str, str]  # ward, bed, patient, device, kind, signal, priority, event, drill ('' = none)
    state: str
    value: float | None
    reason: str
    by: str
    escalation_level: int

    @classmethod
    def from_json(cls, msg: Any, now: int) -> AlarmEvent:
        """Validate an alarm event published by alerting; :class:`PayloadError` names the field."""
        if not isinstance(msg, dict):
            raise PayloadError("$", "alarm event must be a JSON object")
        alarm_id = check_id(msg.get("id"), "id")  # type: ignore[arg-type]
        t = check_time(msg.get("t"), "t", now)
        tags: dict[str, str] = {}
        for key in ALARM_TAGS:
            v = msg.get(key)
            if v is None or v == "":
                tags[key] = ""
            else:
                tags[key] = check_id(v, key)
        if not tags["event"]:
            raise PayloadError("event", "missing")
        state = msg.get("state") or ""
        if not isinstance(state, str) or len(state) > 32:
            raise PayloadError("state", f"{state!r} is not a state")
        value = msg.get("value")
        if value is not None and (type(value) not in (int, float) or value != value or value in (float("inf"), float("-inf"))):
            raise PayloadError("value", f"{value!r} is not a finite number")
        reason = msg.get("reason") or ""
        by = msg.get("by") or ""
        if not isinstance(reason, str) or len(reason) > 1024:
            raise PayloadError("reason", "must be a string of at most 1024 characters")
        if not isinstance(by, str) or len(by) > 128:
            raise PayloadError("by", "must be a string of at most 128 characters")
        level = msg.get("escalation_level") or 0
        if type(level) is not int or not 0 <= level <= 100:
            raise PayloadError("escalation_level", f"{level!r} is not an integer 0..100")
        return cls(alarm_id, t, tags, state, None if value is None else float(value), reason, by, level)


@dataclass(slots=True)
class Batch:
    """Records waiting to be written together; ``lines`` counts points (one per sample/chunk/event)."""

    obs: list[AttributedObservation] = field(default_factory=list)
    waves: list[tuple[WaveformChunk, Attribution]] = field(default_factory=list)
    alarms: list[AlarmEvent] = field(default_factory=list)
    lines: int = 0

    def add_obs(self, a: AttributedObservation) -> None:
        self.obs.append(a)
        self.lines += len(a.obs.samples)

    def add_wave(self, chunk: WaveformChunk, who: Attribution) -> None:
        self.waves.append((chunk, who))
        self.lines += 1

    def add_alarm(self, ev: AlarmEvent) -> None:
        self.alarms.append(ev)
        self.lines += 1

    def __bool__(self) -> bool:
        return bool(self.lines)
