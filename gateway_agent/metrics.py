"""Prometheus metrics of a gateway's outbox and publishers (exposed by the process's ``/metrics``,
e.g. ``smartward demo``; a gateway without HTTP reports the same figures in its logs/summary).

The MLLP listener counts what it refuses (``smartward_gateway_mllp_refused_total{reason}``) and the
connections it holds, so an unlisted sender or a flood shows up beside the outbox figures. The HL7
adapter counts values it cannot map, per code (``smartward_gateway_hl7_unmapped_total{code}``).

Fill level is what the digital twin's network-outage drill models: ``pending / capacity``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from .outbox import OutboxStats

PENDING = Gauge("smartward_gateway_outbox_pending", "Messages stored in the outbox, not yet acknowledged by the broker",
                multiprocess_mode="livesum")
FILL = Gauge("smartward_gateway_outbox_fill_ratio", "Outbox fill level 0..1 (max of message and byte ratios)",
             multiprocess_mode="livemax")
REFUSED = Gauge("smartward_gateway_outbox_refused", "Messages refused because the outbox was full (policy reject)",
                multiprocess_mode="livesum")
DROPPED = Gauge("smartward_gateway_outbox_dropped", "Oldest messages dropped to make room (policy drop-oldest)",
                multiprocess_mode="livesum")
DELIVERED = Gauge("smartward_gateway_delivered", "Outbox entries acknowledged by the broker (PUBACK) since start",
                  multiprocess_mode="livesum")
CONNECTED = Gauge("smartward_gateway_connections_up", "Publisher MQTT connections currently up",
                  multiprocess_mode="livesum")
MLLP_CONNECTIONS = Gauge("smartward_gateway_mllp_connections", "MLLP connections currently open",
                         multiprocess_mode="livesum")
MLLP_REFUSED = Counter(
    "smartward_gateway_mllp_refused",
    "MLLP messages or connections refused, by reason: unknown_peer, device_not_allowed (answered AR), oversize "
    "(AR, then closed), frame_timeout (closed), connection_cap (closed before reading)", ["reason"])

HL7_UNMAPPED = Counter(
    "smartward_gateway_hl7_unmapped",
    "HL7 OBX values not stored because their code is not in the signal catalogue (nor in the profile's "
    "hl7.codes), by code^name (after 200 distinct codes, the rest are counted as 'other')", ["code"])


def update(stats: OutboxStats, delivered: int, connected: int) -> None:
    PENDING.set(stats.pending)
    FILL.set(stats.fill)
    REFUSED.set(stats.refused)
    DROPPED.set(stats.dropped)
    DELIVERED.set(delivered)
    CONNECTED.set(connected)
