"""Per-field checks of the typed messages that cross a process (NEWS2 result, device status, drill state).

Each returns the value it accepts and raises :class:`~device_profiles.errors.PayloadError` naming the field
(``where``) otherwise, so a consumer logs exactly what was wrong and drops the message. Numbers come back
as they were sent (an ``int`` stays an ``int``): a re-encoded message says the same thing byte for byte.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, TypeVar

from .canonical import T_MIN_MS, check_id
from .errors import PayloadError

MAX_TEXT = 1024  # a sentence of a message (a NEWS2 response, a suspension reason)
MAX_ITEMS = 256  # entries of a list or map in a message (beds of a drill, technical flags of a device)

_E = TypeVar("_E", bound=StrEnum)


def as_object(msg: Any, what: str) -> dict[str, Any]:
    """The message itself: a JSON object (``$`` otherwise)."""
    if not isinstance(msg, dict):
        raise PayloadError("$", f"{what} must be a JSON object")
    return msg


def choice(enum: type[_E], value: Any, where: str, what: str) -> _E:
    """A member of a closed set (``missing`` when absent)."""
    if value is None or value == "":
        raise PayloadError(where, "missing")
    return member(enum, value, where, what)


def member(enum: type[_E], value: Any, where: str, what: str) -> _E:
    """``value`` as a member of ``enum``; otherwise the error lists the set."""
    try:
        return enum(value)
    except ValueError:
        raise PayloadError(where, f"{value!r} is not {what} ({', '.join(e.value for e in enum)})") from None


def text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    """A string of at most ``limit`` characters; absent (``None``) is ``""``."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise PayloadError(where, f"must be a string of at most {limit} characters")
    return value


def optional_id(value: Any, where: str) -> str:
    """An id (``[A-Za-z0-9_.-]{1,64}``, as ingest tags it) or ``""`` when absent."""
    return "" if value is None or value == "" else check_id(value, where)


def flag(value: Any, where: str) -> bool:
    """``true`` or ``false`` (not 0/1, not a string)."""
    if type(value) is not bool:
        raise PayloadError(where, "missing" if value is None else f"{value!r} is not true or false")
    return value


def finite(value: Any, where: str) -> float:
    """A finite JSON number (not a boolean), returned as sent."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise PayloadError(where, f"{value!r} is not a finite number")
    return value  # type: ignore[no-any-return]


def millis(value: Any, where: str) -> int:
    """Integer milliseconds since the Unix epoch, not before 2000 (a time that may lie ahead, e.g. an end)."""
    if type(value) is not int:
        raise PayloadError(where, "missing" if value is None else
                           f"{value!r} is not integer milliseconds since the Unix epoch")
    if value < T_MIN_MS:
        raise PayloadError(where, f"{value} is before 2000-01-01")
    return value


def id_list(value: Any, where: str) -> tuple[str, ...]:
    """A list of ids (at most :data:`MAX_ITEMS`); absent is empty."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise PayloadError(where, f"must be a list of at most {MAX_ITEMS} ids")
    return tuple(check_id(v, f"{where}[{i}]") for i, v in enumerate(value))


def text_list(value: Any, where: str, limit: int = 128) -> tuple[str, ...]:
    """A list of strings of at most ``limit`` characters each (at most :data:`MAX_ITEMS`); absent is empty."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise PayloadError(where, f"must be a list of at most {MAX_ITEMS} strings")
    for i, v in enumerate(value):
        if not isinstance(v, str) or len(v) > limit:
            raise PayloadError(f"{where}[{i}]", f"must be a string of at most {limit} characters")
    return tuple(value)
