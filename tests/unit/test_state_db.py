"""The state DB's one entry point, ``device_profiles.state_db.ensure_schema`` (issue 15): several processes
upgrading one fresh file at once, databases made by older SmartWards adopted without losing a row, a
database migrated by a newer release refused by name, and one upgrade per URL and process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alerting import AlarmStore, StateError
from dashboard_api import UserStore
from dashboard_api.audit import GENESIS, AuditLog, verify
from dashboard_api.drills import DrillStore
from device_profiles import state_db
from ingest import Attributions
from smartward import state_tables

SCHEMAS = Path(__file__).with_name("state_schemas")
REPO = Path(__file__).resolve().parents[2]


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.sqlite3"


def load(url: str, sql_file: str) -> sa.Engine:
    """A state DB as an older SmartWard left it: its DDL (frozen), no ``alembic_version``."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.connection.dbapi_connection.executescript((SCHEMAS / sql_file).read_text())  # type: ignore[union-attr]
    return engine


def differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return [d for d in compare_metadata(ctx, state_tables.metadata())
                if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


def versions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]


WORKER = """
import pathlib, sys, time
import alembic.command, alembic.runtime.migration
from device_profiles import state_db
url, ready, go = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
engine = state_db.make_engine(url)
ready.touch()
while not go.exists():  # everything imported: start together
    time.sleep(0.001)
state_db.ensure_schema(engine)  # what every store calls first
print(state_db.status(engine).current)
"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_processes_upgrading_one_fresh_database_at_once_all_get_the_head(dialect: str, tmp_path: Path,
                                                                         request: pytest.FixtureRequest) -> None:
    """``serve`` starts ingest workers, alerting and the API together on a fresh file: each opens its store
    (which upgrades) at the same moment; every one of them must start, on one schema. (Without the lock all
    but one failed, on SQLite and on PostgreSQL, in every run tried.)"""
    url = sqlite_url(tmp_path) if dialect == "sqlite" else str(request.getfixturevalue("postgres_url"))
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(r), str(go)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for r in ready]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-3000:]
        assert out.decode().split() == [state_db.head_revision()]
    engine = sa.create_engine(url)
    assert versions(engine) == [state_db.head_revision()]
    assert differences(engine) == []
    engine.dispose()


def test_a_database_made_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    old = load(url, "before_migrations.sql")
    with old.begin() as conn:
        conn.exec_driver_sql("INSERT INTO ingest_device_bindings (device, ward, bed, drill, valid_from) "
                             "VALUES ('mon-1', 'w1', '01', '', 1000)")
        conn.exec_driver_sql("INSERT INTO ingest_bed_occupancy (ward, bed, patient, valid_from) "
                             "VALUES ('w1', '01', 'p-1', 1000)")
        conn.exec_driver_sql("INSERT INTO dashboard_users VALUES ('ann', 'x', 'nurse', 'w1', '', 0, 1, 3)")
    attributions = Attributions(state_db.make_engine(url))  # the first store to open it adopts it
    assert state_db.status(attributions.engine).current == state_db.head_revision()
    assert attributions.lookup("mon-1", 2000).patient == "p-1"
    assert [(u.username, u.version) for u, _disabled in UserStore(attributions.engine).all_users()] == [("ann", 3)]
    assert differences(old) == []


def test_a_first_release_database_gets_the_columns_stores_used_to_add_by_hand(tmp_path: Path) -> None:
    """``token_version``, the drills' ``rate``/``samples``, the audit chain's ``key_id``, the alarm
    history's indexes and the tables added later: what ALTERs on start used to do, without losing rows."""
    url = sqlite_url(tmp_path)
    old = load(url, "first_release.sql")
    with old.begin() as conn:
        conn.exec_driver_sql("INSERT INTO dashboard_users VALUES ('ann', 'x', 'nurse', 'w1', '', 0, 1)")
        conn.exec_driver_sql("INSERT INTO dashboard_drills VALUES ('drill-old', 'w1', '[]', 1.0, 0, 1000, 61000, "
                             "NULL, 'cn', '')")
        conn.exec_driver_sql(f"INSERT INTO dashboard_audit VALUES (1, 1000, 'old', 'nurse', 'read', 'patient/p-1', "
                             f"'{{}}', '{GENESIS}', 'h')")
    state_db.ensure_schema(state_db.make_engine(url))
    assert differences(old) == []
    engine = state_db.make_engine(url)
    assert [(u.username, u.version) for u, _d in UserStore(engine).all_users()] == [("ann", 0)]
    drill = DrillStore(engine).get("drill-old")
    assert drill is not None and (drill.rate, drill.samples, drill.ends) == (1.0, None, 61000)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT seq, key_id FROM dashboard_audit").all() == [(1, "")]
    assert verify(engine, []).entries == 1  # read as a legacy (unkeyed) entry
    assert AuditLog(engine).head().seq == 1


def test_a_table_no_smartward_made_is_refused_and_nothing_is_changed(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a dashboard_users without role: not ours to guess
        conn.exec_driver_sql("CREATE TABLE dashboard_users (username VARCHAR(64) PRIMARY KEY, password_hash TEXT)")
    with pytest.raises(state_db.StateSchemaError, match="dashboard_users has no column"):
        state_db.ensure_schema(state_db.make_engine(url))
    assert sa.inspect(engine).get_table_names() == ["dashboard_users"]  # one transaction: nothing half-done


def test_a_database_migrated_by_a_newer_release_is_refused_naming_the_revision(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engine = state_db.make_engine(url)
    state_db.ensure_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9f3e2c1a7b55'")
    state_db.forget(engine)
    with pytest.raises(state_db.StateSchemaError, match=r"revision '9f3e2c1a7b55', which this SmartWard does not know"):
        state_db.ensure_schema(engine)
    with pytest.raises(StateError, match="9f3e2c1a7b55"):
        AlarmStore.open(url)
    with pytest.raises(state_db.StateSchemaError, match="9f3e2c1a7b55"):
        state_db.status(engine)
    assert versions(engine) == ["9f3e2c1a7b55"]


def test_a_process_upgrades_a_url_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    state_db.ensure_schema(state_db.make_engine(url))
    again = state_db.make_engine(url)  # another engine on the same URL, as each store of a process has
    statements: list[str] = []
    sa.event.listen(again, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for _ in range(3):
        state_db.ensure_schema(again)
        UserStore(again)
    assert statements == []
    state_db.forget(again)  # e.g. after a restore: checked again (and found at head)
    state_db.ensure_schema(again)
    assert statements and not any(s.lstrip().upper().startswith(("CREATE", "ALTER")) for s in statements)


def test_in_memory_databases_are_each_upgraded() -> None:
    a, b = state_db.make_engine("sqlite://"), state_db.make_engine("sqlite://")
    state_db.ensure_schema(a)
    state_db.ensure_schema(b)
    assert "dashboard_users" in sa.inspect(b).get_table_names()
