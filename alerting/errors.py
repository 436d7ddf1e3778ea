"""The alerting package's one root exception and its specialisations."""

from __future__ import annotations

from device_profiles.errors import SettingsError


class AlertingError(Exception):
    """Root of every error raised by :mod:`alerting`."""


class ConfigError(AlertingError, SettingsError):
    """An alarm configuration (``alarms.yaml``) is invalid; the message names the field."""


class InputError(AlertingError):
    """A value handed to the engine (NEWS2 input, spot observation, command, recording) is invalid.

    ``field`` names what is wrong, so callers can report it (``{"error": …, "field": …}``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StateError(AlertingError):
    """The relational state store (alarms, events, overrides, policies) failed."""
