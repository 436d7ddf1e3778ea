"""gateway_agent: device simulator, durable outbox and MQTT publisher (adapters such as HL7 build on them).

Public API (see docs/architecture.md, "gateway_agent"):
- :class:`Outbox` / :class:`AsyncOutbox` — SQLite WAL store-and-forward with per-device ``seq``;
- :class:`Publisher` + :class:`PublisherOptions` — QoS 1 MQTT v5 (or 3.1.1) publisher draining an outbox;
- :func:`open_outbox` — outbox + gateway-identity publisher for adapters;
- :class:`SimulatedWard` / :class:`WardOptions` (pure, deterministic) and :class:`Simulation` (runs a ward
  through outbox and publishers).
"""

from .async_outbox import AsyncOutbox
from .coalesce import Outgoing, coalesce
from .errors import (
    GatewayError,
    MllpError,
    OutboxError,
    OutboxFull,
    OutboxLocked,
    PeerListError,
    PublisherError,
    ScenarioError,
)
from .gateway import open_outbox
from .outbox import Entry, Message, Outbox, OutboxStats, resolve_path
from .physiology import Baseline, Effect, Patient, Vitals
from .publisher import Publisher, PublisherOptions, backoff_delay
from .scenarios import NAMES as SCENARIOS
from .simulator import Simulation, SimulationOptions, SimulationSummary
from .ward import SimulatedWard, Tick, WardOptions

__all__ = [
    "SCENARIOS",
    "AsyncOutbox",
    "Baseline",
    "Effect",
    "Entry",
    "GatewayError",
    "Message",
    "MllpError",
    "Outbox",
    "OutboxError",
    "OutboxFull",
    "OutboxLocked",
    "OutboxStats",
    "Outgoing",
    "Patient",
    "PeerListError",
    "Publisher",
    "PublisherError",
    "PublisherOptions",
    "ScenarioError",
    "SimulatedWard",
    "Simulation",
    "SimulationOptions",
    "SimulationSummary",
    "Tick",
    "Vitals",
    "WardOptions",
    "backoff_delay",
    "coalesce",
    "open_outbox",
    "resolve_path",
]
