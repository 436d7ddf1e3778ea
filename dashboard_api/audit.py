"""The keyed, hash-chained audit log (table ``dashboard_audit`` in the state DB).

Every read of patient data, every alarm action and every ADT change is appended as one entry;
alerting's alarm events (raised, escalated, acknowledged, … with who did it) are imported in order
(:meth:`AuditLog.import_alarm_events`, cursor ``alerting_alarm_events``).

Each entry stores ``prev_hash`` (the previous entry's ``hash``), the ``key_id`` of the key that sealed it
and its own ``hash`` = HMAC-SHA256, under the audit key, over every field: sequence number, time, actor,
role, action, resource, details, ``prev_hash`` and ``key_id``. The key is held outside the database
(:func:`load_audit_key`), so whoever can write the database but not read the key cannot edit an entry and
recompute the chain: :func:`verify` names the first entry edited, deleted, re-ordered or re-hashed.
Deleting the *newest* entries leaves a valid shorter chain; it is found against a head witnessed
outside the database (:meth:`AuditLog.signed_head`, exported by ``smartward audit export-head`` to a
WORM file or syslog, checked by ``verify(expect=…)``).

Entries written before the chain was keyed (``key_id`` ``''``: plain SHA-256, no key) still verify, and
:attr:`VerifyResult.legacy` counts them: they prove order and content only up to a witnessed head. An
unkeyed entry after a keyed one is refused (that is what re-hashing without the key looks like).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from device_profiles.state_db import StateSchemaError, ensure_schema

from .errors import AuditError, ConfigError

log = logging.getLogger(__name__)
GENESIS = "0" * 64
LEGACY = ""  # key_id of entries written before the chain was keyed (plain SHA-256)
MIN_KEY_CHARS = 32
DEV_KEY_FILE = "audit.key"
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
    sa.Column("key_id", sa.String(16), nullable=False, server_default=sa.text("''")),
)
cursors = sa.Table(  # how far an imported source (alerting's alarm events) has been appended
    "dashboard_audit_cursors", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
Entry = tuple[str, str, str, str, dict[str, Any], int]  # actor, role, action, resource, detail, t_ms
# the key each database is sealed with by a writable AuditLog in this process (by engine URL):
# verify() with no keys checks against it, as a fresh AuditLog(engine) reader cannot know it
_sealing_keys: dict[str, AuditKey] = {}


# -- the key -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AuditKey:
    """The HMAC key; ``source`` says where it came from (for messages). The secret is never printed."""

    secret: bytes = field(repr=False)
    source: str = ""

    @property
    def key_id(self) -> str:
        """16 hex digits naming the key (stored with each entry; reveals nothing about the secret)."""
        return hmac.new(self.secret, b"smartward-audit-key-id", hashlib.sha256).hexdigest()[:16]

    def mac(self, fields: list[Any]) -> str:
        return hmac.new(self.secret, orjson.dumps(fields), hashlib.sha256).hexdigest()


def key_from_text(text: str, source: str) -> AuditKey:
    """The key in ``text`` (from ``source``, for messages); at least 32 characters."""
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise ConfigError(f"the audit key in {source} must be at least {MIN_KEY_CHARS} characters (create one with "
                          "`smartward audit keygen FILE`)")
    return AuditKey(text.encode(), source)


def read_key_file(path: str | Path) -> AuditKey:
    """The key in ``path``; refused unless only its owner can read it (mode 0600 or 0400)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        if mode & 0o077:
            raise ConfigError(f"audit key file {p} is readable by others (mode {mode & 0o777:o}); chmod 600 {p}")
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"audit key file {p}: {exc.strerror or exc}") from None
    return key_from_text(text, str(p))


def write_key_file(path: str | Path) -> AuditKey:
    """Create ``path`` (mode 0600, refused if it exists) holding a new random key."""
    text = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(f"audit key file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return AuditKey(text.encode(), str(path))


def load_audit_key(environment: str, data_dir: str | Path, configured: AuditKey | None) -> AuditKey:
    """The key the API seals entries with: the ``configured`` one (``SMARTWARD_AUDIT_KEY_FILE`` or
    ``SMARTWARD_AUDIT_KEY``, read by ``smartward.settings``). Production refuses to start without it;
    development (the demo) uses ``{data_dir}/audit.key``, generated (mode 0600) on first use."""
    if configured is not None:
        return configured
    if environment != "development":
        raise ConfigError("SMARTWARD_AUDIT_KEY_FILE (or SMARTWARD_AUDIT_KEY) is unset: production needs the "
                          "audit-log key, kept outside the database (create one with `smartward audit keygen FILE`)")
    path = Path(data_dir) / DEV_KEY_FILE
    if path.exists():
        return read_key_file(path)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    log.warning("audit log: generated the key %s (development only; production needs SMARTWARD_AUDIT_KEY_FILE)", path)
    return write_key_file(path)


def default_keys(engine: sa.Engine, configured: AuditKey | None) -> list[AuditKey]:
    """The keys to verify with when given none: the ``configured`` one (``SMARTWARD_AUDIT_KEY(_FILE)``,
    from ``smartward.settings``) and, for a SQLite state DB, the development key beside it
    (``audit.key``, as ``demo`` and ``serve`` keep it)."""
    keys: list[AuditKey] = []
    if configured is not None:
        keys.append(configured)
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if db and db != ":memory:":
        dev = Path(db).resolve().parent / DEV_KEY_FILE
        if dev.exists():
            keys.append(read_key_file(dev))
    return keys


# -- hashes --------------------------------------------------------------------------------------------

def legacy_hash(seq: int, t: int, actor: str, role: str, action: str, resource: str, detail: str,
                prev_hash: str) -> str:
    """The unkeyed SHA-256 of entries written before the chain was keyed."""
    return hashlib.sha256(orjson.dumps([seq, t, actor, role, action, resource, detail, prev_hash])).hexdigest()


def entry_hash(key: AuditKey, seq: int, t: int, actor: str, role: str, action: str, resource: str, detail: str,
               prev_hash: str) -> str:
    return key.mac(["smartward-audit-entry-v2", seq, t, actor, role, action, resource, detail, prev_hash, key.key_id])


@dataclass(frozen=True, slots=True)
class Head:
    """An entry's place in the chain: a witness of it proves every entry up to it."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, sep, h = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise ValueError(f"{text!r} is not SEQ:HASH (e.g. 42:{'ab' * 32})")
        return cls(int(seq), h)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def head_mac(key: AuditKey, seq: int, h: str, t: int) -> str:
    return key.mac(["smartward-audit-head-v1", seq, h, t, key.key_id])


def check_witness(lines: Iterable[str], keys: Sequence[AuditKey]) -> list[Head]:
    """The heads in a witness file (JSON lines from :meth:`AuditLog.signed_head`), each MAC checked."""
    by_id = {k.key_id: k for k in keys}
    heads: list[Head] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
            seq, h, t, key_id, mac = int(doc["seq"]), str(doc["hash"]), int(doc["t"]), str(doc["key_id"]), str(doc["mac"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise AuditError(f"witness line {n}: not a head exported by `smartward audit export-head`") from None
        key = by_id.get(key_id)
        if key is None:
            raise AuditError(f"witness line {n}: signed with audit key {key_id}, not among the keys given")
        if not hmac.compare_digest(head_mac(key, seq, h, t), mac):
            raise AuditError(f"witness line {n}: MAC does not match (edited, or not exported with this key)")
        heads.append(Head(seq, h))
    return heads


# -- the log ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Broken:
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entries: int
    broken: Broken | None
    legacy: int = 0  # leading entries written before the chain was keyed (unkeyed SHA-256)
    key_ids: tuple[str, ...] = ()  # keys that sealed the keyed entries, in order of first use

    @property
    def ok(self) -> bool:
        return self.broken is None


class AuditLog:
    """Appends are serialised (one writer per process, a transaction per entry) and need the ``key``;
    without one the log is read-only. Synchronous: call through ``asyncio.to_thread`` from async code."""

    def __init__(self, engine: sa.Engine, key: AuditKey | None = None) -> None:
        self.engine = engine
        self.key = key
        if key is not None:
            _sealing_keys[str(engine.url)] = key
        self._lock = threading.Lock()
        try:  # a table from before the keyed chain gets its ``key_id`` column (baseline migration)
            ensure_schema(engine)
        except (sa.exc.SQLAlchemyError, StateSchemaError) as exc:
            raise AuditError(f"audit log: {exc}") from exc

    def append(self, actor: str, role: str, action: str, resource: str, detail: dict[str, Any] | None = None,
               t_ms: int | None = None) -> int:
        t = int(time.time() * 1000) if t_ms is None else t_ms
        return self.append_many([(actor, role, action, resource, detail or {}, t)])

    def append_many(self, entries: list[Entry], cursor: tuple[str, int] | None = None) -> int:
        """Append ``entries`` in order in one transaction (and move ``cursor`` with them); returns the last seq."""
        key = self.key
        if key is None:
            raise AuditError("no audit key: this audit log was opened read-only")
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
                        h = entry_hash(key, seq, t, actor, role, action, resource, d, prev)
                        rows.append({"seq": seq, "t": t, "actor": actor, "role": role, "action": action,
                                     "resource": resource, "detail": d, "prev_hash": prev, "hash": h,
                                     "key_id": key.key_id})
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

    def head(self) -> Head:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(audit_table.c.seq, audit_table.c.hash)
                                .order_by(audit_table.c.seq.desc()).limit(1)).first()
        return Head(last.seq, last.hash) if last is not None else Head(0, GENESIS)

    def signed_head(self, t_ms: int | None = None) -> str:
        """The head as one JSON line ``{seq, hash, t, key_id, mac}`` for an external witness; the MAC
        (under the audit key) covers seq, hash, t and key_id."""
        if self.key is None:
            raise AuditError("no audit key: a head can be signed only with the audit key")
        h = self.head()
        t = int(time.time() * 1000) if t_ms is None else t_ms
        return orjson.dumps({"seq": h.seq, "hash": h.hash, "t": t, "key_id": self.key.key_id,
                             "mac": head_mac(self.key, h.seq, h.hash, t)}).decode()


def verify(engine: sa.Engine, keys: Sequence[AuditKey] | None = None, expect: Sequence[Head] = ()) -> VerifyResult:
    """Walk the chain in order; the first entry whose hash, link, key or sequence is wrong is reported, as is
    a witnessed head (``expect``) that differs or is gone. ``keys``: every key that sealed entries (the
    current one and those rotated out); default :func:`default_keys` with the key this process seals
    ``engine``'s log with."""
    if keys is None:
        keys = default_keys(engine, _sealing_keys.get(str(engine.url)))
    by_id = {k.key_id: k for k in keys}
    witnessed = {h.seq: h.hash for h in expect}
    # read-only DBs still verify (a missing table is empty), and so does one a newer release migrated
    with contextlib.suppress(sa.exc.SQLAlchemyError, StateSchemaError):
        ensure_schema(engine)
    prev, expected_seq, n, legacy = GENESIS, 1, 0, 0
    used: list[str] = []

    def result(broken: Broken | None) -> VerifyResult:
        return VerifyResult(n, broken, legacy, tuple(used))

    with engine.connect() as conn:
        for r in conn.execute(sa.select(audit_table).order_by(audit_table.c.seq)).mappings():
            n += 1
            seq, key_id = int(r["seq"]), str(r["key_id"])
            if seq != expected_seq:
                return result(Broken(seq, f"entry {expected_seq} is missing (found {seq} next)"))
            if r["prev_hash"] != prev:
                return result(Broken(seq, "prev_hash does not match the previous entry "
                                          "(the entry before it was changed or deleted)"))
            fields = (seq, r["t"], r["actor"], r["role"], r["action"], r["resource"], r["detail"], r["prev_hash"])
            if key_id == LEGACY:
                if used:
                    return result(Broken(seq, "unkeyed entry after keyed ones: it was rewritten without the audit key"))
                if legacy_hash(*fields) != r["hash"]:
                    return result(Broken(seq, "content does not match its hash (entry was edited)"))
                legacy += 1
            else:
                key = by_id.get(key_id)
                if key is None:
                    return result(Broken(seq, f"sealed with audit key {key_id}, not among the keys given "
                                              f"({', '.join(by_id) or 'none'}); pass it with --key-file"))
                if not hmac.compare_digest(entry_hash(key, *fields), str(r["hash"])):
                    return result(Broken(seq, "content does not match its hash (entry was edited)"))
                if key_id not in used:
                    used.append(key_id)
            if seq in witnessed and witnessed[seq] != r["hash"]:
                return result(Broken(seq, f"entry {seq} differs from the witnessed head {seq}:{witnessed[seq]}"))
            prev, expected_seq = r["hash"], expected_seq + 1
    gone = [s for s in witnessed if s >= expected_seq]
    if gone:
        return result(Broken(max(gone), f"the log ends at entry {expected_seq - 1} but the witness saw entry "
                                        f"{max(gone)}: the newest entries were deleted"))
    return result(None)
