"""The HTTP surface's own policy: security headers on every response, the websocket ``Origin``
allow-list, request-body limits, who may read ``/metrics`` and whether the API docs are served.

Settings (env prefix ``SMARTWARD_``, read by ``smartward.settings.Settings``, checked by :func:`http_policy`):

- ``ALLOWED_ORIGINS``: comma-separated origins (``https://station.hospital.example``) whose pages may
  open the websockets besides the platform's own (same host and port). Default: none.
- ``METRICS_TOKEN``: the bearer token Prometheus sends to ``/metrics`` (at least 32 characters); an
  admin's access token also works. Unset: only admins.
- ``API_DOCS``: ``1`` serves ``/docs``, ``/redoc`` and ``/openapi.json``; unset: only in development.
- ``MAX_BODY_BYTES``: the largest request body accepted (default 1 MiB; device profiles 256 KiB).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ConfigError

MIN_METRICS_TOKEN = 32
HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hospital hosts are not ours to pin
# Pages, scripts and styles come only from the platform itself: an injected <script>, onerror= or
# style= does not run. connect-src 'self' covers the same-origin ws:/wss: websockets.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI and ReDoc (opt-in in production) load their bundles from /static/vendor (nothing from the
# internet) and style themselves inline; their one inline boot script is allowed by its hash (added by
# :func:`csp_of`).
DOCS_CSP = ("default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """What :func:`http_policy` checked; build directly in tests."""

    allowed_origins: frozenset[str] = frozenset()
    metrics_token: str = ""
    api_docs: bool = False
    max_body_bytes: int = 1 << 20
    always_hsts: bool = False  # production: HSTS on every response (TLS may end at a proxy)


def http_policy(environment: str, *, allowed_origins: str = "", metrics_token: str = "",
                api_docs: bool | None = None, max_body_bytes: int = 1 << 20) -> HttpPolicy:
    """The policy from its settings; :class:`ConfigError` for a scrape token too short to be secret."""
    if metrics_token and len(metrics_token) < MIN_METRICS_TOKEN:
        raise ConfigError(f"SMARTWARD_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} random characters "
                          "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if max_body_bytes < 1024:
        raise ConfigError("SMARTWARD_MAX_BODY_BYTES must be at least 1024")
    origins = frozenset(_origin(o) for o in allowed_origins.split(",") if o.strip())
    production = environment == "production"
    return HttpPolicy(allowed_origins=origins, metrics_token=metrics_token,
                      api_docs=api_docs if api_docs is not None else not production,
                      max_body_bytes=max_body_bytes, always_hsts=production)


def csp_of(html: str, docs: bool = False) -> str:
    """The policy for an HTML page: :data:`CSP`, or for an API docs page :data:`DOCS_CSP` allowing
    exactly the page's inline scripts by their SHA-256."""
    if not docs:
        return CSP
    hashes = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                     for s in _INLINE_SCRIPT.findall(html))
    return DOCS_CSP.format(hashes=hashes)


def _origin(value: str) -> str:
    """``scheme://host[:port]`` lower-cased, the default port dropped (as browsers send it)."""
    parts = urlsplit(value.strip().lower())
    port = f":{parts.port}" if parts.port and parts.port != {"http": 80, "https": 443}.get(parts.scheme) else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """A websocket may open from no browser page (no ``Origin``), the platform's own pages (the
    ``Origin`` names the ``Host`` the request went to) or a configured origin."""
    if origin is None:
        return True
    o = _origin(origin)
    if o in allowed:
        return True
    if not host:
        return False
    scheme = urlsplit(o).scheme
    return scheme in ("http", "https") and o == _origin(f"{scheme}://{host}")


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTTP response (a header a route set
    itself, like the API docs' own policy, is kept) and the ``Origin`` check on every websocket."""

    def __init__(self, app: ASGIApp, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = Headers(scope=scope)
            if not origin_allowed(headers.get("origin"), headers.get("host"), self.policy.allowed_origins):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})  # HTTP 403
                return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                 (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if self.policy.always_hsts or scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                raw.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
