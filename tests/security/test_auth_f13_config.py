"""Finding 13: production was opt-in (by default the API ran in development with a random key) and any
16-character non-placeholder secret passed. Now production is the default outside ``smartward demo``,
the secret needs at least 32 bytes of key material, and ``smartward serve`` refuses in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard_api import ConfigError
from smartward.settings import load_api_config

STRONG = "Zq3-vB8nR1xT5kW0mY7pL2sH6dF9gJ4c"  # 32 characters, varied


def test_default_is_production_and_refuses_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTWARD_ENVIRONMENT", raising=False)
    monkeypatch.delenv("SMARTWARD_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SMARTWARD_SECRET_KEY") as exc:
        load_api_config()
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("weak", ["s" * 16, "a-16-char-secret", "x" * 40, "changethis", "0123456789abcdef0123456789abcde"])
def test_short_or_repetitive_secrets_are_refused(monkeypatch: pytest.MonkeyPatch, weak: str) -> None:
    monkeypatch.delenv("SMARTWARD_ENVIRONMENT", raising=False)
    monkeypatch.setenv("SMARTWARD_SECRET_KEY", weak)
    with pytest.raises(ConfigError, match="32"):
        load_api_config()


def test_a_strong_secret_passes_and_development_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTWARD_ENVIRONMENT", raising=False)
    monkeypatch.setenv("SMARTWARD_SECRET_KEY", STRONG)
    cfg = load_api_config()
    assert cfg.environment == "production" and cfg.secret_key == STRONG
    monkeypatch.delenv("SMARTWARD_SECRET_KEY")
    monkeypatch.setenv("SMARTWARD_ENVIRONMENT", "development")
    assert len(load_api_config().secret_key) >= 32


def test_demo_runs_in_development() -> None:
    src = (Path(__file__).parents[2] / "smartward" / "commands" / "demo.py").read_text()
    assert 'os.environ["SMARTWARD_ENVIRONMENT"] = "development"' in src


def test_serve_refuses_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTWARD_")}
    r = subprocess.run([sys.executable, "-m", "smartward", "serve", "--http", "127.0.0.1:1", "--data-dir",
                        str(tmp_path), "--broker", "mqtt://127.0.0.1:1"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.stderr.strip().count("\n") == 0 and "SMARTWARD_SECRET_KEY" in r.stderr, r.stderr
