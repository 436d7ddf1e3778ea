"""Tokens (expiry, type, tampering), lockout and rate limit with a controlled clock, users and scoping,
and the placeholder-secret refusal."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa

from dashboard_api import ApiConfig, AuthError, ConfigError, User, UserError, UserStore
from dashboard_api.lockout import Lockout
from dashboard_api.tokens import Tokens
from smartward.settings import load_api_config

KEY = "Zq3-vB8nR1xT5kW0mY7pL2sH6dF9gJ4c"  # 32 varied characters (a secret needs 32 bytes of key material)


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_access_token_round_trip_and_expiry() -> None:
    clock = Clock()
    tokens = Tokens(ApiConfig(secret_key=KEY, access_ttl_s=900), clock)
    tok = tokens.issue(User("nina", "nurse", ("w1",)))
    assert tokens.user_of(tokens.decode(tok)) == User("nina", "nurse", ("w1",))
    clock.t += 899
    tokens.decode(tok)
    clock.t += 2
    with pytest.raises(AuthError, match="expired"):
        tokens.decode(tok)


def test_refresh_token_is_not_an_access_token_and_tampering_fails() -> None:
    tokens = Tokens(ApiConfig(secret_key=KEY))
    refresh = tokens.issue(User("nina", "nurse", ("w1",)), "refresh")
    with pytest.raises(AuthError, match="access"):
        tokens.decode(refresh)
    assert tokens.decode(refresh, "refresh")["sub"] == "nina"
    forged = jwt.encode({"sub": "nina", "role": "admin", "typ": "access", "exp": 2**40}, "x" * 32, algorithm="HS256")
    with pytest.raises(AuthError, match="invalid"):
        tokens.decode(forged)


def test_delay_after_failures_then_released() -> None:
    clock = Clock()
    lock = Lockout(max_failures=3, window_s=600, ip_per_minute=100, max_delay_s=600, clock=clock)
    for _ in range(3):
        assert lock.reserve("nina", "10.0.0.1").wait == 0
    assert lock.retry_after("nina", "10.0.0.1") == pytest.approx(2)  # the delay starts small and doubles
    assert lock.retry_after("nina", "10.0.0.2") == 0  # another address is not slowed by this one
    assert lock.retry_after("otto", "10.0.0.1") == 0
    clock.t += 601
    assert lock.retry_after("nina", "10.0.0.1") == 0


def test_success_clears_the_failures_of_its_address() -> None:
    lock = Lockout(max_failures=2, window_s=600, ip_per_minute=100, max_delay_s=600, clock=Clock())
    lock.reserve("nina", "a")
    lock.release(lock.reserve("nina", "a"))
    lock.reserve("nina", "a")
    assert lock.retry_after("nina", "a") == 0


def test_users_hash_with_argon2_and_validate_scope(tmp_path: Path) -> None:
    store = UserStore(sa.create_engine(f"sqlite:///{tmp_path}/u.sqlite3"))
    store.add("nina", "nurse", "long enough pw", ["w1"])
    with store.engine.connect() as conn:
        h = conn.execute(sa.text("SELECT password_hash FROM dashboard_users")).scalar_one()
    assert h.startswith("$argon2id$") and "long enough" not in h
    assert store.authenticate("nina", "long enough pw") == User("nina", "nurse", ("w1",))
    assert store.authenticate("nina", "wrong password") is None
    assert store.authenticate("ghost", "long enough pw") is None
    with pytest.raises(UserError, match="--ward"):
        store.add("x", "nurse", "long enough pw")
    with pytest.raises(UserError, match="--patient"):
        store.add("x", "patient", "long enough pw")
    with pytest.raises(UserError, match="already exists"):
        store.add("nina", "nurse", "long enough pw", ["w2"])
    with pytest.raises(UserError, match="role"):
        store.add("y", "janitor", "long enough pw")
    with pytest.raises(UserError, match="8 characters"):
        store.add("y", "admin", "short")


def test_ward_visibility_by_role() -> None:
    assert User("a", "admin").can_see_ward("w9")
    assert User("n", "nurse", ("w1",)).can_see_ward("w1")
    assert not User("n", "nurse", ("w1",)).can_see_ward("w2")
    assert User("d", "physician", ("*",)).can_see_ward("w2")
    assert not User("d", "physician").can_see_ward("w2")
    assert not User("d", "physician", ("w1",)).can_see_ward("w2")
    assert not User("v", "vendor").can_see_ward("w1")
    assert not User("p", "patient", patient="p1").can_see_ward("w1")


def test_placeholder_secret_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTWARD_SECRET_KEY", raising=False)
    monkeypatch.delenv("SMARTWARD_ENVIRONMENT", raising=False)
    with pytest.raises(ConfigError, match="SMARTWARD_SECRET_KEY"):
        load_api_config()  # production is the default
    with pytest.raises(ConfigError):
        load_api_config(environment="production", secret_key="changethis")
    dev = load_api_config(environment="development")
    assert dev.secret_key != "changethis" and len(dev.secret_key) >= 32
    assert load_api_config(environment="production", secret_key=KEY).secret_key == KEY


def test_demo_login_gives_a_fresh_working_password_each_start(tmp_path: Path) -> None:
    from dashboard_api import demo_login

    engine = sa.create_engine(f"sqlite:///{tmp_path}/u.sqlite3")
    user, first = demo_login(engine, ("w1",))
    _, second = demo_login(engine, ("w1",))
    store = UserStore(engine)
    assert first != second and store.authenticate(user, first) is None
    assert store.authenticate(user, second) == User("demo", "charge_nurse", ("w1",))
