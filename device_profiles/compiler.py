"""Profile meaning checks and compilation: YAML text -> :class:`CompiledProfile`.

Pydantic checks the shape; here every name is checked against the catalogue, every unit against
the signal's canonical unit, every path and topic is parsed, and each problem is reported with the
key and line the author wrote (also through migrations).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ProfileError
from .json_compiler import Checker, compile_json, parse_zone
from .json_decoder import JsonDecoder
from .migrations import migrate
from .profile_model import Profile
from .profile_yaml import Issue, LineMap, ProfileValidationError, loc_text, read_yaml
from .topics import ROOT
from .units import UnitError, ucum

__all__ = ["CompiledProfile", "compile_profile", "compile_profile_file", "model_json_schema", "parse_zone"]


@dataclass(frozen=True)
class CompiledProfile:
    """A validated profile, ready to decode: the model, its source text and its decoder."""

    profile: Profile
    text: str
    source: str
    notes: tuple[str, ...] = ()
    decoder: JsonDecoder | None = None
    expire_after: dict[str, float] = field(default_factory=dict)
    hl7_codes: dict[str, str] = field(default_factory=dict)
    hl7_units: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _compile_hl7(p: Profile, c: Checker) -> tuple[dict[str, str], dict[str, str]]:
    assert p.hl7 is not None
    codes: dict[str, str] = {}
    for key, sig in p.hl7.codes.items():
        if c.signal(sig, ("hl7", "codes", key)):
            codes[key] = sig
    units: dict[str, str] = {}
    for key, unit in p.hl7.units.items():
        try:
            units[key] = ucum(unit)
        except UnitError as exc:
            c.issues.append((("hl7", "units", key), str(exc)))
    try:
        parse_zone(p.hl7.default_zone)
    except ProfileError as exc:
        c.issues.append((("hl7", "default_zone"), str(exc)))
    return codes, units


def _pydantic_issues(exc: ValidationError, lines: LineMap) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" + (f" in {loc_text(loc[:-1])}" if len(loc) > 1 else "")
        elif err["type"] == "missing" and isinstance(loc[-1], int):
            msg = f"too few items: item [{loc[-1]}] is missing"
        elif err["type"] == "missing":
            msg = f"required key {loc[-1]!r} is missing"
        elif err["type"] == "string_pattern_mismatch" and loc == ("id",):
            msg = f"{err.get('input')!r}: use 2-63 lower-case letters, digits and dashes, e.g. acme-w2"
        elif err["type"] in ("literal_error", "enum") and "expected" in err.get("ctx", {}):
            msg = f"{err.get('input')!r} is not allowed; expected {err['ctx']['expected']}"
        if err["type"] == "string_type" and isinstance(err.get("input"), bool):
            msg += " (YAML reads yes/no/on/off/true/false as booleans: quote it)"
        issues.append(Issue(loc_text(loc), lines.line(loc), msg))
    return issues


def compile_profile(text: str | bytes, source: str = "<profile>", root: str = ROOT) -> CompiledProfile:
    """Read, migrate, validate and compile a profile; raise :class:`ProfileValidationError` with every issue."""
    doc, lines = read_yaml(text, source)
    doc, moves, notes, issues = migrate(doc)
    if issues:
        raise ProfileValidationError(source, [Issue(i.where, lines.line(("schema_version",)), i.message) for i in issues])
    lines.renames = moves
    try:
        profile = Profile.model_validate(doc)
    except ValidationError as exc:
        raise ProfileValidationError(source, _pydantic_issues(exc, lines)) from None
    c = Checker()
    decoder: JsonDecoder | None = None
    codes: dict[str, str] = {}
    units: dict[str, str] = {}
    if profile.transport == "mqtt-json":
        decoder = compile_json(profile, root, c)
    elif profile.hl7 is not None:
        codes, units = _compile_hl7(profile, c)
    if c.issues:
        raise ProfileValidationError(source, [Issue(loc_text(loc), lines.line(loc), msg) for loc, msg in c.issues])
    expire = {f.signal: f.expire_after for f in profile.fields if f.expire_after is not None}
    body = text.decode("utf-8") if isinstance(text, bytes) else text
    return CompiledProfile(profile, body, source, tuple(notes), decoder, expire, codes, units)


def compile_profile_file(path: str | Path, root: str = ROOT) -> CompiledProfile:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ProfileValidationError(str(p), [Issue("$", None, f"cannot read: {exc.strerror}")]) from None
    return compile_profile(data, str(p), root)


def model_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the current profile format."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:smartward:device-profile:2"
    return schema
