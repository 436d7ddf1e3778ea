"""Root exceptions of the device_profiles package."""

from __future__ import annotations


class SettingsError(Exception):
    """A setting (``SMARTWARD_*`` variable, option or configuration file) is refused; the message names it.

    Not a :class:`ProfileError`: the shared base of every package's ``ConfigError``
    (``dashboard_api.ConfigError``, ``ingest.ConfigError``, ``alerting.ConfigError``), so a command can
    refuse any of them in one place while ``from <package> import ConfigError`` stays that package's own.
    """


class ProfileError(Exception):
    """Root of every error raised by device_profiles."""


class PayloadError(ProfileError):
    """A device payload was rejected.

    ``field`` names the offending part of the payload (``samples[1].spo2``, ``device``, ``$``
    for the whole message) so that dead letters and API errors say exactly what is wrong.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
