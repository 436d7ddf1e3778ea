"""Where a run's census came from, kept in report.json (key ``census``) and said in report.html.

- ``{"source": "file", "path", "ward"}``: the ward file as written (the census in the file);
- ``{"source": "live", "url", "ward", "t", "time", "layout"}``: the live census of platform ``url``
  (credentials and query never kept) for ward ``ward``, taken at ``t`` (ms since the epoch; ``time``
  the same in ISO 8601 UTC), on the layout file ``layout``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """``http://user:secret@host:8000/x?token=…`` -> ``http://host:8000/x``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def iso_time(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_file(path: str | Path, ward: str) -> dict[str, Any]:
    return {"source": "file", "path": str(Path(path).resolve()), "ward": ward}


def from_live(url: str, ward: str, t_ms: int, layout: str | Path | None) -> dict[str, Any]:
    return {"source": "live", "url": redact_url(url), "ward": ward, "t": int(t_ms), "time": iso_time(int(t_ms)),
            "layout": str(Path(layout).resolve()) if layout is not None else None}


def describe(census: Mapping[str, Any] | None) -> str:
    """One sentence for the report's summary; ``""`` when the report does not say (older reports)."""
    if not census:
        return ""
    if census.get("source") == "live":
        when = str(census.get("time") or "").replace("T", " ").replace("Z", " UTC")
        layout = f", on the layout {census['layout']}" if census.get("layout") else ""
        return f"Census taken live from {census.get('url')} (ward {census.get('ward')}) at {when}{layout}."
    return f"Census as written in the ward file {census.get('path')} (ward {census.get('ward')})."
