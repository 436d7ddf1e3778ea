"""Target 2: HL7 v2 ORU (PCD-01/-04, the ihe-pcd profile) and ADT A01/A02/A03: random text and
mutations of real messages always get an ACK (AA/AE/AR naming the problem), never an exception."""

from __future__ import annotations

from hypothesis import given, settings

from smartward.benches.fuzz_targets import check_adt, check_oru, hl7_messages, hl7_seeds
from tests.fuzz import FUZZ_PROFILE


def test_seeds_are_accepted() -> None:
    assert all(check_adt(s) is None for s in hl7_seeds("adt"))
    assert check_oru(hl7_seeds("oru")[0]) is None


@settings(settings.get_profile(FUZZ_PROFILE))
@given(hl7_messages(hl7_seeds("oru")))
def test_oru_always_answers_an_ack(text: str) -> None:
    check_oru(text)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(hl7_messages(hl7_seeds("adt")))
def test_adt_parses_or_refuses_with_the_field(text: str) -> None:
    check_adt(text)
