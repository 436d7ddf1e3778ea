"""``smartward twin``: exit codes and messages a user sees."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from digital_twin.scenarios import SCENARIOS
from smartward.cli import main
from smartward.commands.twin import _Bar


def test_run_writes_both_reports_and_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "run", "evacuation", "--replications", "20", "--seed", "4", "--set", "shift=night",
               "--set", "nurses=3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["parameters"]["nurses"] == 3 and data["replications"] == 20 and data["seed"] == 4
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert "Total evacuation time" in out and "wrote" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["twin", "run", "fire-drill"], "error: unknown scenario 'fire-drill'; known:"),
    (["twin", "run", "evacuation", "--set", "nurse=2"], "error: evacuation: parameter 'nurse': unknown parameter"),
    (["twin", "run", "evacuation", "--set", "nurses"], "expected key=value"),
    (["twin", "run", "evacuation", "--set", "nurses=-1"], "parameter 'nurses': Input should be greater than or equal to 0"),
    (["twin", "run", "code-blue", "--set", "bed=99"], "error: code-blue: no bed '99'"),
    (["twin", "compare", "evacuation", "--a", "shift=night", "--b", "shifts=day"], "parameter 'shifts'"),
])
def test_bad_input_exits_1_with_a_message(argv: list[str], message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rc = main([*argv, "--replications", "2", "--out", str(tmp_path / "out")])
    assert rc == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "report.json").exists()


def test_bad_ward_file_exits_1_naming_the_line(tmp_path: Path, example_ward_text: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ward.yaml"
    bad.write_text(example_ward_text.replace("station: station", "station: nowhere", 1))
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if t.startswith("station:"))
    assert main(["twin", "validate-ward", str(bad)]) == 1
    assert f"{bad}:{line}: station: no graph node 'nowhere'" in capsys.readouterr().err
    assert main(["twin", "run", "evacuation", "--ward", str(bad), "--out", str(tmp_path / "o")]) == 1
    assert "no graph node 'nowhere'" in capsys.readouterr().err
    assert main(["twin", "run", "evacuation", "--ward", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 1
    assert "cannot read the ward file" in capsys.readouterr().err


def test_validate_ward_ok(capsys: pytest.CaptureFixture[str]) -> None:
    from digital_twin import example_ward_path

    assert main(["twin", "validate-ward", str(example_ward_path())]) == 0
    assert "ok" in capsys.readouterr().out


def test_scenarios_lists_every_registered_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "scenarios"]) == 0
    out = capsys.readouterr().out
    for name in SCENARIOS:
        assert f"{name}: " in out
    assert "nurses = None" in out and "crash_cart_node = None" in out


def test_compare_prints_the_difference_with_its_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "compare", "evacuation", "--replications", "60", "--a", "shift=day", "--b", "shift=night",
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    line = next(t for t in out.splitlines() if "Total evacuation time" in t)
    assert "diff +" in line and "95% CI [+" in line  # night is slower than day, interval above 0
    assert json.loads((tmp_path / "compare.json").read_text())["difference"]["total_min"]["significant"] is True


def test_progress_bar_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = _Bar("evacuation", stream=stream)
    bar(500, 1000)
    bar(1000, 1000)
    text = stream.getvalue()
    assert "500/1000" in text and "1000/1000" in text and text.endswith("\n")
    silent = io.StringIO()
    _Bar("x", stream=silent)(1, 2)
    assert silent.getvalue() == ""  # not a terminal: no control characters in logs


def test_live_platform_unreachable_exits_1_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SMARTWARD_TWIN_TOKEN", "t")
    rc = main(["twin", "run", "evacuation", "--live", "http://127.0.0.1:9", "--replications", "2",
               "--out", str(tmp_path)])
    assert rc == 1
    assert "127.0.0.1:9" in capsys.readouterr().err
    monkeypatch.delenv("SMARTWARD_TWIN_TOKEN")
    assert main(["twin", "run", "evacuation", "--live", "http://127.0.0.1:9", "--out", str(tmp_path)]) == 1
    assert "token" in capsys.readouterr().err


def test_bench_twin_prints_rates_and_the_budget_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "twin", "--replications", "60"]) == 0
    out = capsys.readouterr().out
    assert "1 worker(s): 60 replications" in out and "2 worker(s): 60 replications" in out
    assert "of the 60 s budget" in out and "speed-up with 2 workers" in out
    assert main(["bench", "twin", "--set", "nurse=1"]) == 1
    assert "error: evacuation: parameter 'nurse'" in capsys.readouterr().err


def test_an_unwritable_output_directory_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["twin", "run", "code-blue", "--replications", "3", "--out", str(blocker / "out")]) == 1
    assert f"cannot write the reports to {blocker / 'out'}" in capsys.readouterr().err
