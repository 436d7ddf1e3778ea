"""InfluxDB line protocol with correct escaping (measurements, tag keys/values, field keys, strings).

Tag values reaching here are ids checked against ``[A-Za-z0-9_.-]{1,64}`` already, but escaping is
applied anyway: a tag value can never add a tag, a field, a line or a timestamp. Newlines and other
control characters cannot be escaped in line protocol, so they are refused outright.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

from .errors import StoreRejected

_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\\": "\\\\"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\\": "\\\\"})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\"})


def _no_control(text: str, what: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise StoreRejected(f"{what} {text!r} contains a control character")


def escape_measurement(name: str) -> str:
    _no_control(name, "measurement")
    return name.translate(_MEASUREMENT)


@lru_cache(maxsize=65536)
def escape_key(value: str) -> str:
    """Escape a tag key, tag value or field key (``,``, ``=``, space, backslash)."""
    _no_control(value, "tag or field")
    if value.endswith("\\"):
        # a trailing backslash would escape the separator that follows; refuse rather than guess
        raise StoreRejected(f"tag or field {value!r} ends with a backslash")
    return value.translate(_KEY)


def escape_string(value: str) -> str:
    """Escape a string field value and quote it. Newlines are kept escaped as ``\\n`` text."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def format_float(value: float) -> str:
    if not math.isfinite(value):
        raise StoreRejected(f"{value!r} is not a finite number")
    if type(value) is int:
        return str(value)
    return repr(float(value))


def tagset(tags: Mapping[str, str]) -> str:
    """``,k=v,…`` sorted by key (InfluxDB's preferred order); empty values are left out."""
    return "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in sorted(tags.items()) if v)


def line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, float | str | int | bool], t_ms: int) -> str:
    """One point. Numbers are written as floats (no ``i`` suffix) so a signal never changes type."""
    parts = []
    for k, v in fields.items():
        if isinstance(v, str):
            parts.append(f"{escape_key(k)}={escape_string(v)}")
        elif isinstance(v, bool):
            parts.append(f"{escape_key(k)}={'true' if v else 'false'}")
        else:
            parts.append(f"{escape_key(k)}={format_float(v)}")
    if not parts:
        raise StoreRejected(f"point of {measurement} at {t_ms} has no fields")
    return f"{escape_measurement(measurement)}{tagset(tags)} {','.join(parts)} {int(t_ms)}"
