"""``smartward news2``: score NEWS2 for JSON Lines on stdin, one JSON line out per input line, in order.

Input keys: ``resp_rate``, ``spo2``, ``spo2_scale`` (1|2, default 1), ``supplemental_o2`` (bool),
``sbp``, ``heart_rate``, ``consciousness`` (A, C, V, P, U), ``temperature`` (°C); absent or null
means not measured. Output keys: ``total``, ``scores``, ``risk``, ``complete``, ``missing``.
A bad line yields ``{"line": n, "field": …, "error": …}`` in its place and processing continues;
the exit code is then 1. Blank lines are skipped.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EPILOG = """input keys (absent or null = not measured, never scored as normal):
  resp_rate        breaths/min
  spo2             %
  spo2_scale       1 or 2 (scale 2: hypercapnic respiratory failure; default 1)
  supplemental_o2  true / false
  sbp              systolic blood pressure, mmHg (the platform's signal nibp_sys)
  heart_rate       /min
  consciousness    A, C (new confusion), V, P or U
  temperature      degrees C
output keys: total, scores, risk, complete, missing
a bad line gives {"line": n, "field": ..., "error": ...} in its place; exit code 1

example:
  echo '{"resp_rate": 22, "spo2": 93, "supplemental_o2": false, "sbp": 105, "heart_rate": 112, "consciousness": "A", "temperature": 38.4}' \\
    | smartward news2      (one JSON object per line)"""


def register(sub: Any) -> None:
    p = sub.add_parser("news2", help="score NEWS2 (RCP 2017) for JSON Lines on stdin",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Score NEWS2 (RCP 2017) for JSON Lines: one JSON line out per input line, in order.",
                       epilog=EPILOG)
    p.add_argument("--input", default="-", metavar="PATH", help="read this file instead of stdin")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from alerting import InputError, parse_news2_input, score_news2
    from smartward.cli_errors import fail

    try:
        src = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    except OSError as exc:
        return fail("news2", f"{args.input}: {exc.strerror or exc}")
    out = sys.stdout.buffer
    bad = 0
    try:
        for n, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            try:
                try:
                    data = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise InputError("$", f"not valid JSON ({exc})") from None
                result: dict[str, Any] = score_news2(parse_news2_input(data)).to_json()
            except InputError as exc:
                bad += 1
                result = {"line": n, "field": exc.field, "error": exc.message}
            out.write(orjson.dumps(result) + b"\n")
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        out.flush()
    if bad:
        return fail("news2", f"{bad} bad line(s), each reported in place")
    return 0
