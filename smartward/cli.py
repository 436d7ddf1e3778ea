"""The ``smartward`` command. Each sub-command lives in ``smartward/commands/<name>.py`` with a
``register(subparsers)`` function; heavy imports happen inside the command, so ``--help`` is fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# One module per top-level command; add yours here (one line) and create the module.
COMMAND_MODULES = [
    "smartward.commands.demo",
    "smartward.commands.serve",
    "smartward.commands.simulate",
    "smartward.commands.bench",
    "smartward.commands.profile",
    "smartward.commands.news2",
    "smartward.commands.alarms",
    "smartward.commands.deadletter",
    "smartward.commands.gateway",
    "smartward.commands.users",
    "smartward.commands.audit",
    "smartward.commands.db",
    "smartward.commands.twin",
    "smartward.commands.drill",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartward", description="SmartWard continuous patient monitoring")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger().level > logging.DEBUG:  # one INFO line per HTTP request drowns a command's output
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
