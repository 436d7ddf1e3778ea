"""The platform's one settings model (env prefix ``SMARTWARD_``), read once per process and passed down.

Every setting SmartWard reads from the environment is a field of :class:`Settings`. Components do not
read the environment themselves: ``smartward`` builds ``Settings`` once (:func:`load_settings`) and
hands each component its own typed, frozen configuration built from it:

- :meth:`Settings.api_config` → ``dashboard_api.ApiConfig`` (JWT secret, token and session lifetimes,
  trusted proxies, the HTTP policy, the audit key, the twin settings);
- :meth:`Settings.deadletter_policy` → ``ingest.deadletters.DeadLetterPolicy``;
- :meth:`Settings.twin_settings` → ``dashboard_api.twin_config.TwinSettings``;
- the broker/store/state/data_dir/topic_root defaults of the commands.

Secrets are validated here, once: the JWT secret (production by default: at least 32 bytes of key
material, not a placeholder; only an explicit ``SMARTWARD_ENVIRONMENT=development`` replaces it by a
random per-process one), the ``/metrics`` scrape token and the audit key; each refusal is one line
naming the variable. Commands that serve no API (``deadletter``, ``users``) never ask for them.

Three variables are still read where they are used, at a process or library boundary (listed here so
the model stays the one place that names them): ``SMARTWARD_MQTT_CA`` (``device_profiles.mqtt_url``,
when a TLS context is built), ``SMARTWARD_TESTDATA`` (``gateway_agent.scenarios.find_recording``) and
``SMARTWARD_LOG_LEVEL`` in ingest worker processes (``serve`` sets it in their environment).

The owning packages keep the rules (``dashboard_api.config.secret_problem``, …); this module only
imports them when a configuration is built, so importing it stays cheap (``prometheus_client`` must
not be imported before ``serve`` sets up its metrics directory).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from device_profiles.errors import SettingsError

if TYPE_CHECKING:
    from dashboard_api.audit import AuditKey
    from dashboard_api.config import ApiConfig
    from dashboard_api.http_security import HttpPolicy
    from dashboard_api.twin_config import TwinSettings
    from ingest.deadletters import DeadLetterPolicy

log = logging.getLogger(__name__)
PREFIX = "SMARTWARD_"


class Settings(BaseSettings):
    """Every ``SMARTWARD_*`` variable. A ``None`` field is unset: the component's default applies."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=None, extra="ignore", frozen=True)

    # where the platform runs
    environment: Literal["development", "production"] = "production"
    topic_root: str = "smartward/v1"
    broker: str = "mqtt://127.0.0.1:1883"
    store: str = "sqlite:///var/smartward-vitals.sqlite3"
    state: str = "sqlite:///var/smartward-state.sqlite3"
    data_dir: str = "var"
    log_level: str = "INFO"  # also passed to ingest worker processes (their environment)
    mqtt_ca: str = ""  # CA bundle for mqtts:// without ?ca= (read at the TLS boundary, device_profiles.mqtt_url)
    testdata: str = ""  # where the shipped scenario data is looked for first (gateway_agent.scenarios)

    # the API (dashboard_api.config)
    secret_key: SecretStr = SecretStr("")
    access_token_minutes: float = 15.0
    refresh_token_hours: float = 12.0
    session_hours: float = 12.0  # absolute: no refresh extends a session beyond this from the login
    call_numbers: str = "*=112"  # ward=number pairs the portal tells patients to call, e.g. "w1=120,*=999"
    trusted_proxies: str = ""  # comma-separated addresses/CIDRs whose X-Forwarded-For is believed

    # the HTTP surface (dashboard_api.http_security)
    allowed_origins: str = ""
    metrics_token: SecretStr = SecretStr("")
    api_docs: bool | None = None
    max_body_bytes: int = 1 << 20

    # the audit log's HMAC key (dashboard_api.audit)
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None

    # dead letters (ingest.deadletters.DeadLetterPolicy; bounds are checked there)
    deadletter_retention_days: float | None = None
    deadletter_max_rows: int | None = None
    deadletter_max_bytes: int | None = None
    deadletter_prune_interval_s: float | None = None

    # the facility manager's twin (dashboard_api.twin_config.TwinSettings; bounds are checked there)
    twin_wards: Path | None = None
    twin_max_runs: int | None = None
    twin_workers: int | None = None
    twin_max_replications: int | None = None
    twin_max_queued: int | None = None
    twin_now_replications: int | None = None
    twin_now_max_age_s: float | None = None
    twin_now_min_interval_s: float | None = None
    twin_timezone: str | None = None
    twin_day_start: int | None = None
    twin_day_end: int | None = None
    twin_aliases: str | None = None
    # the twin/drill commands' credentials (instead of a password prompt)
    twin_token: SecretStr | None = None
    twin_password: SecretStr | None = None

    def _group(self, prefix: str) -> dict[str, Any]:
        """The set fields named ``{prefix}_*``, without the prefix (unset ones keep the component's default)."""
        n = len(prefix) + 1
        return {name[n:]: value for name, value in self if name.startswith(prefix + "_") and value is not None}

    # -- per-component configurations ------------------------------------------------------------

    def api_config(self, environment: str | None = None, secret_key: str | None = None) -> ApiConfig:
        """The API's configuration; ``dashboard_api.ConfigError`` (one line) for a weak secret outside
        development, a short scrape token, a bad proxy list or twin setting, or an unusable audit key."""
        from dashboard_api.config import HOW_TO, MIN_SECRET_BYTES, ApiConfig, secret_problem
        from dashboard_api.errors import ConfigError

        environment = environment or self.environment
        key = secret_key if secret_key is not None else self.secret_key.get_secret_value()
        problem = secret_problem(key)
        if problem:
            if environment != "development":
                raise ConfigError(f"SMARTWARD_SECRET_KEY {problem}; set at least {MIN_SECRET_BYTES} random bytes "
                                  f"{HOW_TO}, or SMARTWARD_ENVIRONMENT=development for a throw-away key")
            log.warning("SMARTWARD_SECRET_KEY %s: using a random per-process secret (development only)", problem)
            key = secrets.token_urlsafe(32)
        return ApiConfig(secret_key=key, environment=environment, access_ttl_s=self.access_token_minutes * 60,
                         refresh_ttl_s=self.refresh_token_hours * 3600, session_s=self.session_hours * 3600,
                         trusted_proxies=tuple(p for p in self.trusted_proxies.split(",") if p.strip()),
                         http=self.http_policy(environment), audit_key=self.configured_audit_key(),
                         twin=self.twin_settings(),
                         call_numbers=tuple((w.strip(), n.strip()) for w, _, n in
                                            (p.partition("=") for p in self.call_numbers.split(",") if p.strip())))

    def http_policy(self, environment: str | None = None) -> HttpPolicy:
        """``dashboard_api.ConfigError`` for a scrape token too short to be secret or a tiny body limit."""
        from dashboard_api.http_security import http_policy

        return http_policy(environment or self.environment, allowed_origins=self.allowed_origins,
                           metrics_token=self.metrics_token.get_secret_value(), api_docs=self.api_docs,
                           max_body_bytes=self.max_body_bytes)

    def configured_audit_key(self) -> AuditKey | None:
        """``SMARTWARD_AUDIT_KEY`` or ``SMARTWARD_AUDIT_KEY_FILE`` (not both), else None."""
        from dashboard_api.audit import key_from_text, read_key_file
        from dashboard_api.errors import ConfigError

        if self.audit_key is not None and self.audit_key_file is not None:
            raise ConfigError("set SMARTWARD_AUDIT_KEY or SMARTWARD_AUDIT_KEY_FILE, not both")
        if self.audit_key is not None:
            return key_from_text(self.audit_key.get_secret_value(), "SMARTWARD_AUDIT_KEY")
        if self.audit_key_file is not None:
            return read_key_file(self.audit_key_file)
        return None

    def audit_key_for(self, environment: str, data_dir: str | Path) -> AuditKey:
        """The key the API seals entries with (production refuses to start without one)."""
        from dashboard_api.audit import load_audit_key

        return load_audit_key(environment, data_dir, self.configured_audit_key())

    def deadletter_policy(self) -> DeadLetterPolicy:
        """Retention and quota of the dead letters (pydantic ``ValidationError``, a ``ValueError``, when invalid)."""
        from ingest.deadletters import DeadLetterPolicy

        return DeadLetterPolicy.validated(**self._group("deadletter"))

    def twin_settings(self) -> TwinSettings:
        """The twin's settings; a bad value is a ``dashboard_api.ConfigError`` naming the variable."""
        from dashboard_api.errors import ConfigError
        from dashboard_api.twin_config import TwinSettings

        values = {k: v for k, v in self._group("twin").items() if k in TwinSettings.model_fields}  # not token/password
        try:
            return TwinSettings(**values)
        except ValidationError as exc:
            raise ConfigError(_one_line(exc, "SMARTWARD_TWIN_")) from None

    def twin_credentials(self) -> tuple[str | None, str | None]:
        """``SMARTWARD_TWIN_TOKEN`` (None when unset or empty) and ``SMARTWARD_TWIN_PASSWORD`` (None when unset)."""
        token = self.twin_token.get_secret_value() if self.twin_token is not None else ""
        password = self.twin_password.get_secret_value() if self.twin_password is not None else None
        return token or None, password


def _one_line(exc: ValidationError, prefix: str = PREFIX) -> str:
    err = exc.errors(include_url=False)[0]
    name = prefix + str(err["loc"][0]).upper() if err["loc"] else prefix + "*"
    return f"{name}: {err['msg']}"


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (``overrides`` win); :class:`SettingsError` (one line,
    naming the variable) for a value of the wrong type."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


# -- shortcuts: one configuration straight from the environment ----------------------------------------

def load_api_config(environment: str | None = None, secret_key: str | None = None) -> ApiConfig:
    return load_settings().api_config(environment, secret_key)


def load_http_policy(environment: str) -> HttpPolicy:
    return load_settings().http_policy(environment)


def load_audit_key(environment: str, data_dir: str | Path) -> AuditKey:
    return load_settings().audit_key_for(environment, data_dir)


def load_twin_settings() -> TwinSettings:
    return load_settings().twin_settings()


def load_deadletter_policy() -> DeadLetterPolicy:
    return load_settings().deadletter_policy()
