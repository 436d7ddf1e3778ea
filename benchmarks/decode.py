"""``smartward bench decode``: payloads/s per profile, beside the ceiling of merely parsing them.

For every profile (the built-ins, plus ``--profile FILE``) a set of representative payloads is made
(synthetic ones in the vendor's format; the real IHE PCD-01 example for HL7) and decoded for
``--seconds``; the ceiling is ``orjson.loads`` (JSON) or ``hl7.parse`` (HL7) of the same payloads,
so the ratio shows what the mapping costs on top of parsing. One core, no broker involved.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HL7_EXAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "hl7" / \
    "ihe_pcd01_E1_1_philips_physio_monitor.hl7"


def register(sub: Any) -> None:
    p = sub.add_parser("decode", help="device-profile decoding: payloads/s per profile vs. parse-only ceiling")
    p.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1)")
    p.add_argument("--batch", type=int, default=10, help="samples per message for batching profiles (default 10)")
    p.add_argument("--profile", action="append", default=[], metavar="FILE", help="also measure this profile")
    p.add_argument("--hl7", default=str(HL7_EXAMPLE), metavar="FILE", help="HL7 message for hl7v2-mllp profiles")
    p.set_defaults(func=run)


def _rate(fn: Callable[[Any], object], items: list[Any], seconds: float) -> float:
    n = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while True:
        for it in items:
            fn(it)
        n += len(items)
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def run(args: argparse.Namespace) -> int:
    import orjson

    from device_profiles import ProfileRegistry, compile_profile_file, decode_observation, now_ms
    from device_profiles.synth import Synthesizer

    reg = ProfileRegistry()
    profiles = reg.all() + [compile_profile_file(f) for f in args.profile]
    t_now = now_ms()
    print(f"{'profile':28} {'format':10} {'samples/msg':>11} {'payloads/s':>11} {'samples/s':>11} "
          f"{'parse-only/s':>13} {'ratio':>6}")
    for c in profiles:
        if c.profile.transport == "hl7v2-mllp":
            import hl7

            from device_profiles.hl7 import Hl7Decoder

            path = Path(args.hl7)
            if not path.exists():
                print(f"{c.id:28} hl7        (no example message at {path}; pass --hl7 FILE)")
                continue
            text = path.read_bytes().decode("latin-1").replace("\n", "\r")
            hdec = Hl7Decoder(c)
            probe = hdec.decode(text, t_now)
            per_msg = sum(len(d.observation.samples) for d in probe.decoded if d.observation)
            values = sum(len(s.values) for d in probe.decoded if d.observation for s in d.observation.samples)
            texts = [text] * 50
            rate = _rate(lambda x: hdec.decode(x, t_now), texts, args.seconds)  # noqa: B023
            ceiling = _rate(hl7.parse, texts, args.seconds)
            print(f"{c.id:28} {'hl7 v2':10} {per_msg:>11} {rate:>11,.0f} {rate * per_msg:>11,.0f} "
                  f"{ceiling:>13,.0f} {rate / ceiling:>6.2f}   ({values} values/msg)")
            continue
        assert c.decoder is not None
        if c.decoder.canonical:
            payloads = [orjson.dumps({"v": 1, "device": "mon-1", "seq": i, "samples": [
                {"t": t_now - (args.batch - j) * 1000, "heart_rate": 72, "spo2": 97, "resp_rate": 16}
                for j in range(args.batch)]}) for i in range(200)]
            per_msg = args.batch
            rate = _rate(lambda p: decode_observation(p, "mon-1", now=t_now), payloads, args.seconds)
        else:
            synth = Synthesizer(c)
            dec = c.decoder
            payloads = [orjson.dumps(synth.payload(t_now - 5000, args.batch)) for _ in range(200)]
            per_msg = args.batch if dec.samples_path is not None else 1
            rate = _rate(lambda p: dec.decode("dev-1", p, t_now), payloads, args.seconds)  # noqa: B023
        ceiling = _rate(orjson.loads, payloads, args.seconds)
        fmt = "canonical" if c.decoder.canonical else "json"
        print(f"{c.id:28} {fmt:10} {per_msg:>11} {rate:>11,.0f} {rate * per_msg:>11,.0f} {ceiling:>13,.0f} "
              f"{rate / ceiling:>6.2f}")
    print("ratio = decode rate / parse-only rate of the same payloads (1.0 would be free mapping)")
    return 0
