"""The state DB's migrations are its schema (issue 15): upgraded to head, a fresh database holds exactly
every package's tables (``smartward.state_tables``), on SQLite and on a real PostgreSQL. A column added
to a package's table without a revision fails here; so does a module declaring tables that the list
misses, a revision importing a package's Table objects, and a migration file the wheel would not ship."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from device_profiles import state_db
from smartward import state_tables

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("alerting", "dashboard_api", "device_profiles", "digital_twin", "gateway_agent", "ingest", "smartward")


def differences(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return [d for d in compare_metadata(ctx, metadata)
                if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


def upgraded(url: str) -> sa.Engine:
    engine = state_db.make_engine(url)
    state_db.ensure_schema(engine)
    return engine


def test_head_is_every_package_tables_on_sqlite(tmp_path: Path) -> None:
    engine = upgraded(f"sqlite:///{tmp_path}/state.sqlite3")
    assert differences(engine, state_tables.metadata()) == []
    assert state_db.status(engine).up_to_date


def test_head_is_every_package_tables_on_postgresql(postgres_url: str) -> None:
    engine = upgraded(postgres_url)
    try:
        assert differences(engine, state_tables.metadata()) == []
        assert state_db.status(engine).current == state_db.head_revision()
    finally:
        engine.dispose()


def test_a_column_without_a_revision_is_found(tmp_path: Path) -> None:
    """What the check above is for: a package's new column (or table) that no revision creates."""
    engine = upgraded(f"sqlite:///{tmp_path}/state.sqlite3")
    ahead = state_tables.metadata()
    ahead.tables["alerting_alarms"].append_column(sa.Column("acknowledged_note", sa.Text, nullable=True))
    sa.Table("dashboard_shift_notes", ahead, sa.Column("id", sa.Integer, primary_key=True))
    found = {(d[0], d[3].name if d[0] == "add_column" else d[1].name) for d in differences(engine, ahead)}
    assert found == {("add_column", "acknowledged_note"), ("add_table", "dashboard_shift_notes")}


def test_every_module_declaring_tables_is_listed() -> None:
    declaring = set()
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if "state_migrations/" in rel or rel == "smartward/state_tables.py":
                continue
            if re.search(r"\bsa\.MetaData\(|\bMetaData\(", path.read_text(encoding="utf-8")):
                declaring.add(rel[:-3].replace("/", "."))
    assert declaring == set(state_tables.OWNERS)


def test_revisions_import_no_package_tables() -> None:
    """Revisions stay as they were written: their columns are spelled out, never taken from the packages
    (whose tables change later), and the migrations stay at the bottom of the import graph."""
    allowed = {"__future__", "collections", "typing", "alembic", "sqlalchemy", "device_profiles"}
    for path in sorted((state_db.MIGRATIONS / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                assert not name.startswith("device_profiles.") or name == "device_profiles.state_db", \
                    f"{path.name} imports {name}: revisions spell their columns out"


def test_the_wheel_ships_the_migrations() -> None:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = patterns["device_profiles"]
    files = [p.relative_to(REPO / "device_profiles").as_posix()
             for p in state_db.MIGRATIONS.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert "state_migrations/env.py" in files and any(f.startswith("state_migrations/versions/") for f in files)
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in shipped)]
    assert missing == []


def test_the_fast_head_check_names_the_scripts_head() -> None:
    """``state_db.HEAD`` lets a process skip Alembic for a database at head: it must be the scripts' head
    (a new revision without it would leave every database one revision behind)."""
    assert state_db.head_revision() == state_db.HEAD
