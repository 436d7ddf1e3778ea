"""Which devices a gateway carries, and how much data flows through it."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Device, Gateway, WardModel


@dataclass(frozen=True, slots=True)
class Link:
    """A gateway with the devices it carries that are at occupied beds (the ones sending data)."""

    gateway: Gateway
    devices: tuple[Device, ...]

    @property
    def inflow(self) -> float:
        """Samples per second into the gateway's outbox."""
        return len(self.devices) * self.gateway.sample_rate_hz


def links(ward: WardModel) -> list[Link]:
    """Each gateway with its sending devices: those listed in ``devices`` plus those at its ``beds``.

    Devices at empty beds are on standby and send nothing, so they are left out.
    """
    occupied = {b.id for b in ward.occupied_beds()}
    out: list[Link] = []
    for g in ward.gateways:
        listed, beds = set(g.devices), set(g.beds)
        devs = tuple(d for d in ward.devices if (d.id in listed or d.bed in beds) and d.bed in occupied)
        out.append(Link(g, devs))
    return out


def gateway_of(ward: WardModel) -> dict[str, str]:
    """Device id -> the id of the (first) gateway that carries it."""
    out: dict[str, str] = {}
    for link in links(ward):
        for d in link.devices:
            out.setdefault(d.id, link.gateway.id)
    return out
