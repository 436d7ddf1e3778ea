"""Issue 13, finding 9: ``smartward audit`` with the keyed chain. Deleting the newest entries is found
against a witnessed head (``--expect-head``, ``--witness`` from ``export-head``); verify needs the key;
editing an entry and recomputing its hash without the key is found."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from dashboard_api import AuditLog
from dashboard_api.audit import read_key_file
from smartward.cli import main


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMARTWARD_AUDIT_KEY", "SMARTWARD_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A state DB (not in the key's directory) with 6 entries sealed by ``tmp/keys/audit.key``."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "db").mkdir()
    assert main(["audit", "keygen", str(tmp_path / "keys" / "audit.key")]) == 0
    assert "written" in capsys.readouterr().out
    url = f"sqlite:///{tmp_path}/db/state.sqlite3"
    log = AuditLog(sa.create_engine(url), read_key_file(tmp_path / "keys" / "audit.key"))
    for i in range(6):
        log.append("nina", "nurse", "read", f"patient/p-{i}/vitals", {"i": i})
    return url


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keygen_writes_a_private_key_and_refuses_to_overwrite(tmp_path: Path, state: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "keys" / "audit.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    code, _, err = cli(capsys, "keygen", str(key))
    assert code == 1 and "exists" in err


def test_verify_needs_the_key(tmp_path: Path, state: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "verify", "--state", state)
    assert code == 1 and "not among the keys given" in err and "--key-file" in err
    key = str(tmp_path / "keys" / "audit.key")
    code, out, _ = cli(capsys, "verify", "--state", state, "--key-file", key)
    assert code == 0 and "6 entries" in out
    os.environ["SMARTWARD_AUDIT_KEY_FILE"] = key
    try:
        assert cli(capsys, "verify", "--state", state)[0] == 0
    finally:
        del os.environ["SMARTWARD_AUDIT_KEY_FILE"]


def test_truncation_is_found_against_the_head_and_the_witness_file(tmp_path: Path, state: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    key = str(tmp_path / "keys" / "audit.key")
    code, head, _ = cli(capsys, "head", "--state", state)
    assert code == 0 and head.startswith("6:")
    witness = tmp_path / "worm" / "audit-heads.jsonl"
    witness.parent.mkdir()
    assert cli(capsys, "export-head", "--state", state, "--key-file", key, "--output", str(witness))[0] == 0
    assert orjson.loads(witness.read_text())["seq"] == 6
    engine = sa.create_engine(state)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dashboard_audit WHERE seq >= 5"))
    assert cli(capsys, "verify", "--state", state, "--key-file", key)[0] == 0  # a shorter chain is a valid chain
    code, _, err = cli(capsys, "verify", "--state", state, "--key-file", key, "--expect-head", head.strip())
    assert code == 1 and "BROKEN at entry 6" in err and "newest entries were deleted" in err
    code, _, err = cli(capsys, "verify", "--state", state, "--key-file", key, "--witness", str(witness))
    assert code == 1 and "newest entries were deleted" in err
    # a witness line edited to match the truncated log is refused (its MAC is over seq, hash and time)
    doc = orjson.loads(witness.read_text())
    witness.write_text(orjson.dumps({**doc, "seq": 4}).decode() + "\n")
    code, _, err = cli(capsys, "verify", "--state", state, "--key-file", key, "--witness", str(witness))
    assert code == 1 and "MAC does not match" in err
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "verify", "--state", state, "--expect-head", "6-nothex"])
    assert exit_.value.code == 2 and "is not SEQ:HASH" in capsys.readouterr().err


def test_edit_with_recomputed_hash_is_found(tmp_path: Path, state: str, capsys: pytest.CaptureFixture[str]) -> None:
    """What passed before: change one entry's role and recompute its hash (and every later link)."""
    key = str(tmp_path / "keys" / "audit.key")
    engine = sa.create_engine(state)
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM dashboard_audit WHERE seq >= 3 ORDER BY seq")).mappings().all()
        prev = rows[0]["prev_hash"]
        for r in rows:
            role = "admin" if r["seq"] == 3 else r["role"]
            h = hashlib.sha256(orjson.dumps([r["seq"], r["t"], r["actor"], role, r["action"], r["resource"],
                                             r["detail"], prev])).hexdigest()
            conn.execute(sa.text("UPDATE dashboard_audit SET role = :role, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"role": role, "p": prev, "h": h, "s": r["seq"]})
            prev = h
    code, _, err = cli(capsys, "verify", "--state", state, "--key-file", key)
    assert code == 1 and "BROKEN at entry 3" in err


def test_a_legacy_unkeyed_log_verifies_with_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.dashboard.test_audit import legacy_db

    engine = legacy_db(tmp_path / "old.sqlite3", 4)
    url = str(engine.url)
    code, out, err = cli(capsys, "verify", "--state", url)
    assert code == 0 and "entries 1-4 predate the keyed chain" in err and "4 entries" in out
    code, _, err = cli(capsys, "verify", "--state", url, "--require-keyed")
    assert code == 1 and "--require-keyed" in err


def test_export_head_without_a_key_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "export-head", "--state", f"sqlite:///{tmp_path}/s.sqlite3")
    assert code == 1 and err.count("\n") == 1 and "no audit key" in err
