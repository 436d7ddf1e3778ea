"""Live drills as text a person reads (``smartward drill list|status|start|stop``): pure functions of the
API's drill records (``GET /api/v1/drills``), times in UTC, and commands ready to copy.

- :func:`drill_command` — ``smartward drill stop ID --url URL --username USER``: the same ``--url`` and
  ``--username`` the user passed (a password in the URL is left out; passwords are never printed);
- :func:`how_it_ended` — "running", "ended at its end time …" (the hub expired it, or its driver
  stopped it once the end time had come) or "stopped by USER …";
- :func:`status_lines` and :func:`list_table` — one drill in detail, all drills as a table.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from .census_source import redact_url

END_SLACK_MS = 1000  # a stop this close before the end time is the drill running out, not someone stopping it


def when(ms: int | None) -> str:
    """``2026-11-23 01:02:03 UTC`` (``—`` when there is no time)."""
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def drill_command(action: str, *args: str, url: str | None, username: str | None) -> str:
    """The command to copy, with the caller's ``--url`` and ``--username`` (never a password)."""
    parts = ["smartward", "drill", action, *args]
    if url:
        parts += ["--url", redact_url(url)]
    if username:
        parts += ["--username", username]
    return shlex.join(parts)


def ended_at_end_time(drill: Mapping[str, Any]) -> bool:
    stopped = drill.get("stopped")
    if stopped is None:
        return False
    return drill.get("stopped_by") == "system" or int(stopped) >= int(drill["ends"]) - END_SLACK_MS


def how_it_ended(drill: Mapping[str, Any]) -> str:
    """``running (ends 2026-… UTC)``, ``ended at its end time (2026-… UTC)`` or ``stopped by cn at 2026-… UTC``."""
    if drill.get("stopped") is None:
        return f"running (ends {when(drill['ends'])})" if drill.get("active", True) else \
            f"ended at its end time ({when(drill['ends'])})"
    if ended_at_end_time(drill):
        return f"ended at its end time ({when(drill['ends'])})"
    return f"stopped by {drill.get('stopped_by') or 'unknown'} at {when(drill['stopped'])}"


def _beds(drill: Mapping[str, Any]) -> str:
    return ", ".join(f"{b['bed']} ({b['scenario']})" for b in drill.get("beds", []))


def _samples(drill: Mapping[str, Any]) -> str:
    return "not reported" if drill.get("samples") is None else f"{drill['samples']:,}"


def status_lines(drill: Mapping[str, Any], *, url: str | None, username: str | None) -> list[str]:
    """One drill in detail, with the next command to run."""
    running = drill.get("stopped") is None and drill.get("active", True)
    out = [
        f"drill {drill['id']} in ward {drill['ward']}: {how_it_ended(drill)}",
        f"  started   {when(drill['started'])} by {drill.get('started_by') or 'unknown'}",
        f"  end time  {when(drill['ends'])}",
        f"  beds      {_beds(drill)}",
        f"  speed {drill.get('speed')}x, {drill.get('rate')} sample(s)/s per bed, seed {drill.get('seed')}; "
        f"samples that reached the broker: {_samples(drill)}",
    ]
    if running:
        out.append(f"  stop it:  {drill_command('stop', drill['id'], url=url, username=username)}")
    out.append(f"  report:   {drill_command('report', drill['id'], '--out', 'DIR', url=url, username=username)}")
    return out


def list_table(drills: Sequence[Mapping[str, Any]]) -> list[str]:
    """All drills (newest first, as the API gives them) as an aligned table."""
    if not drills:
        return ["no drills on the platform"]
    head = ("DRILL", "WARD", "STARTED", "BY", "BEDS", "SAMPLES", "STATE")
    rows = [(str(d["id"]), str(d["ward"]), when(d["started"]), str(d.get("started_by") or ""), _beds(d),
             _samples(d), how_it_ended(d)) for d in drills]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)), r[-1]]).rstrip()
            for r in (head, *rows)]
