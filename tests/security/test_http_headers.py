"""Issue 13, finding 14 (headers): every response carries a Content-Security-Policy that allows only
the platform's own scripts (an injected ``<script>`` or ``onerror=`` does not run) and forbids framing
(click-jacking of the alarm buttons), plus nosniff, no Referer (patient ids are in URLs) and HSTS in
production. The shipped pages must work under that policy: no inline scripts, handlers or styles."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

import dashboard_api

from .conftest import Running

STATIC = Path(dashboard_api.__file__).parent / "static"


def directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        if words := part.split():
            out[words[0]] = words[1:]
    return out


@pytest.mark.integration
async def test_every_response_carries_the_security_headers(platform_sqlite: Running) -> None:
    run = platform_sqlite
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        for path, status in (("/", 200), ("/portal", 200), ("/static/common.js", 200), ("/healthz", 200),
                             ("/api/v1/auth/me", 401), ("/no-such-page", 404)):
            r = await c.get(path)
            assert r.status_code == status, path
            csp = directives(r.headers["content-security-policy"])
            assert csp["script-src"] == ["'self'"], path
            assert csp["style-src"] == ["'self'"], path
            assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], path
            assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'none'"], path
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "no-referrer", path
            # the fixture runs in production: browsers must never fall back to plain HTTP
            assert r.headers["strict-transport-security"].startswith("max-age="), path
            assert int(r.headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 180 * 86400


class _Inline(HTMLParser):
    """Everything in a page that ``script-src 'self'; style-src 'self'`` blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self._script = True
        if tag == "style":
            self.blocked.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…> handler")
            if name == "style":
                self.blocked.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.blocked.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False


@pytest.mark.parametrize("page", sorted(p.name for p in STATIC.glob("*.html")))
def test_the_shipped_pages_run_under_the_policy(page: str) -> None:
    parser = _Inline()
    parser.feed((STATIC / page).read_text())
    assert parser.blocked == []


def test_the_policy_hashes_exactly_the_inline_scripts_it_allows() -> None:
    """The API docs pages (opt-in in production) carry their own policy: their one inline script is
    allowed by its hash, never by ``'unsafe-inline'``."""
    from dashboard_api.http_security import csp_of

    html = "<html><script src='x.js'></script><script>\nboot()\n</script></html>"
    csp = directives(csp_of(html, docs=True))
    assert "'unsafe-inline'" not in csp["script-src"] and "'self'" in csp["script-src"]
    assert sum(s.startswith("'sha256-") for s in csp["script-src"]) == 1
    assert csp["frame-ancestors"] == ["'none'"]
