"""Finding 17 (physician part): a physician created without ``--ward`` silently had hospital-wide
rights. Now hospital-wide needs an explicit ``--all-wards`` (stored as wards ``*``), otherwise a ward
is required. And the HL7 ADT interface account (role ``adt_feed``) is not clinical: no ward, no
patient data."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard_api.users import ROLES, User, UserError, UserStore
from smartward.cli import main


def store(tmp_path: Path) -> UserStore:
    return UserStore(sa.create_engine(f"sqlite:///{tmp_path}/u.sqlite3"))


def test_physician_needs_a_ward_or_all_wards(tmp_path: Path) -> None:
    users = store(tmp_path)
    with pytest.raises(UserError, match="--all-wards"):
        users.add("doc", "physician", "long enough pw")
    ward_doc = users.add("doc1", "physician", "long enough pw", ["w1"])
    assert ward_doc.can_see_ward("w1") and not ward_doc.can_see_ward("w2")
    everywhere = users.add("doc2", "physician", "long enough pw", all_wards=True)
    assert everywhere.wards == ("*",) and everywhere.can_see_ward("w2")
    assert users.get("doc2") == everywhere
    with pytest.raises(UserError):
        users.add("doc3", "physician", "long enough pw", ["w1"], all_wards=True)
    with pytest.raises(UserError, match="--all-wards"):
        users.add("n", "nurse", "long enough pw", all_wards=True)


def test_a_physician_without_wards_sees_nothing() -> None:
    assert not User("d", "physician").can_see_ward("w1")
    assert User("d", "physician", ("*",)).can_see_ward("w1")


def test_adt_feed_is_not_clinical() -> None:
    assert "adt_feed" in ROLES
    feed = User("hl7", "adt_feed")
    assert not feed.clinical and not feed.can_see_ward("w1")


def test_cli_all_wards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", secrets.token_hex(32))  # user changes are audited
    state = f"sqlite:///{tmp_path}/state.sqlite3"

    def add(*args: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
        return main(["users", "add", "--state", state, "--password-stdin", *args])

    assert add("--username", "doc", "--role", "physician") == 1
    assert "--all-wards" in capsys.readouterr().err
    assert add("--username", "doc", "--role", "physician", "--all-wards") == 0
    assert "all wards" in capsys.readouterr().out
    assert add("--username", "feed", "--role", "adt_feed") == 0
