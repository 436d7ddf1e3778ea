"""FHIR R4 out: vital-signs ``Observation`` resources in a ``Bundle`` (searchset), coded with LOINC
and IEEE 11073 MDC, values in UCUM. Plain dicts (validated with ``fhir.resources`` in the tests).

Searches page: entries are ordered by (time, device, signal); a :class:`Cursor` names the last entry
served and goes into the Bundle's ``next`` link (``_cursor``), so a page never reads more than
``_count`` + 1 store rows."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from device_profiles import SIGNALS

LOINC = "http://loinc.org"
MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                           "code": "vital-signs", "display": "Vital Signs"}]}
EXTRA_LOINC = {"spo2": [("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")]}


_CURSOR = re.compile(r"^(\d{1,15})~([A-Za-z0-9_.-]{1,64})~([a-z0-9_]{0,32})$")
Entry = tuple[str, str, int, float]  # device, signal, t_ms, value


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last entry a page served: ``signal`` "" means every signal of (``t``, ``device``)."""

    t: int
    device: str
    signal: str = ""

    def __str__(self) -> str:
        return f"{self.t}~{self.device}~{self.signal}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        m = _CURSOR.match(text)
        if m is None:
            raise ValueError(f"_cursor {text[:80]!r} is not a cursor from a next link (t~device~signal)")
        return cls(int(m[1]), m[2], m[3])

    def precedes(self, t: int, device: str, signal: str) -> bool:
        """True when the entry (``t``, ``device``, ``signal``) comes after this cursor."""
        if (t, device) != (self.t, self.device):
            return (t, device) > (self.t, self.device)
        return self.signal != "" and signal > self.signal


def page(rows: Sequence[tuple[int, str, dict[str, float]]], after: Cursor | None, count: int,
         more: bool) -> tuple[list[Entry], Cursor | None]:
    """One page of entries from store rows ``(t, device, values)`` read from ``after.t`` on, in order.

    ``more``: the store returned as many rows as it was asked for (more may follow). Returns at most
    ``count`` entries and the cursor for the next page (``None`` on the last one).
    """
    entries = [(device, s, t, v) for t, device, values in rows for s, v in sorted(values.items())
               if after is None or after.precedes(t, device, s)]
    if len(entries) > count:
        device, signal, t, _v = entries[count - 1]
        return entries[:count], Cursor(t, device, signal)
    if more and rows:  # every entry read is served: go on after the last row (even one without values)
        t, device, _values = rows[-1]
        return entries, Cursor(t, device)
    return entries, None


def iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _code(signal: str) -> dict[str, Any]:
    s = SIGNALS[signal]
    coding: list[dict[str, Any]] = []
    if s.loinc:
        coding.append({"system": LOINC, "code": s.loinc, "display": s.meaning})
    coding += [{"system": LOINC, "code": c, "display": d} for c, d in EXTRA_LOINC.get(signal, [])]
    if s.mdc_code is not None:
        coding.append({"system": MDC, "code": str(s.mdc_code), "display": s.mdc_name})
    return {"coding": coding, "text": s.meaning}


# a signal's "code" element is the same in every Observation of it: built once (read-only, shared)
_CODES: dict[str, dict[str, Any]] = {}
_URL_NS = uuid.NAMESPACE_URL.bytes


def resource_id(device: str, signal: str, t_ms: int) -> str:
    """``uuid5(NAMESPACE_URL, "device/signal/t")`` as hex (stable: the same reading, the same id),
    computed without building a :class:`uuid.UUID` (a 1,000-entry page makes 1,000 of them)."""
    b = bytearray(hashlib.sha1(_URL_NS + f"{device}/{signal}/{t_ms}".encode(), usedforsecurity=False).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50  # version 5
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    return b.hex()


def observation(patient: str, device: str, signal: str, t_ms: int, value: float, when: str | None = None) -> dict[str, Any]:
    """``when``: ``iso(t_ms)``, when the caller already has it (the signals of one reading share it)."""
    s = SIGNALS[signal]
    code = _CODES.get(signal)
    if code is None:
        code = _CODES[signal] = _code(signal)
    return {
        "resourceType": "Observation",
        "id": resource_id(device, signal, t_ms),
        "status": "final",
        "category": [VITAL_SIGNS],
        "code": code,
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when or iso(t_ms),
        "valueQuantity": {"value": round(value, max(s.precision, 1)), "unit": s.unit, "system": UCUM, "code": s.unit},
        "device": {"display": device},
    }


def bundle(patient: str, rows: list[Entry], base_url: str = "", links: dict[str, str] | None = None,
           paged: bool = False) -> dict[str, Any]:
    """``rows``: ``(device, signal, t_ms, value)``; ``links``: relation -> URL (``self``, ``next``).
    ``paged``: one page of several, so no ``total`` (a paged search does not count every match)."""
    entries = []
    last_t, when = -1, ""
    for device, signal, t, value in rows:
        if t != last_t:
            last_t, when = t, iso(t)
        obs = observation(patient, device, signal, t, value, when)
        entries.append({"fullUrl": f"{base_url}Observation/{obs['id']}", "resource": obs,
                        "search": {"mode": "match"}})
    out: dict[str, Any] = {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "searchset",
                           "timestamp": iso(int(datetime.now(UTC).timestamp() * 1000))}
    if not paged:
        out["total"] = len(entries)
    if links:
        out["link"] = [{"relation": rel, "url": url} for rel, url in links.items()]
    out["entry"] = entries
    return out
