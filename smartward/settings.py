"""Process settings (env prefix ``SMARTWARD_``): where the broker, stores and data live.

The JWT secret is validated once, by the API's own configuration
(:func:`dashboard_api.config.load_api_config`: production by default, at least 32 bytes of key
material); commands that serve no API (``deadletter``) do not need it.
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTWARD_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "production"
    topic_root: str = "smartward/v1"
    broker: str = "mqtt://127.0.0.1:1883"
    store: str = "sqlite:///var/smartward-vitals.sqlite3"
    state: str = "sqlite:///var/smartward-state.sqlite3"
    data_dir: str = "var"
    log_level: str = "INFO"


def dev_secret() -> str:
    """A random per-process secret (tokens die with the process)."""
    return secrets.token_urlsafe(32)
