"""Shared services and FastAPI dependencies: the current user, ward and patient scoping, auditing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from .audit import AuditLog
from .config import ApiConfig
from .errors import AuthError
from .hub import Hub
from .lockout import Lockout
from .tokens import Tokens
from .users import User, UserStore
from .wardstate import HOME_WARD


@dataclass
class Services:
    config: ApiConfig
    platform: Any
    tokens: Tokens
    lockout: Lockout
    users: UserStore
    audit: AuditLog
    hub: Hub

    @property
    def root(self) -> str:
        return str(self.platform.config.topic_root)

    async def record(self, user: User, action: str, resource: str, detail: dict[str, Any] | None = None) -> None:
        """Append to the hash-chained audit log (before the data leaves the server)."""
        await asyncio.to_thread(self.audit.append, user.username, user.role, action, resource, detail)

    def ward_of_patient(self, patient: str) -> str | None:
        where = self.platform.attributions.bed_of(patient)
        return where[0] if where is not None else None


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def user_from_token(services: Services, token: str | None) -> User:
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers=UNAUTHORIZED)
    try:
        return services.tokens.user_of(services.tokens.decode(token))
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=UNAUTHORIZED) from None


async def current_user(services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    return user_from_token(services, token)


CurrentUser = Annotated[User, Depends(current_user)]


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
    if user.role == "admin" or (user.role == "physician" and not user.wards):
        return ward
    if ward is None or not user.can_see_ward(ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"patient {patient} is not in a ward of user {user.username}")
    return ward


def home_ward() -> str:
    return HOME_WARD
