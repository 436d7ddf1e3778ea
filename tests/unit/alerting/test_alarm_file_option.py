"""`smartward serve|demo --alarms FILE`: the alarm configuration the running platform's alerting uses,
checked before anything starts (a bad file is one line and exit 1, nothing started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from alerting.service import create_service

REPO = Path(__file__).resolve().parents[3]


def test_the_file_is_what_alerting_runs_with(tmp_path: Path) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text("limits:\n  spo2: {low: 88}\n")
    config = SimpleNamespace(broker="mqtt://127.0.0.1:1", state=f"sqlite:///{tmp_path}/s.sqlite3",
                             topic_root="smartward/v1", client_prefix="t-", extra={"alarm_config": str(path)})
    service = create_service(SimpleNamespace(config=config))
    assert service.engine.config.limits["spo2"].low == 88


def _run(argv: list[str], tmp_path: Path) -> tuple[int, str]:
    """The command in its own process: ``serve`` prepares the Prometheus multiprocess directory before
    anything imports prometheus_client, which would leave this test process's metrics in that mode."""
    env = {**os.environ, "SMARTWARD_ENVIRONMENT": "development"}  # past serve's check of the API secret
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    p = subprocess.run([sys.executable, "-m", "smartward", *argv], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_bad_file_stops_the_start_naming_the_key(command: str, tmp_path: Path) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text("limits:\n  spo2: {low: .nan}\n")
    argv = [command, "--alarms", str(path), "--data-dir", str(tmp_path / "d")]
    if command == "serve":
        argv += ["--broker", "mqtt://127.0.0.1:1", "--store", f"sqlite:///{tmp_path}/v.sqlite3"]
    code, err = _run(argv, tmp_path)
    assert code == 1
    assert f"smartward {command}: error: --alarms: {path}:2: limits.spo2.low: Input should be a finite number" in err
    assert not (tmp_path / "d" / "state.sqlite3").exists()
    missing = tmp_path / "nope.yaml"
    code, err = _run([*argv[:1], "--alarms", str(missing), *argv[3:]], tmp_path)
    assert code == 1
    assert "cannot read alarm configuration" in err
