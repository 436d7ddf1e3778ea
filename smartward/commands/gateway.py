"""``smartward gateway``: the edge gateway process; today its HL7 v2 (IHE PCD) MLLP adapter.

    smartward gateway --broker mqtt://central:1883 --hl7-mllp 0.0.0.0:2575 --outbox /var/lib/smartward/outbox

Monitors send PCD-01 / PCD-04 over MLLP; every observation and alarm goes into the durable on-disk
outbox before the monitor gets its ``AA``; the outbox's publisher drains it to the broker (QoS 1)
whenever the broker is reachable.
"""

from __future__ import annotations

import argparse
from typing import Any

from smartward.cli_errors import fail, usage_error


def register(sub: Any) -> None:
    p = sub.add_parser("gateway", help="edge gateway: HL7 v2 MLLP listener -> durable outbox -> MQTT")
    p.add_argument("--broker", required=True, metavar="URL", help="mqtt://host:port of the central broker")
    p.add_argument("--hl7-mllp", required=True, metavar="HOST:PORT", help="MLLP listen address, e.g. 0.0.0.0:2575")
    p.add_argument("--outbox", required=True, metavar="PATH", help="durable outbox directory/file")
    p.add_argument("--profile", default=None, metavar="FILE",
                   help="hl7v2-mllp profile (default: built-in ihe-pcd-hl7-monitor)")
    p.add_argument("--topic-root", default=None, help="topic root (default SMARTWARD_TOPIC_ROOT or smartward/v1)")
    p.add_argument("--max-message-bytes", type=int, default=1024 * 1024)
    p.set_defaults(func=run)


async def _run(fn: Any) -> None:
    await fn()


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from device_profiles import ProfileError, compile_profile_file, parse_mqtt_url
    from device_profiles.registry import BUILTIN_DIR
    from device_profiles.topics import ROOT

    try:
        host, port = parse_hostport(args.hl7_mllp)
        parse_mqtt_url(args.broker)
        compiled = compile_profile_file(args.profile or BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml")
    except (ValueError, ProfileError) as exc:
        return usage_error("gateway", str(exc))
    if compiled.profile.transport != "hl7v2-mllp":
        return usage_error("gateway", f"profile {compiled.id!r} is {compiled.profile.transport}, not hl7v2-mllp")
    root = args.topic_root or os.environ.get("SMARTWARD_TOPIC_ROOT", ROOT)
    from gateway_agent import GatewayError

    try:
        asyncio.run(_main(args, compiled, host, port, root))
    except KeyboardInterrupt:
        return 0
    except (GatewayError, OSError) as exc:  # outbox locked by another gateway, port in use, ...
        return fail("gateway", str(exc))
    return 0


async def _main(args: argparse.Namespace, compiled: Any, host: str, port: int, root: str) -> None:
    """Run until SIGTERM/SIGINT, then stop listening and close the outbox cleanly."""
    import asyncio
    import contextlib
    import signal

    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await _serve(args, compiled, host, port, root)


async def _serve(args: argparse.Namespace, compiled: Any, host: str, port: int, root: str) -> None:
    import asyncio
    import logging

    from device_profiles.hl7_oru import Hl7Decoder
    from gateway_agent import open_outbox
    from gateway_agent.hl7_gateway import Hl7Gateway
    from gateway_agent.mllp import MllpLimits, MllpServer

    log = logging.getLogger("smartward.gateway")
    async with open_outbox(args.outbox, args.broker, root=root) as (sink, drain):
        gateway = Hl7Gateway(Hl7Decoder(compiled), sink, root)
        server = MllpServer(gateway.handle, gateway.oversize, host, port,
                            MllpLimits(max_message_bytes=args.max_message_bytes))
        async with server, asyncio.TaskGroup() as tg:
            log.info("gateway: MLLP %s:%s -> outbox %s -> %s (profile %s, root %s)", host, server.port, args.outbox,
                     args.broker, compiled.id, root)
            print(f"MLLP listening on {host}:{server.port}", flush=True)
            tg.create_task(_run(drain))
            tg.create_task(server.serve_forever())
