"""The one way a process opens the relational state DB (ADT, alarms, users, audit, drills): an SQLAlchemy
engine for a ``sqlite:///…`` or ``postgresql://…`` URL; SQLite in WAL mode with a 30 s busy timeout,
because several processes (ingest workers, the platform) share one file.

Each package wraps :func:`make_engine` to raise its own error (``ingest.ConfigError``,
``alerting.StateError``); the engine itself is made only here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


class StateUrlError(ValueError):
    """The state URL cannot be opened (unknown dialect, missing driver, malformed)."""


def make_engine(url: str) -> sa.Engine:
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StateUrlError(f"state URL: {exc}") from None
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _rec: object) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    return engine
