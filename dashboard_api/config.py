"""API settings (env prefix ``SMARTWARD_``): the JWT secret, token lifetimes, lockout policy.

A secret left at a placeholder refuses to start outside development; in development it is replaced
by a random per-process secret (tokens die with the process) and a warning is logged.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

log = logging.getLogger(__name__)
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})


class _EnvSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTWARD_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "development"
    secret_key: str = "changethis"
    access_token_minutes: float = 15.0
    refresh_token_hours: float = 12.0


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """What the HTTP app needs beyond the platform. Build with :func:`load_api_config` or directly."""

    secret_key: str
    environment: str = "development"
    access_ttl_s: float = 15 * 60
    refresh_ttl_s: float = 12 * 3600
    max_failures: int = 5  # failed logins per account before it is locked
    lockout_s: float = 15 * 60
    ip_failures_per_minute: int = 30  # failed logins per client address per minute

    def __post_init__(self) -> None:
        if len(self.secret_key) < 16 or self.secret_key in PLACEHOLDER_SECRETS:
            raise ConfigError("the JWT secret must be at least 16 characters and not a placeholder")


def load_api_config(environment: str | None = None, secret_key: str | None = None) -> ApiConfig:
    """Settings from the environment; refuses a placeholder secret outside development."""
    env = _EnvSettings()
    environment = environment or env.environment
    key = secret_key if secret_key is not None else env.secret_key
    if key in PLACEHOLDER_SECRETS or len(key) < 16:
        if environment != "development":
            raise ConfigError(
                "SMARTWARD_SECRET_KEY is unset, a placeholder or shorter than 16 characters; set a random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))') before running in production")
        log.warning("SMARTWARD_SECRET_KEY is a placeholder: using a random per-process secret (development only)")
        key = secrets.token_urlsafe(32)
    return ApiConfig(secret_key=key, environment=environment, access_ttl_s=env.access_token_minutes * 60,
                     refresh_ttl_s=env.refresh_token_hours * 3600)
