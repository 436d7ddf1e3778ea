"""A gateway's outbox through a network outage: fill, loss, reconnect and catch-up.

The gateway keeps appending ``inflow`` samples/s (devices * sample rate) to its durable outbox while
the uplink is down; the outbox holds ``capacity`` entries (gateway_agent's default: 2,000,000, policy
``reject``). Once full, every further sample is refused (``drop-oldest`` loses the same number of
older ones instead). The publisher retries with gateway_agent's capped exponential backoff, so it
reconnects at its first attempt after the link is back; then it drains ``drain`` samples/s while new
samples keep arriving, so the backlog shrinks at ``drain - inflow``.

    time until loss   = (capacity - backlog at the start) / inflow
    samples lost      = max(0, disconnected - time until loss) * inflow
    catch-up time     = backlog at reconnect / (drain - inflow)     (inf if drain ≤ inflow)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from gateway_agent import PublisherOptions, backoff_delay

_DEFAULTS = PublisherOptions(broker="mqtt://localhost", client_id="twin")
BACKOFF_INITIAL_S = _DEFAULTS.backoff_initial
BACKOFF_MAX_S = _DEFAULTS.backoff_max


@dataclass(frozen=True, slots=True)
class Fill:
    """One gateway through one outage (seconds and samples)."""

    time_to_full_s: float  # from the start of the outage; inf when nothing flows in
    lost: float  # samples refused (or dropped) because the outbox was full
    backlog: float  # samples pending when the publisher reconnects
    catch_up_s: float  # reconnect -> outbox empty again; inf if the drain cannot outpace the inflow

    @property
    def loses(self) -> bool:
        return self.lost > 0


def fill(capacity: float, inflow: float, disconnected_s: float, drain: float, pending: float = 0.0) -> Fill:
    """The outbox of one gateway disconnected for ``disconnected_s`` (outage + reconnect delay)."""
    if capacity <= 0 or inflow < 0 or disconnected_s < 0 or drain <= 0 or pending < 0:
        raise ValueError("capacity and drain must be positive; inflow, outage and pending not negative")
    room = max(0.0, capacity - pending)
    to_full = room / inflow if inflow > 0 else math.inf
    lost = max(0.0, disconnected_s - to_full) * inflow
    backlog = min(capacity, pending + inflow * disconnected_s)
    catch_up = backlog / (drain - inflow) if drain > inflow else (0.0 if backlog == 0 else math.inf)
    return Fill(to_full, lost, backlog, catch_up)


def reconnect_at(link_up_s: float, rng: random.Random, initial: float = BACKOFF_INITIAL_S,
                 cap: float = BACKOFF_MAX_S) -> float:
    """When the publisher's retry loop (gateway_agent.backoff_delay) first tries after ``link_up_s``.

    The connection is lost at 0 and retried at once, then after each backoff delay; the first
    attempt at or after ``link_up_s`` succeeds.
    """
    t, attempt = 0.0, 0
    while t < link_up_s:
        if initial * 2.0 ** min(attempt, 30) >= cap and link_up_s - t > 4 * cap:
            # saturated: every delay is uniform on [cap/2, cap]; jump over k of them at once (their
            # sum is normal to within a fraction of a second), then step exactly up to the link
            k = int((link_up_s - t - 2 * cap) / cap)
            t += min(rng.gauss(0.75 * cap * k, cap * math.sqrt(k / 48.0)), link_up_s - t - cap)
            attempt += k
        t += backoff_delay(attempt, initial, cap, rng)
        attempt += 1
    return t
