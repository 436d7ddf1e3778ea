"""``smartward drill start|stop|status|list|report|purge``: live drills on the running platform (issue 6).

``start`` runs the whole drill (``digital_twin.live_drill``): it starts it through the API, drives the
simulated drill devices through a durable outbox to the broker, prints each drill alarm event as it
happens (nurses acknowledge them on the central station as usual), stops the drill at the end (or on
Ctrl-C) and writes ``report.json`` + ``report.html`` with the measured response times.
Credentials: ``SMARTWARD_TWIN_TOKEN``, or ``--username`` with the password in ``SMARTWARD_TWIN_PASSWORD``.
Exit codes: 0 ok, 1 refused / unreachable, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"  # as smartward serve and demo
SCENARIOS = ("stable", "sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline")


def duration(text: str) -> float:
    """``600``, ``90s``, ``10m``, ``1h`` -> seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 600, 90s, 10m, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


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
    s.add_argument("--beds", type=int, default=2, help="virtual drill beds DRILL-01 … (default 2)")
    s.add_argument("--scenario", action="append", choices=SCENARIOS, metavar="NAME",
                   help=f"simulator scenario, repeatable, dealt to the beds in turn ({', '.join(SCENARIOS)}; "
                   "default desaturation)")
    s.add_argument("--duration", type=duration, default=600.0, help="e.g. 600, 90s, 10m (default 10m)")
    s.add_argument("--speed", type=float, default=1.0, help="scenario seconds per second (default 1)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--outbox", metavar="PATH", help="durable outbox file (default: a temporary file)")
    s.add_argument("--mqtt311", action="store_true", help="MQTT 3.1.1 (brokers without v5, e.g. `smartward demo`'s)")
    s.add_argument("--out", required=True, metavar="DIR", help="where report.json and report.html go")
    s.set_defaults(func=run_start)
    st = dsub.add_parser("stop", help="stop a running drill (its driver then writes the report)")
    common(st)
    st.add_argument("drill", help="drill id")
    st.set_defaults(func=lambda a: _api(a, "DELETE", f"/api/v1/drills/{a.drill}"))
    ss = dsub.add_parser("status", help="one drill: beds, devices, scenarios, started/ends/stopped, active")
    common(ss)
    ss.add_argument("drill", help="drill id")
    ss.set_defaults(func=lambda a: _api(a, "GET", f"/api/v1/drills/{a.drill}"))
    ls = dsub.add_parser("list", help="list drills (newest first)")
    common(ls)
    ls.set_defaults(func=lambda a: _api(a, "GET", "/api/v1/drills"))
    rp = dsub.add_parser("report", help="rebuild a drill's report from the platform's alarm log")
    common(rp)
    rp.add_argument("drill", help="drill id")
    rp.add_argument("--out", required=True, metavar="DIR", help="where report.json and report.html go")
    rp.set_defaults(func=run_report)
    pu = dsub.add_parser("purge", help="delete stored drill data (all, or --drill ID) from the vitals store")
    common(pu)
    pu.add_argument("--drill", metavar="ID")
    pu.set_defaults(func=lambda a: _api(a, "POST", "/api/v1/drills/purge", {"drill": a.drill}))
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise here
    return os.environ.get("SMARTWARD_TWIN_TOKEN") or None, args.username, os.environ.get("SMARTWARD_TWIN_PASSWORD")


def _api(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    import httpx
    import orjson

    token, username, password = _credentials(args)
    try:
        with httpx.Client(base_url=args.url, timeout=15.0) as http:
            if token is None:
                if not username or password is None:
                    print("smartward drill: set SMARTWARD_TWIN_TOKEN, or --username and SMARTWARD_TWIN_PASSWORD",
                          file=sys.stderr)
                    return 1
                r = http.post("/api/v1/auth/token", data={"username": username, "password": password})
                if r.status_code != 200:
                    print(f"smartward drill: login refused ({r.status_code})", file=sys.stderr)
                    return 1
                token = r.json()["access_token"]
            r = http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        print(f"smartward drill: {args.url}: {exc}", file=sys.stderr)
        return 1
    if r.status_code >= 300:
        print(f"smartward drill: {method} {path} refused ({r.status_code}): {r.text[:300]}", file=sys.stderr)
        return 1
    print(orjson.dumps(r.json(), option=orjson.OPT_INDENT_2).decode())
    return 0


def run_start(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from digital_twin.live_drill import LiveDrill, LiveDrillError, LiveDrillOptions

    token, username, password = _credentials(args)
    opts = LiveDrillOptions(base_url=args.url, broker=args.broker, ward=args.ward, token=token, username=username,
                            password=password, root=args.topic_root, beds=args.beds,
                            scenarios=tuple(args.scenario or ("desaturation",)), duration_s=args.duration,
                            speed=args.speed, seed=args.seed, outbox=args.outbox, mqtt_v5=not args.mqtt311)

    def show(ev: dict[str, Any]) -> None:
        print(f"  {ev.get('event'):<12} {ev.get('id')} bed {ev.get('bed')} {ev.get('priority')}: {ev.get('reason')}",
              flush=True)

    async def main() -> dict[str, Any]:
        def started(d: dict[str, Any]) -> None:
            beds = ", ".join(f"{b['bed']} ({b['scenario']})" for b in d["beds"])
            print(f"drill {d['id']} running: {beds}; `smartward drill stop {d['id']}` ends it", flush=True)

        drill = LiveDrill(opts, on_event=show, on_start=started)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, drill.stop)
        print(f"live drill in ward {args.ward}: {args.beds} bed(s), {args.duration:.0f} s; Ctrl-C stops it", flush=True)
        return await drill.run()

    try:
        report = asyncio.run(main())
    except LiveDrillError as exc:
        print(f"smartward drill start: {exc}", file=sys.stderr)
        return 1
    return _print_and_write(report, args.out)


def run_report(args: argparse.Namespace) -> int:
    import asyncio

    from digital_twin.live_drill import LiveDrillError, report_from_log

    token, username, password = _credentials(args)
    try:
        report = asyncio.run(report_from_log(args.url, args.drill, token=token, username=username, password=password))
    except LiveDrillError as exc:
        print(f"smartward drill report: {exc}", file=sys.stderr)
        return 1
    return _print_and_write(report, args.out)


def _print_and_write(report: dict[str, Any], out: str) -> int:
    """Print the drill report's summary and write report.json + report.html into ``out``."""
    from digital_twin.live_drill import write_report

    j, h = write_report(report, out)
    for line in report["summary"]:
        print(line)
    print(f"wrote {j} and {h}")
    return 0
