"""FHIR R4 output validates with fhir.resources and carries LOINC + MDC codings in UCUM; patient
messages are plain language."""

from __future__ import annotations

from fhir.resources.bundle import Bundle
from fhir.resources.observation import Observation

from dashboard_api import fhir
from dashboard_api.messages import plain_message

T = 1_763_805_600_000


def test_observation_codes_and_units() -> None:
    o = Observation.model_validate(fhir.observation("p-1", "mon-1", "spo2", T, 97.0))
    codes = [(c.system, c.code) for c in o.code.coding]
    assert codes == [("http://loinc.org", "2708-6"), ("http://loinc.org", "59408-5"),
                     ("urn:iso:std:iso:11073:10101", "150456")]
    assert (o.valueQuantity.value, o.valueQuantity.code, o.valueQuantity.system) == (97.0, "%", "http://unitsofmeasure.org")
    assert o.category[0].coding[0].code == "vital-signs"
    assert o.subject.reference == "Patient/p-1"
    assert str(o.effectiveDateTime).startswith("2025-11-22")


def test_bundle_validates_with_every_signal() -> None:
    rows = [("mon-1", s, T, v) for s, v in (("heart_rate", 72), ("resp_rate", 16), ("nibp_sys", 120),
                                            ("temperature", 36.8), ("perfusion_index", 2.5))]
    b = Bundle.model_validate(fhir.bundle("p-1", rows))
    assert b.type == "searchset" and b.total == 5
    hr = b.entry[0].resource
    assert [(c.system, c.code) for c in hr.code.coding] == [("http://loinc.org", "8867-4"),
                                                           ("urn:iso:std:iso:11073:10101", "147842")]
    temp = b.entry[3].resource
    assert temp.valueQuantity.code == "Cel"
    assert len({e.resource.id for e in b.entry}) == 5


def test_patient_messages_are_plain() -> None:
    m = plain_message({"kind": "limit", "signal": "spo2", "code": "critical_low", "priority": "high",
                       "raised_t": T, "state": "active"})
    assert "oxygen level was lower than expected" in m["text"] and m["urgent"]
    assert "SpO2" not in m["text"] and "critical" not in m["text"]
    seen = plain_message({"kind": "news2", "signal": None, "code": "news2", "priority": "medium", "raised_t": T,
                          "state": "acknowledged", "acknowledged_by": "nina"})
    assert "has seen this" in seen["status"] and "nina" not in seen["status"]


def test_patient_messages_say_what_to_do_with_the_wards_number() -> None:
    high = plain_message({"kind": "limit", "signal": "spo2", "code": "critical_low", "priority": "high",
                          "raised_t": T, "state": "active"}, "120")
    assert high["action"] == "call_now" and high["urgent"] and "Call 120 now" in high["what_next"]
    assert high["key"] == "limit" and high["params"] == {"number": "120", "signal": "spo2", "direction": "lower"}
    low = plain_message({"kind": "device", "signal": None, "code": "battery_low", "priority": "low",
                         "raised_t": T, "state": "active"}, "999")
    assert low["action"] == "nurse_will_call" and not low["urgent"] and "call 999" in low["what_next"]


def test_an_observation_id_is_the_uuid5_of_its_reading() -> None:
    """Ids are computed without uuid.UUID objects (a page makes 1,000): still RFC 4122 version 5."""
    import uuid

    from dashboard_api import fhir

    for device, signal, t in (("mon-1", "heart_rate", 1_700_000_000_000), ("bm-BM-9", "spo2", 0), ("x", "temperature", 7)):
        assert fhir.resource_id(device, signal, t) == uuid.uuid5(uuid.NAMESPACE_URL, f"{device}/{signal}/{t}").hex
