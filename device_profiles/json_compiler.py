"""Compiling the JSON mapping of a profile into a :class:`JsonDecoder`, checking every name on the way.

Every problem is collected with the location of the key it comes from (``("fields", 2, "unit")``);
:func:`device_profiles.compiler.compile_profile` turns them into messages with line numbers.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .catalogue import NUMERIC_SIGNALS, SIGNALS
from .device_alarm import ALARM_KINDS, ALARM_STATES, PRIORITIES
from .errors import ProfileError
from .json_decoder import JsonDecoder
from .json_paths import JsonPath
from .json_readers import AlarmReader, FieldReader, MappedReader, TechnicalReader, TimeReader, text_of
from .profile_model import Mapped, Profile
from .profile_yaml import Loc
from .topic_pattern import DeviceIdTemplate, TopicPattern
from .units import UnitError, conversion


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


class Checker:
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


def compile_json(p: Profile, root: str, c: Checker) -> JsonDecoder | None:
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
