"""How every ``smartward`` command reports an error: one line on stderr, as argparse does.

``smartward <command>: error: <what is wrong>``, exit 2 for a usage error (the command line itself:
an option out of its range, a malformed value, options that do not go together), exit 1 for bad
input or a refused check (a file that does not load, a platform that refuses). Options with a range or
a format are checked by argparse itself with the types below, so they fail before anything runs,
with argparse's usage line and the same ``error:`` prefix.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from typing import TypeVar

USAGE = 2  # exit code of a usage error (argparse's own)
FAILED = 1  # exit code of bad input or a refused check

N = TypeVar("N", int, float)


def fail(command: str, message: str, code: int = FAILED) -> int:
    """Print ``smartward <command>: error: <message>`` on stderr; returns ``code`` (the exit code)."""
    print(f"smartward {command}: error: {message}", file=sys.stderr)
    return code


def usage_error(command: str, message: str) -> int:
    """A usage error found after parsing (e.g. options that do not go together): exit 2."""
    return fail(command, message, USAGE)


def _number_text(x: float) -> str:
    return f"{x:g}"


def bounded(kind: Callable[[str], N], lo: N | None = None, hi: N | None = None, *,
            lo_open: bool = False) -> Callable[[str], N]:
    """An argparse ``type``: ``kind(text)`` within ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    name = "an integer" if kind is int else "a number"
    if lo is not None and hi is not None:
        allowed = f"{'above' if lo_open else 'from'} {_number_text(lo)} {'up ' if lo_open else ''}to {_number_text(hi)}"
    elif lo is not None:
        allowed = f"{'above' if lo_open else 'at least'} {_number_text(lo)}"
    else:
        allowed = f"at most {_number_text(hi or 0)}"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name} (allowed: {allowed})") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number (allowed: {allowed})")
        if (lo is not None and (value <= lo if lo_open else value < lo)) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: {allowed})")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def key_value(text: str) -> str:
    """An argparse ``type`` for ``KEY=VALUE`` options (``--set nurses=2``): refuses a missing ``=`` or key."""
    key, sep, _value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return text


_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh]?)")


def duration(lo_s: float | None = None, hi_s: float | None = None) -> Callable[[str], float]:
    """An argparse ``type``: ``600``, ``90s``, ``10m``, ``1h`` -> seconds, within ``[lo_s, hi_s]``."""
    allowed = ("" if lo_s is None and hi_s is None
               else f"; allowed: {_number_text(lo_s or 0)} s to {_number_text(hi_s or math.inf)} s")

    def parse(text: str) -> float:
        m = _DURATION.fullmatch(text.strip())
        if m is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 600, 90s, 10m, 1h{allowed})")
        seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]
        if (lo_s is not None and seconds < lo_s) or (hi_s is not None and seconds > hi_s):
            raise argparse.ArgumentTypeError(f"{text} is {_number_text(seconds)} s, out of range{allowed}")
        return seconds

    parse.__name__ = "duration"
    return parse


def pattern(regex: str, what: str) -> Callable[[str], str]:
    """An argparse ``type``: the whole value matches ``regex`` (``what`` names it in the error)."""
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if compiled.fullmatch(text) is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return text

    parse.__name__ = what
    return parse
