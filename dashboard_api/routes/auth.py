"""``POST /api/v1/auth/token`` (OAuth2 password flow), ``/refresh``, ``/logout``, ``GET /me``.

A login starts a server-side session (:mod:`dashboard_api.sessions`); each refresh rotates its refresh
token, a replayed one ends the session; logout ends it. Failed logins are throttled per (user,
address) (:mod:`dashboard_api.lockout`). Every login, failure, delay, refresh, replay and logout is
audited (never a password).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict

from ..deps import UNAUTHORIZED, CurrentClaims, CurrentUser, Services, ServicesDep, client_ip
from ..errors import AuthError
from ..sessions import Session, SessionEnded, TokenReuse
from ..users import MAX_PASSWORD, MAX_USERNAME, User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
ANONYMOUS = "anonymous"


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    refresh_token: str
    expires_in: int
    role: str


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str


class MeOut(BaseModel):
    username: str
    role: str
    wards: list[str]
    patient: str


def _tokens(services: Services, user: User, session: Session) -> TokenOut:
    tokens = services.tokens
    access = tokens.issue(user, sid=session.sid, not_after=session.expires_at)
    refresh = tokens.issue(user, "refresh", sid=session.sid, jti=session.refresh_jti, not_after=session.expires_at)
    return TokenOut(access_token=access, refresh_token=refresh, role=user.role,
                    expires_in=int(tokens.decode(access)["exp"]) - int(tokens.clock()))


def _too_many(wait: float) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try again later",
                         headers={"Retry-After": str(int(wait) + 1)})


# Password checks (argon2id, ~0.3 s of CPU each) get threads of their own: in the default executor a
# shift logging in at once (300 logins: ~40 s of queue on 2 cores) held up every other request's
# to_thread work (audit, sessions, state DB) until it timed out (smartward bench api, ramp phase).
PASSWORD_CHECKS = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="password")


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)",
             responses={401: {"description": "wrong username or password"},
                        422: {"description": f"username over {MAX_USERNAME} or password over {MAX_PASSWORD} "
                                             "characters (refused before any other work)"},
                        429: {"description": "too many failed attempts from this address (for this user or in "
                                             "all); the delay grows with each failure; see Retry-After"}})
async def token(services: ServicesDep, request: Request,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    if len(form.username) > MAX_USERNAME:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"username longer than {MAX_USERNAME} characters")
    if len(form.password) > MAX_PASSWORD:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"password longer than {MAX_PASSWORD} characters")
    ip = client_ip(services, request)
    attempt = services.lockout.reserve(form.username, ip)  # counted before the (slow) verify: no await before
    if attempt.wait > 0:
        raise _too_many(attempt.wait)
    user = await asyncio.get_running_loop().run_in_executor(PASSWORD_CHECKS, services.users.authenticate,
                                                            form.username, form.password)
    if user is None:
        where: dict[str, Any] = {"address": ip}
        await services.record_event(form.username or ANONYMOUS, ANONYMOUS, "login.failed",
                                    f"user/{form.username}", where)
        wait = services.lockout.retry_after(form.username, ip)
        if wait > 0:
            await services.record_event(form.username or ANONYMOUS, ANONYMOUS, "login.delayed",
                                        f"user/{form.username}", {**where, "retry_after_s": round(wait, 1)})
        log.warning("failed login from %s", ip)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers=UNAUTHORIZED)
    services.lockout.release(attempt)
    session = await asyncio.to_thread(services.sessions.start, user.username)
    await services.record(user, "login", f"user/{user.username}", {"address": ip})
    return _tokens(services, user, session)


@router.post("/refresh", response_model=TokenOut,
             summary="Exchange a refresh token for new tokens (each refresh token works once)",
             responses={401: {"description": "invalid, expired or already used refresh token (a reused one "
                                             "ends the session), or the session or account has ended"}})
async def refresh(services: ServicesDep, request: Request, body: RefreshIn) -> TokenOut:
    try:
        claims = services.tokens.decode(body.refresh_token, "refresh")
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=UNAUTHORIZED) from None
    user = await asyncio.to_thread(services.users.get, str(claims["sub"]))
    sid, jti = str(claims.get("sid") or ""), str(claims.get("jti") or "")
    if user is None or not sid or claims.get("ver") != user.version:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "session ended; log in again", headers=UNAUTHORIZED)
    try:
        session = await asyncio.to_thread(services.sessions.rotate, sid, jti)
    except TokenReuse:
        await services.record(user, "token.reuse", f"user/{user.username}",
                              {"address": client_ip(services, request), "session": sid[:8]})
        log.warning("refresh token reused for user %s: session revoked", user.username)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "refresh token already used; session ended",
                            headers=UNAUTHORIZED) from None
    except SessionEnded as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=UNAUTHORIZED) from None
    if session.username != user.username:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "session ended; log in again", headers=UNAUTHORIZED)
    await services.record(user, "token.refresh", f"user/{user.username}", {"session": sid[:8]})
    return _tokens(services, user, session)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session",
             responses={401: {"description": "not logged in"}})
async def logout(services: ServicesDep, claims: CurrentClaims) -> Response:
    """Ends the session of the access token: its refresh token and every access token of it stop working."""
    user = services.tokens.user_of(claims)
    await asyncio.to_thread(services.sessions.revoke, str(claims["sid"]), "logout")
    await services.record(user, "logout", f"user/{user.username}", {"session": str(claims["sid"])[:8]})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut, summary="Who am I")
async def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, role=user.role, wards=list(user.wards), patient=user.patient)
