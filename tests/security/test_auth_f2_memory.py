"""Finding 2: unauthenticated memory exhaustion through the login's failure accounting. Every
username sent (up to 1 MB) stayed forever as a lockout key, also on 429s. Now: oversized usernames
and passwords are refused before any accounting, the tables are bounded (TTL + LRU cap) whatever
is sent, and a lookup never inserts."""

from __future__ import annotations

import httpx
import pytest

from dashboard_api.lockout import Lockout

from .conftest import Running


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_tables_stay_bounded_whatever_is_sent() -> None:
    clock = Clock()
    lock = Lockout(max_failures=5, window_s=900, ip_per_minute=10**9, max_keys=1000, clock=clock)
    for i in range(20_000):  # 20,000 distinct usernames from 20,000 addresses, as fast as possible
        attempt = lock.reserve(f"user-{i}", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        assert attempt.wait == 0
        clock.t += 0.001
    assert lock.size() <= 3 * 1000 + 1000, lock.size()


def test_idle_keys_expire() -> None:
    clock = Clock()
    lock = Lockout(max_failures=5, window_s=900, ip_per_minute=100, clock=clock)
    for i in range(50):
        lock.reserve(f"user-{i}", "10.0.0.1")
        clock.t += 1
    clock.t += 3600  # an hour later, one more attempt sweeps the idle ones
    lock.reserve("late", "10.0.0.2")
    assert lock.size() <= 4, lock.size()


def test_lookups_and_refusals_never_insert() -> None:
    clock = Clock()
    lock = Lockout(max_failures=1, window_s=900, ip_per_minute=2, clock=clock)
    lock.reserve("nina", "10.0.0.1")
    lock.reserve("otto", "10.0.0.1")
    before = lock.size()
    for i in range(1000):
        assert lock.retry_after(f"ghost-{i}", f"10.9.{i // 256}.{i % 256}") == 0
        assert lock.reserve(f"flood-{i}", "10.0.0.1").wait > 0  # the address is over its budget
    assert lock.size() == before




@pytest.mark.integration
async def test_oversized_credentials_are_refused_before_accounting(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as c:
        for _ in range(40):  # far beyond every budget: none of these is counted
            r = await c.post("/api/v1/auth/token", data={"username": "u" * 100_000, "password": "x"})
            assert r.status_code == 422, r.text
            assert "64" in r.text
        r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "p" * 5000})
        assert r.status_code == 422 and "1024" in r.text
        r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": "correct horse battery"})
        assert r.status_code == 200, r.text
