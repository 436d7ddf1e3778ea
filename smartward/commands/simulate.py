"""``smartward simulate``: a ward of simulated bedside monitors publishing through the durable outbox.

    smartward simulate --broker mqtt://127.0.0.1:1883 --beds 24 --rate 1 --scenario mixed --duration 120

Every sample is stored in the outbox (SQLite WAL, fsync'd) before it is published at QoS 1; it is
removed only after the broker's PUBACK, so a broker outage loses nothing: the backlog is sent, in
order, when the broker is back (and on the next run if the simulator stops first).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from smartward.cli_errors import fail, usage_error

SCENARIO_HELP = "stable, sepsis, desaturation, bradycardia, sensor-off, device-offline, replay[:FILE], mixed"


def register(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulated ward: vitals -> durable outbox -> MQTT (QoS 1)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--broker", required=True, metavar="URL", help="mqtt://[user[:password]@]host[:port] or mqtts://")
    p.add_argument("--beds", type=int, default=8, metavar="N", help="number of beds (default 8)")
    p.add_argument("--rate", type=float, default=1.0, metavar="HZ", help="samples per second per bed (default 1)")
    p.add_argument("--scenario", default="mixed", metavar="S", help=f"{SCENARIO_HELP} (default mixed)")
    p.add_argument("--outbox", default="var/simulator-outbox", metavar="PATH",
                   help="outbox directory or .sqlite3 file (default var/simulator-outbox)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds (default: run)")
    p.add_argument("--ward", default="w1", metavar="W", help="ward id used in device ids (default w1)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--topic-root", default=None, metavar="R", help="topic root (default SMARTWARD_TOPIC_ROOT or smartward/v1)")
    p.add_argument("--device-pattern", default="sim-{ward}-{bed:02d}", metavar="P",
                   help="device id pattern with {ward}, {bed}, {index} (default sim-{ward}-{bed:02d})")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="scenario time compression (default 1)")
    p.add_argument("--waves", type=int, default=0, metavar="N", help="first N beds also send ECG II / pleth chunks")
    p.add_argument("--connection", choices=("device", "gateway"), default="device",
                   help="one MQTT connection per device (default; username = device id) or one gateway connection")
    p.add_argument("--credentials", default=None, metavar="FILE",
                   help="device passwords, one 'device:password' per line (device connections)")
    p.add_argument("--mqtt", choices=("5", "3.1.1"), default="5", help="MQTT protocol version (default 5)")
    p.add_argument("--tls-ca", default=None, metavar="FILE", help="CA bundle for mqtts:// brokers")
    p.add_argument("--outbox-capacity", type=int, default=None, metavar="N", help="max messages kept (default 2,000,000)")
    p.add_argument("--backoff-max", type=float, default=15.0, metavar="S", help="reconnect backoff cap (default 15)")
    p.set_defaults(func=run)


def read_credentials(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        device, sep, pw = line.partition(":")
        if not sep or not device:
            raise ValueError(f"{path}:{n}: expected 'device:password'")
        out[device] = pw
    return out


def run(args: argparse.Namespace) -> int:
    import asyncio

    from device_profiles import ProfileError, parse_mqtt_url
    from gateway_agent import (
        GatewayError,
        PublisherOptions,
        Simulation,
        SimulationOptions,
        WardOptions,
    )
    from gateway_agent.outbox import DEFAULT_MAX_ENTRIES, resolve_path
    from smartward.settings import load_settings

    root = args.topic_root or load_settings().topic_root
    try:
        url = parse_mqtt_url(args.broker)
        if args.rate <= 0 or args.beds < 1:
            raise ValueError("--rate must be > 0 and --beds >= 1")
        creds = read_credentials(args.credentials) if args.credentials else {}
        ward = WardOptions(beds=args.beds, ward=args.ward, scenario=args.scenario, seed=args.seed,
                           device_pattern=args.device_pattern, root=root, speed=args.speed, waves=args.waves)
        options = SimulationOptions(
            broker=args.broker, outbox=args.outbox, ward=ward, rate=args.rate, connection=args.connection,
            credentials=creds, max_entries=args.outbox_capacity or DEFAULT_MAX_ENTRIES,
            publisher=PublisherOptions(broker=args.broker, client_id="", root=root, mqtt_v5=args.mqtt == "5",
                                       tls_ca=args.tls_ca, backoff_max=args.backoff_max))
        sim = Simulation(options)
    except (ValueError, OSError, ProfileError, GatewayError) as exc:
        return usage_error("simulate", str(exc))
    plan: dict[str, int] = {}
    for b in sim.ward.beds:
        plan[b.scenario_name] = plan.get(b.scenario_name, 0) + 1
    until = f"for {args.duration:g}s" if args.duration else "until Ctrl-C"
    print(f"smartward simulate: {args.beds} beds in ward {args.ward} at {args.rate:g} Hz "
          f"({', '.join(f'{n} {s}' for s, n in plan.items())}) -> {url} as {args.connection} connection(s), "
          f"root {root}, outbox {resolve_path(args.outbox)}, "
          f"{until}", flush=True)
    try:
        summary = asyncio.run(sim.run(args.duration))
    except KeyboardInterrupt:
        print("smartward simulate: interrupted; undelivered samples stay in the outbox for the next run")
        return 0
    except GatewayError as exc:
        return fail("simulate", str(exc))
    print(f"smartward simulate: {summary.line()}", flush=True)
    return 0
