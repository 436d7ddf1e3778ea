"""`smartward users add` says when a ward or patient is unknown to the platform (a typo gives a login
that shows nothing); the user is still added, since users often come before the first admission."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest

from ingest import Attributions, make_engine
from smartward.cli import main


def add(monkeypatch: pytest.MonkeyPatch, state: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    return main(["users", "add", "--state", state, "--password-stdin", *args])


def test_unknown_ward_or_patient_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", secrets.token_hex(32))  # user changes are audited
    state = f"sqlite:///{tmp_path}/state.sqlite3"
    Attributions(make_engine(state)).admit("p-1", "w1", "07", at_ms=1_763_805_600_000)
    assert add(monkeypatch, state, "--username", "nina", "--role", "nurse", "--ward", "w1") == 0
    assert "warning" not in capsys.readouterr().err
    assert add(monkeypatch, state, "--username", "otto", "--role", "nurse", "--ward", "w9") == 0
    err = capsys.readouterr().err
    assert "warning: ward w9 has no beds or patients on the platform yet (known: w1)" in err, err
    assert add(monkeypatch, state, "--username", "pat", "--role", "patient", "--patient", "p-1") == 0
    assert "warning" not in capsys.readouterr().err
    assert add(monkeypatch, state, "--username", "pete", "--role", "patient", "--patient", "NOPE-1") == 0
    assert "warning: patient NOPE-1 has never been admitted" in capsys.readouterr().err
