"""Root exceptions of the ingest package; third-party errors are wrapped at the boundary."""

from __future__ import annotations

from device_profiles.errors import SettingsError


class IngestError(Exception):
    """Root of every error raised by ingest."""


class ConfigError(IngestError, SettingsError):
    """A store URL, state URL or option is wrong (the message names it)."""


class StoreError(IngestError):
    """A vitals store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or answered 5xx: retry later (the batch is spooled)."""


class StoreRejected(StoreError):
    """The store refused the data itself (4xx): retrying the same bytes cannot help."""


class AttributionError(IngestError):
    """An ADT / binding operation is inconsistent (e.g. the bed is occupied)."""
