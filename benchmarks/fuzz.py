"""``smartward bench fuzz``: the long fuzz run of issue 13 (≥ 100,000 inputs per target).

The targets, strategies and checks are those of ``tests/fuzz`` (:mod:`benchmarks.fuzz_targets`).
Hypothesis generates each input (about 5-15 ms apiece, mostly its own engine); ``--mutants K`` runs K
cheap random byte/character mutations of each generated input as well (default 9: 100,000 inputs are
10,000 Hypothesis inputs and their 90,000 mutants). Every exception other than the documented
rejection, and every broken contract, is counted as a crash, never raised, so the run goes on.
Prints per target: inputs, inputs/s, accepted, crashes, distinct rejection messages and kinds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("fuzz", help="fuzz every input boundary with Hypothesis (issue 13): crashes must be 0")
    p.add_argument("--examples", type=int, default=100_000, help="inputs per target (default 100000)")
    p.add_argument("--mutants", type=int, default=9, help="random mutants run per Hypothesis input (default 9)")
    p.add_argument("--target", action="append", default=[], metavar="NAME",
                   help="json, hl7-oru, hl7-adt, mllp, profile-yaml, api (default all; repeatable)")
    p.add_argument("--show", type=int, default=3, help="rejection kinds and crashes shown per target")
    p.set_defaults(func=run)


def _mutate(data: bytes | str, rng: random.Random) -> Any:
    as_text = isinstance(data, str)
    buf = bytearray(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        pos = rng.randrange(len(buf) + 1)
        if op < 0.4 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op < 0.7:
            del buf[pos:pos + rng.randint(1, 16)]
        else:
            buf[pos:pos] = rng.choice([b"\x00", b"\xff", b"9" * 20, b"|", b"^", b"\r", b"{", b"]", b'"', b"\x0b",
                                       b"\x1c\r", b"-1e999", b"NaN", b"\t", b": "])
    return buf.decode("utf-8", "replace") if as_text else bytes(buf)


def _drive(strategy: Any, check: Callable[[Any, random.Random], None], examples: int, mutants: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=max(1, examples // (mutants + 1)), deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy, st.randoms(use_true_random=False))
    def body(value: Any, rng: random.Random) -> None:
        check(value, rng)

    body()


def run(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("hypothesis is not installed (pip install -e '.[dev]')")
        return 2
    import logging

    from . import fuzz_targets as ft

    logging.disable(logging.CRITICAL)  # the servers log every refused input; crashes are counted below

    names = args.target or list(ft.TARGETS)
    unknown = sorted(set(names) - set(ft.TARGETS))
    if unknown:
        print(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(ft.TARGETS)}")
        return 2
    k = max(0, args.mutants)
    print(f"{'target':34} {'inputs':>8} {'inputs/s':>9} {'accepted':>8} {'crashes':>7} {'messages':>8} {'kinds':>6}")
    total_crashes = 0
    for name in names:
        for label, tally, seconds in _run_target(ft, name, args.examples, k):
            total_crashes += len(tally.crashes)
            print(f"{label:34} {tally.inputs:>8,} {tally.inputs / seconds:>9,.0f} {tally.accepted:>8,} "
                  f"{len(tally.crashes):>7} {len(tally.messages):>8,} {len(tally.kinds):>6}", flush=True)
            for kind, n in sorted(tally.kinds.items(), key=lambda kv: -kv[1])[: args.show]:
                print(f"    {n:>7,} x {kind}")
            for crash in sorted(set(tally.crashes))[: args.show]:
                print(f"    CRASH {crash}")
    print(f"crashes: {total_crashes}")
    return 0


def _run_target(ft: Any, name: str, examples: int, k: int) -> list[tuple[str, Any, float]]:
    out = []
    if name == "json":
        targets = ft.json_targets()
        for t in targets:
            tally = ft.Tally()

            def check(value: tuple[str, bytes], rng: random.Random, t: Any = t, tally: Any = tally) -> None:
                tally.record(ft.check_json, t, value[0], value[1])
                for _ in range(k):
                    tally.record(ft.check_json, t, value[0], _mutate(value[1], rng))

            start = time.perf_counter()
            _drive(ft.json_inputs(t), check, examples, k)
            out.append((f"json {t.compiled.id}", tally, time.perf_counter() - start))
        return out
    tally = ft.Tally()
    start = time.perf_counter()
    if name in ("hl7-oru", "hl7-adt", "profile-yaml"):
        fn = {"hl7-oru": ft.check_oru, "hl7-adt": ft.check_adt, "profile-yaml": ft.check_profile}[name]
        strategy = {"hl7-oru": lambda: ft.hl7_messages(ft.hl7_seeds("oru")),
                    "hl7-adt": lambda: ft.hl7_messages(ft.hl7_seeds("adt")),
                    "profile-yaml": ft.profile_texts}[name]()

        def check_text(value: str, rng: random.Random) -> None:
            tally.record(fn, value)
            for _ in range(k):
                tally.record(fn, _mutate(value, rng))

        _drive(strategy, check_text, examples, k)
    elif name == "mllp":
        loop = asyncio.new_event_loop()
        harness = ft.MllpHarness()
        loop.run_until_complete(harness.start())

        def one(data: bytes, cuts: list[int]) -> str | None:
            return loop.run_until_complete(harness.check(data, cuts))  # type: ignore[no-any-return]

        def check_mllp(value: tuple[bytes, list[int]], rng: random.Random) -> None:
            tally.record(lambda d: one(d, value[1]), value[0])
            for _ in range(k):
                tally.record(lambda d: one(d, value[1]), _mutate(value[0], rng))

        try:
            _drive(ft.mllp_streams(), check_mllp, examples, k)
        finally:
            loop.run_until_complete(harness.close())
            loop.close()
    elif name == "api":
        import os

        from devservers import Mosquitto

        os.environ.setdefault("SMARTWARD_SECRET_KEY", "fuzz-" + "k7Qx9Lm2Rt5Wz8Np3Vb6Yc1Hd4Jf0Gs" * 2)
        os.environ.setdefault("SMARTWARD_ENVIRONMENT", "development")
        broker = Mosquitto().start()
        api = ft.ApiHarness(broker.url, Path(tempfile.mkdtemp(prefix="smartward-fuzz-"))).start()
        routes = ft.body_routes(api.openapi)
        from hypothesis import strategies as st

        pairs = st.sampled_from(routes).flatmap(lambda r: st.tuples(st.just(r), ft.api_bodies(r)))

        def check_api(value: tuple[Any, bytes], rng: random.Random) -> None:
            tally.record(lambda b: api.check(value[0], b), value[1])
            for _ in range(k):
                tally.record(lambda b: api.check(value[0], b), _mutate(value[1], rng))

        start = time.perf_counter()
        try:
            _drive(pairs, check_api, examples, k)
        finally:
            api.close()
            broker.close()
    out.append((name, tally, time.perf_counter() - start))
    return out
