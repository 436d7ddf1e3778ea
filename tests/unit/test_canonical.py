"""The canonical payload decoder: what is accepted, and that every rejection names the field."""

from __future__ import annotations

import math

import orjson
import pytest

from device_profiles import PayloadError, decode_observation
from device_profiles.canonical import MAX_PAYLOAD_BYTES

NOW = 1_763_805_700_000


def msg(**over: object) -> bytes:
    base: dict[str, object] = {
        "v": 1, "device": "mon-0012", "seq": 4711,
        "samples": [{"t": 1763805600000, "heart_rate": 72, "spo2": 97, "resp_rate": 16},
                    {"t": 1763805601000, "heart_rate": 73, "spo2": 97, "q": {"spo2": "artifact"}}],
    }
    base.update(over)
    return orjson.dumps(base)


def test_design_example_is_accepted() -> None:
    obs = decode_observation(msg(), "mon-0012", now=NOW)
    assert obs.device == "mon-0012" and obs.seq == 4711
    assert [s.t for s in obs.samples] == [1763805600000, 1763805601000]
    assert obs.samples[0].values == {"heart_rate": 72, "spo2": 97, "resp_rate": 16}
    assert obs.samples[1].quality == {"spo2": "artifact"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "$"),
        (b"[1,2]", "$"),
        (msg(v=2), "v"),
        (msg(v="1"), "v"),
        (msg(device="other"), "device"),
        (msg(device="bad id!"), "device"),
        (msg(device="x" * 65), "device"),
        (msg(seq=-1), "seq"),
        (msg(seq="1"), "seq"),
        (msg(samples=[]), "samples"),
        (msg(samples=[{"heart_rate": 70}]), "samples[0].t"),
        (msg(samples=[{"t": 1763805600000.5, "heart_rate": 70}]), "samples[0].t"),
        (msg(samples=[{"t": True, "heart_rate": 70}]), "samples[0].t"),
        (msg(samples=[{"t": 946_684_799_999, "heart_rate": 70}]), "samples[0].t"),
        (msg(samples=[{"t": NOW + 5 * 60 * 1000 + 1, "heart_rate": 70}]), "samples[0].t"),
        (msg(samples=[{"t": 1763805600000, "heartrate": 70}]), "samples[0].heartrate"),
        (msg(samples=[{"t": 1763805600000, "heart_rate": "70"}]), "samples[0].heart_rate"),
        (msg(samples=[{"t": 1763805600000, "heart_rate": None}]), "samples[0].heart_rate"),
        (msg(samples=[{"t": 1763805600000, "heart_rate": True}]), "samples[0].heart_rate"),
        (msg(samples=[{"t": 1763805600000, "spo2": 101}]), "samples[0].spo2"),
        (msg(samples=[{"t": 1763805600000, "heart_rate": -1}]), "samples[0].heart_rate"),
        (msg(samples=[{"t": 1763805600000, "heart_rate": 70, "q": {"heart_rate": "meh"}}]), "samples[0].q.heart_rate"),
        (msg(samples=[{"t": 1763805600000, "ecg_ii": 0.1}]), "samples[0].ecg_ii"),
    ],
)
def test_rejections_name_the_field(payload: bytes, field: str) -> None:
    with pytest.raises(PayloadError) as exc:
        decode_observation(payload, "mon-0012", now=NOW)
    assert exc.value.field == field
    assert field in str(exc.value)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(bad: str) -> None:
    raw = b'{"v":1,"device":"mon-0012","seq":1,"samples":[{"t":1763805600000,"heart_rate":' + bad.encode() + b"}]}"
    with pytest.raises(PayloadError):
        decode_observation(raw, "mon-0012", now=NOW)


def test_oversized_payload_is_rejected_before_parsing() -> None:
    big = b'{"v":1,' + b" " * MAX_PAYLOAD_BYTES + b"}"
    with pytest.raises(PayloadError, match="larger than"):
        decode_observation(big, None, now=NOW)


def test_finite_float_values_pass() -> None:
    obs = decode_observation(msg(samples=[{"t": 1763805600000, "temperature": 37.25}]), None, now=NOW)
    assert math.isclose(obs.samples[0].values["temperature"], 37.25)
