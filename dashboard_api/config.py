"""The API's configuration: the JWT secret, token and session lifetimes, the login throttling policy,
trusted reverse proxies, the HTTP policy, the audit key and the twin's settings.

Built from the platform's one settings model (``smartward.settings.Settings.api_config``), which
reads ``SMARTWARD_*`` once and validates the secrets there (production is the default: the secret
must hold at least 32 bytes of key material and not be a placeholder; only an explicit
``SMARTWARD_ENVIRONMENT=development`` replaces it by a random per-process one). This package never
reads the environment itself; tests build :class:`ApiConfig` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .audit import AuditKey
from .errors import ConfigError
from .http_security import HttpPolicy
from .proxies import Network, parse_networks
from .twin_config import TwinSettings

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})
MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARS = 12  # "x" * 40 is 40 bytes but no key material
HOW_TO = "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"


def secret_problem(key: str) -> str:
    """Why ``key`` cannot sign tokens, or ``""``."""
    if key in PLACEHOLDER_SECRETS:
        return "is unset or a placeholder"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if len(set(key)) < MIN_DISTINCT_CHARS:
        return f"is too repetitive to hold {MIN_SECRET_BYTES} bytes of key material"
    return ""


DEFAULT_CALL_NUMBER = "112"  # the portal's number when the ward set none and no "*" default is configured


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """What the HTTP app needs beyond the platform (``Settings.api_config()``, or directly in tests)."""

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
    http: HttpPolicy = field(default_factory=HttpPolicy)
    audit_key: AuditKey | None = field(default=None, repr=False)  # None: production refuses, development makes one
    twin: TwinSettings = field(default_factory=TwinSettings)
    # the telephone number the patient portal tells patients to call, per ward ("*": any other ward)
    call_numbers: tuple[tuple[str, str], ...] = (("*", DEFAULT_CALL_NUMBER),)
    proxies: tuple[Network, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the same rule the settings model applies (with its development fallback): an ApiConfig
        # built directly cannot hold a weak key either
        problem = secret_problem(self.secret_key)
        if problem:
            raise ConfigError(f"SMARTWARD_SECRET_KEY {problem}: it needs at least {MIN_SECRET_BYTES} random bytes "
                              f"{HOW_TO}")
        if any(not n.strip() or not all(c.isdigit() or c in "+ -" for c in n) for _, n in self.call_numbers):
            raise ConfigError("SMARTWARD_CALL_NUMBERS: each number is digits, spaces, '+' or '-'")
        try:
            object.__setattr__(self, "proxies", parse_networks(self.trusted_proxies))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def call_number(self, ward: str | None) -> str:
        """The number a patient of ``ward`` is told to call (the ward's own, else the ``*`` default)."""
        numbers = dict(self.call_numbers)
        return numbers.get(ward or "", numbers.get("*", DEFAULT_CALL_NUMBER))
