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
    (["twin", "run", "fire-drill"], "smartward twin run: error: unknown scenario 'fire-drill'; known:"),
    (["twin", "run", "evacuation", "--set", "nurse=2"],
     "smartward twin run: error: evacuation: parameter 'nurse': unknown parameter"),
    (["twin", "run", "evacuation", "--set", "nurses=-1"], "parameter 'nurses': Input should be greater than or equal to 0"),
    (["twin", "run", "code-blue", "--set", "bed=99"],
     "smartward twin run: error: code-blue: parameter 'bed': no bed '99' in ward 'medsurg-4'; its beds: 01, 02, 03"),
    (["twin", "compare", "evacuation", "--a", "shift=night", "--b", "shifts=day"],
     "smartward twin compare: error: evacuation: parameter 'shifts'"),
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
    assert "nurses = none" in out and "crash_cart_node = none" in out
    assert "None" not in out and "True" not in out and "False" not in out


def test_compare_prints_the_difference_with_its_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "compare", "evacuation", "--replications", "60", "--a", "shift=day", "--b", "shift=night",
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    line = next(t for t in out.splitlines() if "Total evacuation time" in t)
    assert "diff +" in line and "95% CI [+" in line  # night is slower than day, interval above 0
    after = out.split("What B means (as in compare.html):\n", 1)[1]  # the plain-language summary, as on the page
    assert after.startswith("- ") and "evacuation time" in after.split("\nwrote ")[0], out
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


def test_a_bed_not_in_the_ward_is_refused_before_any_replication_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 6 newcomer run, item 1: the scenario's own check (``Scenario.check``) runs before the runner
    starts a single replication, and names the bed and some of the ward's beds."""
    import digital_twin.runner

    ran: list[int] = []
    real = digital_twin.runner.run_chunk
    monkeypatch.setattr(digital_twin.runner, "run_chunk", lambda *a: ran.append(1) or real(*a))
    rc = main(["twin", "run", "code-blue", "--set", "bed=nope", "--replications", "5", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and ran == []
    assert err.startswith("smartward twin run: error: code-blue: parameter 'bed': no bed 'nope' in ward 'medsurg-4'; "
                          "its beds: 01, 02, 03, 04, 05, 06, 07, 08 and 22 more")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--set", "nurses"], "argument --set: expected KEY=VALUE, got 'nurses'"),
    (["--set", "=2"], "argument --set: expected KEY=VALUE, got '=2'"),
    (["--replications", "0"], "argument --replications: 0 is out of range (allowed: from 1 to 100000)"),
    (["--replications", "many"], "argument --replications: 'many' is not an integer"),
    (["--seed", "-1"], "argument --seed: -1 is out of range (allowed: at least 0)"),
    (["--workers", "0"], "argument --workers: 0 is out of range (allowed: at least 1)"),
    (["--ward-id", "w 1"], "argument --ward-id: 'w 1' is not a ward id"),
])
def test_usage_errors_exit_2_with_the_error_prefix(argv: list[str], message: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Item 4: a malformed or out-of-range option is a usage error (exit 2) named like argparse's own."""
    with pytest.raises(SystemExit) as info:
        main(["twin", "run", "evacuation", *argv, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"smartward twin run: error: {message}" in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("option", [["--ward-id", "w9"], ["--username", "fiona"]])
def test_live_only_options_without_live_are_a_usage_error(option: list[str], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "run", "evacuation", *option, "--replications", "2", "--out", str(tmp_path / "o")])
    assert rc == 2
    assert capsys.readouterr().err == (f"smartward twin run: error: {option[0]} applies to a live census only: "
                                       "add --live URL\n")
    assert not (tmp_path / "o").exists()


def test_scenarios_lists_the_choices_and_ranges_of_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    """Item 8: enum parameters list their values (as GET /api/v1/twin/scenarios does), numbers their range."""
    assert main(["twin", "scenarios"]) == 0
    lines = [t.strip() for t in capsys.readouterr().out.splitlines()]
    assert "shift = night  [day|night]" in lines
    assert "monitored = auto  [auto|yes|no]" in lines
    assert "order = least_dependent_first  [least_dependent_first|most_acute_first|nearest_first]" in lines
    assert any(t.startswith("use_bed_movers = false  [true|false]") for t in lines)
    assert any(t.startswith("speed_bed = 0.7  [> 0]") for t in lines)
    assert any(t.startswith("p_shockable = 1  [>= 0, <= 1]") for t in lines)
    assert any(t.startswith("gateway = none  only this gateway") for t in lines)


# a parameter set of each scenario where some metric does not happen in any replication
NOTHING_HAPPENS = [
    ("network-outage", ["outage_minutes=10"], "first_loss_min", "no outbox filled up during the outage"),
    ("power-outage", ["outage_minutes=1"], "first_loss_min", "no device lost data during the outage"),
    ("code-blue", ["p_shockable=0"], "first_shock_s", "the rhythm was not shockable"),
    ("evacuation", ["census=0"], "pre_movement_pct", "there was no patient to evacuate"),
    ("alarm-load", ["hours=0.01", "alarms_per_bed_hour=0"], "response_p50_s", "no alarm was answered"),
]


@pytest.mark.parametrize(("scenario", "sets", "metric", "absent"), NOTHING_HAPPENS)
def test_a_metric_that_never_happens_is_said_in_words_never_nan(
        scenario: str, sets: list[str], metric: str, absent: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Item 9: no ``nan`` on the terminal, in report.html or report.json (not valid JSON); report.json
    has null, ``n`` = replications where it happened (0) and ``absent`` = what that means."""
    argv = [a for kv in sets for a in ("--set", kv)]
    assert main(["twin", "run", scenario, *argv, "--replications", "6", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower().replace("nanny", ""), out
    assert f"(in all 6 replications {absent}" in out
    text = (tmp_path / "report.json").read_text()

    def no_nan(name: str) -> float:
        raise AssertionError(f"report.json holds {name}")

    m = json.loads(text, parse_constant=no_nan)["metrics"][metric]
    assert (m["mean"], m["p95"], m["ci95"], m["n"], m["missing"]) == (None, None, [None, None], 0, 6)
    assert m["absent"].startswith(absent)
    page = (tmp_path / "report.html").read_text()
    assert f"in all 6 replications {absent}" in page and ">nan<" not in page.lower()
    assert all("nan" not in s.lower() for s in json.loads(text)["summary"])


def test_the_census_source_of_a_file_run_is_in_both_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from digital_twin import example_ward_path

    assert main(["twin", "run", "evacuation", "--replications", "3", "--out", str(tmp_path), "--no-progress"]) == 0
    census = json.loads((tmp_path / "report.json").read_text())["census"]
    assert census == {"source": "file", "path": str(Path(example_ward_path()).resolve()), "ward": "medsurg-4"}
    assert f"Census as written in the ward file {census['path']} (ward medsurg-4)." in \
        (tmp_path / "report.html").read_text()
    assert "Census as written in the ward file" in capsys.readouterr().out


def test_compare_names_why_a_metric_has_no_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "compare", "code-blue", "--replications", "8", "--a", "p_shockable=0", "--b", "p_shockable=1",
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "nan" not in out
    line = next(t for t in out.splitlines() if "Collapse to first shock" in t)
    assert line.endswith("n/a (in all 8 replications of A the rhythm was not shockable, so no shock was given "
                         "(see p_shockable))")
