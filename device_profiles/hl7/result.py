"""What decoding one HL7 v2 message produced: data, problems located like ERR-2, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..device_alarm import Decoded

# HL7 table 0357 (message error condition codes)
SEGMENT_SEQUENCE_ERROR = 100
REQUIRED_FIELD_MISSING = 101
DATA_TYPE_ERROR = 102
TABLE_VALUE_NOT_FOUND = 103
UNSUPPORTED_MESSAGE_TYPE = 200
UNSUPPORTED_EVENT_CODE = 201
UNSUPPORTED_VERSION = 203
DUPLICATE_KEY = 205  # "Duplicate key identifier": two OBX for one signal at one time
APPLICATION_ERROR = 207


@dataclass(frozen=True, slots=True)
class Hl7Issue:
    """One problem, located like HL7 ERR-2 (segment, its sequence in the message, field)."""

    segment: str
    sequence: int
    field: int | None
    code: int
    text: str
    severity: str = "E"  # ERR-4: E error (the ACK is AE), W warning (accepted: AA, the ERR still names it)

    def __str__(self) -> str:
        at = f"{self.segment}[{self.sequence}]" + (f"-{self.field}" if self.field else "")
        return f"{at}: {self.text}"


@dataclass(slots=True)
class Hl7Result:
    message_type: str = ""
    control_id: str = ""
    decoded: list[Decoded] = field(default_factory=list)
    issues: list[Hl7Issue] = field(default_factory=list)
    rejected: bool = False  # AR: the message as a whole is not acceptable
    unmapped: list[str] = field(default_factory=list)  # "OBX[n] code^name" of values not in the catalogue
    message: Any = None  # the parsed python-hl7 message, for the ACK

    @property
    def errors(self) -> list[Hl7Issue]:
        """The issues that make the ACK ``AE`` (warnings are reported under ``AA``)."""
        return [i for i in self.issues if i.severity == "E"]

    def unmapped_codes(self) -> list[str]:
        """The ``code^name`` of each unmapped value (for per-code counts)."""
        return [u.split(" ", 1)[1] if " " in u else u for u in self.unmapped]

    def reject(self, segment: str, seq: int, fnum: int | None, code: int, text: str) -> Hl7Result:
        self.rejected = True
        self.issues.append(Hl7Issue(segment, seq, fnum, code, text))
        return self
