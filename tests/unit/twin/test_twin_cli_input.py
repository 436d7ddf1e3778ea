"""Input the twin CLI used to accept silently: compare without --b, an empty --set value; and what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from digital_twin import ParamError
from digital_twin.scenario import parse_assignments
from smartward.cli import main


@pytest.mark.parametrize("argv", [
    ["twin", "run", "code-blue", "--set", "nurses="],
    ["twin", "run", "code-blue", "--set", "nurses= "],
    ["twin", "compare", "code-blue", "--a", "nurses=", "--b", "nurses=2"],
    ["twin", "compare", "code-blue", "--set", "shift=", "--b", "nurses=2"],
])
def test_an_empty_value_is_a_usage_error(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    assert "has no value after '=' (to keep the default, leave the key out)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_a_value_that_is_not_finite_is_refused_before_running(value: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "run", "evacuation", "--set", f"speed_bed={value}", "--replications", "2",
                 "--out", str(tmp_path / "o")]) == 1
    assert "parameter 'speed_bed': Input should be a finite number" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_parse_assignments_refuses_an_empty_value() -> None:
    with pytest.raises(ParamError, match="parameter 'nurses': empty value"):
        parse_assignments(["nurses="])


@pytest.mark.parametrize(("extra", "message"), [
    ([], "--b is missing: give what B changes"),
    (["--a", "shift=day"], "--b is missing: give what B changes"),
    (["--a", "shift=day", "--b", "shift=day"], "A and B have the same parameters (shift=day): nothing to compare"),
    (["--b"], "A and B have the same parameters (the defaults): nothing to compare"),
])
def test_compare_needs_a_b_that_differs(extra: list[str], message: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "compare", "code-blue", *extra, "--replications", "5", "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_compare_with_the_defaults_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["twin", "compare", "code-blue", "--a", "shift=day", "--b", "--replications", "5", "--seed", "1",
               "--no-progress", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "  A: shift=day\n  B: the scenario defaults (--b with no parameters)" in out
    rc = main(["twin", "compare", "code-blue", "--b", "shift=day", "--replications", "5", "--no-progress",
               "--out", str(tmp_path / "2")])
    assert rc == 0 and "  A: the scenario defaults (no --a)\n  B: shift=day" in capsys.readouterr().out


def test_a_missing_ward_file_is_named_without_a_stray_location(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "validate-ward", "nope.yaml"]) == 1
    assert capsys.readouterr().err == ("smartward twin validate-ward: error: nope.yaml: cannot read the ward file: "
                                       "No such file or directory\n")
