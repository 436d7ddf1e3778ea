"""HL7 findings of issue 14, on IHE Technical Framework examples and small messages.

``samples/ihe-pcd-hl7-monitor/ihe-tf-E1-2-episodic-nibp.hl7`` (PCD TF-2 Appendix E.1.2, an episodic
NIBP with MDC_PULS_RATE_NON_INV) and ``ihe-tf-E3-pump-occlusion-r40.hl7`` (E.3, an infusion pump
occlusion alarm, ORU^R40, event code as a CWE in OBX-5) were written from the public Technical
Framework's text as known to the author (structure, codes and field positions; not a verbatim copy).
Their expected canonical output is the ``*.expected.json`` beside them (checked by the conformance kit).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from device_profiles import compile_profile_file
from device_profiles.hl7 import Hl7Decoder, build_ack
from device_profiles.registry import BUILTIN_DIR
from gateway_agent import metrics
from gateway_agent.hl7_gateway import Hl7Gateway

from .test_hl7_oru import oru
from .test_mllp_gateway import ListSink

SAMPLES = Path(__file__).parent / "samples" / "ihe-pcd-hl7-monitor"
PROFILE = BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"
T_E12 = 1248584235000  # 2009-07-26T09:57:15+05:00
T_E3 = 1306014626000  # 2011-05-21T16:50:26-05:00
DAY = 86_400_000


def text(name: str) -> str:
    return (SAMPLES / name).read_bytes().decode("latin-1")


@pytest.fixture(scope="module")
def live() -> Hl7Decoder:
    """As ``smartward gateway`` builds it: the 7-day raw retention applies."""
    return Hl7Decoder(compile_profile_file(PROFILE))


def test_e12_episodic_nibp_pulse_rate_non_inv_is_pulse_rate(live: Hl7Decoder) -> None:
    res = live.decode(text("ihe-tf-E1-2-episodic-nibp.hl7"), T_E12 + 60_000)
    assert (res.rejected, res.issues, res.unmapped) == (False, [], [])
    [d] = res.decoded
    assert d.observation is not None and d.device == "0123456789ABCDEF"
    assert [(s.t, s.values) for s in d.observation.samples] == [
        (T_E12, {"nibp_sys": 120, "nibp_dia": 80, "nibp_mean": 93, "pulse_rate": 60})]
    # by name alone, and as a short code (149546 - 2 << 16) as well
    for obx in ("OBX|2|NM|^MDC_PULS_RATE_NON_INV^MDC|1.1.1.4|61|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
                "OBX|2|NM|18474^^MDC|1.1.1.4|61|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"):
        res = live.decode(oru(obx), 1737570416000 + 60_000)
        assert res.decoded[0].observation is not None
        assert res.decoded[0].observation.samples[0].values == {"pulse_rate": 61}, obx


def test_e3_pump_occlusion_takes_code_and_text_from_the_cwe(live: Hl7Decoder) -> None:
    res = live.decode(text("ihe-tf-E3-pump-occlusion-r40.hl7"), T_E3 + 60_000)
    assert (res.rejected, res.issues) == (False, [])
    [d] = res.decoded
    [a] = d.alarms
    assert (a.code, a.text, a.priority, a.kind, a.state, a.device, a.id, a.t) == (
        "MDC_EVT_FLUID_LINE_OCCL", "Occlusion", "high", "device", "active", "0012210000000001", "ALT0001", T_E3)
    # no original text: the alternate text, else the identifier's name
    no_text = text("ihe-tf-E3-pump-occlusion-r40.hl7").replace("^^^^^^Occlusion", "^^Line blocked")
    [a] = live.decode(no_text, T_E3 + 60_000).decoded[0].alarms
    assert (a.code, a.text) == ("MDC_EVT_FLUID_LINE_OCCL", "Line blocked")
    bare = text("ihe-tf-E3-pump-occlusion-r40.hl7").replace("^MDC^^^^^^Occlusion", "^MDC")
    [a] = live.decode(bare, T_E3 + 60_000).decoded[0].alarms
    assert (a.code, a.text) == ("MDC_EVT_FLUID_LINE_OCCL", "MDC_EVT_FLUID_LINE_OCCL")


@pytest.mark.parametrize("message", [
    "MSH|^~\\&|GW|ACME|||20250122182658+0000||ORU^R01^ORU_R01|ONLY1|P|2.6",
    "MSH|^~\\&|GW|ACME|||20250122182658+0000||ORU^R01^ORU_R01|ONLY1|P|2.6\rPID|||P1\rOBR|1||X|||20250122182656",
])
def test_an_oru_r01_without_observations_is_ar(live: Hl7Decoder, message: str) -> None:
    res = live.decode(message, 1737570416000 + 60_000)
    assert res.rejected and res.decoded == [] and "without any OBX" in str(res.issues[0])
    assert "\rMSA|AR|ONLY1|" in build_ack(res)


@pytest.mark.parametrize("first,second", [(180, 95), (95, 180)])
def test_two_obx_one_signal_one_time_keep_the_worse_and_say_so(live: Hl7Decoder, first: int, second: int) -> None:
    hr = "OBX|{n}|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.{n}|{v}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    res = live.decode(oru(hr.format(n=2, v=first), extra=hr.format(n=3, v=second)), 1737570416000 + 60_000)
    [d] = res.decoded
    assert d.observation is not None and d.observation.samples[0].values == {"heart_rate": 180}
    [w] = res.issues
    assert (w.segment, w.sequence, w.field, w.code, w.severity) == ("OBX", 3, 5, 205, "W")
    assert f"OBX[2] and OBX[3] give heart_rate at 2025-01-22T17:26:56Z as {first} and {second}; kept 180" in w.text
    ack = build_ack(res)
    assert "\rMSA|AA|MSG1|" in ack and "|205^Duplicate key identifier^HL70357|W|" in ack
    same = live.decode(oru(hr.format(n=2, v=72), extra=hr.format(n=3, v=72)), 1737570416000 + 60_000)
    assert same.issues == []  # the same value twice is no conflict


def test_observations_older_than_the_raw_retention_are_refused_not_silently_dropped(live: Hl7Decoder) -> None:
    e12 = text("ihe-tf-E1-2-episodic-nibp.hl7")
    res = live.decode(e12, T_E12 + 8 * DAY)
    assert not res.rejected and res.decoded == [] and len(res.issues) == 4
    assert all("older than the 7-day raw retention" in str(i) and i.field == 14 for i in res.issues)
    assert "\rMSA|AE|AI0001|OBX[4]-14: MDC_PRESS_BLD_NONINV_SYS: observed 2009-07-26T04:57:15Z, older than the " \
        "7-day raw retention: not stored\r" in build_ack(res)
    assert live.decode(e12, T_E12 + 6 * DAY).issues == []  # within the retention: stored
    r40 = live.decode(text("ihe-tf-E3-pump-occlusion-r40.hl7"), T_E3 + 8 * DAY)
    assert r40.decoded == [] and "older than the 7-day raw retention" in str(r40.issues[0])
    assert "\rMSA|AE|" in build_ack(r40)


async def test_unmapped_codes_are_counted_per_code_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    dec = Hl7Decoder(compile_profile_file(PROFILE), max_age_ms=None)
    gw = Hl7Gateway(dec, ListSink(), root="t1/smartward/v1", clock=lambda: 1_763_805_900_000)
    qt = "147232^MDC_ECG_TIME_PD_QT_GL"
    before = metrics.HL7_UNMAPPED.labels(qt)._value.get()
    message = (SAMPLES / "ihe-pcd01-E1-1-philips.hl7").read_bytes()
    with caplog.at_level(logging.INFO, logger="gateway_agent.hl7_gateway"):
        for _ in range(3):
            assert b"MSA|AA|" in await gw.handle(message)
    assert gw.unmapped == {qt: 3, "147236^MDC_ECG_TIME_PD_QTc": 3}
    assert metrics.HL7_UNMAPPED.labels(qt)._value.get() == before + 3
    first_seen = [r.getMessage() for r in caplog.records if "not in the signal catalogue" in r.getMessage()]
    assert len(first_seen) == 2 and qt in first_seen[0]  # once per code, not per message
    assert gw.unmapped_summary() == f"{qt} x3, 147236^MDC_ECG_TIME_PD_QTc x3"


def test_gateway_metrics_endpoint_is_loopback_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from smartward.cli import main

    args = ["gateway", "--broker", "mqtt://127.0.0.1:1", "--hl7-mllp", "127.0.0.1:0", "--outbox", str(tmp_path / "o")]
    assert main([*args, "--metrics", "0.0.0.0:9102"]) == 2
    assert "no authentication" in capsys.readouterr().err
    assert main([*args, "--metrics", "nope"]) == 2
    capsys.readouterr()
