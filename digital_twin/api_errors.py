"""The platform API's refusals in one line, for the twin's clients (``twin run --live``, live drills).

FastAPI answers ``{"detail": "…"}`` for most refusals and ``{"detail": [{"loc", "msg", …}, …]}`` for
validation errors (422): those become ``field: message; field: message`` — never a raw repr.
"""

from __future__ import annotations

from typing import Any, Protocol


class _Response(Protocol):  # httpx.Response (sync or async client); httpx is imported lazily by callers
    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def api_error(r: _Response) -> str:
    """The API's error in one line: ``detail``, or each validation problem as ``field: message``."""
    try:
        detail = r.json().get("detail")
    except (ValueError, AttributeError):
        return r.text[:200]
    if isinstance(detail, list):
        return "; ".join(_problem(p) for p in detail) or "refused"
    return str(detail)


def _problem(p: Any) -> str:
    if not isinstance(p, dict):
        return str(p)
    loc = [str(x) for x in p.get("loc") or () if x not in ("body", "query", "path")]
    msg = str(p.get("msg") or "invalid")
    return f"{'.'.join(loc)}: {msg}" if loc else msg
