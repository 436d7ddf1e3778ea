"""Issue 13, finding 14 (websockets): the access token no longer travels in the websocket URL (where
proxies and access logs keep it); a page asks ``POST /api/v1/ws/ticket`` for a one-time ticket that
lives at most 30 s, and a websocket from another site's page (cross-site websocket hijacking) is
refused by its ``Origin``."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devservers import Mosquitto

from .conftest import Running, running_platform

WARD = "/api/v1/ws/wards/w1"


def ws_base(run: Running) -> str:
    return run.base.replace("http", "ws")


async def ticket(c: httpx.AsyncClient, headers: dict[str, str]) -> str:
    r = await c.post("/api/v1/ws/ticket", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert 0 < body["expires_in"] <= 30
    return str(body["ticket"])


async def close_code(url: str, **kw: object) -> int:
    async with connect(url, **kw) as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    return info.value.rcvd.code


@pytest.mark.integration
async def test_a_ticket_opens_one_websocket_and_the_token_in_the_url_is_refused(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        assert (await c.post("/api/v1/ws/ticket")).status_code == 401
        h = await run.login(c, "nina")
        access = h["Authorization"][7:]
        # the access token in the query string (logged by proxies and servers) is no longer accepted
        assert await close_code(f"{ws_base(run)}{WARD}?token={access}") == 4401
        t = await ticket(c, h)
        assert access not in t
        async with connect(f"{ws_base(run)}{WARD}?ticket={t}") as ws:
            assert orjson.loads(await ws.recv())[0]["type"] == "snapshot"
        # single use: the same ticket opens nothing a second time
        assert await close_code(f"{ws_base(run)}{WARD}?ticket={t}") == 4401
        assert await close_code(f"{ws_base(run)}{WARD}?ticket=made-up") == 4401


@pytest.mark.integration
async def test_the_ticket_carries_the_users_rights(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("otto", "nurse", ("w2",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        t = await ticket(c, await run.login(c, "otto"))
        assert await close_code(f"{ws_base(run)}{WARD}?ticket={t}") == 4403


@pytest.mark.integration
async def test_a_websocket_from_another_sites_page_is_refused(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                                              api_secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_ALLOWED_ORIGINS", "https://station.hospital.example")
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/v.sqlite3", topic_root,
                                tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        run.add_user("nina", "nurse", ("w1",))
        h = await run.login(c, "nina")
        url = f"{ws_base(run)}{WARD}?ticket="
        with pytest.raises(InvalidStatus) as info:
            async with connect(url + await ticket(c, h), origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert info.value.response.status_code == 403
        # the page's own origin (same host and port), the configured one, and a client without a browser
        # (no Origin header) are let in
        for origin in (run.base, "https://station.hospital.example", None):
            async with connect(url + await ticket(c, h), origin=origin) as ws:  # type: ignore[arg-type]
                assert orjson.loads(await ws.recv())[0]["type"] == "snapshot"


def test_tickets_are_single_use_short_lived_and_bounded() -> None:
    from dashboard_api.ws_tickets import TicketStore

    now = [1000.0]
    store = TicketStore(ttl_s=30, per_user=3, capacity=5, clock=lambda: now[0])
    a = store.issue("nina", "access-a")
    assert store.redeem(a) == "access-a" and store.redeem(a) is None
    b = store.issue("nina", "access-b")
    now[0] += 30.5
    assert store.redeem(b) is None  # expired
    # one user holds at most ``per_user`` tickets (the oldest goes), all users at most ``capacity``
    nina = [store.issue("nina", f"n{i}") for i in range(5)]
    assert [store.redeem(t) for t in nina] == [None, None, "n2", "n3", "n4"]
    others = [store.issue(f"u{i}", f"t{i}") for i in range(8)]
    assert len(store) == 5
    assert store.redeem(others[0]) is None and store.redeem(others[-1]) == "t7"
    # expired tickets are dropped as new ones are issued: the table does not grow with time
    for i in range(100):
        now[0] += 31
        store.issue(f"v{i}", "x")
    assert len(store) == 1


def test_tickets_are_unguessable() -> None:
    from dashboard_api.ws_tickets import TicketStore

    store = TicketStore()
    tickets = {store.issue("nina", "a") for _ in range(3)}
    assert len(tickets) == 3 and all(len(t) >= 32 for t in tickets)


@pytest.mark.integration
async def test_an_open_stream_closes_soon_after_its_session_ends(platform_sqlite: Running) -> None:
    """Logging out (likewise a disabled user, a password reset or a role change, which end every
    session) closes the user's open central-station stream within seconds, not at token expiry."""
    import asyncio
    import time

    from dashboard_api.routes.ws import SESSION_RECHECK_S

    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        h = await run.login(c, "nina")
        async with connect(f"{ws_base(run)}{WARD}?ticket={await ticket(c, h)}") as ws:
            assert orjson.loads(await ws.recv())[0]["type"] == "snapshot"
            assert (await c.post("/api/v1/auth/logout", headers=h)).status_code == 204
            t0 = time.monotonic()
            with pytest.raises(ConnectionClosed) as info:
                async with asyncio.timeout(SESSION_RECHECK_S + 5):
                    while True:
                        await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4401, info.value
        assert time.monotonic() - t0 <= SESSION_RECHECK_S + 3
