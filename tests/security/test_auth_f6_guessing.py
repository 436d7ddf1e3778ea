"""Finding 6: the lockout check and the failure count were not atomic (40 concurrent guesses all got
401, none 429); anyone could lock any nurse out for 15 minutes; behind a proxy every user shared one
address budget. Now: an attempt is counted before the password is verified, delays grow per
(user, address) instead of locking the account, a per-address budget and a per-account ceiling that
slows (not blocks), and X-Forwarded-For only from configured trusted proxies."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dashboard_api.config import ApiConfig
from dashboard_api.lockout import Lockout
from dashboard_api.proxies import client_address

from .conftest import Running


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_attempts_are_reserved_before_the_verdict() -> None:
    lock = Lockout(max_failures=5, window_s=900, ip_per_minute=100, clock=Clock())
    granted = [lock.reserve("nina", "10.0.0.9") for _ in range(40)]  # 40 in flight, no verdict yet
    assert sum(1 for a in granted if a.wait == 0) == 5


def test_success_releases_its_reservation() -> None:
    lock = Lockout(max_failures=2, window_s=900, ip_per_minute=100, clock=Clock())
    for _ in range(10):
        attempt = lock.reserve("nina", "10.0.0.1")
        assert attempt.wait == 0
        lock.release(attempt)
    assert lock.retry_after("nina", "10.0.0.1") == 0


def test_delay_grows_per_user_and_address_and_ends() -> None:
    clock = Clock()
    lock = Lockout(max_failures=3, window_s=900, ip_per_minute=100, base_delay_s=2, max_delay_s=600, clock=clock)
    for _ in range(3):
        assert lock.reserve("nina", "10.6.6.6").wait == 0
    waits = []
    for _ in range(12):
        w = lock.retry_after("nina", "10.6.6.6")
        waits.append(w)
        clock.t += w
        assert lock.reserve("nina", "10.6.6.6").wait == 0
    assert waits[:4] == [2, 4, 8, 16] and max(waits) == 600, waits
    # the attacker's address is slowed down; nina at her own workstation is not
    assert lock.retry_after("nina", "10.6.6.6") > 0
    assert lock.retry_after("nina", "10.1.1.1") == 0
    clock.t += 901
    assert lock.retry_after("nina", "10.6.6.6") == 0


def test_account_ceiling_slows_a_distributed_guesser_but_not_a_known_workstation() -> None:
    clock = Clock()
    lock = Lockout(max_failures=5, window_s=900, ip_per_minute=100, account_ceiling=20, account_max_delay_s=30,
                   clock=clock)
    ok = lock.reserve("nina", "10.1.1.1")
    lock.release(ok)  # nina has logged in from her workstation before
    for i in range(20):  # twenty addresses, one guess each
        assert lock.reserve("nina", f"10.7.0.{i}").wait == 0
        clock.t += 0.1
    wait = lock.retry_after("nina", "10.7.1.1")
    assert 0 < wait <= 30
    assert lock.retry_after("nina", "10.1.1.1") == 0


def test_address_budget_spans_usernames() -> None:
    clock = Clock()
    lock = Lockout(max_failures=100, window_s=900, ip_per_minute=5, clock=clock)
    for i in range(5):
        assert lock.reserve(f"user{i}", "10.0.0.9").wait == 0
    assert lock.retry_after("someone", "10.0.0.9") > 0
    clock.t += 61
    assert lock.retry_after("someone", "10.0.0.9") == 0


def test_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = ApiConfig(secret_key="K7-" + "q2w3e4r5t6y7u8i9o0p-a1s2d3f4g5h6j7", trusted_proxies=("10.0.0.0/8",)).proxies
    assert client_address("10.0.0.2", "203.0.113.7", trusted) == "203.0.113.7"
    assert client_address("10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.3", trusted) == "203.0.113.7"
    assert client_address("192.0.2.1", "203.0.113.7", trusted) == "192.0.2.1"  # not a proxy: header ignored
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", "garbage", trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", "203.0.113.7", ()) == "10.0.0.2"


@pytest.mark.integration
async def test_concurrent_guesses_respect_the_budget(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=60) as c:
        async def guess(i: int) -> int:
            r = await c.post("/api/v1/auth/token", data={"username": "nina", "password": f"guess-{i}"})
            return r.status_code

        codes = await asyncio.gather(*(guess(i) for i in range(40)))
        assert codes.count(401) <= 5 and codes.count(429) >= 35, codes
        assert set(codes) <= {401, 429}


@pytest.fixture
def loopback_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test client plays a reverse proxy on loopback (set before the platform starts)."""
    monkeypatch.setenv("SMARTWARD_TRUSTED_PROXIES", "127.0.0.1/32")


@pytest.mark.integration
async def test_guesses_from_one_address_do_not_lock_out_another(loopback_proxy: None,
                                                                 platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    attacker, ward_pc = {"X-Forwarded-For": "203.0.113.66"}, {"X-Forwarded-For": "10.20.0.15"}
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as c:
        for i in range(8):
            r = await c.post("/api/v1/auth/token", headers=attacker, data={"username": "nina", "password": f"guess-{i}"})
            assert r.status_code in (401, 429)
        r = await c.post("/api/v1/auth/token", headers=attacker,
                         data={"username": "nina", "password": "correct horse battery"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # the guessing address waits
        # nina at her ward's workstation (another client behind the same proxy) logs in at once
        r = await c.post("/api/v1/auth/token", headers=ward_pc,
                         data={"username": "nina", "password": "correct horse battery"})
        assert r.status_code == 200, r.text
