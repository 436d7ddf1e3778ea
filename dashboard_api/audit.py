"""The hash-chained audit log (table ``dashboard_audit`` in the state DB).

Every read of patient data, every alarm action and every ADT change is appended as one entry.
Each entry stores ``prev_hash`` (the previous entry's ``hash``) and its own ``hash`` =
SHA-256 over its sequence number, time, actor, role, action, resource, details and ``prev_hash``.
Editing any field, deleting or re-ordering entries breaks the chain at that entry;
:func:`verify` names the first broken one. (Truncating the newest entries is detected only against
an exported head hash: :func:`head` gives it for off-site anchoring.)
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from .errors import AuditError

GENESIS = "0" * 64
metadata = sa.MetaData()
audit_table = sa.Table(
    "dashboard_audit", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("t", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource", sa.String(256), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def entry_hash(seq: int, t: int, actor: str, role: str, action: str, resource: str, detail: str,
               prev_hash: str) -> str:
    body = orjson.dumps([seq, t, actor, role, action, resource, detail, prev_hash])
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class Broken:
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entries: int
    broken: Broken | None

    @property
    def ok(self) -> bool:
        return self.broken is None


class AuditLog:
    """Appends are serialised (one writer per process, a transaction per entry). Synchronous: call
    through ``asyncio.to_thread`` from async code."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        try:
            metadata.create_all(engine)
        except sa.exc.SQLAlchemyError as exc:
            raise AuditError(f"audit log: {exc}") from exc

    def append(self, actor: str, role: str, action: str, resource: str, detail: dict[str, Any] | None = None,
               t_ms: int | None = None) -> int:
        t = int(time.time() * 1000) if t_ms is None else t_ms
        d = orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode()
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(sa.select(audit_table.c.seq, audit_table.c.hash)
                                        .order_by(audit_table.c.seq.desc()).limit(1)).first()
                    seq, prev = (last.seq + 1, last.hash) if last is not None else (1, GENESIS)
                    h = entry_hash(seq, t, actor, role, action, resource, d, prev)
                    conn.execute(audit_table.insert().values(seq=seq, t=t, actor=actor, role=role, action=action,
                                                             resource=resource, detail=d, prev_hash=prev, hash=h))
            except sa.exc.SQLAlchemyError as exc:
                raise AuditError(f"audit log append failed: {exc.__class__.__name__}") from exc
        return seq

    def entries(self, since_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_table).where(audit_table.c.seq > since_seq)
                                .order_by(audit_table.c.seq).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(audit_table.c.seq, audit_table.c.hash)
                                .order_by(audit_table.c.seq.desc()).limit(1)).first()
        return (last.seq, last.hash) if last is not None else (0, GENESIS)


def verify(engine: sa.Engine) -> VerifyResult:
    """Walk the chain in order; the first entry whose hash, link or sequence is wrong is reported."""
    metadata.create_all(engine)
    prev, expected_seq, n = GENESIS, 1, 0
    with engine.connect() as conn:
        for r in conn.execute(sa.select(audit_table).order_by(audit_table.c.seq)).mappings():
            n += 1
            seq = int(r["seq"])
            if seq != expected_seq:
                return VerifyResult(n, Broken(seq, f"entry {expected_seq} is missing (found {seq} next)"))
            if r["prev_hash"] != prev:
                return VerifyResult(n, Broken(seq, "prev_hash does not match the previous entry "
                                                   "(the entry before it was changed or deleted)"))
            if entry_hash(seq, r["t"], r["actor"], r["role"], r["action"], r["resource"], r["detail"],
                          r["prev_hash"]) != r["hash"]:
                return VerifyResult(n, Broken(seq, "content does not match its hash (entry was edited)"))
            prev, expected_seq = r["hash"], expected_seq + 1
    return VerifyResult(n, None)
