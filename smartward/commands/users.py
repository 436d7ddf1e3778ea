"""``smartward users add|list``: dashboard users (argon2 password hashes in the state DB)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from smartward.cli_errors import fail

ROLES = ("admin", "charge_nurse", "nurse", "physician", "patient", "facility_manager", "vendor")


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="manage dashboard users (add, list)")
    usub = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    a = usub.add_parser("add", help="create a user; the password is read from stdin")
    a.add_argument("--state", required=True, metavar="URL", help="state DB (SQLAlchemy URL, e.g. sqlite:///var/state.sqlite3)")
    a.add_argument("--username", required=True, metavar="U")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the password from the first line of stdin (never from the command line)")
    a.add_argument("--ward", action="append", default=[], metavar="W", help="ward scope (repeatable; nurses need one)")
    a.add_argument("--patient", default="", metavar="P", help="the patient id of a patient user")
    a.set_defaults(func=run_add)
    ls = usub.add_parser("list", help="list users (no hashes)")
    ls.add_argument("--state", required=True, metavar="URL")
    ls.set_defaults(func=run_list)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def run_add(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import UserError, UserStore
    from ingest import ConfigError, make_engine

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        store = UserStore(make_engine(args.state))
        user = store.add(args.username, args.role, password, args.ward, args.patient)
    except (UserError, ConfigError) as exc:
        return fail("users add", str(exc))
    except sa.exc.SQLAlchemyError as exc:
        return fail("users add", f"cannot use the state DB {args.state.split('@')[-1]}: "
                    f"{exc.__class__.__name__}: {getattr(exc, 'orig', exc)}")
    scope = f" wards={','.join(user.wards)}" if user.wards else f" patient={user.patient}" if user.patient else ""
    print(f"added user {user.username} role={user.role}{scope}")
    try:
        warnings = _unknown_scope(store.engine, user.wards, user.patient)
    except sa.exc.SQLAlchemyError:  # the user is added; the check is only advice
        warnings = []
    for warning in warnings:
        print(f"smartward users add: warning: {warning}", file=sys.stderr)
    return 0


def _unknown_scope(engine: Any, wards: tuple[str, ...] | list[str], patient: str) -> list[str]:
    """A scope the platform has never seen (a typo gives a login that shows nothing): said, not refused,
    since users are often created before the ward's first admission."""
    import sqlalchemy as sa

    from ingest.attribution import bindings, metadata, occupancy

    metadata.create_all(engine)
    with engine.connect() as conn:
        known = {r[0] for r in conn.execute(sa.select(occupancy.c.ward).distinct())}
        known |= {r[0] for r in conn.execute(sa.select(bindings.c.ward).where(bindings.c.drill == "").distinct())}
        admitted = bool(patient) and conn.execute(
            sa.select(occupancy.c.id).where(occupancy.c.patient == patient).limit(1)).first() is not None
    out = [f"ward {w} has no beds or patients on the platform yet (known: {', '.join(sorted(known)) or 'none'}); "
           "check the spelling: the user sees the ward once it has beds" for w in wards if w not in known]
    if patient and not admitted:
        out.append(f"patient {patient} has never been admitted; check the id: the user sees their data once "
                   "they are admitted (ADT)")
    return out


def run_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api.users import users_table
    from ingest import make_engine

    try:
        engine = make_engine(args.state)
        users_table.metadata.create_all(engine)
        with engine.connect() as conn:
            rows = list(conn.execute(sa.select(users_table).order_by(users_table.c.username)).mappings())
    except sa.exc.SQLAlchemyError as exc:
        return fail("users list", f"cannot use the state DB: {getattr(exc, 'orig', exc)}")
    for r in rows:
        print(f"{r['username']}\t{r['role']}\t{r['wards'] or '-'}\t{r['patient'] or '-'}")
    return 0
