"""``smartward users add|list|disable|enable|set-role|reset-password``: dashboard users (argon2
password hashes in the state DB). Every change is written to the audit log (actor ``cli:<os user>``)
and ends the user's sessions (their token version moves on; a running API notices within seconds)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from smartward.cli_errors import fail

ROLES = ("admin", "charge_nurse", "nurse", "physician", "patient", "facility_manager", "vendor", "adt_feed")
STATE_HELP = "state DB (SQLAlchemy URL, e.g. sqlite:///var/state.sqlite3)"


def _scope_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ward", action="append", default=[], metavar="W",
                   help="ward scope (repeatable; nurses, charge nurses and physicians need one)")
    p.add_argument("--all-wards", action="store_true",
                   help="a physician with access to every ward (hospital-wide; instead of --ward)")
    p.add_argument("--patient", default="", metavar="P", help="the patient id of a patient user")


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="manage dashboard users (add, list, disable, enable, set-role, reset-password)")
    usub = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    a = usub.add_parser("add", help="create a user; the password is read from stdin")
    a.add_argument("--state", required=True, metavar="URL", help=STATE_HELP)
    a.add_argument("--username", required=True, metavar="U")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the password from the first line of stdin (never from the command line)")
    _scope_options(a)
    a.set_defaults(func=run_add)
    ls = usub.add_parser("list", help="list users (no hashes)")
    ls.add_argument("--state", required=True, metavar="URL", help=STATE_HELP)
    ls.set_defaults(func=run_list)
    for name, helptext, disabled in (("disable", "refuse a user's logins and end their sessions", True),
                                     ("enable", "allow a disabled user to log in again", False)):
        d = usub.add_parser(name, help=helptext)
        d.add_argument("--state", required=True, metavar="URL", help=STATE_HELP)
        d.add_argument("--username", required=True, metavar="U")
        d.set_defaults(func=run_disable, disabled=disabled)
    r = usub.add_parser("set-role", help="change a user's role and scope (ends their sessions)")
    r.add_argument("--state", required=True, metavar="URL", help=STATE_HELP)
    r.add_argument("--username", required=True, metavar="U")
    r.add_argument("--role", required=True, choices=ROLES)
    _scope_options(r)
    r.set_defaults(func=run_set_role)
    pw = usub.add_parser("reset-password", help="set a new password read from stdin (ends the user's sessions)")
    pw.add_argument("--state", required=True, metavar="URL", help=STATE_HELP)
    pw.add_argument("--username", required=True, metavar="U")
    pw.add_argument("--password-stdin", action="store_true", required=True,
                    help="read the password from the first line of stdin (never from the command line)")
    pw.set_defaults(func=run_reset_password)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli:unknown"


def _audit_log(command: str, engine: Any) -> Any:
    """The audit log to record the change in, found before anything changes (no key: exit 1, nothing done)."""
    from dashboard_api import AuditLog, ConfigError
    from dashboard_api.audit import default_keys
    from smartward.settings import load_settings

    try:  # SMARTWARD_AUDIT_KEY(_FILE), or the development key beside a SQLite DB
        keys = default_keys(engine, load_settings().configured_audit_key())
    except ConfigError as exc:
        return fail(f"users {command}", str(exc))
    if not keys:
        return fail(f"users {command}", "no audit-log key: set SMARTWARD_AUDIT_KEY_FILE as for the API "
                                        "(user changes are audited); nothing was changed")
    return AuditLog(engine, keys[0])


def _audit(log: Any, command: str, action: str, username: str, detail: dict[str, Any]) -> int:
    """Append the change to the audit log; exit 1 (the change is made) when the log cannot be written."""
    from dashboard_api import AuditError

    try:
        log.append(_actor(), "operator", action, f"user/{username}", detail)
    except AuditError as exc:
        return fail(f"users {command}", f"the change is made but could not be audited: {exc}")
    return 0


def _scope_text(wards: tuple[str, ...], patient: str) -> str:
    if wards == ("*",):
        return " wards=all wards"
    return f" wards={','.join(wards)}" if wards else f" patient={patient}" if patient else ""


def _store(command: str, state: str) -> Any:
    import sqlalchemy as sa

    from dashboard_api import UserStore
    from ingest import ConfigError, make_engine

    try:
        return UserStore(make_engine(state))
    except ConfigError as exc:
        return fail(f"users {command}", str(exc))
    except sa.exc.SQLAlchemyError as exc:
        return fail(f"users {command}", f"cannot use the state DB {state.split('@')[-1]}: "
                    f"{exc.__class__.__name__}: {getattr(exc, 'orig', exc)}")


def run_add(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from dashboard_api import UserError

    password = sys.stdin.readline().rstrip("\r\n")
    store = _store("add", args.state)
    if isinstance(store, int):
        return store
    log = _audit_log("add", store.engine)
    if isinstance(log, int):
        return log
    try:
        user = store.add(args.username, args.role, password, args.ward, args.patient, all_wards=args.all_wards)
    except UserError as exc:
        return fail("users add", str(exc))
    except sa.exc.SQLAlchemyError as exc:
        return fail("users add", f"cannot use the state DB: {exc.__class__.__name__}")
    print(f"added user {user.username} role={user.role}{_scope_text(user.wards, user.patient)}")
    rc = _audit(log, "add", "user.created", user.username,
                {"role": user.role, "wards": list(user.wards), "patient": user.patient})
    try:
        warnings = [] if user.wards == ("*",) else _unknown_scope(store.engine, user.wards, user.patient)
    except sa.exc.SQLAlchemyError:  # the user is added; the check is only advice
        warnings = []
    for warning in warnings:
        print(f"smartward users add: warning: {warning}", file=sys.stderr)
    return rc


def _unknown_scope(engine: Any, wards: tuple[str, ...] | list[str], patient: str) -> list[str]:
    """A scope the platform has never seen (a typo gives a login that shows nothing): said, not refused,
    since users are often created before the ward's first admission."""
    from ingest import Attributions

    attributions = Attributions(engine)  # ingest's repository of beds and stays, never its tables
    known = attributions.known_wards()
    admitted = bool(patient) and attributions.ever_admitted(patient)
    out = [f"ward {w} has no beds or patients on the platform yet (known: {', '.join(sorted(known)) or 'none'}); "
           "check the spelling: the user sees the ward once it has beds" for w in wards if w not in known]
    if patient and not admitted:
        out.append(f"patient {patient} has never been admitted; check the id: the user sees their data once "
                   "they are admitted (ADT)")
    return out


def run_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    store = _store("list", args.state)
    if isinstance(store, int):
        return store
    try:
        users = store.all_users()
    except sa.exc.SQLAlchemyError as exc:
        return fail("users list", f"cannot use the state DB: {getattr(exc, 'orig', exc)}")
    for user, disabled in users:
        wards = "all" if user.wards == ("*",) else ",".join(user.wards) or "-"
        if user.role == "physician" and not user.wards:
            wards = "none (sees no ward: set-role --ward or --all-wards)"
        print(f"{user.username}\t{user.role}\t{wards}\t{user.patient or '-'}\t{'disabled' if disabled else 'active'}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from dashboard_api import UserError

    command = "disable" if args.disabled else "enable"
    store = _store(command, args.state)
    if isinstance(store, int):
        return store
    log = _audit_log(command, store.engine)
    if isinstance(log, int):
        return log
    try:
        store.set_disabled(args.username, args.disabled)
    except UserError as exc:
        return fail(f"users {command}", str(exc))
    print(f"user {args.username} {'disabled: logins refused, sessions ended' if args.disabled else 'enabled'}")
    return _audit(log, command, f"user.{command}d", args.username, {})


def run_set_role(args: argparse.Namespace) -> int:
    from dashboard_api import UserError

    store = _store("set-role", args.state)
    if isinstance(store, int):
        return store
    log = _audit_log("set-role", store.engine)
    if isinstance(log, int):
        return log
    try:
        user = store.set_role(args.username, args.role, args.ward, args.patient, all_wards=args.all_wards)
    except UserError as exc:
        return fail("users set-role", str(exc))
    print(f"user {user.username} role={user.role}{_scope_text(user.wards, user.patient)} (sessions ended)")
    return _audit(log, "set-role", "user.role_changed", user.username,
                  {"role": user.role, "wards": list(user.wards), "patient": user.patient})


def run_reset_password(args: argparse.Namespace) -> int:
    from dashboard_api import UserError

    password = sys.stdin.readline().rstrip("\r\n")
    store = _store("reset-password", args.state)
    if isinstance(store, int):
        return store
    log = _audit_log("reset-password", store.engine)
    if isinstance(log, int):
        return log
    try:
        store.set_password(args.username, password)
    except UserError as exc:
        return fail("users reset-password", str(exc))
    print(f"password of {args.username} reset (sessions ended)")
    return _audit(log, "reset-password", "user.password_reset", args.username, {})
