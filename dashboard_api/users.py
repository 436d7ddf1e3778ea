"""Users and roles (table ``dashboard_users`` in the state DB); argon2id password hashes.

Roles: ``admin``, ``charge_nurse``, ``nurse``, ``physician``, ``patient``, ``facility_manager``,
``vendor``, ``adt_feed``. Nurses and charge nurses see only their ``wards``; a physician their
``wards``, or every ward only when created with ``all_wards`` (stored as the ward ``*``); a patient
only their own ``patient``. ``adt_feed`` is the HL7 ADT interface account: hospital-wide for ADT
only, not clinical (no ward, no patient data).

Each user has a ``token_version``: bumped by a password reset, disabling or enabling the account and a
role or scope change; tokens carry it (``ver``) and are refused once it moved on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from device_profiles import PayloadError, check_id
from device_profiles.state_db import ensure_schema

from .errors import DashboardError

Role = Literal["admin", "charge_nurse", "nurse", "physician", "patient", "facility_manager", "vendor", "adt_feed"]
ROLES: tuple[str, ...] = get_args(Role)
CLINICAL_ROLES = frozenset({"admin", "charge_nurse", "nurse", "physician"})
WARD_SCOPED_ROLES = frozenset({"charge_nurse", "nurse"})
ALL_WARDS = "*"  # the stored scope of a hospital-wide physician (explicit ``--all-wards``)
MAX_USERNAME = 64  # the column's length; longer names are refused before any work
MAX_PASSWORD = 1024  # longer passwords are refused before hashing

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
    sa.Column("token_version", sa.Integer, nullable=False, default=0, server_default="0"),
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
    version: int = field(default=0, compare=False)  # token_version when read (tokens carry it as ``ver``)

    @property
    def all_wards(self) -> bool:
        """Hospital-wide clinical access: an admin, or a physician created with ``all_wards``."""
        return self.role == "admin" or (self.role == "physician" and ALL_WARDS in self.wards)

    def can_see_ward(self, ward: str) -> bool:
        if self.all_wards:
            return True
        if self.role == "physician" or self.role in WARD_SCOPED_ROLES:
            return ward in self.wards
        return False  # patient, facility_manager, vendor, adt_feed

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


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"password must be at most {MAX_PASSWORD} characters")


def _scope(role: str, wards: list[str] | tuple[str, ...], patient: str, all_wards: bool) -> tuple[tuple[str, ...], str]:
    """The stored ``(wards, patient)`` of ``role``; :class:`UserError` for a scope the role cannot have."""
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if ALL_WARDS in wards:
        all_wards, wards = True, tuple(w for w in wards if w != ALL_WARDS)
    if all_wards and role != "physician":
        raise UserError("--all-wards is only for role physician (an admin sees every ward anyway)")
    if all_wards and wards:
        raise UserError("give either --ward or --all-wards, not both")
    checked = (ALL_WARDS,) if all_wards else tuple(_check(w, "ward") for w in wards)
    if role in WARD_SCOPED_ROLES and not checked:
        raise UserError(f"role {role} needs at least one --ward")
    if role == "physician" and not checked:
        raise UserError("role physician needs --ward (repeatable) or, for hospital-wide access, --all-wards")
    if role not in WARD_SCOPED_ROLES and role != "physician" and checked:
        raise UserError(f"role {role} has no ward scope; --ward is for nurses, charge nurses and physicians")
    if role == "patient":
        if not patient:
            raise UserError("role patient needs --patient")
        patient = _check(patient, "patient")
    elif patient:
        raise UserError("--patient is only for role patient")
    return checked, patient


def _user(r: Any) -> User:
    return User(r.username, r.role, tuple(w for w in r.wards.split(",") if w), r.patient, int(r.token_version))


class UserStore:
    """Synchronous (call through ``asyncio.to_thread`` from async code)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_schema(engine)  # a database from before token versions gets the column (old tokens carry no ``ver``)

    def add(self, username: str, role: str, password: str, wards: list[str] | tuple[str, ...] = (),
            patient: str = "", all_wards: bool = False) -> User:
        """Create a user. A physician needs ``wards`` or ``all_wards`` (or ``wards=("*",)``)."""
        username = _check(username, "username")
        _check_password(password)
        wards, patient = _scope(role, wards, patient, all_wards)
        try:
            with self.engine.begin() as conn:
                conn.execute(users_table.insert().values(
                    username=username, password_hash=hash_password(password), role=role, wards=",".join(wards),
                    patient=patient, disabled=False, created_t=int(time.time() * 1000), token_version=0))
        except sa.exc.IntegrityError:
            raise UserError(f"user {username!r} already exists") from None
        return User(username, role, wards, patient)

    def _change(self, username: str, **values: Any) -> None:
        """Update ``username`` and bump its token version (every session of the user ends)."""
        with self.engine.begin() as conn:
            n = conn.execute(users_table.update().where(users_table.c.username == username)
                             .values(token_version=users_table.c.token_version + 1, **values)).rowcount
        if not n:
            raise UserError(f"no user {username!r}")

    def set_password(self, username: str, password: str) -> None:
        """A password reset: every token of the user stops working."""
        _check_password(password)
        self._change(username, password_hash=hash_password(password))

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (or enable) a login; either way every token of the user stops working."""
        self._change(username, disabled=disabled)

    def set_role(self, username: str, role: str, wards: list[str] | tuple[str, ...] = (), patient: str = "",
                 all_wards: bool = False) -> User:
        """A new role and scope (checked as for :meth:`add`); every token of the user stops working."""
        wards, patient = _scope(role, wards, patient, all_wards)
        self._change(username, role=role, wards=",".join(wards), patient=patient)
        return User(username, role, wards, patient)

    def all_users(self) -> list[tuple[User, bool]]:
        """Every user with its ``disabled`` flag, by name (no hashes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users_table).order_by(users_table.c.username)).all()
        return [(_user(r), bool(r.disabled)) for r in rows]

    def get(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users_table).where(users_table.c.username == username)).first()
        if r is None or r.disabled:
            return None
        return _user(r)

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
        return _user(r)


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
