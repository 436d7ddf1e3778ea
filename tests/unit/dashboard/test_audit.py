"""The keyed (HMAC-SHA256) hash-chained audit log: appends link, verify finds the first edited, deleted,
re-hashed or reordered entry; truncation is found against a witnessed head; the key lives outside the DB."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from dashboard_api import AuditLog, verify
from dashboard_api.audit import GENESIS, AuditKey, Head, check_witness, read_key_file
from dashboard_api.errors import AuditError, ConfigError
from smartward.settings import load_audit_key

KEY = AuditKey(b"k" * 32, "test")
OTHER = AuditKey(b"o" * 32, "other")


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMARTWARD_AUDIT_KEY", "SMARTWARD_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(sa.create_engine(f"sqlite:///{tmp_path}/a.sqlite3"), KEY)


def fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.append("nina", "nurse", "read", f"patient/p-{i}/vitals", {"i": i}, t_ms=1_700_000_000_000 + i)


def sha256_chain_from(engine: sa.Engine, seq: int, **changes: object) -> None:
    """What an attacker with write access but no key does: edit entry ``seq`` and recompute every hash
    from there with the unkeyed scheme, so every link matches again."""
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM dashboard_audit WHERE seq >= :s ORDER BY seq"),
                            {"s": seq}).mappings().all()
        prev = rows[0]["prev_hash"]
        for r in rows:
            r = {**r, **(changes if r["seq"] == seq else {})}
            body = orjson.dumps([r["seq"], r["t"], r["actor"], r["role"], r["action"], r["resource"], r["detail"], prev])
            h = hashlib.sha256(body).hexdigest()
            conn.execute(sa.text("UPDATE dashboard_audit SET actor=:actor, role=:role, action=:action, "
                                 "prev_hash=:prev, hash=:h, key_id='' WHERE seq=:seq"),
                         {**r, "prev": prev, "h": h})
            prev = h


def test_chain_links_and_verifies(log: AuditLog) -> None:
    fill(log)
    rows = log.entries()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))
    assert {r["key_id"] for r in rows} == {KEY.key_id}
    res = verify(log.engine, [KEY])
    assert res.ok and res.entries == 5 and res.legacy == 0
    assert log.head() == Head(5, rows[-1]["hash"])


def test_empty_log_verifies(log: AuditLog) -> None:
    assert verify(log.engine, [KEY]).ok


@pytest.mark.parametrize("column,value", [("resource", "patient/p-9/vitals"), ("actor", "mallory"),
                                          ("role", "admin"), ("action", "login"),
                                          ("detail", '{"i":99}'), ("t", 1)])
def test_edited_entry_is_named(log: AuditLog, column: str, value: object) -> None:
    fill(log)
    with log.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE dashboard_audit SET {column} = :v WHERE seq = 3"), {"v": value})
    res = verify(log.engine, [KEY])
    assert res.broken is not None and res.broken.seq == 3 and "edited" in res.broken.reason


@pytest.mark.parametrize("column,value", [("role", "admin"), ("action", "login"), ("actor", "mallory")])
def test_edit_with_the_whole_chain_recomputed_without_the_key_is_found(log: AuditLog, column: str,
                                                                       value: str) -> None:
    fill(log)
    sha256_chain_from(log.engine, 2, **{column: value})
    res = verify(log.engine, [KEY])
    assert res.broken is not None and res.broken.seq == 2 and "without the audit key" in res.broken.reason


def test_rehashed_with_another_key_is_found(log: AuditLog) -> None:
    fill(log)
    forged = AuditLog(log.engine, OTHER)
    forged.append("mallory", "admin", "read", "patient/p-1/vitals")
    res = verify(log.engine, [KEY])
    assert res.broken is not None and res.broken.seq == 6 and "not among the keys given" in res.broken.reason


def test_deleted_entry_is_named(log: AuditLog) -> None:
    fill(log)
    with log.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dashboard_audit WHERE seq = 4"))
    res = verify(log.engine, [KEY])
    assert res.broken is not None and res.broken.seq == 5 and "missing" in res.broken.reason


def test_deleting_the_newest_entries_is_found_against_the_witnessed_head(log: AuditLog) -> None:
    fill(log)
    witnessed = log.head()
    with log.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dashboard_audit WHERE seq >= 4"))
    assert verify(log.engine, [KEY]).ok  # nothing in the DB itself can tell
    res = verify(log.engine, [KEY], expect=[witnessed])
    assert res.broken is not None and res.broken.seq == 5 and "deleted" in res.broken.reason
    # appends after the witnessed head are fine; a different entry at the witnessed seq is not
    fill(log, 3)
    res = verify(log.engine, [KEY], expect=[witnessed])
    assert res.broken is not None and res.broken.seq == 5 and "witness" in res.broken.reason


def test_witnessed_head_still_present_verifies_with_later_appends(log: AuditLog) -> None:
    fill(log, 3)
    witnessed = log.head()
    fill(log, 2)
    assert verify(log.engine, [KEY], expect=[witnessed]).ok
    assert Head.parse(f"{witnessed.seq}:{witnessed.hash}") == witnessed
    with pytest.raises(ValueError, match="SEQ:HASH"):
        Head.parse("3-abc")


def test_signed_head_export_and_witness_check(log: AuditLog) -> None:
    fill(log, 3)
    line = log.signed_head(t_ms=1_700_000_000_999)
    doc = orjson.loads(line)
    assert (doc["seq"], doc["hash"], doc["t"], doc["key_id"]) == (3, log.head().hash, 1_700_000_000_999, KEY.key_id)
    assert check_witness([line], [KEY]) == [Head(3, doc["hash"])]
    forged = orjson.dumps({**doc, "seq": 2}).decode()
    with pytest.raises(AuditError, match="witness line 2: MAC does not match"):
        check_witness([line, forged], [KEY])
    with pytest.raises(AuditError, match="not among the keys given"):
        check_witness([line], [OTHER])


def test_appending_needs_the_key_reading_does_not(log: AuditLog) -> None:
    fill(log, 2)
    reader = AuditLog(log.engine)
    assert len(reader.entries()) == 2 and reader.head().seq == 2
    with pytest.raises(AuditError, match="no audit key"):
        reader.append("carl", "charge_nurse", "alarm.acknowledge", "alarm/a1")


def test_appends_continue_the_chain_after_reopen(log: AuditLog, tmp_path: Path) -> None:
    fill(log, 2)
    again = AuditLog(sa.create_engine(f"sqlite:///{tmp_path}/a.sqlite3"), KEY)
    assert again.append("carl", "charge_nurse", "alarm.acknowledge", "alarm/a1") == 3
    assert verify(again.engine, [KEY]).ok


def test_rotated_key_verifies_with_both_keys(log: AuditLog) -> None:
    fill(log, 2)
    AuditLog(log.engine, OTHER).append("carl", "charge_nurse", "alarm.acknowledge", "alarm/a1")
    res = verify(log.engine, [KEY, OTHER])
    assert res.ok and res.key_ids == (KEY.key_id, OTHER.key_id)
    assert not verify(log.engine, [OTHER]).ok


def legacy_db(path: Path, n: int) -> sa.Engine:
    """A state DB written by the unkeyed audit log (before the ``key_id`` column existed)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE dashboard_audit (seq INTEGER PRIMARY KEY, t BIGINT NOT NULL, "
                             "actor VARCHAR(64) NOT NULL, role VARCHAR(32) NOT NULL, action VARCHAR(64) NOT NULL, "
                             "resource VARCHAR(256) NOT NULL, detail TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL, "
                             "hash VARCHAR(64) NOT NULL)"))
        prev = GENESIS
        for seq in range(1, n + 1):
            row = [seq, 1_600_000_000_000 + seq, "old", "nurse", "read", f"patient/p-{seq}", "{}", prev]
            h = hashlib.sha256(orjson.dumps(row)).hexdigest()
            conn.execute(sa.text("INSERT INTO dashboard_audit VALUES (:s, :t, 'old', 'nurse', 'read', :r, '{}', :p, :h)"),
                         {"s": seq, "t": row[1], "r": row[5], "p": prev, "h": h})
            prev = h
    return engine


def test_legacy_unkeyed_entries_verify_as_legacy_and_keyed_ones_follow(tmp_path: Path) -> None:
    engine = legacy_db(tmp_path / "old.sqlite3", 3)
    assert verify(engine, []).legacy == 3
    log = AuditLog(engine, KEY)
    fill(log, 2)
    res = verify(engine, [KEY])
    assert res.ok and res.entries == 5 and res.legacy == 3
    # a keyed entry rewritten as a legacy one (to recompute it without the key) is refused
    sha256_chain_from(engine, 5, actor="mallory")
    res = verify(engine, [KEY])
    assert res.broken is not None and res.broken.seq == 5


def test_keyed_entries_need_a_key_to_verify(log: AuditLog) -> None:
    fill(log, 1)
    res = verify(log.engine, [])
    assert res.broken is not None and res.broken.seq == 1 and "not among the keys given" in res.broken.reason


# -- the key -------------------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SMARTWARD_AUDIT_KEY_FILE"):
        load_audit_key("production", tmp_path)
    assert not (tmp_path / "audit.key").exists()


def test_production_takes_the_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", "x" * 40)
    assert load_audit_key("production", tmp_path).key_id == AuditKey(b"x" * 40, "").key_id
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        load_audit_key("production", tmp_path)
    monkeypatch.delenv("SMARTWARD_AUDIT_KEY")
    f = tmp_path / "k"
    f.write_text("y" * 64 + "\n")
    f.chmod(0o600)
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY_FILE", str(f))
    assert load_audit_key("production", tmp_path).key_id == AuditKey(b"y" * 64, "").key_id
    f.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_audit_key("production", tmp_path)


def test_development_generates_a_private_key_file_once(tmp_path: Path) -> None:
    first = load_audit_key("development", tmp_path)
    path = tmp_path / "audit.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_audit_key("development", tmp_path).key_id == first.key_id
    assert read_key_file(path).key_id == first.key_id
    assert "k" * 32 not in repr(KEY)  # the secret never appears in logs or tracebacks


def test_alarm_events_are_imported_in_order_with_a_cursor(log: AuditLog) -> None:
    fill(log, 2)
    events = [{"seq": 7, "alarm_id": "a1", "t": 1_700_000_000_100, "event": "raised", "state": "active",
               "priority": "high", "by": None, "reason": "SpO2 84 % below 85 %"},
              {"seq": 9, "alarm_id": "a1", "t": 1_700_000_000_200, "event": "acknowledged", "state": "acknowledged",
               "priority": "high", "by": "nina", "reason": "SpO2 84 % below 85 %"}]
    assert log.import_alarm_events(events) == 2
    assert log.cursor("alerting_alarm_events") == 9
    rows = log.entries(since_seq=2)
    assert [(r["actor"], r["role"], r["action"]) for r in rows] == [
        ("alerting", "system", "alarm.raised"), ("nina", "user", "alarm.acknowledged")]
    assert verify(log.engine, [KEY]).ok
    assert log.import_alarm_events([]) == 0 and log.cursor("alerting_alarm_events") == 9
