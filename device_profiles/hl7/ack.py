"""HL7 v2 acknowledgements (original mode): ``MSA|AA``, or ``AE``/``AR`` with one ERR segment per problem.

ERR follows v2.5+: ERR-2 location (segment^sequence^field), ERR-3 the table 0357 code, ERR-4
severity (``E``; ``W`` for a warning under ``AA``, e.g. a conflict resolved), ERR-8 a message for
the sender's operators. MSA-3 repeats the first problem for senders
that only log MSA.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

from .fields import field
from .result import Hl7Issue, Hl7Result

_TABLE_0357 = {100: "Segment sequence error", 101: "Required field missing", 102: "Data type error",
               103: "Table value not found", 200: "Unsupported message type", 201: "Unsupported event code",
               203: "Unsupported version id", 205: "Duplicate key identifier", 207: "Application internal error"}
_counter = itertools.count(1)
APPLICATION = "SMARTWARD"


_CONTROL = {c: " " for c in range(32)} | {127: " "}


def escape(text: str) -> str:
    """HL7 escape sequences for the delimiters (``|^~\\&``); control characters become spaces."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("~", "\\R\\")
    out = out.replace("&", "\\T\\").translate(_CONTROL)
    return out[:400]


def ack_code(result: Hl7Result) -> str:
    if result.rejected:
        return "AR"
    return "AE" if result.errors else "AA"


def _ts(now_s: float) -> str:
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(now_s))


def build_ack(result: Hl7Result, code: str | None = None, extra: Sequence[Hl7Issue] = (),
              facility: str = "", now_s: float | None = None) -> str:
    """The ACK for ``result`` (CR-separated segments, not framed)."""
    code = code or ack_code(result)
    issues = [*result.issues, *extra]
    msg: Any = result.message
    now_s = time.time() if now_s is None else now_s
    control = f"SW{int(now_s * 1000)}{next(_counter):06d}"
    if msg is not None:
        msh = msg.segment("MSH")
        send_app, send_fac = field(msh, 3), field(msh, 4)
        processing, version = field(msh, 11) or "P", field(msh, 12) or "2.6"
        event = field(msh, 9, 2)
        charset = field(msh, 18)
    else:
        send_app = send_fac = event = charset = ""
        processing, version = "P", "2.6"
    header = ["MSH", "^~\\&", APPLICATION, escape(facility), escape(send_app), escape(send_fac), _ts(now_s), "",
              f"ACK^{escape(event)}^ACK" if event else "ACK", control, processing, version]
    if charset:
        header += ["", "", "", "", "", escape(charset)]
    text = escape(str(issues[0])) if issues else ""
    segments = ["|".join(header), "|".join(["MSA", code, escape(result.control_id), text])]
    for issue in issues[:50]:
        location = "^".join([issue.segment, str(issue.sequence), str(issue.field) if issue.field else ""]).rstrip("^")
        label = _TABLE_0357.get(issue.code, "Error")
        segments.append("|".join(["ERR", "", location, f"{issue.code}^{label}^HL70357", issue.severity, "", "", "",
                                  escape(str(issue))]))
    return "\r".join(segments) + "\r"
