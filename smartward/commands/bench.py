"""``smartward bench NAME``: performance figures measured on this machine beside their real ceilings.

Each benchmark is a module ``smartward/benches/<name>.py`` with ``register(subparsers)``; add yours to
``BENCH_MODULES`` (one line). Benchmarks print figures and ratios; they never fail on a time.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

BENCH_MODULES: list[str] = [
    "smartward.benches.alerting",
    "smartward.benches.ingest",
    "smartward.benches.decode",
    "smartward.benches.fanout",
    "smartward.benches.gateway",
    "smartward.benches.twin",
    "smartward.benches.fuzz",
]


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="run a benchmark and print figures (ingest, decode, alerting, twin, fanout, fuzz)")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="NAME")
    for name in BENCH_MODULES:
        importlib.import_module(name).register(bsub)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatch happens via set_defaults
    return 2
