"""The platform's one settings model: every ``SMARTWARD_*`` variable is read by ``smartward.settings``
and passed down; commands and lower packages never read the environment themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from smartward.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
STRONG = "Zq3-vB8nR1xT5kW0mY7pL2sH6dF9gJ4c"  # 32 characters, varied
PACKAGES = ("device_profiles", "gateway_agent", "ingest", "alerting", "digital_twin", "dashboard_api", "smartward")


def environment_reads(source: str) -> list[int]:
    """Lines reading the process environment: ``os.getenv``, ``os.environ`` anywhere except as the
    target of an assignment (``os.environ["X"] = …`` sets a child process's environment)."""
    tree = ast.parse(source)
    stores = {id(node.value) for node in ast.walk(tree)
              if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr == "getenv" or (node.attr == "environ" and id(node) not in stores):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "getenv") for a in node.names):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_reads_and_allows_setting_a_child_environment() -> None:
    assert environment_reads('import os\nx = os.environ.get("SMARTWARD_X")\n') == [2]
    assert environment_reads('import os\nx = os.getenv("A")\ny = os.environ["B"]\n') == [2, 3]
    assert environment_reads('import os\nenv = {**os.environ}\n') == [2]
    assert environment_reads('from os import environ\n') == [1]
    assert environment_reads('import os\nos.environ["SMARTWARD_LOG_LEVEL"] = "INFO"\n') == []


def test_commands_take_settings_not_the_environment() -> None:
    commands = [*sorted((REPO / "smartward" / "commands").glob("*.py")), REPO / "smartward" / "cli.py"]
    assert len(commands) > 5
    found = {str(p.relative_to(REPO)): environment_reads(p.read_text()) for p in commands}
    assert {p: lines for p, lines in found.items() if lines} == {}, \
        "read SMARTWARD_* through smartward.settings.load_settings(), not os.environ"


def test_one_settings_class_in_the_platform() -> None:
    classes = []
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and any(
                        (isinstance(b, ast.Name) and b.id == "BaseSettings")
                        or (isinstance(b, ast.Attribute) and b.attr == "BaseSettings") for b in node.bases):
                    classes.append(f"{path.relative_to(REPO)}:{node.name}")
    assert classes == ["smartward/settings.py:Settings"]


def test_each_component_gets_its_part_under_the_old_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_ENVIRONMENT", "production")
    monkeypatch.setenv("SMARTWARD_SECRET_KEY", STRONG)
    monkeypatch.setenv("SMARTWARD_SESSION_HOURS", "2")
    monkeypatch.setenv("SMARTWARD_TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("SMARTWARD_ALLOWED_ORIGINS", "https://Station.Example")
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", "k" * 16 + "Q" * 16)
    monkeypatch.setenv("SMARTWARD_TWIN_MAX_RUNS", "3")
    monkeypatch.setenv("SMARTWARD_TWIN_ALIASES", "w1=medsurg-4")
    monkeypatch.setenv("SMARTWARD_TWIN_TOKEN", "a-token-for-the-twin-command")  # the twin/drill commands', not the API's
    monkeypatch.setenv("SMARTWARD_DEADLETTER_MAX_ROWS", "77")
    settings = load_settings()
    api = settings.api_config()
    assert (api.environment, api.secret_key, api.session_s) == ("production", STRONG, 7200)
    assert api.trusted_proxies == ("10.0.0.0/8",) and api.http.allowed_origins == {"https://station.example"}
    assert api.http.always_hsts and not api.http.api_docs
    assert api.audit_key is not None and api.audit_key.source == "SMARTWARD_AUDIT_KEY"
    assert (api.twin.max_runs, api.twin.workers, api.twin.alias_map()) == (3, 1, {"w1": "medsurg-4"})
    assert settings.twin_credentials() == ("a-token-for-the-twin-command", None)
    policy = settings.deadletter_policy()
    assert (policy.max_rows, policy.retention_days) == (77, 30)
    assert STRONG not in repr(settings) and "kkkk" not in repr(settings)  # secrets never printed


def test_a_value_of_the_wrong_type_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from device_profiles.errors import SettingsError

    monkeypatch.setenv("SMARTWARD_MAX_BODY_BYTES", "lots")
    with pytest.raises(SettingsError, match=r"^SMARTWARD_MAX_BODY_BYTES: ") as exc:
        load_settings()
    assert "\n" not in str(exc.value)


def test_commands_without_an_api_need_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTWARD_SECRET_KEY", raising=False)
    monkeypatch.delenv("SMARTWARD_ENVIRONMENT", raising=False)
    settings = Settings()
    assert settings.environment == "production" and settings.deadletter_policy().max_rows == 100_000


def test_a_worker_receiving_line_does_not_change_readiness() -> None:
    from smartward.compose import worker_state

    assert worker_state(b"ready\n", False) is True
    assert worker_state(b"receiving 1764781234.5\n", True) is True  # issue 14: it made /readyz 503
    assert worker_state(b"receiving 1764781234.5 0.812\n", True) is True  # with its CPU at that moment
    assert worker_state(b"receiving 1764781234.5\n", False) is False
    assert worker_state(b"not-ready\n", True) is False
