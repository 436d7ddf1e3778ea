"""HL7 v2 ADT in: A01 (admit), A02 (transfer), A03 (discharge) -> the same ADT actions as the REST API
(the route is ``dashboard_api/routes/adt.py``).

Patient = PID-3.1 (the first identifier; must be a SmartWard id ``[A-Za-z0-9_.-]{1,64}``), location =
PV1-3 (``point of care^room^bed``: ward = PV1-3.1, bed = PV1-3.3, else PV1-3.2), time = EVN-6
(event occurred), else EVN-2, else MSH-7. The answer is an HL7 ACK (``MSA|AA`` accepted, ``AE``
refused by ADT rules, ``AR`` unreadable), with the reason in ``ERR``/``MSA-3``.

Optional identity (kept in the platform's state DB only, never with the data): name = the first PID-5
(``family^given^middle^suffix``, read as ``FAMILY, Given Middle Suffix``), MRN = the first PID-3
identifier typed ``MR`` (PID-3.5). To keep the platform pseudonymous, send the pseudonym first in PID-3
and the MRN as a repetition typed ``MR``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7

from ..errors import ProfileError
from .fields import DtmError, field, parse_dtm

EVENTS = {"A01": "admit", "A02": "transfer", "A03": "discharge"}
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# what python-hl7 raises on structurally broken messages (its parser even asserts on separator runs)
PARSER_ERRORS = (hl7.exceptions.HL7Exception, KeyError, IndexError, ValueError, TypeError, AssertionError)


class Hl7AdtError(ProfileError):
    """An ADT message that cannot be read or breaks an ADT rule; ``where`` locates it (``PID-3.1``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True, slots=True)
class AdtMessage:
    event: str  # A01 / A02 / A03
    action: str  # admit / transfer / discharge
    patient: str
    ward: str
    bed: str
    at: int
    control_id: str
    name: str = ""  # PID-5 as text, "" when absent
    mrn: str = ""  # the PID-3 identifier typed MR, "" when none


def _id(value: str, where: str) -> str:
    if not _ID.match(value):
        raise Hl7AdtError(where, f"{value!r} is not an id ([A-Za-z0-9_.-]{{1,64}})")
    return value


def parse_adt(text: str) -> AdtMessage:
    """Parse one ADT message (segments separated by CR, LF or CRLF)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r \x0b\x1c")
    if not text.startswith("MSH"):
        raise Hl7AdtError("MSH", "message must start with an MSH segment")
    try:
        msg = hl7.parse(text)
        msh = msg.segment("MSH")
    except PARSER_ERRORS as exc:
        raise Hl7AdtError("MSH", f"not an HL7 v2 message ({type(exc).__name__}: {exc})") from None
    if field(msh, 9, 1) != "ADT":
        raise Hl7AdtError("MSH-9", f"message type {field(msh, 9, 1)!r} is not ADT")
    event = field(msh, 9, 2)
    if event not in EVENTS:
        raise Hl7AdtError("MSH-9.2", f"trigger event {event!r} is not one of A01, A02, A03")
    control = field(msh, 10)

    def seg(name: str) -> object:
        try:
            return msg.segment(name)
        except KeyError:
            raise Hl7AdtError(name, f"{name} segment missing") from None

    pid, pv1 = seg("PID"), seg("PV1")
    patient = _id(field(pid, 3, 1), "PID-3.1")
    ward, bed = field(pv1, 3, 1), field(pv1, 3, 3) or field(pv1, 3, 2)
    if event != "A03":
        ward, bed = _id(ward, "PV1-3.1"), _id(bed, "PV1-3.3")
    try:
        evn = msg.segment("EVN")
    except KeyError:
        evn = None
    when = (field(evn, 6) or field(evn, 2) if evn is not None else "") or field(msh, 7)
    try:
        at = parse_dtm(when, UTC) if when else int(datetime.now(UTC).timestamp() * 1000)
    except DtmError as exc:
        raise Hl7AdtError("EVN-6", str(exc)) from None
    return AdtMessage(event, EVENTS[event], patient, ward, bed, at, control, _name(pid), _mrn(pid))


def _name(pid: object) -> str:
    """PID-5 (the first XPN) as ``FAMILY, Given Middle Suffix``; "" when absent."""
    family = field(pid, 5, 1)
    rest = " ".join(p for p in (field(pid, 5, 2), field(pid, 5, 3), field(pid, 5, 4)) if p)
    return f"{family}, {rest}" if family and rest else family or rest


def _mrn(pid: object) -> str:
    """The first PID-3 identifier whose type (PID-3.5) is ``MR``; "" when none."""
    for rep in range(1, 11):
        value = field(pid, 3, 1, rep)
        if field(pid, 3, 5, rep) == "MR" and value:
            return value
        if not value and not field(pid, 3, 5, rep):
            break
    return ""


def adt_ack(control_id: str, code: str, text: str = "", event: str = "A01") -> str:
    """An HL7 v2.5 ACK (``AA``, ``AE`` or ``AR``); ``text`` is escaped into MSA-3 and ERR-8."""
    def esc(s: str) -> str:
        return (s.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
                .replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))[:200]

    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    segs = [f"MSH|^~\\&|SMARTWARD|SMARTWARD|||{now}||ACK^{event}^ACK|ACK{esc(control_id)}|P|2.5",
            f"MSA|{code}|{esc(control_id)}|{esc(text)}"]
    if code != "AA":
        segs.append(f"ERR||||E||||{esc(text)}")
    return "\r".join(segs) + "\r"
