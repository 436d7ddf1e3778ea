"""The hash-chained audit log: appends link, verify finds the first edited, deleted or reordered entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard_api import AuditLog, verify
from dashboard_api.audit import GENESIS


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(sa.create_engine(f"sqlite:///{tmp_path}/a.sqlite3"))


def fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.append("nina", "nurse", "read", f"patient/p-{i}/vitals", {"i": i}, t_ms=1_700_000_000_000 + i)


def test_chain_links_and_verifies(log: AuditLog) -> None:
    fill(log)
    rows = log.entries()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))
    res = verify(log.engine)
    assert res.ok and res.entries == 5
    assert log.head() == (5, rows[-1]["hash"])


def test_empty_log_verifies(log: AuditLog) -> None:
    assert verify(log.engine).ok


@pytest.mark.parametrize("column,value", [("resource", "patient/p-9/vitals"), ("actor", "mallory"),
                                          ("detail", '{"i":99}'), ("t", 1)])
def test_edited_entry_is_named(log: AuditLog, column: str, value: object) -> None:
    fill(log)
    with log.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE dashboard_audit SET {column} = :v WHERE seq = 3"), {"v": value})
    res = verify(log.engine)
    assert res.broken is not None and res.broken.seq == 3 and "edited" in res.broken.reason


def test_edit_with_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    from dashboard_api.audit import entry_hash

    fill(log)
    with log.engine.begin() as conn:
        r = conn.execute(sa.text("SELECT * FROM dashboard_audit WHERE seq = 2")).mappings().one()
        h = entry_hash(2, r["t"], "mallory", r["role"], r["action"], r["resource"], r["detail"], r["prev_hash"])
        conn.execute(sa.text("UPDATE dashboard_audit SET actor = 'mallory', hash = :h WHERE seq = 2"), {"h": h})
    res = verify(log.engine)
    assert res.broken is not None and res.broken.seq == 3 and "prev_hash" in res.broken.reason


def test_deleted_entry_is_named(log: AuditLog) -> None:
    fill(log)
    with log.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dashboard_audit WHERE seq = 4"))
    res = verify(log.engine)
    assert res.broken is not None and res.broken.seq == 5 and "missing" in res.broken.reason


def test_appends_continue_the_chain_after_reopen(log: AuditLog, tmp_path: Path) -> None:
    fill(log, 2)
    again = AuditLog(sa.create_engine(f"sqlite:///{tmp_path}/a.sqlite3"))
    assert again.append("carl", "charge_nurse", "alarm.acknowledge", "alarm/a1") == 3
    assert verify(again.engine).ok


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
    assert verify(log.engine).ok
    assert log.import_alarm_events([]) == 0 and log.cursor("alerting_alarm_events") == 9
