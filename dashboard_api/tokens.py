"""Short-lived JWT access tokens and refresh tokens (HS256, PyJWT).

Both carry the login session (``sid``) and the user's token version (``ver``); a refresh token's
``jti`` is the one :class:`~dashboard_api.sessions.Sessions` expects next. Neither outlives its
session (``exp`` is capped at the session's absolute end).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

import jwt

from .config import ApiConfig
from .errors import AuthError
from .users import User

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


class Tokens:
    def __init__(self, config: ApiConfig, clock: Any = time.time) -> None:
        self.config = config
        self.clock = clock

    def issue(self, user: User, kind: TokenType = "access", sid: str = "", jti: str = "",
              not_after: int | None = None) -> str:
        """A signed token for ``user`` in session ``sid``, expiring at the kind's lifetime or ``not_after``."""
        now = int(self.clock())
        ttl = self.config.access_ttl_s if kind == "access" else self.config.refresh_ttl_s
        exp = now + int(ttl) if not_after is None else min(now + int(ttl), not_after)
        claims: dict[str, Any] = {"sub": user.username, "role": user.role, "typ": kind, "iat": now,
                                  "exp": exp, "jti": jti or uuid.uuid4().hex, "ver": user.version, "sid": sid}
        if kind == "access":
            claims["wards"] = list(user.wards)
            if user.patient:
                claims["patient"] = user.patient
        return jwt.encode(claims, self.config.secret_key, algorithm=ALGORITHM)

    def decode(self, token: str, kind: TokenType = "access") -> dict[str, Any]:
        """The claims of a valid, unexpired token of ``kind``; :class:`AuthError` otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(token, self.config.secret_key, algorithms=[ALGORITHM],
                                                options={"require": ["exp", "sub", "typ"], "verify_exp": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        if claims.get("typ") != kind:
            raise AuthError(f"expected a {kind} token")
        if int(claims["exp"]) <= self.clock():
            raise AuthError("token expired")
        return claims

    def user_of(self, claims: dict[str, Any]) -> User:
        return User(str(claims["sub"]), str(claims["role"]), tuple(claims.get("wards") or ()),
                    str(claims.get("patient") or ""), int(claims.get("ver") or 0))
