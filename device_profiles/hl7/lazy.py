"""An HL7 v2 message whose segments are parsed one at a time (bounded memory).

``hl7.parse`` builds the tree of every segment at once: a 1.1 MB ``ORU^R01`` with 10,000 OBX held
about 115 MB while it was decoded (issue 14). :class:`LazyMessage` keeps the segment texts and builds
a segment's tree only when it is read, with python-hl7's own splitter and parse plan (the same tree
``hl7.parse`` builds for it), so a decoder that reads a segment, takes the fields it needs and moves
on holds one segment's tree at a time. ``hl7.parser._split`` is python-hl7's private API (0.4.x is
pinned); ``tests/unit/profiles/test_hl7_lazy.py`` checks every segment's tree against ``hl7.parse``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from hl7.parser import _split, create_parse_plan

from .fields import field

# the OBX fields the ORU decoder reads: (field, component) of the first repetition
OBX_FIELDS = ((2, 1), (3, 1), (3, 2), (4, 1), (5, 1), (5, 2), (6, 1), (6, 2), (11, 1), (14, 1), (18, 1))
_OBX_INDEX = {k: i for i, k in enumerate(OBX_FIELDS)}


class LazyMessage:
    """``segment(name)``, ``segments(name)``, ``has(name)`` and iteration, like ``hl7.Message``,
    parsing each segment when it is reached."""

    def __init__(self, text: str) -> None:
        text = text.strip()  # as hl7.parse
        plan = create_parse_plan(text)  # raises when the first segment is not MSH/BHS/FHS
        self._plan = plan.next()  # the segment level of the plan
        self._sep = text[3]
        self._raw = text.split(plan.separator)

    def _name(self, raw: str) -> str:
        return raw.split(self._sep, 1)[0]

    def __iter__(self) -> Iterator[Any]:
        for raw in self._raw:
            yield _split(raw, self._plan)

    def segments(self, name: str) -> Iterator[Any]:
        for raw in self._raw:
            if self._name(raw) == name:
                yield _split(raw, self._plan)

    def segment(self, name: str) -> Any:
        for seg in self.segments(name):
            return seg
        raise KeyError(f"No {name} segments")

    def has(self, name: str) -> bool:
        return any(self._name(raw) == name for raw in self._raw)


class ObxFields:
    """The fields the decoder reads of one OBX, taken from its tree (which can then be dropped).

    Answers :func:`~device_profiles.hl7.fields.field` like the segment did; reading a field that was
    not taken is a programming error (``RuntimeError``), never a silent ``""``.
    """

    __slots__ = ("_values",)

    def __init__(self, seg: Any) -> None:
        self._values = tuple(sys.intern(field(seg, n, comp)) for n, comp in OBX_FIELDS)

    def extract_field(self, segment_num: int = 1, field_num: int = 1, repeat_num: int = 1, component_num: int = 1,
                      subcomponent_num: int = 1) -> str:
        i = _OBX_INDEX.get((field_num, component_num))
        if i is None or repeat_num != 1 or subcomponent_num != 1:
            raise RuntimeError(f"OBX-{field_num}.{component_num} (repetition {repeat_num}) was not taken: "
                               "add it to OBX_FIELDS")
        return self._values[i]
