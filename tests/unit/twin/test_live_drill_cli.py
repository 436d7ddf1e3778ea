"""``smartward drill``: usage errors exit 2, refusals exit 1 with a message naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from devservers import free_port
from smartward.cli import main
from smartward.commands.drill import duration


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
    assert capsys.readouterr().err == ("smartward drill list: error: set SMARTWARD_TWIN_TOKEN, or --username and "
                                       "SMARTWARD_TWIN_PASSWORD\n")
    monkeypatch.setenv("SMARTWARD_TWIN_TOKEN", "t")
    assert main(["drill", "status", "drill-1", "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "smartward drill status: error: http://127.0.0.1:" in capsys.readouterr().err
    monkeypatch.setattr("digital_twin.live_drill.SUBSCRIBE_TIMEOUT_S", 0.3)
    assert main(["drill", "start", "--ward", "w1", "--out", str(tmp_path), "--url", "http://127.0.0.1:1",
                 "--broker", f"mqtt://127.0.0.1:{free_port()}"]) == 1
    assert "cannot connect to the broker at mqtt://127.0.0.1:" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--beds", "0"], "argument --beds: 0 is out of range (allowed: from 1 to 16)"),
    (["--beds", "17"], "argument --beds: 17 is out of range (allowed: from 1 to 16)"),
    (["--beds", "two"], "argument --beds: 'two' is not an integer (allowed: from 1 to 16)"),
    (["--duration", "5s"], "argument --duration: 5s is 5 s, out of range; allowed: 10 s to 28800 s"),
    (["--duration", "9h"], "argument --duration: 9h is 32400 s, out of range; allowed: 10 s to 28800 s"),
    (["--speed", "0"], "argument --speed: 0 is out of range (allowed: above 0 up to 100)"),
    (["--speed", "nan"], "argument --speed: 'nan' is not a finite number (allowed: above 0 up to 100)"),
    (["--rate", "11"], "argument --rate: 11 is out of range (allowed: above 0 up to 10)"),
    (["--seed", "-3"], "argument --seed: -3 is out of range (allowed: at least 0)"),
])
def test_an_option_out_of_range_is_one_usage_line_before_anything_starts(
        argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 3: no pydantic repr from the server and no banner: argparse refuses it (exit 2), naming the
    option and the allowed range; nothing is contacted (the URL and broker are closed ports)."""
    with pytest.raises(SystemExit) as info:
        main(["drill", "start", "--ward", "w1", "--out", str(tmp_path / "o"), "--url", f"http://127.0.0.1:{free_port()}",
              "--broker", f"mqtt://127.0.0.1:{free_port()}", *argv])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert err.splitlines()[-1] == f"smartward drill start: error: {message}", err
    assert not (tmp_path / "o").exists()


def test_the_cli_checks_the_bounds_the_api_checks() -> None:
    """The CLI keeps its own copy of the bounds (``smartward --help`` must not import the driver)."""
    from digital_twin import live_drill
    from smartward.commands import drill

    assert (drill.BEDS_MAX, drill.DURATION_MIN_S, drill.DURATION_MAX_S, drill.SPEED_MAX, drill.RATE_MAX) == (
        live_drill.BEDS_MAX, live_drill.DURATION_MIN_S, live_drill.DURATION_MAX_S, live_drill.SPEED_MAX,
        live_drill.RATE_MAX)


def test_api_refusals_are_one_line_naming_the_field() -> None:
    """A 422 from the API (e.g. an older CLI against a stricter server) is ``field: message``, not a repr."""
    import httpx

    from digital_twin.api_errors import api_error

    r = httpx.Response(422, json={"detail": [
        {"type": "greater_than_equal", "loc": ["body", "beds"], "msg": "Input should be greater than or equal to 1",
         "input": 0, "ctx": {"ge": 1}}, {"loc": ["body", "ward"], "msg": "no ward 'x'"}]})
    assert api_error(r) == "beds: Input should be greater than or equal to 1; ward: no ward 'x'"
    assert api_error(httpx.Response(409, json={"detail": "ward w1 already has an active drill"})) == \
        "ward w1 already has an active drill"
    assert api_error(httpx.Response(502, text="<html>bad gateway</html>")) == "<html>bad gateway</html>"
