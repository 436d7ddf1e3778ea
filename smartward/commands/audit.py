"""``smartward audit verify|head|export-head|keygen|tail``: check the keyed hash chain of the audit log,
give its head to an external witness, create a key, show recent entries.

The key: ``--key-file`` (repeatable: the current key and those rotated out), else
``SMARTWARD_AUDIT_KEY_FILE`` / ``SMARTWARD_AUDIT_KEY``, else (a SQLite state DB) the development key
``audit.key`` beside it, where ``demo`` and ``serve`` generate it in development.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smartward.cli_errors import fail


def _head(text: str) -> Any:
    from dashboard_api.audit import Head

    try:
        return Head.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="verify the keyed hash-chained audit log, witness its head, show its newest entries")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = asub.add_parser("verify", help="exit 1 and name the first broken entry if the chain was altered")
    v.add_argument("--state", required=True, metavar="URL", help="state DB (SQLAlchemy URL)")
    v.add_argument("--key-file", action="append", default=[], metavar="FILE",
                   help="an audit key (repeat for keys rotated out); default SMARTWARD_AUDIT_KEY_FILE")
    v.add_argument("--expect-head", action="append", default=[], type=_head, metavar="SEQ:HASH",
                   help="a head seen earlier (`audit head`): fails if that entry is gone or differs")
    v.add_argument("--witness", metavar="FILE", help="a file of heads from `audit export-head`: each MAC and "
                                                     "each head is checked")
    v.add_argument("--require-keyed", action="store_true",
                   help="fail if any entry is unkeyed (for a log that was keyed from its first entry)")
    v.set_defaults(func=run_verify)
    h = asub.add_parser("head", help="print the newest entry as SEQ:HASH (for --expect-head)")
    h.add_argument("--state", required=True, metavar="URL")
    h.set_defaults(func=run_head)
    x = asub.add_parser("export-head", help="append the signed head (one JSON line) to a witness file or syslog")
    x.add_argument("--state", required=True, metavar="URL")
    x.add_argument("--key-file", action="append", default=[], metavar="FILE", help="the current audit key")
    x.add_argument("--output", metavar="FILE", help="append to FILE (a WORM or append-only file); default stdout")
    x.add_argument("--syslog", action="store_true", help="also send it to syslog (facility authpriv)")
    x.set_defaults(func=run_export_head)
    k = asub.add_parser("keygen", help="create a new random audit key in FILE (mode 0600)")
    k.add_argument("file", metavar="FILE")
    k.set_defaults(func=run_keygen)
    t = asub.add_parser("tail", help="print the newest entries")
    t.add_argument("--state", required=True, metavar="URL")
    t.add_argument("-n", type=int, default=20)
    t.set_defaults(func=run_tail)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _keys(engine: Any, files: list[str]) -> list[Any]:
    from dashboard_api.audit import default_keys, read_key_file
    from smartward.settings import load_settings

    return [read_key_file(f) for f in files] + default_keys(engine, load_settings().configured_audit_key())


def run_verify(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import DashboardError, verify
    from dashboard_api.audit import check_witness
    from ingest import ConfigError, make_engine

    try:
        engine = make_engine(args.state)
        keys = _keys(engine, args.key_file)
        expect = list(args.expect_head)
        if args.witness:
            try:
                expect += check_witness(Path(args.witness).read_text().splitlines(), keys)
            except OSError as exc:
                return fail("audit verify", f"witness file {args.witness}: {exc.strerror or exc}")
        res = verify(engine, keys, expect)
    except (ConfigError, DashboardError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit verify", str(exc))
    if res.broken is not None:
        print(f"audit log BROKEN at entry {res.broken.seq}: {res.broken.reason} "
              f"({res.entries} entries read)", file=sys.stderr)
        return 1
    if res.legacy:
        print(f"notice: entries 1-{res.legacy} predate the keyed chain (unkeyed SHA-256): anyone who could write "
              "the database could have rewritten them; they are proven only up to a head witnessed then",
              file=sys.stderr)
        if args.require_keyed:
            return fail("audit verify", f"{res.legacy} unkeyed entries and --require-keyed")
    last = res.entries
    keyed = f", {last - res.legacy} keyed (key {', '.join(res.key_ids)})" if last > res.legacy else ""
    witnessed = f", {len(expect)} witnessed heads match" if expect else ""
    print(f"audit log OK: {last} entries{keyed}{witnessed}")
    return 0


def run_head(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import AuditError, AuditLog
    from ingest import ConfigError, make_engine

    try:
        print(AuditLog(make_engine(args.state)).head())
    except (ConfigError, AuditError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit head", str(exc))
    return 0


def run_export_head(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import AuditLog, DashboardError
    from ingest import ConfigError, make_engine

    try:
        engine = make_engine(args.state)
        keys = _keys(engine, args.key_file[:1])
        if not keys:
            return fail("audit export-head", "no audit key: pass --key-file or set SMARTWARD_AUDIT_KEY_FILE")
        line = AuditLog(engine, keys[0]).signed_head()
    except (ConfigError, DashboardError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit export-head", str(exc))
    if args.output:
        try:
            with open(args.output, "a") as f:
                f.write(line + "\n")
        except OSError as exc:
            return fail("audit export-head", f"{args.output}: {exc.strerror or exc}")
    else:
        print(line)
    if args.syslog:
        import syslog

        syslog.openlog("smartward-audit", 0, syslog.LOG_AUTHPRIV)
        syslog.syslog(syslog.LOG_NOTICE, line)
        syslog.closelog()
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    from dashboard_api import DashboardError
    from dashboard_api.audit import write_key_file

    try:
        key = write_key_file(args.file)
    except DashboardError as exc:
        return fail("audit keygen", str(exc))
    print(f"audit key {key.key_id} written to {args.file} (mode 0600); set SMARTWARD_AUDIT_KEY_FILE={args.file}")
    return 0


def run_tail(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import AuditError, AuditLog
    from ingest import make_engine

    try:
        log = AuditLog(make_engine(args.state))
    except (AuditError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit tail", str(exc))
    seq = log.head().seq
    for e in log.entries(since_seq=max(0, seq - args.n)):
        print(f"{e['seq']}\t{e['t']}\t{e['actor']}\t{e['role']}\t{e['action']}\t{e['resource']}\t{e['detail']}")
    return 0
