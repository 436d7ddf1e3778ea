"""Shared services and FastAPI dependencies: the current user, ward and patient scoping, auditing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from device_profiles import now_ms
from ingest.platform import PlatformServices

from .audit import AuditLog
from .config import ApiConfig
from .errors import AuditError, AuthError
from .hub import Hub
from .lockout import Lockout
from .proxies import client_address
from .sessions import Sessions
from .tokens import Tokens
from .users import User, UserStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: ApiConfig
    platform: PlatformServices
    tokens: Tokens
    lockout: Lockout
    users: UserStore
    audit: AuditLog
    hub: Hub
    sessions: Sessions

    @property
    def root(self) -> str:
        return self.platform.config.topic_root

    async def record(self, user: User, action: str, resource: str, detail: dict[str, Any] | None = None) -> None:
        """Append to the hash-chained audit log (before the data leaves the server). When the entry
        cannot be written the request is refused (503) and nothing it asked for leaves."""
        await self.record_event(user.username, user.role, action, resource, detail)

    async def record_event(self, actor: str, role: str, action: str, resource: str,
                           detail: dict[str, Any] | None = None) -> None:
        """Append an entry whose actor is not a logged-in user (a login attempt: role ``anonymous``)."""
        try:
            await asyncio.to_thread(self.audit.append, actor, role, action, resource, detail)
        except AuditError as exc:
            log.error("audit log append failed (%s): refusing %s on %s", exc, action, resource)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "the audit log cannot be written: the request is refused") from None

    def ward_of_patient(self, patient: str) -> str | None:
        where = self.platform.attributions.bed_of(patient)
        return where[0] if where is not None else None


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def claims_from_token(services: Services, token: str | None) -> dict[str, Any]:
    """The claims of a valid access token whose session is live and whose ``ver`` is the user's
    current token version (see :meth:`Sessions.active` for how fresh that answer is); 401 otherwise."""
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers=UNAUTHORIZED)
    try:
        claims = services.tokens.decode(token)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=UNAUTHORIZED) from None
    sid, ver = claims.get("sid"), claims.get("ver")
    if not isinstance(sid, str) or not sid or not isinstance(ver, int) \
            or not services.sessions.active(sid, str(claims["sub"]), ver):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "session ended; log in again", headers=UNAUTHORIZED)
    return claims


def user_from_token(services: Services, token: str | None) -> User:
    """The user of a valid access token (also for websockets); 401 otherwise."""
    return services.tokens.user_of(claims_from_token(services, token))


async def current_user(services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    return user_from_token(services, token)


async def current_claims(services: ServicesDep,
                         token: Annotated[str | None, Depends(oauth2_scheme)]) -> dict[str, Any]:
    return claims_from_token(services, token)


def client_ip(services: Services, request: Request) -> str:
    """The client's address: the peer, or behind a trusted proxy its ``X-Forwarded-For`` client."""
    peer = request.client.host if request.client else "?"
    return client_address(peer, request.headers.get("x-forwarded-for"), services.config.proxies)


CurrentUser = Annotated[User, Depends(current_user)]
CurrentClaims = Annotated[dict[str, Any], Depends(current_claims)]


def require_ward(user: User, ward: str) -> None:
    if not user.can_see_ward(ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"user {user.username} ({user.role}) has no access to ward {ward}")


def require_clinical(user: User, ward: str | None = None) -> None:
    if not user.clinical:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not do this")
    if ward is not None:
        require_ward(user, ward)


def require_patient(services: Services, user: User, patient: str) -> str | None:
    """Raise 403 unless ``user`` may read ``patient``'s data; returns the patient's current ward."""
    ward = services.ward_of_patient(patient)
    if user.role == "patient":
        if user.patient != patient:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "patients may read only their own data")
        return ward
    if not user.clinical:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not read patient data")
    if user.all_wards:  # admin, or a physician created with --all-wards
        return ward
    if ward is None or not user.can_see_ward(ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"patient {patient} is not in a ward of user {user.username}")
    return ward


def time_window(start: int | None, end: int | None, default_ms: int, max_ms: int,
                names: tuple[str, str] = ("since", "until")) -> tuple[int, int]:
    """``[start, end)`` (ms) from a route's query: ``end`` defaults to now, ``start`` to ``default_ms``
    before it; 422 naming the parameters (``names``) when the window is empty or longer than ``max_ms``."""
    stop = end if end is not None else now_ms() + 1
    begin = start if start is not None else stop - default_ms
    a, b = names
    if begin >= stop:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{a} ({begin}) must be before {b} ({stop})")
    if stop - begin > max_ms:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{a}..{b} spans {(stop - begin) / 3_600_000:.1f} h: at most {max_ms / 3_600_000:g} h "
                            "per request")
    return begin, stop
