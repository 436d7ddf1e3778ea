"""API settings (env prefix ``SMARTWARD_``): the JWT secret, token and session lifetimes, the login
throttling policy, trusted reverse proxies.

Production is the default: the secret must hold at least 32 bytes of key material and not be a
placeholder, or the API refuses to start (:class:`ConfigError`, one line). Only an explicit
``SMARTWARD_ENVIRONMENT=development`` (``smartward demo`` sets it) replaces a missing or weak secret by
a random per-process one (tokens die with the process), with a warning.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError
from .proxies import Network, parse_networks

log = logging.getLogger(__name__)
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})
MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARS = 12  # "x" * 40 is 40 bytes but no key material
HOW_TO = "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"


class _EnvSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTWARD_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "production"
    secret_key: str = ""
    access_token_minutes: float = 15.0
    refresh_token_hours: float = 12.0
    session_hours: float = 12.0  # absolute: no refresh extends a session beyond this from the login
    trusted_proxies: str = ""  # comma-separated addresses/CIDRs whose X-Forwarded-For is believed


def secret_problem(key: str) -> str:
    """Why ``key`` cannot sign tokens, or ``""``."""
    if key in PLACEHOLDER_SECRETS:
        return "is unset or a placeholder"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if len(set(key)) < MIN_DISTINCT_CHARS:
        return f"is too repetitive to hold {MIN_SECRET_BYTES} bytes of key material"
    return ""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """What the HTTP app needs beyond the platform. Build with :func:`load_api_config` or directly."""

    secret_key: str
    environment: str = "production"
    access_ttl_s: float = 15 * 60
    refresh_ttl_s: float = 12 * 3600
    session_s: float = 12 * 3600  # absolute session lifetime from the login
    max_failures: int = 5  # free failed logins per (user, address) before the delay starts
    window_s: float = 15 * 60  # failures are forgotten after this long without one
    ip_failures_per_minute: int = 30  # failed logins per client address per minute
    account_ceiling: int = 50  # failures per account (any address) before every attempt is slowed
    trusted_proxies: tuple[str, ...] = ()
    proxies: tuple[Network, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        problem = secret_problem(self.secret_key)
        if problem:
            raise ConfigError(f"SMARTWARD_SECRET_KEY {problem}: it needs at least {MIN_SECRET_BYTES} random bytes "
                              f"{HOW_TO}")
        try:
            object.__setattr__(self, "proxies", parse_networks(self.trusted_proxies))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def load_api_config(environment: str | None = None, secret_key: str | None = None) -> ApiConfig:
    """Settings from the environment; :class:`ConfigError` (one line) for a weak secret outside development."""
    try:
        env = _EnvSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"SMARTWARD_{str(first['loc'][0]).upper()}: {first['msg']}") from None
    environment = environment or env.environment
    key = secret_key if secret_key is not None else env.secret_key
    problem = secret_problem(key)
    if problem:
        if environment != "development":
            raise ConfigError(f"SMARTWARD_SECRET_KEY {problem}; set at least {MIN_SECRET_BYTES} random bytes "
                              f"{HOW_TO}, or SMARTWARD_ENVIRONMENT=development for a throw-away key")
        log.warning("SMARTWARD_SECRET_KEY %s: using a random per-process secret (development only)", problem)
        key = secrets.token_urlsafe(32)
    return ApiConfig(secret_key=key, environment=environment, access_ttl_s=env.access_token_minutes * 60,
                     refresh_ttl_s=env.refresh_token_hours * 3600, session_s=env.session_hours * 3600,
                     trusted_proxies=tuple(p for p in env.trusted_proxies.split(",") if p.strip()))
