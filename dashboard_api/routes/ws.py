"""Websockets: ``/api/v1/ws/wards/{ward}`` (central station) and ``/api/v1/ws/patients/{patient}``
(portal). A page first asks ``POST /api/v1/ws/ticket`` (bearer-authenticated) for a one-time ticket
valid 30 s and connects with ``?ticket=<ticket>`` (browsers cannot set headers on websockets, and an
access token in the URL would end up in logs: ``?token=`` is refused). Clients that are not browsers
may send ``Authorization: Bearer`` instead. A page of another site is refused by its ``Origin``
(HTTP 403, :mod:`dashboard_api.http_security`). Close code 4401 = not authenticated (also sent when
the access token behind the ticket expires: the page refreshes it, takes a new ticket and
reconnects), 4403 = no access.

Server → client: JSON arrays of frames ``{"type": "snapshot"|"tile"|"alarm"|"wave"|"resync"|"heartbeat", …}``.
A ``heartbeat`` frame (``{"type": "heartbeat", "now": ms, "feed": bool}``) goes out whenever nothing else
was sent for ``HEARTBEAT_S`` (1 s): a screen that hears nothing for a few seconds knows the link is dead
(a half-open TCP connection never closes by itself) and says COMMUNICATION LOST; ``feed`` is false while
the server itself is cut off from the monitors (broker connection lost).
Client → server: ``{"watch": "<bed>"}`` to receive that bed's live waveforms, ``{"watch": null}`` to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from device_profiles import now_ms

from ..deps import CurrentUser, Services, oauth2_scheme, require_clinical, require_patient, user_from_token
from ..fanout import Screen
from ..metrics import SCREENS
from ..users import User
from ..ws_tickets import TICKET_TTL_S, TicketStore

log = logging.getLogger(__name__)
router = APIRouter()


class TicketOut(BaseModel):
    ticket: str
    expires_in: int


@router.post("/api/v1/ws/ticket", response_model=TicketOut, tags=["auth"],
             summary="A one-time ticket to open one websocket (?ticket=) within 30 s")
async def ws_ticket(request: Request, user: CurrentUser,
                    token: Annotated[str | None, Depends(oauth2_scheme)]) -> TicketOut:
    assert token is not None  # CurrentUser refused a request without one
    tickets: TicketStore = request.app.state.ws_tickets
    return TicketOut(ticket=tickets.issue(user.username, token), expires_in=int(TICKET_TTL_S))


def _token(ws: WebSocket) -> str | None:
    """The access token behind the request: a redeemed ``?ticket=`` or a bearer header."""
    auth = ws.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:]
    ticket = ws.query_params.get("ticket")
    tickets: TicketStore = ws.app.state.ws_tickets
    return tickets.redeem(ticket) if ticket else None


HEARTBEAT_S = 1.0  # at least one message per second on every stream (screens call 3 s of silence lost)
SESSION_RECHECK_S = 5.0  # a disabled user, a logout or a role change closes an open stream within this


async def _serve(ws: WebSocket, services: Services, screen: Screen, token: str, expires_at: float) -> None:
    hub = services.hub
    hub.fanout.join(screen)
    SCREENS.inc()

    def snapshot() -> bytes:
        snap = hub.state.snapshot(screen.ward, now_ms())
        if screen.only_patient is not None:
            snap["beds"] = [b for b in snap["beds"] if b["patient"] == screen.only_patient]
            snap["alarms"] = [a for a in snap["alarms"] if a.get("patient") == screen.only_patient]
        return orjson.dumps(snap)

    screen.push(snapshot())
    last_sent = time.monotonic()

    async def sender() -> None:
        nonlocal last_sent
        while True:
            text = await screen.next_message()
            if text is None:
                await ws.close(1013, "too far behind; reconnect for a fresh snapshot")
                return
            if '{"type":"resync"}' in text:
                screen.push(snapshot())
            await ws.send_text(text)
            last_sent = time.monotonic()

    async def heartbeat() -> None:
        """A frame at least every HEARTBEAT_S, so the screen can tell a quiet ward from a dead link."""
        nonlocal last_sent
        while True:
            await asyncio.sleep(max(0.05, last_sent + HEARTBEAT_S - time.monotonic()))
            if time.monotonic() - last_sent >= HEARTBEAT_S:
                screen.push(orjson.dumps({"type": "heartbeat", "now": now_ms(), "feed": hub.ready()}))
                last_sent = time.monotonic()  # pushed: the next one a second later, sent or not

    async def receiver() -> None:
        while True:
            msg = await ws.receive_text()
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError):
                data = orjson.loads(msg)
                if isinstance(data, dict) and "watch" in data and screen.only_patient is None:
                    w = data["watch"]
                    screen.watch = w if isinstance(w, str) else None

    async def expiry() -> None:
        """Close when the access token expires (the page refreshes its token and reconnects), or as soon
        as its session ends: logout, a replayed refresh token, the user disabled or their role changed."""
        while (left := expires_at - time.time()) > 0:
            await asyncio.sleep(min(left, SESSION_RECHECK_S))
            try:
                user_from_token(services, token)
            except HTTPException:
                if time.time() < expires_at:
                    await ws.close(4401, "session ended")
                    raise WebSocketDisconnect(4401) from None
        await ws.close(4401, "token expired")
        raise WebSocketDisconnect(4401)

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sender())
            tg.create_task(heartbeat())
            tg.create_task(receiver())
            tg.create_task(expiry())
    except* (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.fanout.leave(screen)
        SCREENS.dec()


async def _authenticate(ws: WebSocket) -> tuple[Services, User, str, float] | None:
    services: Services = ws.app.state.services
    token = _token(ws)
    try:
        user = user_from_token(services, token)
    except HTTPException:
        in_url = "token" in ws.query_params
        await ws.close(4401, "send ?ticket= from POST /api/v1/ws/ticket, not ?token=" if in_url else "not authenticated")
        return None
    assert token is not None
    return services, user, token, float(services.tokens.decode(token)["exp"])


@router.websocket("/api/v1/ws/wards/{ward}")
async def ward_stream(ws: WebSocket, ward: str) -> None:
    await ws.accept()
    auth = await _authenticate(ws)
    if auth is None:
        return
    services, user, token, exp = auth
    try:
        require_clinical(user, ward)
    except HTTPException:
        await ws.close(4403, f"no access to ward {ward}")
        return
    if await _audited(ws, services, user, f"ws/ward/{ward}"):
        await _serve(ws, services, Screen(ward, user.username), token, exp)


@router.websocket("/api/v1/ws/patients/{patient}")
async def patient_stream(ws: WebSocket, patient: str) -> None:
    await ws.accept()
    auth = await _authenticate(ws)
    if auth is None:
        return
    services, user, token, exp = auth
    try:
        ward = require_patient(services, user, patient)
    except HTTPException:
        await ws.close(4403, f"no access to patient {patient}")
        return
    if ward is None:
        await ws.close(4404, f"patient {patient} is not admitted")
        return
    if not await _audited(ws, services, user, f"ws/patient/{patient}"):
        return
    screen = Screen(ward, user.username)
    screen.only_patient = patient
    await _serve(ws, services, screen, token, exp)


async def _audited(ws: WebSocket, services: Services, user: User, resource: str) -> bool:
    """Audit the stream's read before any data is sent; a failed audit write closes it (1011)."""
    try:
        await services.record(user, "read", resource)
    except HTTPException as exc:
        await ws.close(1011, str(exc.detail))
        return False
    return True
