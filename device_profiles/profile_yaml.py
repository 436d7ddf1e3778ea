"""Safe YAML reading for profiles, with the line of every key kept for error messages.

Only PyYAML's ``SafeLoader`` is used: tags such as ``!!python/object/apply`` have no constructor
there and are refused with their line; nothing named in a file is ever imported or executed.
Duplicate keys (which plain YAML loaders silently collapse) are refused too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import ProfileError

MAX_PROFILE_BYTES = 256 * 1024
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a profile: where (``fields[2].unit``), on which line, and what."""

    where: str
    line: int | None
    message: str

    def render(self, source: str) -> str:
        at = f"{source}:{self.line}" if self.line else source
        return f"{at}: {self.where}: {self.message}"


def loc_text(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


class ProfileValidationError(ProfileError):
    """A profile was refused; ``issues`` name each key and line."""

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__("\n".join(i.render(source) for i in self.issues))


class LineMap:
    """Maps a location inside the document (``("fields", 2, "unit")``) to its 1-based line."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.renames: dict[Loc, Loc] = {}  # after a migration: new location prefix -> old one

    def line(self, loc: Sequence[str | int]) -> int | None:
        key: Loc = tuple(loc)
        for new, old in self.renames.items():
            if key[: len(new)] == new:
                key = old + key[len(new):]
                break
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]


def _walk(node: yaml.Node, loc: Loc, lines: LineMap, issues: list[Issue], walked: set[int]) -> None:
    lines.lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in walked:  # an alias (*name) of a node already walked: once is enough (no "billion laughs")
        return
    walked.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is None:
                issues.append(Issue(loc_text(loc), line, "keys must be plain scalars"))
                continue
            if key in seen and key != "<<":
                issues.append(Issue(loc_text((*loc, key)), line, f"duplicate key {key!r} (first on line {seen[key]})"))
                continue
            seen[key] = line
            lines.lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, issues, walked)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines, issues, walked)


def _char(c: object) -> str:
    """A character as U+XXXX (PyYAML's reader gives its code point or the character)."""
    return f"U+{c if isinstance(c, int) else ord(str(c)[:1] or chr(0)):04X}"


def read_yaml(text: str | bytes, source: str) -> tuple[Any, LineMap]:
    """Parse one YAML document safely; return the data and its line map, or raise with the line."""
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileValidationError(source, [Issue("$", None, f"file is larger than {MAX_PROFILE_BYTES} bytes")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileValidationError(source, [Issue("$", None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    try:  # the reader refuses control characters as soon as the loader is built
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        at = text.count("\n", 0, exc.position) + 1
        raise ProfileValidationError(source, [Issue("$", at, f"YAML: control character "
                                                             f"{_char(exc.character)} at position {exc.position} is "
                                                             "not allowed in a profile")]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ProfileValidationError(source, [Issue("$", 1, "the file is empty")])
        lines = LineMap()
        issues: list[Issue] = []
        _walk(node, (), lines, issues, set())
        if issues:
            raise ProfileValidationError(source, issues)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        if "constructor for the tag" in problem:
            tag = problem.split("tag", 1)[1].strip(" '").replace("tag:yaml.org,2002:", "!!")
            problem = f"tag {tag} is not allowed: profiles are data (safe YAML only, nothing is executed)"
        elif exc.context:
            problem = f"{exc.context}; {problem}"
        raise ProfileValidationError(source, [Issue("$", line, f"YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ProfileValidationError(source, [Issue("$", None, f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ProfileValidationError(source, [Issue("$", 1, "the top level must be a mapping of keys")])
    return data, lines
