"""Topics are built and parsed in one place, ``device_profiles/topics.py``: this scans the product's
source for a topic built from the topic root anywhere else (an f-string ``f"{root}/…"`` or
``root + "/…"``) or a topic parsed by splitting it, and fails naming the line."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("alerting", "dashboard_api", "device_profiles", "digital_twin", "gateway_agent", "ingest", "smartward")
# topics.py is the place; topic_pattern.py compiles vendors' own topic templates; profile_policy.py
# checks that a profile's template stays inside the device tree (both work on templates, not topics)
ALLOWED = {"device_profiles/topics.py", "device_profiles/topic_pattern.py", "device_profiles/profile_policy.py"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _is_root(node: ast.AST) -> bool:
    return any("root" in name.lower() for name in _names(node))


def _root_plus(node: ast.AST) -> bool:
    """``root + "/…"``."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and _is_root(node.left) and \
        isinstance(node.right, ast.Constant) and str(node.right.value).startswith("/")


def _split_topic(node: ast.AST) -> bool:
    """``topic.split("/")`` (or ``rest.split("/")``)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split" \
        and bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "/" \
        and any(w in name.lower() for name in _names(node.func.value) for w in ("topic", "rest"))


def _root_fstring(node: ast.AST) -> bool:
    """``f"{root}/…"``."""
    if not isinstance(node, ast.JoinedStr) or len(node.values) < 2:
        return False
    first, second = node.values[0], node.values[1]
    return isinstance(first, ast.FormattedValue) and _is_root(first.value) and \
        isinstance(second, ast.Constant) and str(second.value).startswith("/")


def findings(tree: ast.AST) -> list[int]:
    return sorted({getattr(node, "lineno", 0) for node in ast.walk(tree)
                   if _root_fstring(node) or _root_plus(node) or _split_topic(node)})


def test_no_topic_is_built_or_parsed_outside_the_topics_module() -> None:
    bad = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            bad += [f"{rel}:{line}" for line in findings(ast.parse(path.read_text(encoding="utf-8")))]
    assert bad == [], "build or parse topics with device_profiles.topics: " + ", ".join(bad)


def test_the_scan_finds_what_it_looks_for() -> None:
    src = ('t = f"{self.root}/wards/{w}/obs"\n'
           'u = root + "/control/profiles"\n'
           'parts = rest.split("/")\n'
           'ok = f"{ward}/{bed}"\n'
           'fine = url.split("/")\n')
    assert findings(ast.parse(src)) == [1, 2, 3]
