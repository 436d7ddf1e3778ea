"""``smartward drill``: usage errors exit 2, refusals exit 1 with a message naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartward.cli import main
from smartward.commands.drill import duration
from smartward.servers import free_port


def test_durations() -> None:
    assert [duration(x) for x in ("600", "90s", "10m", "1.5h")] == [600.0, 90.0, 600.0, 5400.0]


def test_a_bad_duration_or_scenario_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--duration", "10 minutes"], ["--scenario", "tornado"]):
        with pytest.raises(SystemExit) as info:
            main(["drill", "start", "--ward", "w1", "--out", str(tmp_path), *extra])
        assert info.value.code == 2
    assert "tornado" in capsys.readouterr().err


def test_missing_credentials_and_unreachable_platform_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SMARTWARD_TWIN_TOKEN", raising=False)
    monkeypatch.delenv("SMARTWARD_TWIN_PASSWORD", raising=False)
    assert main(["drill", "list", "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "SMARTWARD_TWIN_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("SMARTWARD_TWIN_TOKEN", "t")
    assert main(["drill", "status", "drill-1", "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "smartward drill:" in capsys.readouterr().err
    monkeypatch.setattr("digital_twin.live_drill.SUBSCRIBE_TIMEOUT_S", 0.3)
    assert main(["drill", "start", "--ward", "w1", "--out", str(tmp_path), "--url", "http://127.0.0.1:1",
                 "--broker", f"mqtt://127.0.0.1:{free_port()}"]) == 1
    assert "not reachable" in capsys.readouterr().err and not (tmp_path / "report.json").exists()
