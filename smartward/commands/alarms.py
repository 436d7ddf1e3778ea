"""``smartward alarms replay``: run the real alerting engine over recordings, as fast as it can.

Writes alarm events as JSON Lines (``t`` ms since the recording's first sample, ``patient``,
``kind``, ``signal``, ``priority``, ``event``, ``reason``) and a summary of alarms per
patient-day by kind and priority (text on stderr; ``--summary FILE`` also writes it as JSON,
``-`` for stdout after the events). ``--config`` applies an ``alarms.yaml`` on top of the format's
defaults; ``--compare B.yaml`` replays the same recordings a second time under configuration B and
prints what changes (alarms per patient-day by kind and priority, and whether labelled patients are
still alarmed in time); events then carry ``run`` ``a`` or ``b`` and the JSON summary is
``{"a", "b", "difference"}``. ``--monitor naive`` runs a per-sample threshold monitor instead of the
engine (the baseline of docs/alarm-quality.md). A simulated nurse acknowledges every alarm that
sounds ``--ack-after`` minutes later (default 5; ``--no-ack``: nobody does, latched alarms stay).
Priorities in the summary are peak priorities (escalation included).

``smartward alarms evaluate`` (:mod:`smartward.commands.alarms_evaluate`) replays a cohort under the
engine and the naive monitor against outcomes.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("alarms", help="alarm tools: replay a recording through the engine, evaluate on a cohort")
    asub = p.add_subparsers(dest="alarms_command", required=True, metavar="COMMAND")
    r = asub.add_parser("replay", help="replay a recording (or a directory of them) through the alarm engine")
    r.add_argument("--input", required=True, metavar="PATH",
                   help="recording file, WFDB record path (.hea optional) or a directory of recordings")
    r.add_argument("--format", default="auto", choices=["auto", "physionet2019", "physionet2012", "wfdb", "jsonl"])
    r.add_argument("--config", default=None, metavar="alarms.yaml", help="alarm configuration to apply")
    r.add_argument("--compare", default=None, metavar="B.yaml",
                   help="what-if: also replay under this configuration and print the difference from --config "
                        "(or the defaults)")
    r.add_argument("--summary", default=None, metavar="FILE", help="also write the summary as JSON ('-' = stdout)")
    r.add_argument("--monitor", default="engine", choices=["engine", "naive"],
                   help="engine (default) or a naive per-sample threshold monitor for comparison")
    add_ack_options(r)
    r.add_argument("--quiet", action="store_true", help="no summary text on stderr")
    r.set_defaults(func=run)
    from . import alarms_evaluate

    alarms_evaluate.register(asub)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def add_ack_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("--ack-after", type=float, default=5.0, metavar="MIN",
                   help="a simulated nurse acknowledges every alarm that sounds MIN minutes later (default 5)")
    r.add_argument("--no-ack", action="store_true", help="nobody acknowledges (latched alarms stay until replay ends)")


def ack_after_s(args: argparse.Namespace) -> float | None:
    return None if args.no_ack else max(0.0, args.ack_after) * 60


def run(args: argparse.Namespace) -> int:
    import orjson

    from alerting import AlertingError, ReplaySummary
    from alerting.compare import compare, compare_text
    from alerting.config import read_config_file
    from smartward.cli_errors import fail

    if args.summary not in (None, "-"):  # before the replay, not after minutes of it
        where = os.path.dirname(os.path.abspath(args.summary))
        if not os.path.isdir(where) or not os.access(where, os.W_OK):
            return fail("alarms replay", f"--summary {args.summary}: directory {where} does not exist or is not writable")
    out = sys.stdout.buffer
    files = {"a": args.config} if args.compare is None else {"a": args.config, "b": args.compare}
    summaries = {name: ReplaySummary() for name in files}
    try:
        # read each file once, before any output: a bad one fails early, naming the file and the field
        layers = {name: read_config_file(path) if path else None for name, path in files.items()}
        for name, layer in layers.items():
            _replay_into(args, layer, summaries[name], out, name if args.compare else None)
        if args.compare is not None:
            diff = compare(summaries["a"].to_json(), summaries["b"].to_json())
    except AlertingError as exc:
        out.flush()
        return fail("alarms replay", str(exc))
    except OSError as exc:  # a missing or unreadable recording: named, no traceback
        out.flush()
        return fail("alarms replay", f"{exc.filename or args.input}: {exc.strerror or exc}")
    out.flush()
    if args.compare is None:
        summary_json: dict[str, object] = summaries["a"].to_json()
        text = summaries["a"].text()
    else:
        summary_json = {"a": summaries["a"].to_json(), "b": summaries["b"].to_json(), "difference": diff}
        text = compare_text(diff, args.config or "defaults", args.compare)
    if not args.quiet:
        print(text, file=sys.stderr)
    if args.summary == "-":
        out.write(orjson.dumps({"summary": summary_json}) + b"\n")
        out.flush()
    elif args.summary:
        try:
            with open(args.summary, "wb") as f:
                f.write(orjson.dumps(summary_json, option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            return fail("alarms replay", f"--summary {args.summary}: {exc.strerror or exc}")
    return 0


def _replay_into(args: argparse.Namespace, layer: dict[str, Any] | None, summary: Any, out: Any,
                 run_name: str | None) -> None:
    """Replay every recording under one configuration (the format's preset, then ``layer``), writing
    events and counting them."""
    import orjson

    from alerting import AlertingError, naive_events, read_recording, replay
    from alerting.config import build_config, preset
    from alerting.recordings import expand_inputs

    paths = list(expand_inputs(args.input))
    if not paths:
        raise AlertingError(f"{args.input}: no recordings found")
    for path in paths:
        rec = read_recording(path, args.format)
        config = build_config(preset(rec.format, rec.interval_s), *([layer] if layer is not None else []))
        summary.add_recording(rec)
        lines = naive_events(rec.records, config) if args.monitor == "naive" else replay(
            rec.records, config, ack_after_s(args))
        for line in lines:
            summary.add(line)
            if run_name is not None:
                line = {**line, "run": run_name}
            out.write(orjson.dumps(line) + b"\n")
        if rec.dropped and run_name != "b":
            print(f"{path}: {rec.dropped} value(s) outside the physical range dropped", file=sys.stderr)
