"""Target 1: vendor JSON payloads under every shipped MQTT profile, decoded the way ingest does
(``ingest.decoding.RegistryDecoder``): a decoded result that keeps the canonical contract, or a
:class:`PayloadError` naming the field (a dead letter). Nothing else may escape."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_targets import JsonTarget, check_json, json_inputs, json_targets
from tests.fuzz import FUZZ_PROFILE

TARGETS = json_targets()


def test_every_shipped_mqtt_profile_is_a_target() -> None:
    assert {t.compiled.id for t in TARGETS} == {"generic-bedside-monitor", "home-wearable", "smartward-canonical"}
    assert all(t.paths for t in TARGETS)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.compiled.id)
def test_json_payloads_decode_or_dead_letter(target: JsonTarget) -> None:
    @settings(settings.get_profile(FUZZ_PROFILE))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        topic, payload = data.draw(json_inputs(target), "topic, payload")
        check_json(target, topic, payload)

    run()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.compiled.id)
def test_real_samples_are_accepted(target: JsonTarget) -> None:
    """The near-valid strategies start from payloads that decode: the target can tell good from bad."""
    import orjson

    assert target.samples
    for topic, doc in target.samples:
        assert check_json(target, topic, orjson.dumps(doc)) is None


BEDSIDE = next(t for t in TARGETS if t.compiled.id == "generic-bedside-monitor")


@settings(settings.get_profile(FUZZ_PROFILE), max_examples=50)
@given(json_inputs(BEDSIDE))
# a message counter beyond 2**63 became the observation's seq, which orjson cannot encode (json_decoder; fixed)
@example((BEDSIDE.topic, b'{"time": "2025-11-22T10:00:00Z", "msgNo": 1000000000000000000000000000000, "ecg": {"hr": 72}}'))
def test_bedside_message_counter(inp: tuple[str, bytes]) -> None:
    check_json(BEDSIDE, *inp)
