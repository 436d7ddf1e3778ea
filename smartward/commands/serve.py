"""`smartward serve` (not implemented yet)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve (not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print("smartward serve: not implemented yet")
    return 2
