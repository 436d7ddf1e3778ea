"""Profile meaning checks and compilation: YAML text -> :class:`CompiledProfile`.

Pydantic checks the shape; here every name is checked against the catalogue, every unit against
the signal's canonical unit, every path and topic is parsed, and each problem is reported with the
key and line the author wrote (also through migrations).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from .catalogue import NUMERIC_SIGNALS, SIGNALS
from .device_alarm import ALARM_KINDS, ALARM_STATES, PRIORITIES
from .errors import ProfileError
from .json_decoder import JsonDecoder
from .json_paths import JsonPath
from .json_readers import (
    AlarmReader,
    FieldReader,
    MappedReader,
    TechnicalReader,
    TimeReader,
    text_of,
)
from .migrations import migrate
from .profile_model import Mapped, Profile
from .profile_yaml import Issue, LineMap, Loc, ProfileValidationError, loc_text, read_yaml
from .topic_pattern import DeviceIdTemplate, TopicPattern
from .topics import ROOT
from .units import UnitError, conversion, ucum


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


def parse_zone(text: str) -> tzinfo:
    """``UTC``, ``Europe/Berlin`` or ``+01:00`` -> tzinfo; :class:`ProfileError` otherwise."""
    t = text.strip()
    if t.upper() in ("UTC", "Z"):
        return UTC
    if t[:1] in "+-" and len(t) in (5, 6):
        digits = t[1:].replace(":", "")
        if digits.isdigit() and len(digits) == 4 and int(digits[:2]) < 24 and int(digits[2:]) < 60:
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return timezone(delta if t[0] == "+" else -delta)
    try:
        return ZoneInfo(t)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(f"unknown time zone {text!r} (IANA name such as Europe/Berlin, or +HH:MM)") from None


class _Checker:
    def __init__(self) -> None:
        self.issues: list[tuple[Loc, str]] = []

    def path(self, text: str | None, loc: Loc) -> JsonPath | None:
        if text is None:
            return None
        try:
            return JsonPath.parse(text)
        except ProfileError as exc:
            self.issues.append((loc, str(exc)))
            return None

    def signal(self, name: str | None, loc: Loc) -> bool:
        if name is None:
            return True
        if name not in NUMERIC_SIGNALS:
            self.issues.append((loc, f"unknown signal {name!r}; known: {', '.join(sorted(NUMERIC_SIGNALS))}"))
            return False
        return True

    def mapped(self, m: Mapped | None, loc: Loc, allowed: tuple[str, ...] | frozenset[str], what: str) -> MappedReader | None:
        if m is None:
            return None
        for key, val in m.map.items():
            if val not in allowed:
                self.issues.append(((*loc, "map", key), f"{val!r} is not a {what} ({', '.join(sorted(allowed))})"))
        if m.default is not None and m.default not in allowed:
            self.issues.append(((*loc, "default"), f"{m.default!r} is not a {what} ({', '.join(sorted(allowed))})"))
        p = self.path(m.path, (*loc, "path"))
        return None if p is None else MappedReader(p, dict(m.map), m.default, frozenset(allowed))


def _compile_json(p: Profile, root: str, c: _Checker) -> JsonDecoder | None:
    assert p.mqtt is not None
    topic: TopicPattern | None = None
    device_tpl: DeviceIdTemplate | None = None
    try:
        topic = TopicPattern.parse(p.mqtt.topic, root)
    except ProfileError as exc:
        c.issues.append((("mqtt", "topic"), str(exc)))
    id_path = c.path(p.mqtt.device_id_path, ("mqtt", "device_id_path"))
    if id_path is not None and not id_path.absolute:
        c.issues.append((("mqtt", "device_id_path"), "must start with $ (a path from the message root)"))
    if topic is not None:
        tpl = p.mqtt.device_id
        if tpl is None and id_path is not None:
            tpl = "{payload}"
        if tpl is None:
            if len(topic.captures) != 1:
                c.issues.append((("mqtt", "device_id"),
                                 f"the topic has {len(topic.captures)} captures; say which make the device id, e.g. '{{serial}}'"))
            else:
                tpl = "{" + topic.captures[0] + "}"
        if tpl is not None:
            try:
                device_tpl = DeviceIdTemplate.parse(tpl)
                known = (*topic.captures, "payload") if id_path is not None else topic.captures
                unknown = [n for n in device_tpl.names if n not in known]
                if unknown:
                    c.issues.append((("mqtt", "device_id"), f"refers to {unknown} which the topic does not capture"))
            except ProfileError as exc:
                c.issues.append((("mqtt", "device_id"), str(exc)))
    if p.format == "canonical":
        if topic is not None and device_tpl is not None:
            return JsonDecoder(p.id, topic, device_tpl, True, None, 1, TimeReader("receive", None, "epoch_ms", None, None, 1, None),
                               None, (), (), None)
        return None
    tz: tzinfo | None = None
    if p.time.naive_zone is not None:
        try:
            tz = parse_zone(p.time.naive_zone)
        except ProfileError as exc:
            c.issues.append((("time", "naive_zone"), str(exc)))
    columns: dict[str, JsonPath] = {}

    def row(path: JsonPath | None) -> JsonPath | None:
        """Columnar batches: a relative path reads the sample's entry of that column."""
        if not p.samples.columnar or path is None or path.absolute:
            return path
        columns[path.text] = path
        return JsonPath(path.text, False, (path.text,))

    if p.samples.columnar and not p.samples.path:
        c.issues.append((("samples", "columnar"), "columnar samples need samples.path (the object of arrays)"))
    step_path = c.path(p.time.step_path, ("time", "step_path"))
    if step_path is not None and not step_path.absolute:
        c.issues.append((("time", "step_path"), "must be a message-level path starting with $"))
    time = TimeReader(p.time.source, row(c.path(p.time.path, ("time", "path"))), p.time.format, p.time.step_ms,
                      row(c.path(p.time.offset_path, ("time", "offset_path"))), 1000 if p.time.offset_unit == "s" else 1,
                      tz, step_path, 1000 if p.time.step_unit == "s" else 1)
    fields: list[FieldReader] = []
    series: list[FieldReader] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(p.fields):
        loc: Loc = ("fields", i)
        if not c.signal(f.signal, (*loc, "signal")):
            continue
        if f.signal in seen:
            c.issues.append(((*loc, "signal"), f"{f.signal!r} is already mapped by fields[{seen[f.signal]}]"))
        seen[f.signal] = i
        sig = SIGNALS[f.signal]
        try:
            conv = conversion(f.unit or sig.unit, sig.unit).then(f.scale, f.offset)
        except UnitError as exc:
            c.issues.append(((*loc, "unit"), f"{exc} (signal {f.signal} is in {sig.unit})"))
            continue
        if f.scale == 0:
            c.issues.append(((*loc, "scale"), "scale must not be 0"))
        if f.plausible is not None and not (sig.low <= f.plausible[0] < f.plausible[1] <= sig.high):
            c.issues.append(((*loc, "plausible"),
                             f"must be [low, high] within {sig.low:g}..{sig.high:g} {sig.unit} (canonical units)"))
        path = row(c.path(f.path, (*loc, "path")))
        qpath = row(c.path(f.quality.path, (*loc, "quality", "path"))) if f.quality else None
        wpath = row(c.path(f.where.path, (*loc, "where", "path"))) if f.where else None
        if path is None:
            continue
        series_path = c.path(f.series, (*loc, "series"))
        series_time: TimeReader | None = None
        if f.time is not None and f.series is None:
            c.issues.append(((*loc, "time"), "a field-level time only goes with 'series'"))
        if series_path is not None:
            if p.samples.columnar:
                c.issues.append(((*loc, "series"), "series cannot be combined with columnar samples"))
            if p.time.source == "payload" and not (f.time or p.time.path):
                c.issues.append(((*loc, "time"), "give the time path within each series entry"))
            tpath = c.path(f.time, (*loc, "time")) if f.time else time.path
            series_time = dataclasses.replace(time, path=tpath)
        target = series if series_path is not None else fields
        target.append(FieldReader(f.signal, path, conv, None if conv.identity else sig.precision + 2,
                                  qpath, dict(f.quality.map) if f.quality else {},
                                  f.quality.default if f.quality else "valid", f.plausible, f.out_of_range,
                                  frozenset(f.ignore_values), sig.low, sig.high, wpath,
                                  frozenset(text_of(v) for v in f.where.equals) if f.where else frozenset(),
                                  series_path, series_time))
    technical: list[TechnicalReader] = []
    for i, t in enumerate(p.technical_alarms):
        loc = ("technical_alarms", i)
        c.signal(t.signal, (*loc, "signal"))
        path = row(c.path(t.path, (*loc, "path")))
        if path is not None:
            technical.append(TechnicalReader(t.code, path, t.when.below, t.when.above,
                                             frozenset(text_of(v) for v in (t.when.equals or [])),
                                             t.priority, t.text, t.signal, t.status))
    alarms: AlarmReader | None = None
    if p.device_alarms is not None:
        a = p.device_alarms
        loc = ("device_alarms",)
        if not a.priority.map:
            c.issues.append(((*loc, "priority", "map"), "map the device's priorities onto high / medium / low"))
        prio = c.mapped(a.priority, (*loc, "priority"), PRIORITIES, "priority")
        state = c.mapped(a.state, (*loc, "state"), ALARM_STATES, "state")
        kind = c.mapped(a.kind, (*loc, "kind"), ALARM_KINDS, "kind")
        signal = c.mapped(a.signal, (*loc, "signal"), NUMERIC_SIGNALS, "signal")
        path, code = c.path(a.path, (*loc, "path")), c.path(a.code, (*loc, "code"))
        if path is not None and code is not None and prio is not None:
            alarms = AlarmReader(path, code, c.path(a.text, (*loc, "text")), prio, state, kind, signal,
                                 c.path(a.value, (*loc, "value")), c.path(a.id, (*loc, "id")), c.path(a.time, (*loc, "time")))
    seq = c.path(p.seq, ("seq",))
    samples = c.path(p.samples.path, ("samples", "path"))
    if topic is None or device_tpl is None:
        return None
    return JsonDecoder(p.id, topic, device_tpl, False, samples, p.samples.max, time, seq, tuple(fields),
                       tuple(technical), alarms, tuple(columns.items()) if p.samples.columnar else None, id_path,
                       {f.signal: f.expire_after for f in p.fields if f.expire_after is not None} or None,
                       tuple(series))


def _compile_hl7(p: Profile, c: _Checker) -> tuple[dict[str, str], dict[str, str]]:
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
    c = _Checker()
    decoder: JsonDecoder | None = None
    codes: dict[str, str] = {}
    units: dict[str, str] = {}
    if profile.transport == "mqtt-json":
        decoder = _compile_json(profile, root, c)
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
