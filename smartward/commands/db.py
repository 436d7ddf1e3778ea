"""``smartward db upgrade|current``: the state DB's schema, for IT.

``upgrade`` brings the database to this release's schema (the Alembic revisions in
``device_profiles/state_migrations``), so an operator can migrate, with a backup taken, before starting
a new version; ``serve`` (and every store) upgrades by itself anyway. A database made by a SmartWard from
before migrations is adopted (kept, stamped, brought to head). ``current`` says where the database stands
and changes nothing (``--check``: exit 1 while an upgrade is pending). Both take the state DB as ``serve``
does: ``--state URL``, else ``sqlite:///DATA_DIR/state.sqlite3``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from smartward.cli_errors import FAILED, fail, usage_error


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="the state DB's schema: upgrade it to this release, or show its revision")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, helptext in (("upgrade", "migrate the state DB to this release's schema (take a backup first)"),
                           ("current", "print the state DB's schema revision and this release's (changes nothing)")):
        a = dsub.add_parser(name, help=helptext)
        a.add_argument("--state", default=None, metavar="URL",
                       help="state DB (SQLAlchemy URL; default sqlite:///DATA_DIR/state.sqlite3, as serve)")
        a.add_argument("--data-dir", default=None, metavar="DIR", help="default SMARTWARD_DATA_DIR (as serve)")
        if name == "current":
            a.add_argument("--check", action="store_true", help="exit 1 when the database needs `db upgrade`")
        a.set_defaults(func=run_upgrade if name == "upgrade" else run_current)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _state_url(args: argparse.Namespace) -> str | int:
    from device_profiles.errors import SettingsError
    from smartward.settings import load_settings

    if args.state:
        return str(args.state)
    try:
        data_dir = args.data_dir or load_settings().data_dir
    except SettingsError as exc:
        return usage_error(f"db {args.db_command}", str(exc))
    return f"sqlite:///{os.path.abspath(data_dir)}/state.sqlite3"


def _engine(args: argparse.Namespace) -> Any:
    """The engine, or an exit code (bad URL: 2; a SQLite file that is not there for ``current``: 1)."""
    from device_profiles import state_db

    url = _state_url(args)
    if isinstance(url, int):
        return url
    try:
        engine = state_db.make_engine(url)
    except state_db.StateUrlError as exc:
        return usage_error(f"db {args.db_command}", str(exc))
    db = engine.url.database
    if args.db_command == "current" and engine.url.get_backend_name() == "sqlite" and db and db != ":memory:" \
            and not os.path.exists(db):  # connecting would create it
        return fail("db current", f"{db}: no such file (no state DB there yet; `smartward db upgrade` or "
                                  "`serve` creates it)")
    return engine


def _failure(command: str, engine: Any, exc: Exception) -> int:
    import sqlalchemy as sa

    from device_profiles import state_db

    if isinstance(exc, state_db.StateSchemaError):
        return fail(command, str(exc))
    assert isinstance(exc, sa.exc.SQLAlchemyError)
    return fail(command, f"cannot use the state DB {state_db.redacted(engine)}: "
                         f"{exc.__class__.__name__}: {getattr(exc, 'orig', exc)}")


def run_upgrade(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from device_profiles import state_db

    engine = _engine(args)
    if isinstance(engine, int):
        return engine
    try:
        found = state_db.status(engine)
        before, head = state_db.upgrade(engine)
    except (state_db.StateSchemaError, sa.exc.SQLAlchemyError) as exc:
        return _failure("db upgrade", engine, exc)
    finally:
        engine.dispose()
    where = f"state DB {state_db.redacted(engine)}"
    if before == head:
        print(f"{where}: already at revision {head} (this release's)")
    elif before is None and found.tables:
        print(f"{where}: adopted (made before migrations; its {found.tables} tables kept) and upgraded to revision {head}")
    else:
        print(f"{where}: upgraded from {'an empty database' if before is None else f'revision {before}'} "
              f"to revision {head}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from device_profiles import state_db

    engine = _engine(args)
    if isinstance(engine, int):
        return engine
    try:
        st = state_db.status(engine)
    except (state_db.StateSchemaError, sa.exc.SQLAlchemyError) as exc:
        return _failure("db current", engine, exc)
    finally:
        engine.dispose()
    if st.up_to_date:
        print(f"{st.current} (this release's revision: up to date)")
        return 0
    if st.current is not None:
        print(f"{st.current} (this release's is {st.head}: run `smartward db upgrade`)")
    elif st.tables:
        print(f"none: {st.tables} tables made before migrations (this release's revision is {st.head}: "
              "`smartward db upgrade` adopts them)")
    else:
        print(f"none: empty database (this release's revision is {st.head}: `smartward db upgrade` creates it)")
    return FAILED if args.check else 0
