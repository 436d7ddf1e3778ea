"""What is wrong in an ``alarms.yaml``, said the way its author wrote it: file, line, key path, and
a suggestion where one is likely (``alarms.yaml:2: limits.sp02: unknown signal; did you mean 'spo2'?``).

Pydantic's own wording ("Value error, …", "Extra inputs are not permitted") and PyYAML's
("in "<unicode string>", line 2, column 9") are translated here; the file is read with the profile
reader (:func:`device_profiles.profile_yaml.read_yaml`), which keeps the line of every key.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from device_profiles import NUMERIC_SIGNALS
from device_profiles.profile_yaml import LineMap, loc_text


def _at(source: str, lines: LineMap | None, loc: Sequence[str | int]) -> str:
    line = lines.line(loc) if lines is not None and loc else None
    return f"{source}:{line}" if line else source


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), 1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(choices)}"


def _signal_keys(data: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every place in the file that names a catalogue signal, and the name written there."""
    for name in _mapping(data.get("limits")):
        yield ("limits", name), name
    for patient, overrides in _mapping(data.get("patients")).items():
        for name in _mapping(overrides):
            yield ("patients", patient, name), name
    signals = _mapping(data.get("anomaly")).get("signals")
    for i, name in enumerate(signals if isinstance(signals, list) else []):
        yield ("anomaly", "signals", i), name
    for name in _mapping(_mapping(data.get("technical")).get("expire_after_s")):
        yield ("technical", "expire_after_s", name), name


def _mapping(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def unknown_signals(data: Mapping[str, Any], source: str, lines: LineMap | None) -> list[str]:
    """One line per key that is not a catalogue signal, with its line and the likely signal meant."""
    known = sorted(NUMERIC_SIGNALS)
    return [f"{_at(source, lines, loc)}: {loc_text(loc)}: unknown signal {name!r}{_suggest(str(name), known)}"
            for loc, name in _signal_keys(data) if name not in NUMERIC_SIGNALS]


def _keys_at(defaults: Any, loc: Sequence[str | int]) -> list[str]:
    """The keys the configuration accepts at ``loc`` (read from the defaults' shape)."""
    node = defaults
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Mapping) and node and all(isinstance(v, Mapping) for v in node.values()):
            node = next(iter(node.values()))  # a map of rules (limits.<signal>): any rule has the keys
        else:
            return []
    return sorted(node) if isinstance(node, Mapping) else []


def describe(exc: ValidationError, source: str, lines: LineMap | None = None,
             defaults: Mapping[str, Any] | None = None) -> str:
    """Pydantic's errors as ``file:line: key.path: what is wrong`` lines."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and loc:
            keys = _keys_at(defaults, loc[:-1]) if defaults is not None else []
            msg = "unknown key" + (_suggest(str(loc[-1]), keys) if keys else "")
        elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], (dict, list)):
            msg = f"{msg} (got {err['input']!r})"
        out.append(f"{_at(source, lines, loc)}: {loc_text(loc) if loc else '(top level)'}: {msg}")
    return "\n".join(out)
