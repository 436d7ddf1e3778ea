"""``smartward gateway``: the edge gateway process; today its HL7 v2 (IHE PCD) MLLP adapter.

    smartward gateway --broker mqtts://central:8883 --hl7-mllp 0.0.0.0:2575 --mllp-peers /etc/smartward/mllp-peers.yaml \
        --outbox /var/lib/smartward/outbox

Monitors send PCD-01 / PCD-04 over MLLP; every observation and alarm goes into the durable on-disk
outbox before the monitor gets its ``AA``; the outbox's publisher drains it to the broker (QoS 1)
whenever the broker is reachable.

MLLP itself has no authentication, so the listener decides who may speak for which monitor: with
``--mllp-peers`` only the listed senders (address and/or client certificate) are served, each for its
own devices; without it the listener binds only to a loopback address (the demo, ``profile
simulate`` on the same host) and refuses any other, in every environment. ``--mllp-tls-cert/-key``
put MLLP in TLS; ``--mllp-tls-client-ca`` requires client certificates that identify the sender.
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
    p.add_argument("--max-message-bytes", type=int, default=1024 * 1024, metavar="N",
                   help="largest MLLP frame accepted (default 1 MiB): a larger one is answered AR and the "
                        "connection closed. A frame must be complete 30 s after its first byte; a connection "
                        "idle between frames is closed after 10 minutes")
    p.add_argument("--mllp-peers", default=None, metavar="FILE",
                   help="YAML allow-list: which sender (IP/CIDR, client certificate) may send for which devices; "
                        "required unless --hl7-mllp is a loopback address")
    p.add_argument("--mllp-tls-cert", default=None, metavar="PEM", help="listener certificate: MLLP over TLS")
    p.add_argument("--mllp-tls-key", default=None, metavar="PEM", help="the certificate's private key")
    p.add_argument("--mllp-tls-client-ca", default=None, metavar="PEM",
                   help="CA of client certificates: mutual TLS, the certificate's CN/DNS name identifies the sender")
    p.add_argument("--metrics", default=None, metavar="HOST:PORT",
                   help="serve Prometheus GET /metrics here (loopback only: no authentication), e.g. "
                        "127.0.0.1:9102: outbox, MLLP refusals, HL7 codes not stored "
                        "(smartward_gateway_hl7_unmapped_total{code})")
    p.add_argument("--mllp-max-per-peer", type=int, default=8, metavar="N",
                   help="connections one address may hold open (default 8; the listener holds at most 256)")
    p.set_defaults(func=run)


async def _run(fn: Any) -> None:
    await fn()


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback address (``localhost``, 127.0.0.0/8, ::1)."""
    import ipaddress
    import socket

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def _mllp_security(args: argparse.Namespace, host: str) -> tuple[Any, Any] | int:
    """(peer list or None, TLS context or None), or the exit code of a refusal."""
    from gateway_agent.errors import MllpError
    from gateway_agent.mllp import server_tls_context
    from gateway_agent.mllp_peers import load_peers

    if bool(args.mllp_tls_cert) != bool(args.mllp_tls_key):
        return usage_error("gateway", "--mllp-tls-cert and --mllp-tls-key go together")
    if args.mllp_tls_client_ca and not args.mllp_tls_cert:
        return usage_error("gateway", "--mllp-tls-client-ca needs --mllp-tls-cert and --mllp-tls-key (MLLP over TLS)")
    if args.mllp_max_per_peer < 1:
        return usage_error("gateway", "--mllp-max-per-peer must be >= 1")
    peers = None
    if args.mllp_peers:
        try:
            peers = load_peers(args.mllp_peers)
        except MllpError as exc:
            return fail("gateway", str(exc))
        if peers.needs_client_certificates and not args.mllp_tls_client_ca:
            return usage_error("gateway", f"{args.mllp_peers} names client certificates: give --mllp-tls-client-ca "
                               "(and --mllp-tls-cert/--mllp-tls-key) so the listener can verify them")
    elif not is_loopback(host):
        return usage_error("gateway", f"refusing to listen on {host} without --mllp-peers: MLLP has no authentication, "
                           "anyone reaching the port could send vitals and alarms for any monitor. Give --mllp-peers "
                           "FILE (see docs/vendor-onboarding.md) or listen on 127.0.0.1")
    tls = None
    if args.mllp_tls_cert:
        try:
            tls = server_tls_context(args.mllp_tls_cert, args.mllp_tls_key, args.mllp_tls_client_ca)
        except MllpError as exc:
            return fail("gateway", str(exc))
    return peers, tls


def run(args: argparse.Namespace) -> int:
    import asyncio

    from device_profiles import ProfileError, compile_profile_file, parse_mqtt_url
    from device_profiles.registry import BUILTIN_DIR
    from smartward.settings import load_settings

    try:
        host, port = parse_hostport(args.hl7_mllp)
        parse_mqtt_url(args.broker)
        compiled = compile_profile_file(args.profile or BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml")
    except (ValueError, ProfileError) as exc:
        return usage_error("gateway", str(exc))
    if compiled.profile.transport != "hl7v2-mllp":
        return usage_error("gateway", f"profile {compiled.id!r} is {compiled.profile.transport}, not hl7v2-mllp")
    root = args.topic_root or load_settings().topic_root
    if args.metrics is not None:
        try:
            m_host, _ = parse_hostport(args.metrics)
        except ValueError as exc:
            return usage_error("gateway", f"--metrics: {exc}")
        if not is_loopback(m_host):
            return usage_error("gateway", f"--metrics {args.metrics}: the metrics endpoint has no authentication; "
                               "bind it to 127.0.0.1 or ::1 and scrape through the host")
    security = _mllp_security(args, host)
    if isinstance(security, int):
        return security
    from gateway_agent import GatewayError

    try:
        asyncio.run(_main(args, compiled, host, port, root, security))
    except KeyboardInterrupt:
        return 0
    except (GatewayError, OSError) as exc:  # outbox locked by another gateway, port in use, ...
        return fail("gateway", str(exc))
    return 0


async def _main(args: argparse.Namespace, compiled: Any, host: str, port: int, root: str,
                security: tuple[Any, Any]) -> None:
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
        await _serve(args, compiled, host, port, root, security)


async def _serve(args: argparse.Namespace, compiled: Any, host: str, port: int, root: str,
                 security: tuple[Any, Any]) -> None:
    import asyncio
    import contextlib
    import logging

    from device_profiles.hl7 import Hl7Decoder
    from gateway_agent import open_outbox
    from gateway_agent.hl7_gateway import Hl7Gateway
    from gateway_agent.mllp import MllpLimits, MllpServer

    log = logging.getLogger("smartward.gateway")
    peers, tls = security
    async with open_outbox(args.outbox, args.broker, root=root) as (sink, drain):
        gateway = Hl7Gateway(Hl7Decoder(compiled), sink, root, peers=peers)
        server = MllpServer(gateway.handle, gateway.oversize, host, port,
                            MllpLimits(max_message_bytes=args.max_message_bytes,
                                       max_connections_per_peer=args.mllp_max_per_peer), tls=tls)
        metrics_server = None
        if args.metrics is not None:
            from gateway_agent.metrics_server import start_metrics_server

            m_host, m_port = parse_hostport(args.metrics)
            metrics_server = await start_metrics_server(m_host, m_port)
            log.info("gateway: Prometheus metrics on http://%s:%s/metrics", m_host, m_port)
        async with server, metrics_server or contextlib.nullcontext(), asyncio.TaskGroup() as tg:
            log.info("gateway: MLLP%s %s:%s (%s) -> outbox %s -> %s (profile %s, root %s)", "+TLS" if tls else "",
                     host, server.port, f"{len(peers.rules)} listed peers" if peers else "loopback only, no peer list",
                     args.outbox, args.broker, compiled.id, root)
            print(f"MLLP listening on {host}:{server.port}", flush=True)
            tg.create_task(_run(drain))
            tg.create_task(server.serve_forever())
            tg.create_task(_report_unmapped(gateway, log))


async def _report_unmapped(gateway: Any, log: Any, every_s: float = 3600.0) -> None:
    """Hourly, and when the gateway stops: the HL7 codes whose values were not stored, with counts."""
    import asyncio

    try:
        while True:
            await asyncio.sleep(every_s)
            if gateway.unmapped:
                log.info("gateway: HL7 values not stored, code not in the catalogue: %s", gateway.unmapped_summary())
    finally:
        if gateway.unmapped:
            log.info("gateway: HL7 values not stored, code not in the catalogue: %s", gateway.unmapped_summary())
