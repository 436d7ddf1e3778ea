"""Finding 3, unit level with a controlled clock: refresh rotation cannot extend a session beyond its
absolute lifetime (12 h from the login by default), and a replayed refresh token ends the session."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard_api.sessions import SessionEnded, Sessions, TokenReuse
from dashboard_api.users import UserStore


class Clock:
    def __init__(self, t: float = 1_763_800_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_rotation_stops_at_the_absolute_lifetime(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/s.sqlite3")
    users = UserStore(engine)
    users.add("nina", "nurse", "long enough pw", ["w1"])
    clock = Clock()
    sessions = Sessions(engine, lifetime_s=12 * 3600, clock=clock)
    s = sessions.start("nina")
    assert s.expires_at == int(clock.t) + 12 * 3600
    jti = s.refresh_jti
    for _ in range(11):  # a refresh every hour keeps the session going ...
        clock.t += 3600
        jti = sessions.rotate(s.sid, jti).refresh_jti
    clock.t += 3600  # ... until 12 h after the login
    with pytest.raises(SessionEnded):
        sessions.rotate(s.sid, jti)


def test_replayed_refresh_token_revokes_the_family(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/s.sqlite3")
    UserStore(engine).add("nina", "nurse", "long enough pw", ["w1"])
    sessions = Sessions(engine, lifetime_s=3600, clock=Clock())
    s = sessions.start("nina")
    newer = sessions.rotate(s.sid, s.refresh_jti)
    with pytest.raises(TokenReuse):
        sessions.rotate(s.sid, s.refresh_jti)
    with pytest.raises(SessionEnded):
        sessions.rotate(s.sid, newer.refresh_jti)
    assert not sessions.active(s.sid, "nina", 0)
