"""``POST /api/v1/auth/token`` (OAuth2 password flow), ``/refresh``, ``GET /me``."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict

from ..deps import UNAUTHORIZED, CurrentUser, ServicesDep
from ..errors import AuthError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)",
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "too many failed attempts (account locked or address rate-limited)"}})
async def token(services: ServicesDep, request: Request,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    ip = request.client.host if request.client else "?"
    wait = services.lockout.retry_after(form.username, ip)
    if wait > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try again later",
                            headers={"Retry-After": str(int(wait) + 1)})
    user = await asyncio.to_thread(services.users.authenticate, form.username, form.password)
    if user is None:
        services.lockout.failed(form.username, ip)
        log.warning("failed login from %s", ip)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers=UNAUTHORIZED)
    services.lockout.succeeded(form.username)
    await services.record(user, "login", f"user/{user.username}")
    return TokenOut(access_token=services.tokens.issue(user), refresh_token=services.tokens.issue(user, "refresh"),
                    expires_in=int(services.config.access_ttl_s), role=user.role)


@router.post("/refresh", response_model=TokenOut, summary="Exchange a refresh token for a new access token")
async def refresh(services: ServicesDep, body: RefreshIn) -> TokenOut:
    try:
        claims = services.tokens.decode(body.refresh_token, "refresh")
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=UNAUTHORIZED) from None
    user = await asyncio.to_thread(services.users.get, str(claims["sub"]))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "user no longer exists", headers=UNAUTHORIZED)
    return TokenOut(access_token=services.tokens.issue(user), refresh_token=services.tokens.issue(user, "refresh"),
                    expires_in=int(services.config.access_ttl_s), role=user.role)


@router.get("/me", response_model=MeOut, summary="Who am I")
async def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, role=user.role, wards=list(user.wards), patient=user.patient)
