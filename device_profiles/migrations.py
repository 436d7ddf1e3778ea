"""Explicit migrations of older profile formats to the current ``schema_version``.

Each migration takes the raw document of version *n* and returns the document of version *n+1*
plus the key moves it made (so errors still point at the line the author wrote). Profiles stored
in the registry keep their original text; they are migrated every time they are loaded.

Version history:
- 1 (pilot): ``topic``, ``device_id``, ``samples_path`` and ``timestamp`` at the top level.
- 2: those moved into the ``mqtt``, ``samples`` and ``time`` sections; ``transport`` required.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .profile_model import SCHEMA_VERSION
from .profile_yaml import Issue, Loc

Migration = Callable[[dict[str, Any]], tuple[dict[str, Any], dict[Loc, Loc]]]


def _v1_to_v2(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[Loc, Loc]]:
    out = dict(doc)
    moves: dict[Loc, Loc] = {}
    mqtt: dict[str, Any] = {}
    for old, new in (("topic", "topic"), ("device_id", "device_id")):
        if old in out:
            mqtt[new] = out.pop(old)
            moves[("mqtt", new)] = (old,)
    if mqtt:
        out["mqtt"] = mqtt
        out.setdefault("transport", "mqtt-json")
    if "samples_path" in out:
        out["samples"] = {"path": out.pop("samples_path")}
        moves[("samples", "path")] = ("samples_path",)
    if "timestamp" in out:
        out["time"] = out.pop("timestamp")
        moves[("time",)] = ("timestamp",)
    out["schema_version"] = 2
    return out, moves


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[Loc, Loc], list[str], list[Issue]]:
    """Bring ``doc`` to :data:`SCHEMA_VERSION`: (document, key moves, notes, issues)."""
    version = doc.get("schema_version")
    if type(version) is not int:
        return doc, {}, [], [Issue("schema_version", None, f"must be an integer (current: {SCHEMA_VERSION}), got {version!r}")]
    if version > SCHEMA_VERSION:
        return doc, {}, [], [Issue("schema_version", None, f"{version} is newer than this SmartWard understands ({SCHEMA_VERSION})")]
    if version < 1:
        return doc, {}, [], [Issue("schema_version", None, f"unknown schema_version {version}")]
    moves: dict[Loc, Loc] = {}
    notes: list[str] = []
    while version < SCHEMA_VERSION:
        doc, step_moves = MIGRATIONS[version](doc)
        moves.update(step_moves)
        notes.append(f"migrated from schema_version {version} to {version + 1}")
        version += 1
    return doc, moves, notes, []
