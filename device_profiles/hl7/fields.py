"""Reading HL7 v2 fields safely (python-hl7 underneath) and HL7 date/times.

python-hl7 raises ``IndexError`` for absent fields and components; here an absent value is ``""``
so that decoding code reads like the standard (``field(obx, 14)`` is OBX-14).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from ..canonical import RAW_RETENTION_MS

_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$")


def field(seg: Any, n: int, comp: int = 1, rep: int = 1, sub: int = 1) -> str:
    """``SEG-n.comp`` as text, ``""`` when absent (python-hl7 numbering: MSH-9 is ``field(msh, 9)``)."""
    try:
        value = seg.extract_field(1, n, rep, comp, sub)
    except (IndexError, KeyError, TypeError, ValueError):
        return ""
    return str(value).strip() if value is not None else ""


def repetitions(seg: Any, n: int) -> list[str]:
    """The first components of every repetition of ``SEG-n`` (e.g. OBX-8 ``PH~SP``)."""
    out: list[str] = []
    for r in range(1, 11):
        v = field(seg, n, 1, r)
        if not v and r > 1:
            break
        if v:
            out.append(v)
    return out


class DtmError(ValueError):
    pass


def zone_of(text: str) -> tzinfo | None:
    """The UTC offset written in an HL7 DTM (``…+0100``), or ``None`` when it has none."""
    m = _DTM.match(text.strip())
    if not m or not m.group(8):
        return None
    z = m.group(8)
    hours, minutes = int(z[1:3]), int(z[3:5])
    if hours > 23 or minutes > 59:
        raise DtmError(f"{text!r}: UTC offset {z} is not a time zone (hours 00-23, minutes 00-59)")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(delta if z[0] == "+" else -delta)


def parse_dtm(text: str, default_zone: tzinfo) -> int:
    """HL7 DTM ``YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]`` -> ms since the epoch (UTC)."""
    m = _DTM.match(text.strip())
    if not m:
        raise DtmError(f"{text!r} is not an HL7 date/time (YYYYMMDDHHMMSS[.SSSS][+ZZZZ])")
    y, mo, d, h, mi, s, frac, _z = m.groups()
    if h is None or mi is None:
        raise DtmError(f"{text!r} has no time of day (needs at least YYYYMMDDHHMM)")
    zone = zone_of(text) or default_zone
    try:
        dt = datetime(int(y), int(mo or 1), int(d or 1), int(h), int(mi), int(s or 0), tzinfo=zone)
    except ValueError as exc:
        raise DtmError(f"{text!r}: {exc}") from None
    ms = int((frac or "0").ljust(4, "0")[:3])
    return int(dt.timestamp()) * 1000 + ms


def too_old(t: int, received_ms: int, max_age_ms: int | None = RAW_RETENTION_MS) -> bool:
    """Older than the raw retention (``max_age_ms``; ``None``: no limit): the store would drop it, so
    it is refused (AE) instead."""
    return max_age_ms is not None and t < received_ms - max_age_ms


def when(t: int) -> str:
    """``t`` (ms) as ISO 8601 UTC, for ACK texts."""
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
