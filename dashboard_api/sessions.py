"""Login sessions (table ``dashboard_sessions`` in the state DB): one row per login, holding the id of
the only refresh token that may be used next.

A refresh rotates that id (compare-and-set in one UPDATE, so two concurrent uses of one refresh
token cannot both win). Presenting an older refresh token of the session means a copy is being
replayed: the whole session (the token family) is revoked. A session ends at logout, at reuse, and
``lifetime_s`` after the login whatever the refreshes (absolute lifetime).

Every request checks its token's session and the user's token version (:meth:`Sessions.active`).
Synchronous: call through ``asyncio.to_thread`` from async code, except :meth:`active`, which answers
from a cache and reads the DB at most once per session every ``cache_s`` seconds.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from device_profiles.state_db import ensure_schema

from .errors import AuthError
from .users import users_table

metadata = sa.MetaData()
sessions_table = sa.Table(
    "dashboard_sessions", metadata,
    sa.Column("sid", sa.String(32), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("started_t", sa.BigInteger, nullable=False),  # epoch seconds
    sa.Column("expires_t", sa.BigInteger, nullable=False),  # absolute end, epoch seconds
    sa.Column("refresh_jti", sa.String(32), nullable=False),  # the refresh token that may be used next
    sa.Column("revoked_t", sa.BigInteger, nullable=True),
    sa.Column("revoked_reason", sa.String(32), nullable=False, default=""),
)
CACHE_MAX = 10_000


class SessionEnded(AuthError):
    """The session was logged out, revoked or is past its absolute lifetime."""


class TokenReuse(SessionEnded):
    """An already-rotated refresh token was presented: the session has been revoked."""


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    username: str
    refresh_jti: str
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class _State:
    username: str
    live_until: int  # expires_t, or 0 once revoked
    version: int  # the user's token_version, -1 when the user is disabled or gone


class Sessions:
    def __init__(self, engine: sa.Engine, lifetime_s: float = 12 * 3600, cache_s: float = 2.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.lifetime_s = lifetime_s
        self.cache_s = cache_s
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, _State]] = OrderedDict()
        self._lock = threading.Lock()
        ensure_schema(engine)

    def start(self, username: str) -> Session:
        """A new session for a login that just succeeded (expired sessions are swept here)."""
        now = int(self.clock())
        s = Session(secrets.token_hex(16), username, secrets.token_hex(16), now + int(self.lifetime_s))
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_t < now - 86_400))
            conn.execute(sessions_table.insert().values(sid=s.sid, username=username, started_t=now,
                                                        expires_t=s.expires_at, refresh_jti=s.refresh_jti,
                                                        revoked_reason=""))
        return s

    def rotate(self, sid: str, jti: str) -> Session:
        """Use refresh token ``jti`` of session ``sid``: the session with its next refresh token id.
        :class:`TokenReuse` (the session is then revoked) or :class:`SessionEnded` otherwise."""
        now = int(self.clock())
        new = secrets.token_hex(16)
        t = sessions_table.c
        with self.engine.begin() as conn:
            n = conn.execute(sessions_table.update()
                             .where(t.sid == sid, t.refresh_jti == jti, t.revoked_t.is_(None), t.expires_t > now)
                             .values(refresh_jti=new)).rowcount
            row = conn.execute(sa.select(sessions_table).where(t.sid == sid)).first()
            if row is None:
                raise SessionEnded("session ended")
            if n == 1:
                return Session(sid, row.username, new, int(row.expires_t))
            if row.revoked_t is not None or row.expires_t <= now:
                raise SessionEnded("session ended")
            conn.execute(sessions_table.update().where(t.sid == sid).values(revoked_t=now, revoked_reason="reuse"))
        self._forget(sid)
        raise TokenReuse("refresh token already used: the session is revoked")

    def revoke(self, sid: str, reason: str = "logout") -> None:
        t = sessions_table.c
        with self.engine.begin() as conn:
            conn.execute(sessions_table.update().where(t.sid == sid, t.revoked_t.is_(None))
                         .values(revoked_t=int(self.clock()), revoked_reason=reason))
        self._forget(sid)

    def active(self, sid: str, username: str, version: int) -> bool:
        """Is the session ``sid`` of ``username`` live and the user's token version still ``version``?

        Trade-off: the answer may be up to ``cache_s`` old for changes made by *another* process (the
        ``smartward users`` commands: disable, reset-password, set-role); changes made by this process
        (logout, reuse) drop the entry at once. One small indexed read per session every ``cache_s``
        seconds, instead of one per request."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(sid)
        if hit is None or now - hit[0] >= self.cache_s:
            state = self._read(sid)
            with self._lock:
                self._cache[sid] = (now, state)
                self._cache.move_to_end(sid)
                while len(self._cache) > CACHE_MAX:
                    self._cache.popitem(last=False)
        else:
            state = hit[1]
        return state.username == username and state.live_until > now and state.version == version

    def _read(self, sid: str) -> _State:
        s, u = sessions_table.c, users_table.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(s.username, s.expires_t, s.revoked_t, u.token_version, u.disabled)
                               .select_from(sessions_table.outerjoin(users_table, s.username == u.username))
                               .where(s.sid == sid)).first()
        if row is None:
            return _State("", 0, -1)
        version = -1 if row.disabled is None or row.disabled else int(row.token_version)
        return _State(row.username, 0 if row.revoked_t is not None else int(row.expires_t), version)

    def _forget(self, sid: str) -> None:
        with self._lock:
            self._cache.pop(sid, None)
