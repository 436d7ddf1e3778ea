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
APPLICATION_ERROR = 207


@dataclass(frozen=True, slots=True)
class Hl7Issue:
    """One problem, located like HL7 ERR-2 (segment, its sequence in the message, field)."""

    segment: str
    sequence: int
    field: int | None
    code: int
    text: str

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
    unmapped: list[str] = field(default_factory=list)
    message: Any = None  # the parsed python-hl7 message, for the ACK

    def reject(self, segment: str, seq: int, fnum: int | None, code: int, text: str) -> Hl7Result:
        self.rejected = True
        self.issues.append(Hl7Issue(segment, seq, fnum, code, text))
        return self
