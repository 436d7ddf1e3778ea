"""FHIR R4 out: vital-signs ``Observation`` resources in a ``Bundle`` (searchset), coded with LOINC
and IEEE 11073 MDC, values in UCUM. Plain dicts (validated with ``fhir.resources`` in the tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from device_profiles import SIGNALS

LOINC = "http://loinc.org"
MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                           "code": "vital-signs", "display": "Vital Signs"}]}
EXTRA_LOINC = {"spo2": [("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")]}


def iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def observation(patient: str, device: str, signal: str, t_ms: int, value: float) -> dict[str, Any]:
    s = SIGNALS[signal]
    coding: list[dict[str, Any]] = []
    if s.loinc:
        coding.append({"system": LOINC, "code": s.loinc, "display": s.meaning})
    coding += [{"system": LOINC, "code": c, "display": d} for c, d in EXTRA_LOINC.get(signal, [])]
    if s.mdc_code is not None:
        coding.append({"system": MDC, "code": str(s.mdc_code), "display": s.mdc_name})
    return {
        "resourceType": "Observation",
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{device}/{signal}/{t_ms}").hex,
        "status": "final",
        "category": [VITAL_SIGNS],
        "code": {"coding": coding, "text": s.meaning},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": iso(t_ms),
        "valueQuantity": {"value": round(value, max(s.precision, 1)), "unit": s.unit, "system": UCUM, "code": s.unit},
        "device": {"display": device},
    }


def bundle(patient: str, rows: list[tuple[str, str, int, float]], base_url: str = "") -> dict[str, Any]:
    """``rows``: ``(device, signal, t_ms, value)``."""
    entries = []
    for device, signal, t, value in rows:
        obs = observation(patient, device, signal, t, value)
        entries.append({"fullUrl": f"{base_url}Observation/{obs['id']}", "resource": obs,
                        "search": {"mode": "match"}})
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "searchset", "total": len(entries),
            "timestamp": iso(int(datetime.now(UTC).timestamp() * 1000)), "entry": entries}
