"""What a composed platform shares with its parts, as Protocols: the components it runs and the
services (config, vitals store, ADT attributions, readiness) the HTTP app and the hub read.

``smartward.compose.Platform`` implements :class:`PlatformServices`; ``dashboard_api`` types its
``platform`` with it. It lives here, the lowest package that owns the store and attribution types,
so both can import it without an upward import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from device_profiles.platform_settings import PlatformSettings

if TYPE_CHECKING:
    from .attribution import Attributions
    from .stores import VitalsStore


@runtime_checkable
class Component(Protocol):
    """One part of the platform, run in the composition's TaskGroup."""

    name: str

    async def run(self) -> None:
        """Run until cancelled; on cancellation finish in-flight work (flush, ack) and return."""

    def ready(self) -> bool: ...


class PlatformServices(Protocol):
    """What the HTTP app, the hub and the alerting hook receive from the composition."""

    components: list[Component]

    @property
    def config(self) -> PlatformSettings: ...

    @property
    def store(self) -> VitalsStore: ...

    @property
    def attributions(self) -> Attributions: ...

    async def readiness(self) -> dict[str, bool]:
        """Each check (broker, store, every component) by name."""
        ...
