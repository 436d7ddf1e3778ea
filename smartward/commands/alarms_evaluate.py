"""``smartward alarms evaluate``: a cohort under the engine and the naive monitor, against outcomes.

``--input`` is anything ``alarms replay`` reads (a directory of PhysioNet 2012 stays or 2019 ``.psv``
files, WFDB records, JSON Lines); ``--outcomes`` a PhysioNet 2012 ``Outcomes-*.txt`` or a JSON file
of event times (PhysioNet 2019 recordings carry their ``SepsisLabel`` onset themselves). Recordings
are replayed in ``--jobs`` worker processes; a progress bar is drawn on stderr when it is a terminal.
Prints the table (docs/alarm-quality.md explains every figure) and writes it as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TextIO


def register(asub: Any) -> None:
    from .alarms import add_ack_options

    e = asub.add_parser("evaluate", help="replay a cohort under the engine and the naive monitor against outcomes")
    e.add_argument("--input", required=True, metavar="PATH", help="a directory of recordings (or one recording)")
    e.add_argument("--format", default="auto", choices=["auto", "physionet2019", "physionet2012", "wfdb", "jsonl"])
    e.add_argument("--outcomes", default=None, metavar="FILE",
                   help="PhysioNet 2012 Outcomes-*.txt or a JSON file of event times (default: the recordings' "
                        "SepsisLabel onsets, if any)")
    e.add_argument("--config", default=None, metavar="alarms.yaml", help="alarm configuration for the engine")
    add_ack_options(e)
    e.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON ('-' = stdout)")
    e.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N recordings (sorted)")
    e.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="worker processes (default: 2 or the number of CPUs if fewer)")
    e.add_argument("--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    e.add_argument("--seed", type=int, default=11, help="bootstrap seed (default 11)")
    e.set_defaults(func=run)


class Progress:
    """``[#####.....] 1234/4000 recordings  0:42`` redrawn in place on a terminal, at most 5 times/s."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.start = self.last = time.monotonic()
        self.enabled = stream.isatty()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and done < self.total):
            return
        self.last = now
        width = 30
        fill = width * done // max(1, self.total)
        secs = int(now - self.start)
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} recordings "
                          f"{secs // 60}:{secs % 60:02d}")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _runs(paths: list[Path], job: Callable[[Path], Any], jobs: int) -> Iterator[Any]:
    if jobs <= 1 or len(paths) < 8:
        yield from map(job, paths)
        return
    with multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn").Pool(jobs) as pool:
        yield from pool.imap(job, paths, chunksize=8)


def run(args: argparse.Namespace) -> int:
    import orjson

    from alerting import AlertingError
    from alerting.config import read_config_file
    from alerting.evaluate import PatientRun, evaluate, run_recording
    from alerting.evaluation_text import evaluation_text
    from alerting.outcomes import from_labels, read_outcomes
    from alerting.recordings import expand_inputs
    from smartward.cli_errors import fail, usage_error

    from .alarms import ack_after_s

    if args.json not in (None, "-"):  # before minutes of replay, not after
        where = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(where) or not os.access(where, os.W_OK):
            return fail("alarms evaluate", f"--json {args.json}: directory {where} does not exist or is not writable")
    if (args.limit is not None and args.limit < 1) or args.jobs < 1 or args.resamples < 1:
        return usage_error("alarms evaluate", "--limit, --jobs and --resamples must be at least 1")
    started = time.monotonic()
    try:
        outcomes = read_outcomes(args.outcomes) if args.outcomes else None
        layer = read_config_file(args.config) if args.config else None
        paths = list(expand_inputs(args.input))[: args.limit]
        if not paths:
            raise AlertingError(f"{args.input}: no recordings found")
        progress = Progress(len(paths), sys.stderr)
        patients: list[PatientRun] = []
        dropped = 0
        job = partial(run_recording, fmt=args.format, layer=layer, ack_after_s=ack_after_s(args))
        for i, (runs, n_dropped) in enumerate(_runs(paths, job, args.jobs), start=1):
            patients += runs
            dropped += n_dropped
            progress(i)
        if outcomes is None:
            labels = {p.patient: p.label_onset for p in patients if p.label_onset is not None}
            outcomes = from_labels(labels) if labels else None
        report = evaluate(patients, outcomes, args.resamples, args.seed)
    except AlertingError as exc:
        return fail("alarms evaluate", str(exc))
    except OSError as exc:
        return fail("alarms evaluate", f"{exc.filename or args.input}: {exc.strerror or exc}")
    wall = time.monotonic() - started
    report["run"] = {"input": str(args.input), "recordings": len(paths), "outcomes": args.outcomes,
                     "config": args.config, "ack_after_min": None if args.no_ack else args.ack_after,
                     "values_dropped": dropped, "jobs": args.jobs, "wall_time_s": round(wall, 1)}
    text = evaluation_text(report, report["run"]["ack_after_min"])
    print(text + f"\n{len(paths)} recordings in {wall:.0f} s wall time ({args.jobs} process(es))"
          + (f"; {dropped} value(s) outside the physical range dropped" if dropped else ""),
          file=sys.stderr if args.json == "-" else sys.stdout)
    if args.json == "-":
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    elif args.json:
        try:
            Path(args.json).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            return fail("alarms evaluate", f"--json {args.json}: {exc.strerror or exc}")
    return 0
