"""HL7 v2 ADT A01/A02/A03 parsing and ACKs."""

from __future__ import annotations

from datetime import UTC, datetime

import hl7
import pytest

from device_profiles.hl7 import Hl7AdtError, adt_ack, parse_adt

A01 = ("MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|20261122101500||ADT^A01^ADT_A01|MSG0001|P|2.5\r"
       "EVN|A01|20261122101500|||nurse1|20261122101000\r"
       "PID|1||P1234^^^HOSP^MR||DOE^JOHN\r"
       "PV1|1|I|W1^12^B07^HOSP\r")


def test_admit_reads_patient_location_and_event_time() -> None:
    m = parse_adt(A01)
    assert (m.event, m.action, m.patient, m.ward, m.bed, m.control_id) == ("A01", "admit", "P1234", "W1", "B07", "MSG0001")
    assert m.at == int(datetime(2026, 11, 22, 10, 10, tzinfo=UTC).timestamp() * 1000)  # EVN-6, not EVN-2


def test_lf_separators_and_missing_bed_component_fall_back_to_room() -> None:
    text = A01.replace("W1^12^B07^HOSP", "W1^12").replace("\r", "\n")
    m = parse_adt(text)
    assert (m.ward, m.bed) == ("W1", "12")


def test_discharge_needs_no_location() -> None:
    text = A01.replace("ADT^A01", "ADT^A03").replace("PV1|1|I|W1^12^B07^HOSP", "PV1|1|I")
    assert parse_adt(text).action == "discharge"


@pytest.mark.parametrize("change,where", [
    (("ADT^A01", "ORU^R01"), "MSH-9"), (("ADT^A01", "ADT^A08"), "MSH-9.2"), (("P1234", "P 1234"), "PID-3.1"),
    (("W1^12^B07^HOSP", "^^^HOSP"), "PV1-3.1"), (("20261122101000", "yesterday"), "EVN-6"),
    (("PV1|1|I|W1^12^B07^HOSP\r", ""), "PV1")])
def test_bad_messages_name_the_field(change: tuple[str, str], where: str) -> None:
    with pytest.raises(Hl7AdtError) as info:
        parse_adt(A01.replace(*change))
    assert info.value.where == where


def test_ack_escapes_and_parses() -> None:
    text = adt_ack("MSG|1", "AE", "bed W1/B07 is occupied | by another^patient", "A01")
    m = hl7.parse(text)
    msa = m.segment("MSA")
    assert str(msa[1]) == "AE" and "occupied" in str(m.segment("ERR"))
    assert str(m.segment("MSH")[9]) == "ACK^A01^ACK"
