"""Vendor MQTT topic patterns: ``acme/{serial}/vitals``, where ``{name}`` captures one topic level.

A pattern is literal levels, ``{name}`` captures (one level each), prefixed captures such as
``acme-{serial}`` (a level starting with ``acme-``; the rest is captured), anonymous ``+`` and a
trailing ``#``. ``{root}`` stands for the deployment's topic root (``smartward/v1`` by default). The
device id is built from the captures by a template such as ``acme-{serial}``; when the template is
exactly one level of the topic, the broker ACL can bind it to the device's account (``%u``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .canonical import DEVICE_ID_RE
from .errors import ProfileError

_CAPTURE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]{0,31})\}$")
_PREFIXED = re.compile(r"^([A-Za-z0-9_.-]{1,32})\{([A-Za-z_][A-Za-z0-9_]{0,31})\}$")
_TEMPLATE_REF = re.compile(r"\{([^{}]*)\}")
_LITERAL = re.compile(r"^[^+#{}\x00]+$")
ROOT_PLACEHOLDER = "{root}"


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A compiled topic pattern: ``levels`` are literals, ``{name}``, ``+`` or a final ``#``."""

    pattern: str
    levels: tuple[str, ...]
    captures: tuple[str, ...]

    @classmethod
    def parse(cls, pattern: str, root: str = "smartward/v1") -> TopicPattern:
        text = pattern.replace(ROOT_PLACEHOLDER, root) if pattern.startswith(ROOT_PLACEHOLDER) else pattern
        if not text or text.startswith("/") or text.startswith("$"):
            raise ProfileError(f"topic {pattern!r}: must be a non-empty topic not starting with '/' or '$'")
        levels = tuple(text.split("/"))
        captures: list[str] = []
        for i, level in enumerate(levels):
            name = _capture_name(level)
            if name is not None:
                if name in captures:
                    raise ProfileError(f"topic {pattern!r}: capture {{{name}}} used twice")
                captures.append(name)
            elif level == "#":
                if i != len(levels) - 1:
                    raise ProfileError(f"topic {pattern!r}: '#' may only be the last level")
            elif level != "+" and not _LITERAL.match(level):
                raise ProfileError(
                    f"topic {pattern!r}: level {level!r} must be a literal, '+', '#' or one capture like {{serial}} "
                    "or acme-{serial}")
        return cls(pattern, levels, tuple(captures))

    @property
    def subscription(self) -> str:
        """The MQTT subscription filter (captures become ``+``)."""
        return "/".join("+" if _capture_name(lv) is not None else lv for lv in self.levels)

    def example(self, values: dict[str, str], other: str, rest: str) -> str:
        """A topic this pattern matches: captures from ``values`` (else ``other``), ``+`` -> ``other``,
        ``#`` -> ``rest`` (for simulators and sample payloads)."""
        out = []
        for lv in self.levels:
            name = _capture_name(lv)
            if name is not None:
                out.append(lv[: lv.index("{")] + values.get(name, other))
            else:
                out.append(other if lv == "+" else rest if lv == "#" else lv)
        return "/".join(out)

    def match(self, topic: str) -> dict[str, str] | None:
        """The captures of ``topic`` or ``None`` when it does not match."""
        parts = topic.split("/")
        levels = self.levels
        if levels and levels[-1] == "#":
            if len(parts) < len(levels) - 1:
                return None
            levels = levels[:-1]
            parts_cmp = parts[: len(levels)]
        else:
            if len(parts) != len(levels):
                return None
            parts_cmp = parts
        out: dict[str, str] = {}
        for level, part in zip(levels, parts_cmp, strict=True):
            if level == "+":
                continue
            m = _CAPTURE.match(level)
            if m:
                if not part:
                    return None
                out[m.group(1)] = part
                continue
            p = _PREFIXED.match(level)
            if p:
                if not part.startswith(p.group(1)) or len(part) == len(p.group(1)):
                    return None
                out[p.group(2)] = part[len(p.group(1)):]
            elif level != part:
                return None
        return out

    def overlaps(self, other: TopicPattern) -> bool:
        """True when some topic matches both patterns (two profiles would claim it)."""
        a, b = self.levels, other.levels
        for i in range(max(len(a), len(b))):
            la = a[i] if i < len(a) else None
            lb = b[i] if i < len(b) else None
            if la == "#" or lb == "#":
                return True
            if la is None or lb is None:
                return False
            if not _levels_overlap(la, lb):
                return False
        return True


def _capture_name(level: str) -> str | None:
    m = _CAPTURE.match(level) or _PREFIXED.match(level)
    return None if m is None else m.group(m.lastindex or 1)


def _level_prefix(level: str) -> str | None:
    """``""`` for ``+``/``{x}`` (any value), ``"acme-"`` for ``acme-{x}``, ``None`` for a literal."""
    if level == "+" or _CAPTURE.match(level):
        return ""
    m = _PREFIXED.match(level)
    return None if m is None else m.group(1)


def _levels_overlap(a: str, b: str) -> bool:
    """Some one-level value matches both (neither is ``#``)."""
    pa, pb = _level_prefix(a), _level_prefix(b)
    if pa is None and pb is None:
        return a == b
    if pa is None:
        assert pb is not None
        return a.startswith(pb) and len(a) > len(pb)
    if pb is None:
        return b.startswith(pa) and len(b) > len(pa)
    return pa.startswith(pb) or pb.startswith(pa)


@dataclass(frozen=True, slots=True)
class DeviceIdTemplate:
    """``acme-{serial}``: builds the device id from topic captures (or other named values)."""

    template: str
    names: tuple[str, ...]

    @classmethod
    def parse(cls, template: str) -> DeviceIdTemplate:
        names = tuple(_TEMPLATE_REF.findall(template))
        if not names:
            raise ProfileError(f"device id template {template!r} refers to no capture such as {{serial}}")
        for n in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", n):
                raise ProfileError(f"device id template {template!r}: {{{n}}} is not a capture name")
        literal = _TEMPLATE_REF.sub("", template)
        if literal and not re.fullmatch(r"[A-Za-z0-9_.-]*", literal):
            raise ProfileError(f"device id template {template!r}: literal parts may only use A-Z a-z 0-9 _ . -")
        return cls(template, names)

    def render(self, values: dict[str, str]) -> str:
        """The device id, or :class:`ProfileError` when the result is not a valid device id."""
        out = self.template
        for n in self.names:
            out = out.replace("{" + n + "}", values[n])
        if not DEVICE_ID_RE.fullmatch(out):
            raise ProfileError(f"device id {out!r} (from {self.template!r}) is not [A-Za-z0-9_.-]{{1,64}}")
        return out
