"""Every ``smartward`` command reports its own usage errors as argparse does (issue 6 newcomer run,
item 4): ``smartward <command>: error: …`` on stderr, exit 2 — through ``smartward.cli_errors``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from device_profiles.registry import BUILTIN_DIR
from smartward.cli import main
from smartward.cli_errors import bounded, duration, fail, usage_error


@pytest.mark.parametrize(("argv", "line"), [
    (["serve", "--ingest-workers", "-1"], "smartward serve: error: --ingest-workers must be >= 0"),
    (["profile", "simulate", str(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"), "--rate", "0"],
     "smartward profile simulate: error: --rate must be > 0 and --batch >= 1"),
    (["deadletter", "list", "--since", "yesterday"],
     "smartward deadletter list: error: --since 'yesterday': ms since the epoch or ISO 8601"),
    (["twin", "run", "evacuation", "--ward-id", "w9", "--out", "unused"],
     "smartward twin run: error: --ward-id applies to a live census only: add --live URL"),
])
def test_our_own_usage_errors_have_the_prefix_and_exit_2(argv: list[str], line: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == line


def test_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    assert fail("drill list", "refused") == 1 and usage_error("twin run", "bad") == 2
    assert capsys.readouterr().err == "smartward drill list: error: refused\nsmartward twin run: error: bad\n"
    assert bounded(int, 1, 16)("16") == 16 and bounded(float, 0.0, lo_open=True)("0.5") == 0.5
    assert duration()("1.5h") == 5400.0 and duration(10, 60)("1m") == 60.0
    for parse, text in ((bounded(int, 1, 16), "0"), (bounded(float, 0.0, lo_open=True), "0"),
                        (bounded(float, 0.0, 1.0), "inf"), (duration(10, 60), "61"), (duration(), "ten")):
        with pytest.raises(argparse.ArgumentTypeError, match=r"allowed|not a duration"):
            parse(text)


def test_a_bad_value_caught_by_argparse_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["twin", "compare", "evacuation", "--a", "shift", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        "smartward twin compare: error: argument --a: expected KEY=VALUE, got 'shift'"


@pytest.mark.parametrize(("argv", "prefix"), [
    (["users", "list"], "smartward users list: error: cannot use the state DB"),
    (["audit", "tail"], "smartward audit tail: error: audit log:"),
])
def test_refusals_have_the_same_prefix_and_exit_1(argv: list[str], prefix: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--state", f"sqlite:///{tmp_path}/no/such/dir/state.db"]) == 1
    assert capsys.readouterr().err.startswith(prefix)
