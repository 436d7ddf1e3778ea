"""``smartward simulate`` refuses bad input with exit 2 and a message naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartward.cli import main


@pytest.mark.parametrize(("argv", "message"), [
    (["--broker", "ftp://x"], "scheme must be mqtt:// or mqtts://"),
    (["--broker", "mqtt://127.0.0.1:1", "--scenario", "septic"], "unknown scenario 'septic'"),
    (["--broker", "mqtt://127.0.0.1:1", "--beds", "0"], "--beds >= 1"),
    (["--broker", "mqtt://127.0.0.1:1", "--device-pattern", "bed {bed}"], "bad id"),
])
def test_bad_input_exits_2_naming_the_problem(argv: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--outbox", str(tmp_path / "ob"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_credentials_file_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    creds = tmp_path / "creds"
    creds.write_text("# device:password\nsim-w1-01:s3cret\nno-colon-here\n")
    assert main(["simulate", "--broker", "mqtt://127.0.0.1:1", "--credentials", str(creds),
                 "--outbox", str(tmp_path / "ob")]) == 2
    err = capsys.readouterr().err
    assert f"{creds}:3: expected 'device:password'" in err and "s3cret" not in err
