"""Issue 14: HL7 decoding in bounded memory. ``LazyMessage`` builds each segment's tree with
python-hl7's own splitter when it is read; the trees must be the ones ``hl7.parse`` builds."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import hl7
import pytest

from benchmarks.fuzz_targets import hl7_seeds
from device_profiles import compile_profile_file
from device_profiles.hl7 import Hl7Decoder
from device_profiles.hl7.lazy import LazyMessage, ObxFields
from device_profiles.hl7.oru import normalise
from device_profiles.registry import BUILTIN_DIR

SAMPLES = Path(__file__).parent / "samples" / "ihe-pcd-hl7-monitor"
MESSAGES = [*hl7_seeds("oru"), *(p.read_bytes().decode("latin-1") for p in sorted(SAMPLES.glob("*.hl7")))]


@pytest.mark.parametrize("text", MESSAGES, ids=range(len(MESSAGES)))
def test_segments_are_the_trees_hl7_parse_builds(text: str) -> None:
    text = normalise(text)
    full = hl7.parse(text)
    lazy = LazyMessage(text)
    assert list(lazy) == list(full)
    for name in ("MSH", "OBR", "OBX", "PV1", "ZZZ"):
        assert lazy.has(name) == any(str(s[0]) == name for s in full)
        assert list(lazy.segments(name)) == [s for s in full if str(s[0]) == name]
    assert lazy.segment("MSH") == full.segment("MSH")
    with pytest.raises(KeyError):
        lazy.segment("ZZZ")


def test_obx_fields_answer_only_what_was_taken() -> None:
    obx = hl7.parse("MSH|^~\\&|A\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|%|||||F").segment("OBX")
    taken = ObxFields(obx)
    assert taken.extract_field(1, 3, 1, 2) == "MDC_PULS_OXIM_SAT_O2" and taken.extract_field(1, 5) == "97"
    with pytest.raises(RuntimeError, match=r"OBX-7\.1"):
        taken.extract_field(1, 7)


def test_a_big_oru_is_decoded_in_bounded_memory() -> None:
    """2,000 OBX (~220 kB): hl7.parse's whole tree peaked at ~100x the message; now a few times it."""
    dec = Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"))
    now = int(time.time() * 1000)
    ts = time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(now / 1000 - 60))
    segs = [f"MSH|^~\\&|GW^0012345678901234^EUI-64|ACME|||{ts}||ORU^R01^ORU_R01|BIG1|P|2.6|||AL|NE",
            f"OBR|1||X1|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{ts}",
            "OBX|1|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||MON-7"]
    for i in range(2000):
        t = time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(now / 1000 - 3600 + i))
        segs.append(f"OBX|{i + 2}|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|{60 + i % 40}|"
                    f"264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{t}")
    text = "\r".join(segs)
    tracemalloc.start()
    try:
        res = dec.decode(text, now)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.issues == [] and res.decoded[0].observation is not None
    assert len(res.decoded[0].observation.samples) == 2000
    assert peak < 10 * len(text), f"peak {peak / 1e6:.1f} MB for a {len(text) / 1e6:.2f} MB message"
