"""``smartward twin run|compare|scenarios|validate-ward``: the ward's digital twin (Monte Carlo drills).

Exit codes: 0 ok, 1 bad input (unknown scenario, unknown ``--set`` key or bad value, a value the ward
does not have, bad ward file, live platform unreachable), 2 usage (a malformed ``--set``, a number out
of its range, ``--ward-id``/``--username`` without ``--live``). Errors: ``smartward twin <action>:
error: …`` on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from smartward.cli_errors import bounded, fail, key_value, pattern, usage_error

_EMPTY_VALUE = "{text!r} has no value after '=' (to keep the default, leave the key out)"

MAX_REPLICATIONS = 100_000  # digital_twin.runner.MAX_REPLICATIONS (not imported: `smartward --help` stays fast)
WARD_ID = r"[A-Za-z0-9_.:-]{1,64}"  # as the platform's ward ids


def register(sub: Any) -> None:
    p = sub.add_parser("twin", help="digital twin: Monte Carlo drills on a ward model (evacuation, code-blue, ...)")
    tsub = p.add_subparsers(dest="twin_cmd", required=True, metavar="ACTION")

    r = tsub.add_parser("run", help="run a scenario, write report.json + report.html")
    r.add_argument("scenario", metavar="SCENARIO", help="see `smartward twin scenarios`")
    _common(r)
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", type=assignment,
                   help="scenario parameter (repeatable), e.g. --set shift=night --set nurses=2")
    r.set_defaults(func=run_run)

    c = tsub.add_parser("compare", help="run two parameter sets, print B - A with its 95 %% CI, write both reports")
    c.add_argument("scenario", metavar="SCENARIO")
    _common(c)
    c.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", type=assignment,
                   help="parameter for both A and B")
    c.add_argument("--a", dest="a", nargs="*", action="extend", default=None, metavar="KEY=VALUE", type=assignment,
                   help="parameters of A (left out: A is the scenario's defaults)")
    c.add_argument("--b", dest="b", nargs="*", action="extend", default=None, metavar="KEY=VALUE", type=assignment,
                   help="parameters of B (required; `--b` with nothing after it: B is the defaults)")
    c.set_defaults(func=run_compare)

    s = tsub.add_parser("scenarios", help="list scenarios with their parameters, defaults and metrics")
    s.set_defaults(func=run_scenarios)

    v = tsub.add_parser("validate-ward", help="check a ward file; errors name the key and line (exit 1 if invalid)")
    v.add_argument("file", metavar="FILE")
    v.set_defaults(func=run_validate)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ward", metavar="FILE", help="ward file (default: the shipped 30-bed example); the layout with --live")
    p.add_argument("--live", metavar="URL", help="use the live census of the platform at URL on the --ward layout "
                   "(token in SMARTWARD_TWIN_TOKEN, or --username with the password on stdin or in SMARTWARD_TWIN_PASSWORD)")
    p.add_argument("--ward-id", metavar="ID", type=pattern(WARD_ID, "a ward id (letters, digits, _.:-)"),
                   help="ward id on the platform, with --live (default: the layout's id)")
    p.add_argument("--username", metavar="USER", help="platform user for --live (password on stdin, or in SMARTWARD_TWIN_PASSWORD)")
    p.add_argument("--replications", type=bounded(int, 1, MAX_REPLICATIONS), default=1000, metavar="N",
                   help=f"Monte Carlo replications (1-{MAX_REPLICATIONS:,}; default 1000)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, metavar="S", help="random seed (default 0); same seed, same report")
    p.add_argument("--workers", type=bounded(int, 1), default=None, metavar="N", help="processes (default: one per core)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the reports (created)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def assignment(text: str) -> str:
    """An argparse ``type`` for ``--set``/``--a``/``--b``: ``KEY=VALUE`` with a key AND a value."""
    key_value(text)
    if not text.partition("=")[2].strip():
        raise argparse.ArgumentTypeError(_EMPTY_VALUE.format(text=text))
    return text


def _live_only(args: argparse.Namespace) -> int | None:
    """``--ward-id`` and ``--username`` name the platform's ward and user: without ``--live`` a usage error."""
    for option, value in (("--ward-id", args.ward_id), ("--username", args.username)):
        if value and not args.live:
            return usage_error(f"twin {args.twin_cmd}", f"{option} applies to a live census only: add --live URL")
    return None


class _Bar:
    """A progress bar on stderr (tqdm when installed, else a plain one); silent when not a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        stream = stream or sys.stderr
        self.label, self.stream = label, stream
        self.enabled = enabled and stream.isatty()
        self.t0 = time.perf_counter()
        self._tqdm: Any = None
        if self.enabled:
            try:
                from tqdm import tqdm  # optional: only if already installed
            except ImportError:
                pass
            else:
                self._tqdm = tqdm(total=None, desc=label, unit="rep", file=stream)

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.total = total
            self._tqdm.update(done - self._tqdm.n)
            return
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate:,.0f} rep/s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()


def _ward(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The ward to simulate, and where its census came from (kept in report.json)."""
    from digital_twin import census_source
    from digital_twin.model import example_ward_path, load_ward

    path = args.ward or example_ward_path()
    layout = load_ward(path)
    if not args.live:
        return layout, census_source.from_file(path, layout.id)
    from digital_twin.live import fetch_live, read_password
    from smartward.settings import load_settings

    if args.ward_id:  # the platform's ward on this layout: named as the server names it
        layout = layout.as_ward(args.ward_id)
    token, env_password = load_settings().twin_credentials()
    password = None
    if token is None and args.username:  # never on the command line: env, else stdin (a prompt on a terminal)
        password = env_password or read_password(args.username)
    live = fetch_live(args.live, ward_id=args.ward_id or layout.id, layout=layout, token=token,
                      username=args.username, password=password)
    c = live.summary()
    print(f"live census of {args.ward_id or layout.id} at {census_source.redact_url(args.live)}: "
          f"{c['occupied']} of {c['beds']} beds occupied, "
          f"acuity {c['acuity'] or 'none'}" + (f", not in the layout: beds {', '.join(c['unmapped_beds'])}"
                                               if c["unmapped_beds"] else ""), file=sys.stderr)
    assert live.census is not None
    return live.ward, census_source.from_live(args.live, live.census.ward, live.census.t, path)


def _print_report(report: Any, out: TextIO | None = None) -> None:
    from digital_twin.census_source import describe
    from digital_twin.metric_text import metric_line

    out = out or sys.stdout
    print(f"{report.title} — {report.ward_name} ({report.ward}), {report.replications} replications, seed {report.seed}", file=out)
    if report.census:
        print(f"  {describe(report.census)}", file=out)
    for name, spec in report.specs.items():
        print(f"  {metric_line(report.metrics[name], spec)}", file=out)
    for sentence in report.summary:
        print(f"- {sentence}", file=out)


def run_run(args: argparse.Namespace) -> int:
    from digital_twin.errors import TwinError
    from digital_twin.report_html import write_reports
    from digital_twin.runner import run
    from digital_twin.scenario import parse_assignments

    if (rc := _live_only(args)) is not None:
        return rc
    bar = _Bar(args.scenario, enabled=not args.no_progress)
    try:
        overrides = parse_assignments(args.sets)
        ward, census = _ward(args)
        report = run(args.scenario, ward, replications=args.replications, seed=args.seed, overrides=overrides,
                     workers=args.workers, progress=bar, census=census)
    except TwinError as exc:
        return fail(f"twin {args.twin_cmd}", str(exc))
    finally:
        bar.close()
    try:
        js, page = write_reports(report, args.out)
    except OSError as exc:
        return fail(f"twin {args.twin_cmd}", f"cannot write the reports to {args.out}: {exc.strerror or exc}")
    _print_report(report)
    print(f"wrote {js} and {page}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from digital_twin.errors import TwinError
    from digital_twin.report_html import write_compare
    from digital_twin.runner import run
    from digital_twin.scenario import parse_assignments

    if (rc := _live_only(args)) is not None:
        return rc
    if args.b is None:
        return usage_error("twin compare", "--b is missing: give what B changes, e.g. --b nurses=6 (with --a for A; "
                           "A left out is the scenario's defaults; `--b` with nothing after it compares with the "
                           "defaults)")
    args.a = args.a or []
    try:
        common = parse_assignments(args.sets)
        sets = {"A": {**common, **parse_assignments(args.a)}, "B": {**common, **parse_assignments(args.b)}}
        if sets["A"] == sets["B"]:
            return usage_error("twin compare", f"A and B have the same parameters "
                               f"({' '.join(f'{k}={v}' for k, v in sets['A'].items()) or 'the defaults'}): "
                               "nothing to compare; give --b what B changes")
        ward, census = _ward(args)
        reports = []
        for label, overrides in sets.items():
            bar = _Bar(f"{args.scenario} {label}", enabled=not args.no_progress)
            try:
                reports.append(run(args.scenario, ward, replications=args.replications, seed=args.seed,
                                   overrides=overrides, workers=args.workers, progress=bar, census=census))
            finally:
                bar.close()
    except TwinError as exc:
        return fail(f"twin {args.twin_cmd}", str(exc))
    a, b = reports
    try:
        cmp = write_compare(a, b, args.out)
    except OSError as exc:
        return fail(f"twin {args.twin_cmd}", f"cannot write the reports to {args.out}: {exc.strerror or exc}")
    print(f"{a.title}: B - A over {a.replications} replications each (seed {a.seed})")
    print(f"  A: {' '.join(args.a) or 'the scenario defaults (no --a)'}\n"
          f"  B: {' '.join(args.b) or 'the scenario defaults (--b with no parameters)'}")
    for name in cmp["metric_order"]:
        d = cmp["difference"][name]
        if d["diff"] is None:  # no value at all on one side: say why, in the metric's words
            why = "; ".join(f"in all {r.replications} replications of {side} {r.specs[name].absent}"
                            for side, r in (("A", a), ("B", b)) if r.metrics[name].n == 0)
            print(f"  {d['label']:<58} n/a ({why})")
            continue
        lo, hi = d["ci95"]
        ci = f"[{lo:+.2f}, {hi:+.2f}]" if lo is not None else "[n/a]"
        print(f"  {d['label']:<58} {d['mean_a']:>8.2f} -> {d['mean_b']:>8.2f} {d['unit']:<8} diff {d['diff']:+.2f} "
              f"95% CI {ci}{'' if d['significant'] else '  (no clear difference)'}")
    print("What B means (as in compare.html):")
    for sentence in b.summary:
        print(f"- {sentence}")
    print(f"wrote {args.out}/a/, {args.out}/b/, compare.json and compare.html")
    return 0


def _allowed(p: Any) -> str:
    """``day|night``, ``true|false``, ``0..100``, ``> 0`` — what ``--set`` accepts besides the type."""
    if p.enum:
        return "|".join(str(v) for v in p.enum)
    if p.type == "boolean":
        return "true|false"
    lo = f"{'>' if p.exclusive_minimum else '>='} {p.minimum:g}" if p.minimum is not None else ""
    hi = f"{'<' if p.exclusive_maximum else '<='} {p.maximum:g}" if p.maximum is not None else ""
    return ", ".join(x for x in (lo, hi) if x)


def _default(value: Any) -> str:
    """A default as a user writes it with ``--set``: ``none`` (not set), ``true``/``false``, ``night``, ``2.5``."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run_scenarios(args: argparse.Namespace) -> int:
    from digital_twin.scenario import describe_params
    from digital_twin.scenarios import SCENARIOS

    for name, cls in SCENARIOS.items():
        print(f"{name}: {cls.title}")
        print("  parameters (--set key=value):")
        for p in describe_params(cls.Params):
            allowed = _allowed(p)
            choices = f"  [{allowed}]" if allowed else ""
            desc = f"  {p.description}" if p.description else ""
            print(f"    {p.name} = {_default(p.default)}{choices}{desc}")
        print("  metrics: " + ", ".join(f"{m} [{spec.unit}]" for m, spec in cls.metrics.items()))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from digital_twin.errors import TwinError
    from digital_twin.model import load_ward

    try:
        ward = load_ward(args.file)
    except TwinError as exc:
        return fail(f"twin {args.twin_cmd}", str(exc))
    occupied = len(ward.occupied_beds())
    day, night = len(ward.staff_on("day")), len(ward.staff_on("night"))
    kinds = sorted({e.kind for e in ward.equipment})
    print(f"{args.file}: ok — {ward.name} ({ward.id}): {len(ward.rooms)} rooms, {len(ward.beds)} beds ({occupied} occupied), "
          f"{len(ward.graph.nodes)} nodes, {len(ward.exits)} exits, staff day {day} / night {night}, "
          f"equipment {', '.join(f'{k} x{ward.equipment_count(k)}' for k in kinds) or 'none'}, "
          f"{len(ward.devices)} devices, {len(ward.gateways)} gateways")
    return 0
