"""Finding 3: refresh tokens were reusable and renewable forever, survived a password reset and could
not be revoked; there was no logout; a disabled user's access token kept working. Now: a server-side
session per login with refresh-token rotation (a reused refresh token ends the whole session), a
version claim checked on every request (bumped by reset, disable, role or ward change), logout, an
absolute session lifetime, and ``smartward users disable|enable|set-role|reset-password``."""

from __future__ import annotations

import asyncio
import io
import time

import httpx
import pytest

from smartward.cli import main

from .conftest import PASSWORD, Running

pytestmark = pytest.mark.integration
ME = "/api/v1/auth/me"


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def login(c: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await c.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def refresh(c: httpx.AsyncClient, token: str) -> httpx.Response:
    return await c.post("/api/v1/auth/refresh", json={"refresh_token": token})


def cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *args])


async def gone(c: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    """The access token stops working within the version cache's lifetime (a few seconds)."""
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        if (await c.get(ME, headers=headers)).status_code == 401:
            return True
        await asyncio.sleep(0.2)
    return False


async def test_refresh_rotates_and_reuse_ends_the_session(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        first = await login(c, "nina")
        r = await refresh(c, first["refresh_token"])
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        # the old refresh token again: a stolen copy is being replayed, so the whole session ends
        assert (await refresh(c, first["refresh_token"])).status_code == 401
        assert (await refresh(c, second["refresh_token"])).status_code == 401
        assert await gone(c, bearer(second))
        # other sessions of the same user are untouched
        other = await login(c, "nina")
        assert (await c.get(ME, headers=bearer(other))).status_code == 200


async def test_logout_ends_the_session(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        t = await login(c, "nina")
        r = await c.post("/api/v1/auth/logout", headers=bearer(t))
        assert r.status_code == 204, r.text
        assert (await c.get(ME, headers=bearer(t))).status_code == 401
        assert (await refresh(c, t["refresh_token"])).status_code == 401
        assert (await c.post("/api/v1/auth/logout")).status_code == 401


async def test_password_reset_and_disable_end_every_session(platform_sqlite: Running,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    run.add_user("otto", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        nina, otto = await login(c, "nina"), await login(c, "otto")
        assert cli(monkeypatch, "reset-password", "--state", run.state_url, "--username", "nina",
                   "--password-stdin", stdin="a brand new password\n") == 0
        assert await gone(c, bearer(nina))
        assert (await refresh(c, nina["refresh_token"])).status_code == 401
        await login(c, "nina", "a brand new password")

        assert cli(monkeypatch, "disable", "--state", run.state_url, "--username", "otto") == 0
        assert await gone(c, bearer(otto))
        assert (await refresh(c, otto["refresh_token"])).status_code == 401
        r = await c.post("/api/v1/auth/token", data={"username": "otto", "password": PASSWORD})
        assert r.status_code == 401
        assert cli(monkeypatch, "enable", "--state", run.state_url, "--username", "otto") == 0
        await login(c, "otto")


async def test_role_or_ward_change_ends_sessions(platform_sqlite: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        t = await login(c, "nina")
        assert cli(monkeypatch, "set-role", "--state", run.state_url, "--username", "nina", "--role", "nurse",
                   "--ward", "w2") == 0
        assert await gone(c, bearer(t))
        me = (await c.get(ME, headers=bearer(await login(c, "nina")))).json()
        assert me["wards"] == ["w2"]
