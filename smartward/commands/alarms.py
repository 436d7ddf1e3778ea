"""``smartward alarms replay``: run the real alerting engine over recordings, as fast as it can.

Writes alarm events as JSON Lines (``t`` ms since the recording's first sample, ``patient``,
``kind``, ``signal``, ``priority``, ``event``, ``reason``) and a summary of alarms per
patient-day by kind and priority (text on stderr; ``--summary FILE`` also writes it as JSON,
``-`` for stdout after the events). ``--config`` applies an ``alarms.yaml`` on top of the format's
defaults, so two configurations can be compared on the same recording; ``--monitor naive`` runs a
per-sample threshold monitor instead of the engine (the baseline of docs/alarm-quality.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("alarms", help="alarm tools: replay a recording through the engine")
    asub = p.add_subparsers(dest="alarms_command", required=True, metavar="COMMAND")
    r = asub.add_parser("replay", help="replay a recording (or a directory of them) through the alarm engine")
    r.add_argument("--input", required=True, metavar="PATH",
                   help="recording file, WFDB record path (.hea optional) or a directory of recordings")
    r.add_argument("--format", default="auto", choices=["auto", "physionet2019", "physionet2012", "wfdb", "jsonl"])
    r.add_argument("--config", default=None, metavar="alarms.yaml", help="alarm configuration to apply")
    r.add_argument("--summary", default=None, metavar="FILE", help="also write the summary as JSON ('-' = stdout)")
    r.add_argument("--monitor", default="engine", choices=["engine", "naive"],
                   help="engine (default) or a naive per-sample threshold monitor for comparison")
    r.add_argument("--quiet", action="store_true", help="no summary text on stderr")
    r.set_defaults(func=run)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def run(args: argparse.Namespace) -> int:
    import orjson

    from alerting import AlertingError, Summary, load_config, naive_events, read_recording, replay
    from alerting.config import read_config_file
    from alerting.recordings import expand_inputs

    out = sys.stdout.buffer
    summary = Summary()
    try:
        if args.config:
            read_config_file(args.config)  # fail early, naming the field
        paths = list(expand_inputs(args.input))
        if not paths:
            raise AlertingError(f"{args.input}: no recordings found")
        for path in paths:
            rec = read_recording(path, args.format)
            config = load_config(args.config, rec.format, rec.interval_s)
            summary.add_recording(rec)
            lines = naive_events(rec.records, config) if args.monitor == "naive" else replay(rec.records, config)
            for line in lines:
                summary.add(line)
                out.write(orjson.dumps(line) + b"\n")
            if rec.dropped:
                print(f"{path}: {rec.dropped} value(s) outside the physical range dropped", file=sys.stderr)
    except AlertingError as exc:
        out.flush()
        print(f"smartward alarms replay: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a missing or unreadable recording: named, no traceback
        out.flush()
        print(f"smartward alarms replay: {exc.filename or args.input}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    out.flush()
    if not args.quiet:
        print(summary.text(), file=sys.stderr)
    if args.summary == "-":
        out.write(orjson.dumps({"summary": summary.to_json()}) + b"\n")
        out.flush()
    elif args.summary:
        with open(args.summary, "wb") as f:
            f.write(orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return 0
