"""Paths into nested JSON payloads: ``vitals.spo2``, ``data.batch[0].t``, ``$.meta.serial``.

A path is dot-separated object keys with optional ``[n]`` list indices (negative counts from the
end) and ``[?key=value]`` selectors (the first object of a list whose ``key`` reads ``value``, for
code-keyed readings such as ``obs[?code=HR].val``). Keys containing dots or brackets are written
quoted: ``"a.b".c``. Inside a batch of samples a
path is relative to the sample; a leading ``$`` makes it relative to the whole message. Paths are
compiled once when the profile loads; resolving one is a few dict lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ProfileError

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([^.\[\]"]+)|\[(-?\d+)\]|(\.)|\[\?([^=\]]+)=([^\]]*)\]')
_MISSING = object()


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    absolute: bool
    steps: tuple[str | int | tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        src = text.strip()
        absolute = src == "$" or src.startswith("$.") or src.startswith("$[")
        body = src[1:] if absolute else src
        if body.startswith("."):
            body = body[1:]
        steps: list[str | int | tuple[str, str]] = []
        pos = 0
        expect_key = True
        while pos < len(body):
            m = _TOKEN.match(body, pos)
            if not m or m.end() == pos:
                raise ProfileError(f"path {text!r}: cannot parse at character {pos + (1 if absolute else 0)}")
            quoted, bare, index, dot, fkey, fval = m.groups()
            if fkey is not None:
                steps.append((fkey.strip(), fval.strip()))
                expect_key = False
            elif dot is not None:
                if expect_key:
                    raise ProfileError(f"path {text!r}: empty key")
                expect_key = True
            elif index is not None:
                steps.append(int(index))
                expect_key = False
            else:
                if not expect_key:
                    raise ProfileError(f"path {text!r}: missing '.' before {m.group(0)!r}")
                steps.append(quoted.replace('\\"', '"') if quoted is not None else bare)
                expect_key = False
            pos = m.end()
        if expect_key and steps:
            raise ProfileError(f"path {text!r}: ends with '.'")
        if not steps and not absolute:
            raise ProfileError("path is empty (use $ for the whole message)")
        return cls(text, absolute, tuple(steps))

    def get(self, item: Any, root: Any) -> Any:
        """The value at this path (from ``item``, or ``root`` when absolute); ``MISSING`` when absent."""
        cur = root if self.absolute else item
        for step in self.steps:
            if type(step) is str:
                if type(cur) is not dict:
                    return MISSING
                cur = cur.get(step, _MISSING)
                if cur is _MISSING:
                    return MISSING
            elif type(step) is int:
                if type(cur) is not list:
                    return MISSING
                try:
                    cur = cur[step]
                except IndexError:
                    return MISSING
            else:
                if type(cur) is not list:
                    return MISSING
                key, want = step  # type: ignore[misc,str-unpack]
                cur = next((el for el in cur if type(el) is dict and key in el and _text(el[key]) == want), _MISSING)
                if cur is _MISSING:
                    return MISSING
        return cur

    def set(self, target: dict[str, Any], value: Any) -> None:
        """Write ``value`` at this path, creating objects/lists on the way (used by ``profile simulate``)."""
        cur: Any = target
        for i, step in enumerate(self.steps):
            last = i == len(self.steps) - 1
            nxt: Any = value if last else ([] if not isinstance(self.steps[i + 1], str) else {})
            if isinstance(step, tuple):
                key, want = step
                found = next((el for el in cur if isinstance(el, dict) and _text(el.get(key)) == want), None)
                if found is None:
                    found = {key: want}
                    cur.append(found)
                cur = found
            elif isinstance(step, int):
                while len(cur) <= step:
                    cur.append(None)
                if last or cur[step] is None:
                    cur[step] = nxt
                cur = cur[step]
            else:
                if last or step not in cur:
                    cur[step] = nxt
                cur = cur[step]


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def describe(path: JsonPath, index: int | None) -> str:
    """Human text for where a value came from: ``samples[3].temp.value`` or ``$.battery``."""
    if path.absolute or index is None:
        return path.text if path.absolute else f"$.{path.text}"
    return f"sample[{index}].{path.text}"
