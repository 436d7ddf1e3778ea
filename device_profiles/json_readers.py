"""The compiled parts of a JSON profile: readers for time, fields, technical and device alarms.

Each reader holds pre-parsed paths and maps; :class:`~device_profiles.json_decoder.JsonDecoder`
runs them over a payload. Error locations are only formatted when a value is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from .errors import PayloadError
from .json_paths import MISSING, JsonPath, describe
from .units import Conversion

_EPOCH_DIV = {"epoch_s": None, "epoch_ms": 1, "epoch_us": 1_000, "epoch_ns": 1_000_000}


def text_of(value: Any) -> str:
    """The text a map key is compared with: ``true``, ``1`` (also for 1.0), ``OFF``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any, where: str) -> float:
    tv = type(value)
    if tv is int or tv is float:
        if tv is float and not math.isfinite(value):
            raise PayloadError(where, f"{value!r} is not a finite number")
        return value  # type: ignore[no-any-return]
    if tv is str:
        try:
            f = float(value)
        except ValueError:
            raise PayloadError(where, f"{value!r} is not a number") from None
        if not math.isfinite(f):
            raise PayloadError(where, f"{value!r} is not a finite number")
        return f
    raise PayloadError(where, f"{value!r} is not a number")


@dataclass(frozen=True, slots=True)
class TimeReader:
    source: str
    path: JsonPath | None
    format: str
    step_ms: int | None
    offset_path: JsonPath | None
    offset_ms: int
    naive_zone: tzinfo | None
    step_path: JsonPath | None = None
    step_factor: int = 1

    def parse(self, raw: Any, where: str) -> int:
        if self.format == "iso8601":
            if type(raw) is not str:
                raise PayloadError(where, f"{raw!r} is not an ISO 8601 time")
            try:
                dt = datetime.fromisoformat(raw)
            except ValueError:
                raise PayloadError(where, f"{raw!r} is not an ISO 8601 time") from None
            if dt.tzinfo is None:
                if self.naive_zone is None:
                    raise PayloadError(where, f"{raw!r} has no time zone (the profile sets no time.naive_zone)")
                dt = dt.replace(tzinfo=self.naive_zone)
            return round(dt.timestamp() * 1000)
        if type(raw) is int:
            div = _EPOCH_DIV[self.format]
            return raw * 1000 if div is None else raw // div
        v = number(raw, where)
        div = _EPOCH_DIV[self.format]
        return round(v * 1000) if div is None else round(v / div)

    def read(self, item: Any, msg: Any, index: int, received_ms: int) -> int:
        if self.source == "receive" or self.path is None:
            base = received_ms
        else:
            raw = self.path.get(item, msg)
            if type(raw) is int and self.format == "epoch_ms":
                base = raw  # the common case, without building an error location
            else:
                where = describe(self.path, index if index >= 0 else None)
                if raw is MISSING or raw is None:
                    raise PayloadError(where, "time missing")
                base = self.parse(raw, where)
        if index > 0:
            if self.step_ms:
                base += index * self.step_ms
            elif self.step_path is not None:
                step = self.step_path.get(item, msg)
                if step is not MISSING and step is not None:
                    base += round(index * number(step, describe(self.step_path, None)) * self.step_factor)
        if self.offset_path is not None:
            off = self.offset_path.get(item, msg)
            if off is not MISSING and off is not None:
                base += round(number(off, describe(self.offset_path, index)) * self.offset_ms)
        return base


@dataclass(frozen=True, slots=True)
class FieldReader:
    signal: str
    path: JsonPath
    conv: Conversion
    decimals: int | None
    quality_path: JsonPath | None
    quality_map: dict[str, str]
    quality_default: str
    plausible: tuple[float, float] | None
    out_of_range: str
    ignore: frozenset[float]
    low: float
    high: float
    where_path: JsonPath | None = None
    where_equals: frozenset[str] = frozenset()
    series: JsonPath | None = None  # this signal's own list of samples (from the message root)
    series_time: TimeReader | None = None


@dataclass(frozen=True, slots=True)
class TechnicalReader:
    code: str
    path: JsonPath
    below: float | None
    above: float | None
    equals: frozenset[str]
    priority: str
    text: str
    signal: str | None
    status: str | None

    def active(self, value: Any, where: str) -> bool:
        if self.below is not None:
            return number(value, where) < self.below
        if self.above is not None:
            return number(value, where) > self.above
        return text_of(value) in self.equals


@dataclass(frozen=True, slots=True)
class MappedReader:
    path: JsonPath
    map: dict[str, str]
    default: str | None
    allowed: frozenset[str]

    def read(self, item: Any, msg: Any, where: str, what: str) -> str | None:
        raw = self.path.get(item, msg)
        if raw is MISSING or raw is None:
            return self.default
        key = text_of(raw)
        out = self.map.get(key, self.default) if self.map else key
        if out is None or out not in self.allowed:
            raise PayloadError(f"{where}.{self.path.text}",
                               f"{what} {raw!r} has no mapping in the profile (to one of {sorted(self.allowed)})")
        return out


@dataclass(frozen=True, slots=True)
class AlarmReader:
    path: JsonPath
    code: JsonPath
    text: JsonPath | None
    priority: MappedReader
    state: MappedReader | None
    kind: MappedReader | None
    signal: MappedReader | None
    value: JsonPath | None
    id: JsonPath | None
    time: JsonPath | None
