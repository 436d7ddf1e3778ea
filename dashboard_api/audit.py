"""The hash-chained audit log (table ``dashboard_audit`` in the state DB).

Every read of patient data, every alarm action and every ADT change is appended as one entry;
alerting's alarm events (raised, escalated, acknowledged, … with who did it) are imported in order
(:meth:`AuditLog.import_alarm_events`, cursor ``alerting_alarm_events``).
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
cursors = sa.Table(  # how far an imported source (alerting's alarm events) has been appended
    "dashboard_audit_cursors", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
Entry = tuple[str, str, str, str, dict[str, Any], int]  # actor, role, action, resource, detail, t_ms


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
        return self.append_many([(actor, role, action, resource, detail or {}, t)])

    def append_many(self, entries: list[Entry], cursor: tuple[str, int] | None = None) -> int:
        """Append ``entries`` in order in one transaction (and move ``cursor`` with them); returns the last seq."""
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(sa.select(audit_table.c.seq, audit_table.c.hash)
                                        .order_by(audit_table.c.seq.desc()).limit(1)).first()
                    seq, prev = (last.seq, last.hash) if last is not None else (0, GENESIS)
                    rows: list[dict[str, Any]] = []
                    for actor, role, action, resource, detail, t in entries:
                        seq += 1
                        d = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
                        h = entry_hash(seq, t, actor, role, action, resource, d, prev)
                        rows.append({"seq": seq, "t": t, "actor": actor, "role": role, "action": action,
                                     "resource": resource, "detail": d, "prev_hash": prev, "hash": h})
                        prev = h
                    if rows:
                        conn.execute(audit_table.insert(), rows)
                    if cursor is not None:
                        name, value = cursor
                        if conn.execute(cursors.update().where(cursors.c.name == name).values(value=value)).rowcount == 0:
                            conn.execute(cursors.insert().values(name=name, value=value))
            except sa.exc.SQLAlchemyError as exc:
                raise AuditError(f"audit log append failed: {exc.__class__.__name__}") from exc
        return seq

    def cursor(self, name: str) -> int:
        with self.engine.connect() as conn:
            v = conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()
        return int(v or 0)

    def import_alarm_events(self, events: list[dict[str, Any]]) -> int:
        """Append alerting's alarm events (``AlarmStore.events(since_seq=cursor("alerting_alarm_events"))``):
        who (``by``, else the system), what, when; the cursor moves in the same transaction."""
        if not events:
            return 0
        entries: list[Entry] = [
            (str(e["by"] or "alerting"), "user" if e["by"] else "system", f"alarm.{e['event']}",
             f"alarm/{e['alarm_id']}", {"alarm_event_seq": e["seq"], "state": e["state"],
                                        "priority": e["priority"], "reason": e["reason"]}, int(e["t"]))
            for e in events]
        self.append_many(entries, ("alerting_alarm_events", int(events[-1]["seq"])))
        return len(entries)

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
