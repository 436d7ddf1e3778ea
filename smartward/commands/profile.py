"""``smartward profile validate|test|simulate|list|schema``: the vendor's tools for device profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smartward.cli_errors import usage_error

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "device_profiles" / "schema" / "device-profile.v2.schema.json"


def register(sub: Any) -> None:
    p = sub.add_parser("profile", help="validate, test, simulate and list device profiles")
    psub = p.add_subparsers(dest="profile_cmd", required=True, metavar="ACTION")

    v = psub.add_parser("validate", help="check profile files; errors name the key and line (exit 1 if any is invalid)")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--vendor", default=None, metavar="USERNAME",
                   help="also apply the upload rules of this vendor account (device ids start with USERNAME-)")
    v.add_argument("--topic-root", default=None, help="topic root for {root} (default SMARTWARD_TOPIC_ROOT)")
    v.set_defaults(func=run_validate)

    t = psub.add_parser("test", help="conformance kit: decode sample payloads, compare with *.expected.json")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--samples", required=True, metavar="DIR", help="directory of sample payloads (+ NAME.expected.json)")
    t.add_argument("--received-at", type=int, default=None, metavar="MS",
                   help="receive time in ms since the epoch (default now; set it for profiles using receive time)")
    t.add_argument("--write-expected", action="store_true", help="write NAME.expected.json where missing")
    t.add_argument("--tolerance", action="append", default=[], metavar="SIGNAL=ABS",
                   help="compare this signal's values within an absolute tolerance in its canonical unit, "
                        "e.g. temperature=0.05 (repeatable; default exact to 1e-6)")
    t.add_argument("--quiet", action="store_true", help="print only the verdicts")
    t.set_defaults(func=run_test)

    s = psub.add_parser("simulate", help="publish synthetic payloads in the vendor's own format")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--broker", metavar="URL", help="mqtt://host:port (MQTT profiles)")
    s.add_argument("--mllp", metavar="HOST:PORT", help="gateway MLLP address (hl7v2-mllp profiles)")
    s.add_argument("--device", default="SIM0001", help="value of the topic's device capture (default SIM0001)")
    s.add_argument("--rate", type=float, default=1.0, help="messages per second (default 1)")
    s.add_argument("--count", type=int, default=0, help="stop after N messages (default: run until Ctrl-C)")
    s.add_argument("--batch", type=int, default=1, help="samples per message for batching profiles (default 1)")
    s.add_argument("--topic-root", default=None, help="topic root for {root} in topics (default SMARTWARD_TOPIC_ROOT)")
    s.set_defaults(func=run_simulate)

    ls = psub.add_parser("list", help="list the profiles the registry would load")
    ls.add_argument("--profiles", action="append", default=[], metavar="DIR", help="profile directory (repeatable)")
    ls.add_argument("--state", default=None, metavar="URL", help="state database with uploaded profiles")
    ls.set_defaults(func=run_list)

    sc = psub.add_parser("schema", help="print the JSON Schema of the profile format (--write updates the published file)")
    sc.add_argument("--write", action="store_true")
    sc.set_defaults(func=run_schema)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _root(arg: str | None) -> str:
    from smartward.settings import load_settings

    return arg or load_settings().topic_root


def run_validate(args: argparse.Namespace) -> int:
    from device_profiles import Issue, ProfileValidationError, compile_profile_file
    from device_profiles.profile_policy import broker_acl, platform_tree_issue, policy_issues, vendor_prefix

    root = _root(args.topic_root)
    prefix = None
    if args.vendor is not None:
        prefix = vendor_prefix(args.vendor)
        if prefix is None:
            return usage_error("profile validate", f"--vendor {args.vendor!r} cannot hold a device-id prefix "
                               "(2-16 lower-case letters and digits, not reserved)")
    bad = 0
    for f in args.files:
        try:
            c = compile_profile_file(f, root)
        except ProfileValidationError as exc:
            bad += 1
            print(f"INVALID {f}", file=sys.stderr)
            for issue in exc.issues:
                print(f"  {issue.render(f)}", file=sys.stderr)
            continue
        issues: list[Issue] = []
        if args.vendor is not None:
            issues = policy_issues(c, prefix, root)
        elif c.decoder is not None and (tree := platform_tree_issue(c.decoder.topic, root)) is not None:
            issues = [Issue("mqtt.topic", None, tree)]
        clash = _builtin_clash(c)
        if clash:
            issues.append(Issue("mqtt.topic", None, clash))
        if issues:
            bad += 1
            print(f"INVALID {f}", file=sys.stderr)
            for issue in issues:
                print(f"  {issue.render(f)}", file=sys.stderr)
            continue
        topic = c.profile.mqtt.topic if c.profile.mqtt else c.profile.transport
        print(f"OK {f}: {c.id} ({c.profile.vendor} {c.profile.model}), {c.profile.transport}, {topic}, "
              f"{len(c.profile.fields)} fields" + "".join(f"; {n}" for n in c.notes))
        if c.decoder is not None:
            acl = broker_acl(c, root)
            for line in acl:
                print(f"  broker ACL (each device publishes only as itself): {line}")
            if not acl:
                print("  broker ACL: none possible, the device id is not one whole topic level "
                      "(the upload API refuses such a profile)")
            print(f"  broker ACL for ingest (sw-ingest / sw-platform): topic read {c.decoder.topic.subscription}")
    return 1 if bad else 0


def _builtin_clash(c: Any) -> str | None:
    """A profile whose topics overlap a built-in one (other id) would be refused by the registry."""
    from device_profiles import ProfileRegistry

    if c.decoder is None:
        return None
    for other in ProfileRegistry().all():
        if other.id != c.id and other.decoder is not None and c.decoder.topic.overlaps(other.decoder.topic):
            return (f"{c.decoder.topic.pattern!r} overlaps built-in profile {other.id!r} "
                    f"({other.decoder.topic.pattern!r}); the registry would refuse it")
    return None


def run_test(args: argparse.Namespace) -> int:
    import orjson

    from device_profiles import NUMERIC_SIGNALS, ProfileValidationError, compile_profile_file, now_ms
    from device_profiles.conformance import run

    try:
        compiled = compile_profile_file(args.file)
    except ProfileValidationError as exc:
        print(f"INVALID profile {args.file}:\n{exc}", file=sys.stderr)
        return 1
    samples = Path(args.samples)
    if not samples.is_dir():
        return usage_error("profile test", f"--samples {samples}: not a directory")
    tolerance: dict[str, float] = {}
    for item in args.tolerance:
        name, _, value = item.partition("=")
        try:
            tol = float(value)
        except ValueError:
            tol = -1.0
        if name not in NUMERIC_SIGNALS or not tol >= 0:
            return usage_error("profile test", f"--tolerance {item!r}: expected SIGNAL=ABS with a catalogue signal "
                                               f"({', '.join(sorted(NUMERIC_SIGNALS))}) and a number >= 0")
        tolerance[name] = tol
    results = run(compiled, samples, args.received_at if args.received_at is not None else now_ms(), tolerance)
    if not results:
        print(f"no sample payloads in {samples}", file=sys.stderr)
        return 1
    failed = 0
    for r in results:
        verdict = "PASS" if r.ok else "FAIL"
        tag = "" if r.expected is not None else " (no expected file)"
        print(f"{verdict} {r.name}{tag}")
        if not args.quiet:
            if r.error:
                print(f"  refused: {r.error}")
            else:
                print("  " + orjson.dumps(r.output, option=orjson.OPT_INDENT_2).decode().replace("\n", "\n  "))
        for d in r.differences:
            print(f"  mismatch {d}")
        if args.write_expected and r.expected is None and r.error is None:
            target = samples / (r.name.rsplit(".", 1)[0] + ".expected.json")
            target.write_bytes(orjson.dumps(r.output, option=orjson.OPT_INDENT_2) + b"\n")
            print(f"  wrote {target}")
        failed += not r.ok
    print(f"{len(results) - failed}/{len(results)} samples pass")
    return 1 if failed else 0


def run_simulate(args: argparse.Namespace) -> int:
    import asyncio

    from device_profiles import ProfileError, compile_profile_file

    if args.rate <= 0 or args.batch < 1:
        return usage_error("profile simulate", "--rate must be > 0 and --batch >= 1")
    try:
        compiled = compile_profile_file(args.file, _root(args.topic_root))
        from device_profiles.synth import Hl7Synthesizer, Synthesizer

        if compiled.profile.transport == "hl7v2-mllp":
            if not args.mllp:
                return usage_error("profile simulate", "an hl7v2-mllp profile is simulated over MLLP: give --mllp "
                                   "HOST:PORT of `smartward gateway`")
            return asyncio.run(_simulate_hl7(args, Hl7Synthesizer(args.device)))
        if not args.broker:
            return usage_error("profile simulate", "--broker URL is required for MQTT profiles")
        synth = Synthesizer(compiled)
    except ProfileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return asyncio.run(_simulate(args, synth))


async def _simulate_hl7(args: argparse.Namespace, synth: Any) -> int:
    import asyncio
    import time

    from device_profiles import now_ms

    host, _, port = args.mllp.rpartition(":")
    if not port.isdigit():
        return usage_error("profile simulate", f"--mllp {args.mllp!r} is not HOST:PORT")
    sent = 0
    period = 1.0 / args.rate
    try:
        reader, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
    except OSError as exc:
        print(f"MLLP {args.mllp}: {exc}", file=sys.stderr)
        return 1
    print(f"sending ORU^R01 of device {args.device} to {args.mllp} (Ctrl-C stops)")
    start = time.monotonic()
    try:
        while not args.count or sent < args.count:
            writer.write(b"\x0b" + synth.message(now_ms()).encode() + b"\x1c\x0d")
            await writer.drain()
            ack = (await asyncio.wait_for(reader.readuntil(b"\x1c\x0d"), 30)).decode("utf-8", "replace")
            msa = next((seg for seg in ack.split("\r") if seg.startswith("MSA|")), "no MSA")
            if not msa.startswith("MSA|AA"):
                print(f"gateway answered {msa}", file=sys.stderr)
            sent += 1
            await asyncio.sleep(max(0.0, start + sent * period - time.monotonic()))
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        print(f"MLLP {args.mllp}: {exc!r}", file=sys.stderr)
        return 1
    finally:
        writer.close()
    print(f"sent {sent} messages")
    return 0


async def _simulate(args: argparse.Namespace, synth: Any) -> int:
    import asyncio
    import time

    import aiomqtt
    import orjson

    from device_profiles import now_ms, parse_mqtt_url
    from device_profiles.mqtt_client import Client as MqttClient

    url = parse_mqtt_url(args.broker)
    topic = synth.topic(args.device)
    qos = 1
    sent = 0
    period = 1.0 / args.rate
    try:
        async with MqttClient(url.host, url.port, username=url.username, password=url.password,
                                  identifier=f"sw-sim-{args.device}"[:23]) as client:
            print(f"publishing {synth.dec.profile_id} payloads to {topic} on {url} (Ctrl-C stops)")
            start = time.monotonic()
            while not args.count or sent < args.count:
                payload = synth.payload(now_ms(), args.batch, args.device)
                await client.publish(topic, orjson.dumps(payload), qos=qos)
                sent += 1
                await asyncio.sleep(max(0.0, start + sent * period - time.monotonic()))
    except aiomqtt.MqttError as exc:
        print(f"broker {url}: {exc}", file=sys.stderr)
        return 1
    print(f"sent {sent} messages")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from device_profiles import ProfileRegistry

    reg = ProfileRegistry(_root(None), args.profiles)
    if args.state:
        import sqlalchemy as sa

        from device_profiles.profile_store import active_texts, create_tables

        engine = sa.create_engine(args.state)
        create_tables(engine)
        reg.set_stored(active_texts(engine))
    print(f"{'id':28} {'transport':11} {'vendor / model':44} {'topic':36} source")
    for c in reg.all():
        topic = c.decoder.topic.pattern if c.decoder else "(MLLP: smartward gateway --hl7-mllp)"
        vm = f"{c.profile.vendor} / {c.profile.model}"
        print(f"{c.id:28} {c.profile.transport:11} {vm[:44]:44} {topic[:36]:36} {c.source}")
    for source, problem in sorted(reg.problems.items()):
        print(f"REFUSED {source}: {problem}", file=sys.stderr)
    return 1 if reg.problems else 0


def run_schema(args: argparse.Namespace) -> int:
    import orjson

    from device_profiles import model_json_schema

    text = orjson.dumps(model_json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    if args.write:
        SCHEMA_FILE.write_bytes(text)
        print(f"wrote {SCHEMA_FILE}")
    else:
        sys.stdout.write(text.decode())
    return 0
