"""``smartward bench twin``: Monte Carlo replications/s of the 8-hour 30-bed night evacuation.

The acceptance budget is 1,000 replications in 60 s on this 2-core machine. The bench runs the
``evacuation`` scenario on the shipped 30-bed ward (full census, night roster) through the real runner,
single-process and with ``--workers`` processes (pool start-up included), and prints replications/s,
the projected time for 1,000 replications and its ratio to the 60 s budget. It also splits the cost
of one replication (plan lookup vs. the SimPy run) so regressions are easy to place.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

BUDGET_S = 60.0
BUDGET_REPS = 1000


def register(sub: Any) -> None:
    p = sub.add_parser("twin", help="digital twin: evacuation replications/s vs the 1,000-in-60-s budget")
    p.add_argument("--replications", type=int, default=1000, metavar="N", help="replications per measurement (default 1000)")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="processes for the parallel run (default 2)")
    p.add_argument("--scenario", default="evacuation", help="scenario to measure (default evacuation)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="scenario parameter (default shift=night)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from digital_twin.errors import TwinError
    from digital_twin.model import example_ward_path, load_ward
    from digital_twin.runner import get_scenario
    from digital_twin.runner import run as twin_run
    from digital_twin.scenario import parse_assignments, parse_params

    t0 = time.perf_counter()
    ward = load_ward(example_ward_path())
    load_s = time.perf_counter() - t0
    try:
        overrides = {"shift": "night", **parse_assignments(args.sets)} if args.scenario == "evacuation" \
            else parse_assignments(args.sets)
        cls = get_scenario(args.scenario)
        params = parse_params(cls, overrides)
    except TwinError as exc:
        from smartward.cli_errors import fail

        return fail("bench twin", str(exc))
    print(f"twin bench: {args.scenario} on {ward.name} ({len(ward.occupied_beds())} occupied beds), "
          f"{', '.join(f'{k}={v}' for k, v in overrides.items()) or 'defaults'}")
    print(f"  ward file load + shortest paths: {load_s * 1000:.1f} ms (once per ward)")

    scenario = cls()
    seeds = np.random.SeedSequence(1).spawn(200)
    scenario.run_once(ward, params, np.random.default_rng(seeds[0]))  # builds the plan once
    t0 = time.perf_counter()
    for ss in seeds:
        scenario.run_once(ward, params, np.random.default_rng(ss))
    per_rep = (time.perf_counter() - t0) / len(seeds)
    t0 = time.perf_counter()
    for ss in seeds:
        np.random.default_rng(ss)
    rng_cost = (time.perf_counter() - t0) / len(seeds)
    print(f"  one replication: {per_rep * 1e3:.3f} ms (of which seeding the generator {rng_cost * 1e3:.3f} ms)")

    results = []
    for workers in (1, args.workers):
        t0 = time.perf_counter()
        twin_run(args.scenario, ward, replications=args.replications, seed=0, overrides=overrides, workers=workers)
        secs = time.perf_counter() - t0
        rate = args.replications / secs
        projected = BUDGET_REPS / rate
        results.append(rate)
        print(f"  {workers} worker(s): {args.replications} replications in {secs:.2f} s = {rate:,.0f} replications/s; "
              f"1,000 replications in {projected:.2f} s = {projected / BUDGET_S:.1%} of the {BUDGET_S:.0f} s budget "
              f"({BUDGET_S / projected:,.0f}x headroom)")
    if args.workers > 1:
        print(f"  speed-up with {args.workers} workers: {results[1] / results[0]:.2f}x (pool start-up included; "
              f"it pays off above a few thousand replications)")
    return 0
