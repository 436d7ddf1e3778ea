"""The decoder hook: how ingest turns a message on a non-canonical topic into canonical data.

Ingest decodes SmartWard's own topics itself (``{root}/devices/{id}/obs|wave|status|alarm``, the
fast path). Every other topic is offered to the :class:`Decoder` objects it was given, in order; the
first one whose ``decode`` does not return ``None`` owns the message. A :class:`Decoder`:

- ``topic_filters()`` - the MQTT filters it needs (plain filters; ingest adds ``$share/ingest/``);
- ``version`` - an int that changes whenever ``topic_filters()`` may have changed: workers compare
  it after every message batch and (un)subscribe, so a new profile takes effect without a restart;
- ``decode(topic, payload, received_ms)`` - ``None`` when the topic is not its own, else a
  :class:`device_profiles.Decoded` (observation, device alarms, status); raise
  :class:`device_profiles.PayloadError` naming the field to reject the message (dead letter).

:class:`RegistryDecoder` adapts :class:`device_profiles.ProfileRegistry` (vendor profiles, issue 3).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from device_profiles import Decoded, ProfileRegistry


@runtime_checkable
class Decoder(Protocol):
    @property
    def version(self) -> int: ...

    def topic_filters(self) -> list[str]: ...

    def decode(self, topic: str, payload: bytes, received_ms: int) -> Decoded | None: ...


class RegistryDecoder:
    """Vendor topics by device profile; the canonical profile is left to ingest's fast path."""

    def __init__(self, registry: ProfileRegistry) -> None:
        self.registry = registry

    @property
    def version(self) -> int:
        return self.registry.version

    def topic_filters(self) -> list[str]:
        return self.registry.subscriptions(include_canonical=False)

    def decode(self, topic: str, payload: bytes, received_ms: int) -> Decoded | None:
        if self.registry.resolve(topic) is None:
            return None
        return self.registry.decode(topic, payload, received_ms)
