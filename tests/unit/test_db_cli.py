"""``smartward db upgrade|current`` (issue 15): IT migrates the state DB before starting a new version,
sees where it stands, and is refused in one line for a database a newer release migrated; ``serve``
upgrades by itself and refuses such a database before starting anything."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from device_profiles import state_db
from smartward.cli import main

SCHEMAS = Path(__file__).with_name("state_schemas")
REPO = Path(__file__).resolve().parents[2]
HEAD = state_db.head_revision()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["--log-level", "WARNING", "db", *argv])
    out, err = capsys.readouterr()
    return rc, out.strip(), err.strip()


def test_upgrade_then_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/state.sqlite3"
    assert run(capsys, "upgrade", "--state", url) == (
        0, f"state DB {url}: upgraded from an empty database to revision {HEAD}", "")
    assert run(capsys, "upgrade", "--state", url) == (0, f"state DB {url}: already at revision {HEAD} (this release's)", "")
    assert run(capsys, "current", "--state", url, "--check") == (0, f"{HEAD} (this release's revision: up to date)", "")


def test_the_default_state_db_is_serve_s(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "upgrade", "--data-dir", str(tmp_path))
    assert rc == 0 and out.startswith(f"state DB sqlite:///{tmp_path}/state.sqlite3: upgraded")
    assert (tmp_path / "state.sqlite3").exists()


def test_a_database_from_before_migrations_is_pending_then_adopted(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "state.sqlite3"
    with sa.create_engine(f"sqlite:///{db}").connect() as conn:
        conn.connection.dbapi_connection.executescript((SCHEMAS / "first_release.sql").read_text())  # type: ignore[union-attr]
    url = f"sqlite:///{db}"
    assert run(capsys, "current", "--state", url) == (
        0, f"none: 14 tables made before migrations (this release's revision is {HEAD}: `smartward db upgrade` "
           "adopts them)", "")
    assert run(capsys, "current", "--state", url, "--check")[0] == 1
    assert run(capsys, "upgrade", "--state", url) == (
        0, f"state DB {url}: adopted (made before migrations; its 14 tables kept) and upgraded to revision {HEAD}", "")
    assert run(capsys, "current", "--state", url, "--check")[0] == 0


def test_current_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "nope.sqlite3"
    assert run(capsys, "current", "--state", f"sqlite:///{db}") == (
        1, "", f"smartward db current: error: {db}: no such file (no state DB there yet; `smartward db upgrade` "
               "or `serve` creates it)")
    assert not db.exists()


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "upgrade", "--state", "nosuchdialect://x")
    assert rc == 2 and out == "" and err.startswith("smartward db upgrade: error: state URL: ") and "\n" not in err
    rc, out, err = run(capsys, "upgrade", "--state", f"sqlite:///{tmp_path}/missing-dir/state.sqlite3")
    assert rc == 1 and err.startswith(f"smartward db upgrade: error: cannot use the state DB sqlite:///{tmp_path}/"
                                      "missing-dir/state.sqlite3: OperationalError: unable to open database file")


def newer(tmp_path: Path) -> str:
    """A state DB that a newer release migrated (a revision this code does not have)."""
    url = f"sqlite:///{tmp_path}/state.sqlite3"
    engine = state_db.make_engine(url)
    state_db.ensure_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'")
    state_db.forget(engine)
    engine.dispose()
    return url


def test_a_newer_release_s_database_is_refused_naming_the_revision(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = newer(tmp_path)
    for action in ("upgrade", "current"):
        rc, out, err = run(capsys, action, "--state", url)
        assert (rc, out) == (1, "")
        assert err == (f"smartward db {action}: error: state DB {url} is at schema revision 'a1b2c3d4e5f6', which "
                       f"this SmartWard does not know (its newest is '{HEAD}'): a newer release migrated it; run that "
                       "release, or restore the backup taken before the upgrade")


def test_serve_refuses_a_newer_release_s_database_before_starting(tmp_path: Path) -> None:
    url = newer(tmp_path)
    env = {**os.environ, "SMARTWARD_ENVIRONMENT": "production", "SMARTWARD_SECRET_KEY": secrets.token_urlsafe(32),
           "SMARTWARD_AUDIT_KEY": secrets.token_urlsafe(32)}
    proc = subprocess.run([sys.executable, "-m", "smartward", "--log-level", "WARNING", "serve", "--state", url,
                           "--data-dir", str(tmp_path), "--store", f"sqlite:///{tmp_path}/vitals.sqlite3",
                           "--broker", "mqtt://127.0.0.1:1"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout
    assert proc.stderr.strip().startswith("smartward serve: error: state DB ") and "'a1b2c3d4e5f6'" in proc.stderr, \
        proc.stderr
