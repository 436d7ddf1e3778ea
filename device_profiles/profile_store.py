"""Versioned profile storage in the state database (what the vendor upload API stands on).

Table ``device_profile_versions``: one row per uploaded version of a profile, text kept verbatim
(migrated on every load), at most one active version per profile id. Uploading validates first and
never activates by itself; activating checks the profile against the built-ins and the other active
profiles (topic overlaps) before it flips. Table ``device_profile_reviews``: an admin's decision on a
version (approved when activated, or rejected with a reason). A version's :attr:`StoredVersion.state`
is ``pending`` (uploaded, awaiting review), ``active``, ``inactive`` (approved once, superseded) or
``rejected`` (never activated again). Synchronous SQLAlchemy Core: call from async code with
``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from .compiler import CompiledProfile, compile_profile
from .errors import ProfileError
from .profile_yaml import Issue, ProfileValidationError
from .registry import ProfileRegistry, StoredText
from .state_db import ensure_schema
from .topics import ROOT

metadata = sa.MetaData()
versions = sa.Table(
    "device_profile_versions", metadata,
    sa.Column("profile_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("vendor", sa.String(120), nullable=False),
    sa.Column("model", sa.String(120), nullable=False),
    sa.Column("uploaded_by", sa.String(128), nullable=False),
    sa.Column("uploaded_at", sa.BigInteger, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=False),
    sa.Column("activated_at", sa.BigInteger, nullable=True),
)
reviews = sa.Table(
    "device_profile_reviews", metadata,
    sa.Column("profile_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("decision", sa.String(16), nullable=False),  # approved | rejected
    sa.Column("reviewed_by", sa.String(128), nullable=False),
    sa.Column("reviewed_at", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, default=""),
)


class ProfileStoreError(ProfileError):
    """A stored-profile operation was refused (unknown version, conflict)."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    profile_id: str
    version: int
    sha256: str
    vendor: str
    model: str
    uploaded_by: str
    uploaded_at: int
    active: bool
    text: str = ""
    state: str = "pending"  # pending | active | inactive | rejected
    reviewed_by: str = ""
    reviewed_at: int | None = None
    review_reason: str = ""

    @property
    def source(self) -> str:
        return f"db:{self.profile_id}@v{self.version}"


def create_tables(engine: sa.Engine) -> None:
    """Bring the state DB to this release's schema (:func:`~device_profiles.state_db.ensure_schema`: the
    migrations create these tables, as every other package's)."""
    ensure_schema(engine)


def validate(text: str | bytes, source: str = "<upload>", root: str = ROOT) -> list[Issue]:
    """All issues of a profile text (empty list: valid)."""
    try:
        compile_profile(text, source, root)
    except ProfileValidationError as exc:
        return exc.issues
    return []


def _select() -> sa.Select[tuple[object, ...]]:
    return (sa.select(versions, reviews.c.decision, reviews.c.reviewed_by, reviews.c.reviewed_at, reviews.c.reason)
            .select_from(versions.outerjoin(reviews, sa.and_(reviews.c.profile_id == versions.c.profile_id,
                                                            reviews.c.version == versions.c.version))))


def _row(r: sa.Row[tuple[object, ...]], with_text: bool) -> StoredVersion:
    m = r._mapping
    active = bool(m["active"])
    if active:
        state = "active"
    elif m["decision"] == "rejected":
        state = "rejected"
    elif m["decision"] == "approved" or m["activated_at"] is not None:
        state = "inactive"
    else:
        state = "pending"
    return StoredVersion(m["profile_id"], m["version"], m["sha256"], m["vendor"], m["model"], m["uploaded_by"],
                         m["uploaded_at"], active, m["text"] if with_text else "", state,
                         m["reviewed_by"] or "", m["reviewed_at"], m["reason"] or "")


def store_version(engine: sa.Engine, text: str | bytes, uploaded_by: str, root: str = ROOT) -> StoredVersion:
    """Validate and store a new version (not active). Raises :class:`ProfileValidationError`."""
    body = text.decode("utf-8") if isinstance(text, bytes) else text
    compiled: CompiledProfile = compile_profile(body, "<upload>", root)
    now = time.time_ns() // 1_000_000
    with engine.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(versions.c.version))
                            .where(versions.c.profile_id == compiled.id)).scalar()
        version = int(last or 0) + 1
        conn.execute(versions.insert().values(
            profile_id=compiled.id, version=version, text=body, sha256=compiled.sha256,
            vendor=compiled.profile.vendor, model=compiled.profile.model, uploaded_by=uploaded_by[:128],
            uploaded_at=now, active=False))
    return StoredVersion(compiled.id, version, compiled.sha256, compiled.profile.vendor, compiled.profile.model,
                         uploaded_by[:128], now, False, body)


def list_versions(engine: sa.Engine, profile_id: str | None = None) -> list[StoredVersion]:
    q = _select().order_by(versions.c.profile_id, versions.c.version)
    if profile_id is not None:
        q = q.where(versions.c.profile_id == profile_id)
    with engine.connect() as conn:
        return [_row(r, False) for r in conn.execute(q)]


def get_version(engine: sa.Engine, profile_id: str, version: int) -> StoredVersion:
    with engine.connect() as conn:
        r = conn.execute(_select().where(versions.c.profile_id == profile_id,
                                         versions.c.version == version)).first()
    if r is None:
        raise ProfileStoreError(f"profile {profile_id!r} has no version {version}")
    return _row(r, True)


def active_texts(engine: sa.Engine) -> list[StoredText]:
    """The active version of every stored profile, for :meth:`ProfileRegistry.set_stored`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(versions).where(versions.c.active.is_(True)).order_by(versions.c.profile_id))
        return [StoredText(f"db:{r._mapping['profile_id']}@v{r._mapping['version']}", r._mapping["text"])
                for r in rows]


def _review(conn: sa.Connection, profile_id: str, version: int, decision: str, by: str, reason: str,
            now: int) -> None:
    conn.execute(reviews.delete().where(reviews.c.profile_id == profile_id, reviews.c.version == version))
    conn.execute(reviews.insert().values(profile_id=profile_id, version=version, decision=decision,
                                         reviewed_by=by[:128], reviewed_at=now, reason=reason[:500]))


def activate(engine: sa.Engine, profile_id: str, version: int, root: str = ROOT,
             directories: tuple[str, ...] = (), reviewed_by: str = "") -> StoredVersion:
    """Make ``version`` the active one (others of that id deactivated) after a conflict check; the
    activation is the approval by ``reviewed_by``. A rejected version is refused."""
    target = get_version(engine, profile_id, version)
    if target.state == "rejected":
        raise ProfileStoreError(f"profile {profile_id!r} version {version} was rejected by {target.reviewed_by}; "
                                "upload a new version")
    others = [t for t in active_texts(engine) if not t.source.startswith(f"db:{profile_id}@")]
    trial = ProfileRegistry(root, directories)
    trial.set_stored([*others, StoredText(target.source, target.text)])
    if target.source in trial.problems:
        raise ProfileStoreError(trial.problems[target.source])
    now = time.time_ns() // 1_000_000
    with engine.begin() as conn:
        conn.execute(versions.update().where(versions.c.profile_id == profile_id).values(active=False))
        conn.execute(versions.update().where(versions.c.profile_id == profile_id, versions.c.version == version)
                     .values(active=True, activated_at=now))
        if reviewed_by:
            _review(conn, profile_id, version, "approved", reviewed_by, "", now)
    return get_version(engine, profile_id, version)


def reject(engine: sa.Engine, profile_id: str, version: int, reviewed_by: str, reason: str = "") -> StoredVersion:
    """Refuse ``version`` for good (deactivated if it was live; re-activating it is refused)."""
    get_version(engine, profile_id, version)  # raises when unknown
    now = time.time_ns() // 1_000_000
    with engine.begin() as conn:
        conn.execute(versions.update().where(versions.c.profile_id == profile_id, versions.c.version == version)
                     .values(active=False))
        _review(conn, profile_id, version, "rejected", reviewed_by, reason, now)
    return get_version(engine, profile_id, version)


def deactivate(engine: sa.Engine, profile_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(versions.update().where(versions.c.profile_id == profile_id).values(active=False))
