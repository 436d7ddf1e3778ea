"""Finding 15: a structurally broken HL7 ADT message must be answered with an AR ACK (HTTP 422), never
an HTTP 500. python-hl7's parser asserts on some separator runs (``MSH|^^^``), raising
``AssertionError`` out of ``hl7.parse``."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_profiles.hl7 import Hl7AdtError, parse_adt

from .conftest import Running

BROKEN = ["MSH|^^^", "MSH|^^^|ADT|H|S|H|202601011010||ADT^A01|1|P|2.5\rPID|1||P1\rPV1|1|I|w1^^01",
          "MSH|", "MSH"]


@pytest.mark.parametrize("text", BROKEN)
def test_malformed_adt_is_an_hl7_adt_error(text: str) -> None:
    with pytest.raises(Hl7AdtError) as info:
        parse_adt(text)
    assert info.value.where.startswith("MSH")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("MSH|^~\\&\r\nAEVNPIDV0123A01:-. \x0b\x1c")), max_size=80))
def test_any_text_is_parsed_or_refused_with_hl7_adt_error(tail: str) -> None:
    for text in ("MSH" + tail, "MSH|^~\\&|ADT|H|S|H|202601011010||ADT^A01|1|P|2.5\r" + tail):
        with contextlib.suppress(Hl7AdtError):  # anything else escaping fails the test
            parse_adt(text)


@pytest.mark.integration
async def test_api_answers_ar_not_500_for_a_message_the_parser_asserts_on(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("cara", "charge_nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = {**(await run.login(c, "cara")), "Content-Type": "x-application/hl7-v2+er7"}
        r = await c.post("/api/v1/adt/hl7", headers=h, content=BROKEN[1])
    assert r.status_code == 422, r.text
    assert "MSA|AR" in r.text and "not an HL7 v2 message" in r.text
