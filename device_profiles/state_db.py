"""The one way a process opens the relational state DB (ADT, alarms, users, audit, drills) and brings its
schema to this release's: an SQLAlchemy engine for a ``sqlite:///…`` or ``postgresql://…`` URL (SQLite in
WAL mode with a 30 s busy timeout, because several processes — ingest workers, the platform — share one
file), and :func:`ensure_schema`, which every store calls before it touches its tables.

The schema is Alembic revisions in ``state_migrations/`` beside this module (run programmatically: no
``alembic.ini``). They sit at the bottom of the import graph and are self-contained: each package still
owns its tables (``ingest/attribution.py``, ``alerting/store.py``, ``dashboard_api/…``) and a new column
is a new revision, which ``tests/contract/test_state_migrations.py`` checks against the packages' tables.

:func:`ensure_schema` upgrades to head once per URL and process. Several processes may open one fresh
file at once (``serve`` starts ingest workers and alerting together), so an upgrade holds the database's
write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an advisory lock in the same transaction) and reads the
current revision only under it: the first process migrates, the others wait and find the head. A database
made by a SmartWard from before migrations (tables, no ``alembic_version``) is adopted by the baseline
revision; one stamped with a revision this code does not know (a newer release migrated it) is refused
with :class:`StateSchemaError` naming the revision.

Each package wraps :func:`make_engine` to raise its own error (``ingest.ConfigError``,
``alerting.StateError``); the engine itself is made only here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .errors import ProfileError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("state_migrations")
# This release's newest revision, so that a process opening a database already at head (every start but
# the first: ingest workers, CLIs) neither imports Alembic (0.2 s) nor reads the scripts;
# tests/contract/test_state_migrations.py checks it against the scripts' head.
HEAD = "0002"
PG_LOCK_KEY = 0x534D_5357  # pg_advisory_xact_lock: one schema change at a time per PostgreSQL database
log = logging.getLogger(__name__)
_upgraded: set[str] = set()  # URLs this process has brought to head
_lock = threading.Lock()  # alembic's ``context`` is process-global: one migration at a time per process
_script: ScriptDirectory | None = None
if logging.getLogger("alembic").level == logging.NOTSET:  # its INFO line per step and plugin: we log one line
    logging.getLogger("alembic").setLevel(logging.WARNING)


class StateUrlError(ValueError):
    """The state URL cannot be opened (unknown dialect, missing driver, malformed)."""


class StateSchemaError(ProfileError):
    """The state DB's schema cannot be brought to this release's (stamped by a newer release, or a table
    that an older SmartWard did not make); the message names the revision or the table."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a state DB's schema stands: ``current`` revision (``None``: not stamped), this code's
    ``head``, and ``tables`` (how many tables it has besides ``alembic_version``; unstamped with tables
    = made by a SmartWard from before migrations, adopted by the next upgrade)."""

    current: str | None
    head: str
    tables: int

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def make_engine(url: str) -> sa.Engine:
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StateUrlError(f"state URL: {exc}") from None
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _rec: object) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")  # first: switching a fresh file to WAL waits for the lock
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
    return engine


def redacted(engine: sa.Engine) -> str:
    """The engine's URL for messages (password hidden)."""
    return engine.url.render_as_string(hide_password=True)


def ensure_schema(engine: sa.Engine) -> None:
    """Bring the state DB to this release's schema (upgrade to head), once per URL in this process.

    Every store calls this instead of creating its tables. :class:`StateSchemaError` when the database
    was migrated by a newer release; SQLAlchemy errors (locked, unreachable) as they come.
    """
    key = _cache_key(engine)
    if key in _upgraded:
        return
    with _lock:
        if key not in _upgraded:
            if not _stamped_head(engine):
                _upgrade(engine)
            _upgraded.add(key)


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Upgrade to head now (``smartward db upgrade``): ``(revision before, revision after)``."""
    with _lock:
        before = _upgrade(engine)
        _upgraded.add(_cache_key(engine))
    return before, head_revision()


def status(engine: sa.Engine) -> SchemaStatus:
    """The database's revision beside this code's head (``smartward db current``); changes nothing.
    :class:`StateSchemaError` for a revision this code does not know."""
    with engine.connect() as conn:
        current = _current(conn, engine)
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
    return SchemaStatus(current, head_revision(), len(tables))


def head_revision() -> str:
    heads = _scripts().get_heads()
    if len(heads) != 1:  # two revisions with the same down_revision: a merge revision is missing
        raise StateSchemaError(f"state migrations have {len(heads)} heads ({', '.join(sorted(heads))}); "
                               "write a merge revision")
    return heads[0]


def forget(engine: sa.Engine) -> None:
    """Let the next :func:`ensure_schema` check the database again (after it was replaced or restored)."""
    _upgraded.discard(_cache_key(engine))


# -- internals ---------------------------------------------------------------------------------------

def _cache_key(engine: sa.Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return f"{url}#{id(engine)}"  # every in-memory engine is a database of its own
    return url.render_as_string(hide_password=False)


def _stamped_head(engine: sa.Engine) -> bool:
    """Whether the database is stamped :data:`HEAD` and nothing else (read without Alembic)."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    except sa.exc.SQLAlchemyError:  # no version table yet: a new or a pre-migration database
        return False
    return [r[0] for r in rows] == [HEAD]


def _scripts() -> ScriptDirectory:
    global _script
    if _script is None:
        from alembic.script import ScriptDirectory

        _script = ScriptDirectory(str(MIGRATIONS))
    return _script


def _current(conn: sa.Connection, engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(conn).get_current_heads()
    known = {s.revision for s in _scripts().walk_revisions()}
    for rev in heads:
        if rev not in known:
            raise StateSchemaError(
                f"state DB {redacted(engine)} is at schema revision {rev!r}, which this SmartWard does not know "
                f"(its newest is {head_revision()!r}): a newer release migrated it; run that release, or restore "
                "the backup taken before the upgrade")
    return heads[0] if heads else None


@contextmanager
def _write_locked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that holds the database's schema lock until commit."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now; others wait (busy timeout)
        else:
            conn.begin()
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _upgrade(engine: sa.Engine) -> str | None:
    """Upgrade under the lock, in one transaction; returns the revision found."""
    from alembic import command
    from alembic.config import Config

    head = head_revision()
    with engine.connect() as conn:  # at head (every start but the first): no write lock taken
        if _current(conn, engine) == head:
            return head
    with _write_locked(engine) as conn:
        before = _current(conn, engine)  # again, under the lock: another process may have just migrated
        if before == head:
            return before
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    if before is None and tables:
        log.info("state DB %s: adopted (made before migrations, %d tables kept) and upgraded to %s",
                 redacted(engine), len(tables), head)
    else:
        log.info("state DB %s: schema upgraded from %s to %s", redacted(engine), before or "empty", head)
    return before
