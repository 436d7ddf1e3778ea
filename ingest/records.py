"""What ingest stores: attributed observations, waveform chunks and alarm events, gathered in batches.

An alarm event is alerting's :class:`device_profiles.AlarmEvent` (validated by its ``from_json``): one
type from the producer to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device_profiles import AlarmEvent, AttributedObservation, Attribution, WaveformChunk

__all__ = ["AlarmEvent", "Batch"]


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
