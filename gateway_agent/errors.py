"""The gateway's one root exception and its specific subclasses."""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error raised by ``gateway_agent`` (third-party errors are wrapped in it)."""


class OutboxError(GatewayError):
    """The durable outbox cannot be opened or written (disk, corruption, schema)."""


class OutboxFull(OutboxError):
    """The outbox is at capacity and its policy is ``reject``: the new messages were NOT accepted."""


class OutboxLocked(OutboxError):
    """Another process already owns this outbox (two publishers would send every message twice)."""


class PublisherError(GatewayError):
    """Bad publisher options (URL, TLS files) or a broker that refuses our credentials."""


class ScenarioError(GatewayError):
    """An unknown scenario name or bad simulator options."""


class MllpError(GatewayError):
    """The MLLP listener cannot start as configured (TLS files, listen address)."""


class PeerListError(MllpError):
    """The ``--mllp-peers`` file is missing or invalid; the message names each line and key."""
