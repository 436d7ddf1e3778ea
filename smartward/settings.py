"""Process settings (env prefix ``SMARTWARD_``). Placeholder secrets are refused outside development."""

from __future__ import annotations

import secrets
import warnings
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTWARD_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "development"
    secret_key: str = "changethis"  # signs JWTs; must be set in production
    topic_root: str = "smartward/v1"
    broker: str = "mqtt://127.0.0.1:1883"
    store: str = "sqlite:///var/smartward-vitals.sqlite3"
    state: str = "sqlite:///var/smartward-state.sqlite3"
    data_dir: str = "var"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.secret_key in PLACEHOLDER_SECRETS:
            if self.environment != "development":
                raise ValueError(
                    "SMARTWARD_SECRET_KEY is unset or a placeholder; set a random value "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) before running in production"
                )
            warnings.warn("SMARTWARD_SECRET_KEY is a placeholder: development mode only", stacklevel=2)
        return self


def dev_secret() -> str:
    """A random per-process secret for ``demo`` (tokens die with the process)."""
    return secrets.token_urlsafe(32)
