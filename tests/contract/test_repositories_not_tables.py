"""A package asks another package's repository, never its tables (issue 15): the dashboard and the digital
twin read ingest's beds and stays through ``ingest.Attributions`` and alerting's alarms through
``alerting.AlarmStore``. This scans ``dashboard_api/`` and ``digital_twin/`` for an import of another
package's ``sa.Table`` objects (or its ``metadata``), a table built by another package's table name, and
SQL text naming such a table, and fails naming the line."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import sqlalchemy as sa

from smartward import state_tables

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("dashboard_api", "digital_twin")
SQL_WORD = re.compile(r"\b(select|insert|update|delete|from|join|into|table|where)\b", re.IGNORECASE)


def foreign_tables(package: str) -> tuple[dict[str, set[str]], set[str]]:
    """For code in ``package``: every other owner module -> the names it binds to tables (and ``metadata``),
    and the database names of those tables."""
    names: dict[str, set[str]] = {}
    tables: set[str] = set()
    for module in state_tables.OWNERS:
        if module.split(".")[0] == package:
            continue
        mod = importlib.import_module(module)
        names[module] = {n for n, v in vars(mod).items() if isinstance(v, sa.Table | sa.MetaData)}
        tables |= set(mod.metadata.tables)
    return names, tables


def findings(tree: ast.AST, names: dict[str, set[str]], tables: set[str]) -> list[str]:
    table_word = re.compile(r"\b(" + "|".join(sorted(map(re.escape, tables))) + r")\b")
    packages = {m.split(".")[0] for m in names}
    aliases: dict[str, str] = {}  # a local name for an owner module (``import alerting.store as s``)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)  # prose may name a table
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                owner = next((m for m in names if node.module in (m, m.split(".")[0])), None)
                if owner is not None and a.name in names[owner]:
                    out.append(f"{line}: imports {node.module}.{a.name}")
                if f"{node.module}.{a.name}" in names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in names or a.name in packages:
                    aliases[a.asname or a.name.split(".")[0]] = a.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if table_word.search(node.value) and SQL_WORD.search(node.value):
                out.append(f"{line}: SQL naming {table_word.search(node.value).group(0)}")  # type: ignore[union-attr]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func in ("table", "Table") and node.args[0].value in tables:
                out.append(f"{line}: builds table {node.args[0].value}")
    for node in ast.walk(tree):  # ``store.alarms`` through a module alias
        if isinstance(node, ast.Attribute):
            base = ast.unparse(node.value)
            module = aliases.get(base.split(".")[0], "") + base[len(base.split(".")[0]):]
            if module in names and node.attr in names[module]:
                out.append(f"{node.lineno}: uses {module}.{node.attr}")
    return sorted(set(out), key=lambda s: int(s.split(":")[0]))


def test_the_dashboard_and_the_twin_use_repositories_not_other_packages_tables() -> None:
    bad = []
    for pkg in SCANNED:
        names, tables = foreign_tables(pkg)
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            bad += [f"{rel}:{f}" for f in findings(ast.parse(path.read_text(encoding="utf-8")), names, tables)]
    assert bad == [], "ask the owning package's repository (Attributions, AlarmStore, …): " + "; ".join(bad)


def test_the_scan_finds_what_it_looks_for() -> None:
    names, tables = foreign_tables("dashboard_api")
    src = ('"""Reads ``alerting_alarms`` from the table through AlarmStore (prose)."""\n'
           "from ingest.attribution import bindings, Attributions\n"
           "from alerting.store import alarm_events as ev\n"
           "import alerting.store as st\n"
           "q = sa.select(st.spots)\n"
           "conn.execute(sa.text('SELECT ward FROM ingest_bed_occupancy WHERE patient = :p'))\n"
           "t = sa.table('alerting_alarms', sa.column('id'))\n"
           "ok = audit.cursor('alerting_alarm_events')\n"
           "fine = 'SELECT * FROM dashboard_audit'\n"
           "from alerting import AlarmStore\n")
    assert findings(ast.parse(src), names, tables) == [
        "2: imports ingest.attribution.bindings", "3: imports alerting.store.alarm_events",
        "5: uses alerting.store.spots", "6: SQL naming ingest_bed_occupancy", "7: builds table alerting_alarms"]
