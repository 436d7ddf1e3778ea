"""``smartward audit verify|tail``: check the hash chain of the audit log; show recent entries."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from smartward.cli_errors import fail


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="verify the hash-chained audit log, or show its newest entries")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = asub.add_parser("verify", help="exit 1 and name the first broken entry if the chain was altered")
    v.add_argument("--state", required=True, metavar="URL", help="state DB (SQLAlchemy URL)")
    v.set_defaults(func=run_verify)
    t = asub.add_parser("tail", help="print the newest entries")
    t.add_argument("--state", required=True, metavar="URL")
    t.add_argument("-n", type=int, default=20)
    t.set_defaults(func=run_tail)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def run_verify(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import AuditLog, verify
    from ingest import ConfigError, make_engine

    try:
        engine = make_engine(args.state)
        res = verify(engine)
        seq, head = AuditLog(engine).head()
    except (ConfigError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit verify", str(exc))
    if res.broken is not None:
        print(f"audit log BROKEN at entry {res.broken.seq}: {res.broken.reason} "
              f"({res.entries} entries read)", file=sys.stderr)
        return 1
    print(f"audit log OK: {res.entries} entries, head {seq} {head}")
    return 0


def run_tail(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import AuditError, AuditLog
    from ingest import make_engine

    try:
        log = AuditLog(make_engine(args.state))
    except (AuditError, sa.exc.SQLAlchemyError) as exc:
        return fail("audit tail", str(exc))
    seq, _ = log.head()
    for e in log.entries(since_seq=max(0, seq - args.n)):
        print(f"{e['seq']}\t{e['t']}\t{e['actor']}\t{e['role']}\t{e['action']}\t{e['resource']}\t{e['detail']}")
    return 0
