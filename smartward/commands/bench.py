"""``smartward bench NAME``: performance figures measured on this machine beside their real ceilings.

Each benchmark is a module ``benchmarks/<name>.py`` of the source checkout with ``register(subparsers)``;
add yours to ``BENCH_MODULES`` (one line). Benchmarks print figures and ratios; they never fail on a time.
``benchmarks/`` (and the ``devservers/`` they start) are not installed with the package: the command
finds them in the checkout this ``smartward`` package lives in (editable install or ``python -m``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

BENCH_MODULES: list[str] = [
    "benchmarks.alerting",
    "benchmarks.ingest",
    "benchmarks.decode",
    "benchmarks.fanout",
    "benchmarks.gateway",
    "benchmarks.twin",
    "benchmarks.fuzz",
    "benchmarks.api_load",
    "benchmarks.waves",
]
NOT_INSTALLED = "benchmarks are not installed with the package; run from a source checkout"


def checkout_root() -> Path | None:
    """The source checkout holding this ``smartward`` package and a ``benchmarks/`` package, else ``None``."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "benchmarks" / "__init__.py").is_file() else None


def _import_path() -> bool:
    """Put the checkout on ``sys.path`` (an editable install maps only the product packages)."""
    root = checkout_root()
    if root is None:
        return False
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return True


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="run a benchmark and print figures (ingest, decode, alerting, twin, fanout, fuzz)")
    if not _import_path():
        p.description = NOT_INSTALLED
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(func=_not_installed)
        return
    bsub = p.add_subparsers(dest="bench", required=True, metavar="NAME")
    for name in BENCH_MODULES:
        importlib.import_module(name).register(bsub)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _not_installed(args: argparse.Namespace) -> int:
    print(f"smartward bench: {NOT_INSTALLED}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatch happens via set_defaults
    return 2
