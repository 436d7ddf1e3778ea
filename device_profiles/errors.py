"""Root exceptions of the device_profiles package."""

from __future__ import annotations


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
