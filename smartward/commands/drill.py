"""``smartward drill start|stop|status|list|report|purge``: live drills on the running platform.

``start`` runs the whole drill (``digital_twin.live_drill``): it starts it through the API, drives the
simulated drill devices through a durable outbox to the broker, prints each drill alarm event as it
happens (nurses acknowledge them on the central station as usual), stops the drill at the end (or on
Ctrl-C) and writes ``report.json`` + ``report.html`` with the measured response times.
Credentials: ``SMARTWARD_TWIN_TOKEN``, or ``--username`` with the password in ``SMARTWARD_TWIN_PASSWORD``.
Exit codes: 0 ok, 1 refused / unreachable, 2 usage (an option out of its range: checked before anything
starts, with the same bounds the API applies). Errors: ``smartward drill <action>: error: …`` on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from smartward.cli_errors import bounded, fail
from smartward.cli_errors import duration as duration_type

DEFAULT_URL = "http://127.0.0.1:8000"  # as smartward serve and demo
SCENARIOS = ("stable", "sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline")
# the API's bounds (digital_twin.live_drill; not imported here so that `smartward --help` stays fast)
BEDS_MAX, DURATION_MIN_S, DURATION_MAX_S, SPEED_MAX, RATE_MAX = 16, 10.0, 8 * 3600.0, 100.0, 10.0
duration = duration_type()  # ``600``, ``90s``, ``10m``, ``1h`` -> seconds (any length)


def register(sub: Any) -> None:
    p = sub.add_parser("drill", help="live drills on the running platform (start, stop, status, list, report, purge)")
    dsub = p.add_subparsers(dest="drill_command", required=True, metavar="ACTION")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--url", default=DEFAULT_URL, help=f"the platform's HTTP API (default {DEFAULT_URL})")
        q.add_argument("--username", metavar="USER", help="platform user (password in SMARTWARD_TWIN_PASSWORD; "
                       "or a token in SMARTWARD_TWIN_TOKEN)")

    s = dsub.add_parser("start", help="run a live drill to its end and write its report")
    common(s)
    s.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="the platform's broker (mqtt://host:port)")
    s.add_argument("--topic-root", default="smartward/v1")
    s.add_argument("--ward", required=True, help="the real ward the drill runs in (its central station shows it)")
    s.add_argument("--beds", type=bounded(int, 1, BEDS_MAX), default=2,
                   help=f"virtual drill beds DRILL-01 … (1-{BEDS_MAX}, default 2)")
    s.add_argument("--scenario", action="append", choices=SCENARIOS, metavar="NAME",
                   help=f"simulator scenario, repeatable, dealt to the beds in turn ({', '.join(SCENARIOS)}; "
                   "default desaturation)")
    s.add_argument("--duration", type=duration_type(DURATION_MIN_S, DURATION_MAX_S), default=600.0,
                   help="e.g. 600, 90s, 10m (10 s to 8 h; default 10m)")
    s.add_argument("--speed", type=bounded(float, 0.0, SPEED_MAX, lo_open=True), default=1.0,
                   help=f"scenario seconds per second (above 0, up to {SPEED_MAX:g}; default 1)")
    s.add_argument("--rate", type=bounded(float, 0.0, RATE_MAX, lo_open=True), default=1.0,
                   help=f"samples per second per bed (above 0, up to {RATE_MAX:g}; default 1)")
    s.add_argument("--seed", type=bounded(int, 0), default=0)
    s.add_argument("--outbox", metavar="PATH", help="durable outbox file (default: a temporary file)")
    s.add_argument("--mqtt311", action="store_true", help="MQTT 3.1.1 (brokers without v5, e.g. `smartward demo`'s)")
    s.add_argument("--out", required=True, metavar="DIR", help="where report.json and report.html go")
    s.set_defaults(func=run_start)
    st = dsub.add_parser("stop", help="stop a running drill (its driver then writes the report)")
    common(st)
    st.add_argument("drill", help="drill id")
    st.set_defaults(func=run_stop)
    ss = dsub.add_parser("status", help="one drill: beds, scenarios, started/ends/stopped, how it ended")
    common(ss)
    ss.add_argument("drill", help="drill id")
    ss.add_argument("--json", action="store_true", help="print the API's drill record (times in ms since the epoch)")
    ss.set_defaults(func=lambda a: _api(a, "status", "GET", f"/api/v1/drills/{a.drill}", show=_show_status))
    ls = dsub.add_parser("list", help="list drills (newest first)")
    common(ls)
    ls.add_argument("--json", action="store_true", help="print the API's drill records (times in ms since the epoch)")
    ls.set_defaults(func=lambda a: _api(a, "list", "GET", "/api/v1/drills", show=_show_list))
    rp = dsub.add_parser("report", help="rebuild a drill's report from the platform's alarm log")
    common(rp)
    rp.add_argument("drill", help="drill id")
    rp.add_argument("--out", required=True, metavar="DIR", help="where report.json and report.html go")
    rp.set_defaults(func=run_report)
    pu = dsub.add_parser("purge", help="delete stored drill data (all, or --drill ID) from the vitals store")
    common(pu)
    pu.add_argument("--drill", metavar="ID")
    pu.add_argument("--json", action="store_true", help="print the platform's answer as JSON")
    pu.set_defaults(func=lambda a: _api(a, "purge", "POST", "/api/v1/drills/purge", {"drill": a.drill}, _show_purge))
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    import logging

    from smartward.settings import load_settings

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise here
    token, password = load_settings().twin_credentials()
    return token, args.username, password


class _Refused(Exception):
    """The platform could not be reached or refused; the message says which and why."""


@contextlib.contextmanager
def _platform(args: argparse.Namespace) -> Iterator[Callable[..., Any]]:
    """Log in once; yields ``call(method, path, body=None)`` -> the JSON answer. Every failure (unreachable,
    login refused, a refused call) is :class:`_Refused` naming it."""
    import httpx

    from digital_twin.api_errors import api_error

    token, username, password = _credentials(args)
    try:
        with httpx.Client(base_url=args.url, timeout=15.0) as http:
            if token is None:
                if not username or password is None:
                    raise _Refused("set SMARTWARD_TWIN_TOKEN, or --username and SMARTWARD_TWIN_PASSWORD")
                r = http.post("/api/v1/auth/token", data={"username": username, "password": password})
                if r.status_code != 200:
                    raise _Refused(f"login as {username} refused ({r.status_code}): {api_error(r)}")
                token = r.json()["access_token"]

            def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
                r = http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
                if r.status_code >= 300:
                    raise _Refused(f"{method} {path} refused ({r.status_code}): {api_error(r)}")
                return r.json()

            yield call
    except httpx.HTTPError as exc:
        raise _Refused(f"{args.url}: {exc}") from None


def _api(args: argparse.Namespace, action: str, method: str, path: str, body: dict[str, Any] | None = None,
         show: Callable[[argparse.Namespace, Any], list[str]] | None = None) -> int:
    """Call the API; print the answer readably with ``show`` (the raw JSON with ``--json`` or without ``show``)."""
    import orjson

    try:
        with _platform(args) as call:
            answer = call(method, path, body)
    except _Refused as exc:
        return fail(f"drill {action}", str(exc))
    if show is None or getattr(args, "json", False):
        print(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    else:
        print("\n".join(show(args, answer)))
    return 0


def _show_status(args: argparse.Namespace, drill: Any) -> list[str]:
    from digital_twin.drill_text import status_lines

    return status_lines(drill, url=args.url, username=args.username)


def _show_list(args: argparse.Namespace, drills: Any) -> list[str]:
    from digital_twin.drill_text import list_table

    return list_table(drills)


def _show_purge(args: argparse.Namespace, answer: Any) -> list[str]:
    what = "every drill's" if answer.get("purged") == "*" else f"drill {answer.get('purged')}'s"
    return [f"purged {what} data from the drill store; the drill records and the alarm log stay, so "
            "`smartward drill report` still rebuilds a drill's report"]


def _command(args: argparse.Namespace, action: str, *rest: str) -> str:
    """``smartward drill ACTION …`` with the same --url/--username (never a password)."""
    from digital_twin.drill_text import drill_command

    return drill_command(action, *rest, url=args.url, username=args.username)


def run_stop(args: argparse.Namespace) -> int:
    """Stop a running drill; a drill that already ended is left alone and said so (exit 0, like DELETE)."""
    path = f"/api/v1/drills/{args.drill}"
    try:
        with _platform(args) as call:
            drill = call("GET", path)
            ended_before = drill.get("stopped") is not None
            if not ended_before:
                drill = call("DELETE", path)
    except _Refused as exc:
        return fail("drill stop", str(exc))
    from digital_twin.drill_text import ended_at_end_time, when

    if not ended_before:
        print(f"drill {drill['id']} in ward {drill['ward']} stopped at {when(drill['stopped'])}; its driver "
              "(`smartward drill start`) now writes the report")
        return 0
    how = (f"ended at its end time at {when(drill['ends'])}" if ended_at_end_time(drill)
           else f"was stopped by {drill.get('stopped_by') or 'unknown'} at {when(drill['stopped'])}")
    print(f"drill {drill['id']} in ward {drill['ward']} already ended: it {how}. Its report: where "
          f"`smartward drill start --out DIR` wrote it, or rebuild it with "
          f"`{_command(args, 'report', drill['id'], '--out', 'DIR')}`")
    return 0


def run_start(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from digital_twin.live_drill import LiveDrill, LiveDrillError, LiveDrillOptions

    token, username, password = _credentials(args)
    opts = LiveDrillOptions(base_url=args.url, broker=args.broker, ward=args.ward, token=token, username=username,
                            password=password, root=args.topic_root, beds=args.beds,
                            scenarios=tuple(args.scenario or ("desaturation",)), duration_s=args.duration,
                            speed=args.speed, seed=args.seed, rate=args.rate, outbox=args.outbox,
                            mqtt_v5=not args.mqtt311)

    def show(ev: dict[str, Any]) -> None:
        print(f"  {ev.get('event'):<12} {ev.get('id')} bed {ev.get('bed')} {ev.get('priority')}: {ev.get('reason')}",
              flush=True)

    async def main() -> dict[str, Any]:
        def started(d: dict[str, Any]) -> None:  # the platform accepted the drill: only now say it runs
            beds = ", ".join(f"{b['bed']} ({b['scenario']})" for b in d["beds"])
            print(f"starting drill {d['id']} in ward {d['ward']}: {len(d['beds'])} bed(s), {args.duration:.0f} s; "
                  "Ctrl-C stops it", flush=True)
            print(f"drill {d['id']} running: {beds}; `{_command(args, 'stop', d['id'])}` ends it", flush=True)

        drill = LiveDrill(opts, on_event=show, on_start=started)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, drill.stop)
        return await drill.run()

    try:
        report = asyncio.run(main())
    except LiveDrillError as exc:
        return fail("drill start", str(exc))
    return _print_and_write(report, args.out)


def run_report(args: argparse.Namespace) -> int:
    import asyncio

    from digital_twin.live_drill import LiveDrillError, report_from_log

    token, username, password = _credentials(args)
    try:
        report = asyncio.run(report_from_log(args.url, args.drill, token=token, username=username, password=password))
    except LiveDrillError as exc:
        return fail("drill report", str(exc))
    return _print_and_write(report, args.out)


def _print_and_write(report: dict[str, Any], out: str) -> int:
    """Print the drill report's summary and write report.json + report.html into ``out``."""
    from digital_twin.live_drill import write_report

    j, h = write_report(report, out)
    for line in report["summary"]:
        print(line)
    print(f"wrote {j} and {h}")
    return 0
