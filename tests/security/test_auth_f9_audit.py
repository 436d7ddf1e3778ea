"""Finding 9 (authentication part): login failures, delays, refreshes, a replayed refresh token,
logout and every user-administration command are written to the audit log (never a password)."""

from __future__ import annotations

import io
import secrets

import httpx
import pytest
import sqlalchemy as sa

from dashboard_api import AuditLog
from ingest import make_engine
from smartward.cli import main

from .conftest import PASSWORD, Running


def entries(state_url: str) -> list[dict[str, object]]:
    return AuditLog(make_engine(state_url)).entries(limit=10_000)


@pytest.mark.integration
async def test_authentication_events_are_audited(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("nina", "nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        for i in range(6):
            await c.post("/api/v1/auth/token", data={"username": "nina", "password": f"secret-guess-{i}"})
        await c.post("/api/v1/auth/token", data={"username": "nobody", "password": "secret-guess-x"})
        await c.post("/api/v1/auth/token", data={"username": "n" * 65, "password": "x"})
        run.add_user("otto", "nurse", ("w1",))
        ok = await c.post("/api/v1/auth/token", data={"username": "otto", "password": PASSWORD})
        assert ok.status_code == 200, ok.text
        first = ok.json()
        assert (await c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).status_code == 200
        await c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})  # a replay
        again = await c.post("/api/v1/auth/token", data={"username": "otto", "password": PASSWORD})
        await c.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    log = entries(run.state_url)
    actions = [(e["actor"], e["role"], e["action"]) for e in log]
    assert ("nina", "anonymous", "login.failed") in actions
    assert ("nobody", "anonymous", "login.failed") in actions
    assert any(a[2] == "login.delayed" and a[0] == "nina" for a in actions), actions
    for action in ("login", "token.refresh", "token.reuse", "logout"):
        assert ("otto", "nurse", action) in actions, (action, actions)
    failed = next(e for e in log if e["action"] == "login.failed")
    assert "127.0.0.1" in str(failed["detail"])
    assert not any("secret-guess" in str(e) or PASSWORD in str(e) for e in log)
    assert not any("n" * 65 in str(e) for e in log)


def test_user_administration_is_audited(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", secrets.token_hex(32))  # user changes are audited
    state = f"sqlite:///{tmp_path}/state.sqlite3"

    def users(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(["users", *args, "--state", state])

    assert users("add", "--username", "nina", "--role", "nurse", "--ward", "w1", "--password-stdin",
                 stdin="first password 1\n") == 0
    assert users("set-role", "--username", "nina", "--role", "charge_nurse", "--ward", "w1", "--ward", "w2") == 0
    assert users("reset-password", "--username", "nina", "--password-stdin", stdin="second password 2\n") == 0
    assert users("disable", "--username", "nina") == 0
    assert users("enable", "--username", "nina") == 0
    assert users("list") == 0
    log = entries(state)
    assert [e["action"] for e in log] == ["user.created", "user.role_changed", "user.password_reset",
                                          "user.disabled", "user.enabled"]
    assert all(e["resource"] == "user/nina" for e in log)
    assert "w2" in str(log[1]["detail"]) and "charge_nurse" in str(log[1]["detail"])
    assert not any("password 1" in str(e) or "password 2" in str(e) for e in log)
    with make_engine(state).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM dashboard_audit")).scalar() == 5
