"""Users and roles (table ``dashboard_users`` in the state DB); argon2id password hashes.

Roles: ``admin``, ``charge_nurse``, ``nurse``, ``physician``, ``patient``, ``facility_manager``,
``vendor``. Nurses and charge nurses see only their ``wards``; a patient only their own ``patient``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, get_args

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from device_profiles import PayloadError, check_id

from .errors import DashboardError

Role = Literal["admin", "charge_nurse", "nurse", "physician", "patient", "facility_manager", "vendor"]
ROLES: tuple[str, ...] = get_args(Role)
CLINICAL_ROLES = frozenset({"admin", "charge_nurse", "nurse", "physician"})
WARD_SCOPED_ROLES = frozenset({"charge_nurse", "nurse"})

metadata = sa.MetaData()
users_table = sa.Table(
    "dashboard_users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("wards", sa.String(1024), nullable=False, default=""),
    sa.Column("patient", sa.String(64), nullable=False, default=""),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_t", sa.BigInteger, nullable=False),
)
_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommendation)
_DUMMY_HASH = _hasher.hash("not-a-real-password")  # equalises timing for unknown users


class UserError(DashboardError):
    """A user cannot be created as asked (bad role, bad scope, duplicate name)."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    wards: tuple[str, ...] = ()
    patient: str = ""

    def can_see_ward(self, ward: str) -> bool:
        if self.role in ("admin",):
            return True
        if self.role == "physician":
            return not self.wards or ward in self.wards
        if self.role in WARD_SCOPED_ROLES:
            return ward in self.wards
        return False

    @property
    def clinical(self) -> bool:
        return self.role in CLINICAL_ROLES


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check(value: str, what: str) -> str:
    try:
        return check_id(value, what)
    except PayloadError as exc:
        raise UserError(str(exc)) from None


class UserStore:
    """Synchronous (call through ``asyncio.to_thread`` from async code)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def add(self, username: str, role: str, password: str, wards: list[str] | tuple[str, ...] = (),
            patient: str = "") -> User:
        username = _check(username, "username")
        if role not in ROLES:
            raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("password must be at least 8 characters")
        wards = tuple(_check(w, "ward") for w in wards)
        if role in WARD_SCOPED_ROLES and not wards:
            raise UserError(f"role {role} needs at least one --ward")
        if role == "patient":
            if not patient:
                raise UserError("role patient needs --patient")
            patient = _check(patient, "patient")
        elif patient:
            raise UserError("--patient is only for role patient")
        try:
            with self.engine.begin() as conn:
                conn.execute(users_table.insert().values(
                    username=username, password_hash=hash_password(password), role=role, wards=",".join(wards),
                    patient=patient, disabled=False, created_t=int(time.time() * 1000)))
        except sa.exc.IntegrityError:
            raise UserError(f"user {username!r} already exists") from None
        return User(username, role, wards, patient)

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 8:
            raise UserError("password must be at least 8 characters")
        with self.engine.begin() as conn:
            n = conn.execute(users_table.update().where(users_table.c.username == username)
                             .values(password_hash=hash_password(password))).rowcount
        if not n:
            raise UserError(f"no user {username!r}")

    def get(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users_table).where(users_table.c.username == username)).first()
        if r is None or r.disabled:
            return None
        return User(r.username, r.role, tuple(w for w in r.wards.split(",") if w), r.patient)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else ``None`` (same work whether the user exists or not)."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users_table).where(users_table.c.username == username)).first()
        stored = r.password_hash if r is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if r is None or r.disabled:
            return None
        if _hasher.check_needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(users_table.update().where(users_table.c.username == username)
                             .values(password_hash=hash_password(password)))
        return User(r.username, r.role, tuple(w for w in r.wards.split(",") if w), r.patient)


def demo_login(engine: sa.Engine, wards: tuple[str, ...] = ("w1", "home"), username: str = "demo",
               role: str = "charge_nurse", patient: str = "") -> tuple[str, str]:
    """For ``smartward demo``: a charge nurse of ``wards`` (or another ``role``; a ``patient`` user
    needs ``patient``) with a fresh random password on every start (printed by the demo, never stored
    in clear). Returns ``(username, password)``."""
    import secrets

    store = UserStore(engine)
    password = secrets.token_urlsafe(12)
    if store.get(username) is None:
        store.add(username, role, password, wards if role in WARD_SCOPED_ROLES else (), patient=patient)
    else:
        store.set_password(username, password)
    return username, password


def demo_facility_login(engine: sa.Engine, username: str = "facility") -> tuple[str, str]:
    """For ``smartward demo``: a facility manager (the ``/facility`` page: twin runs, time to evacuate
    now) with a fresh random password on every start. Returns ``(username, password)``."""
    return demo_login(engine, (), username, role="facility_manager")


def demo_patient_login(engine: sa.Engine, patient: str, username: str = "patient") -> tuple[str, str]:
    """For ``smartward demo``: the demo patient ``patient`` (the ``/portal`` page: their own data
    only) with a fresh random password on every start. Returns ``(username, password)``."""
    return demo_login(engine, (), username, role="patient", patient=patient)
