"""The dashboard's root exception and its HTTP-facing subclasses."""

from __future__ import annotations

from device_profiles.errors import SettingsError


class DashboardError(Exception):
    """Root exception of ``dashboard_api``."""


class ConfigError(DashboardError, SettingsError):
    """The API cannot start with this configuration (e.g. a placeholder secret in production)."""


class AuthError(DashboardError):
    """Bad credentials, a bad or expired token, or a locked account."""


class AuditError(DashboardError):
    """The audit log could not be written or read."""
