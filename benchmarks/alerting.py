"""``smartward bench alerting``: observations/s through the alarm engine on one core, beside ceilings.

Figures (all in this process, same synthetic ward: N patients at 1 Hz with HR, PR, SpO2, RR; NIBP
every 15 min; one patient in ten deteriorating so alarms are raised, escalate and clear):
- engine: ``Engine.observe_sample`` with everything on (limits, technical cross-checks, NEWS2,
  anomaly windows, lifecycle/escalation, staleness scans);
- from wire: ``decode_attributed`` + ``Engine.observe`` of the encoded ``wards/{ward}/obs`` payloads,
  beside the ceiling of ``decode_attributed`` alone (what merely reading the stream costs);
- replay: records/s of ``alarms replay`` over the shared real recordings (if present).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


def register(sub: Any) -> None:
    p = sub.add_parser("alerting", help="alarm engine: observations/s vs. decode-only ceiling")
    p.add_argument("--patients", type=int, default=500, help="patients in the synthetic ward (default 500)")
    p.add_argument("--seconds", type=int, default=120, help="simulated seconds per patient (default 120)")
    p.set_defaults(func=run)


def _ward(patients: int, seconds: int, t0: int) -> list[tuple[int, str, dict[str, float]]]:
    rng = random.Random(42)
    rows = []
    for s in range(seconds):
        for i in range(patients):
            sick = i % 10 == 0 and s > seconds // 3
            v = {"heart_rate": rng.gauss(125 if sick else 78, 3), "pulse_rate": rng.gauss(124 if sick else 77, 3),
                 "spo2": min(100.0, rng.gauss(87 if sick else 97, 1)), "resp_rate": rng.gauss(26 if sick else 16, 1)}
            if (s + i) % 900 == 0:
                v["nibp_sys"] = rng.gauss(95 if sick else 125, 5)
            rows.append((t0 + s * 1000, f"p{i:04d}", v))
    return rows


def run(args: argparse.Namespace) -> int:
    from alerting import AlarmConfig, Engine, load_config, read_recording, replay
    from device_profiles import AttributedObservation, Attribution, Observation, Sample, decode_attributed

    t0 = 1_763_805_600_000
    rows = _ward(args.patients, args.seconds, t0)
    who = {p: Attribution("w1", p[1:], p) for _, p, _ in rows[: args.patients]}
    engine = Engine(AlarmConfig())
    start = time.perf_counter()
    events = 0
    for t, p, v in rows:
        events += len(engine.observe_sample(who[p], "mon-" + p, t, v))
    el = time.perf_counter() - start
    rate = len(rows) / el
    print(f"engine: {len(rows):,} observations ({args.patients} patients x {args.seconds} s, 4-5 signals each) "
          f"in {el:.2f} s = {rate:,.0f} obs/s ({rate * 4.03:,.0f} values/s); {events:,} alarm events; "
          f"{sum(1 for e in engine.lifecycle.by_id.values())} open alarms")

    payloads = [AttributedObservation(Observation("mon-" + p, i, [Sample(t, v)]), who[p]).encode()
                for i, (t, p, v) in enumerate(rows)]
    start = time.perf_counter()
    for b in payloads:
        decode_attributed(b)
    ceiling = len(payloads) / (time.perf_counter() - start)
    engine2 = Engine(AlarmConfig())
    start = time.perf_counter()
    for b in payloads:
        engine2.observe(decode_attributed(b))
    wire = len(payloads) / (time.perf_counter() - start)
    print(f"from wire: decode + evaluate {wire:,.0f} obs/s; decode-only ceiling {ceiling:,.0f} obs/s; "
          f"ratio {wire / ceiling:.2f}; target 20,000 obs/s -> {wire / 20_000:.1f}x")

    files = [*sorted((TESTDATA / "physionet2019").glob("*.psv")), TESTDATA / "wfdb" / "s25047-2704-05-04-10-44n"]
    recs = [read_recording(f) for f in files if f.exists() or f.with_suffix(".hea").exists()]
    if recs:
        n = sum(len(r.records) for r in recs)
        start = time.perf_counter()
        for _ in range(20):
            for r in recs:
                for _line in replay(r.records, load_config(None, r.format, r.interval_s)):
                    pass
        el = time.perf_counter() - start
        print(f"replay: {20 * n:,} records of the shared recordings in {el:.2f} s = {20 * n / el:,.0f} records/s "
              "(includes building one engine and config per recording)")
    return 0
