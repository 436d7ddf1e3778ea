"""Finding 17 (dead letters): rejected messages carry raw patient data, so the dead-letter store has a
quota (rows and bytes, oldest dropped first, counted and logged) and a retention (30 days by default,
``SMARTWARD_DEADLETTER_*``), pruned periodically by the ingest worker off the message path. Real
SQLite files and the real platform; no mocks."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import aiomqtt
import pytest
from prometheus_client import REGISTRY

from ingest import IngestConfig
from ingest.deadletters import DeadLetterPolicy, DeadLetterStore, NewDeadLetter
from smartward.cli import main
from smartward.compose import PlatformConfig
from smartward.settings import load_deadletter_policy
from tests.integration.dashboard.conftest import Running, until

DAY_MS = 86_400_000


def dropped(why: str) -> float:
    return REGISTRY.get_sample_value("smartward_ingest_deadletters_dropped_total", {"why": why}) or 0.0


def letter(t: int, n: int, size: int = 10) -> NewDeadLetter:
    return NewDeadLetter(t, f"acme/SN{n}/vitals", f"{n:04d}".encode() + b"x" * (size - 4), "hr", f"bad {n}")


def test_quota_in_rows_drops_the_oldest_counted_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = int(time.time() * 1000)
    store = DeadLetterStore(tmp_path / "dl.sqlite3", DeadLetterPolicy(retention_days=30, max_rows=5, max_bytes=10**9))
    store.add_many([letter(now - 1000 + i, i) for i in range(8)])
    before = dropped("quota")
    with caplog.at_level(logging.WARNING, logger="ingest.deadletters"):
        result = store.prune(now)
    assert (result.expired, result.over_quota) == (0, 3)
    assert [d.reason for d in store.list()] == [f"bad {i}" for i in range(3, 8)]
    assert dropped("quota") - before == 3
    assert any("quota" in r.getMessage() and "3" in r.getMessage() for r in caplog.records)
    store.close()
    # a second connection (the CLI, another worker) sees the same file pruned
    assert DeadLetterStore(tmp_path / "dl.sqlite3").count() == 5


def test_quota_in_bytes_keeps_the_newest(tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    store = DeadLetterStore(tmp_path / "dl.sqlite3", DeadLetterPolicy(retention_days=30, max_rows=10**6, max_bytes=1000))
    store.add_many([letter(now - 100 + i, i, size=300) for i in range(10)])
    result = store.prune(now)
    assert result.over_quota == 7 and store.size_bytes() <= 1000
    assert [d.reason for d in store.list()] == ["bad 7", "bad 8", "bad 9"]


def test_retention_removes_letters_older_than_the_policy(tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    store = DeadLetterStore(tmp_path / "dl.sqlite3", DeadLetterPolicy(retention_days=30))
    store.add_many([letter(now - 40 * DAY_MS, 0), letter(now - 31 * DAY_MS, 1), letter(now - DAY_MS, 2)])
    before = dropped("expired")
    result = store.prune(now)
    assert (result.expired, result.over_quota) == (2, 0)
    assert [d.reason for d in store.list()] == ["bad 2"]
    assert dropped("expired") - before == 2


def test_policy_comes_from_settings_and_reaches_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DeadLetterPolicy().retention_days == 30
    monkeypatch.setenv("SMARTWARD_DEADLETTER_RETENTION_DAYS", "7")
    monkeypatch.setenv("SMARTWARD_DEADLETTER_MAX_ROWS", "1234")
    cfg = PlatformConfig(broker="mqtt://x", store="sqlite:///v", state="sqlite:///s", data_dir="d").ingest_config()
    assert (cfg.deadletters.retention_days, cfg.deadletters.max_rows) == (7, 1234)
    assert IngestConfig.from_json(cfg.to_json()) == cfg  # what a worker process receives
    monkeypatch.setenv("SMARTWARD_DEADLETTER_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="retention"):
        load_deadletter_policy()


def test_cli_shows_quota_and_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SMARTWARD_DEADLETTER_RETENTION_DAYS", "14")
    monkeypatch.setenv("SMARTWARD_DEADLETTER_MAX_ROWS", "3")
    now = int(time.time() * 1000)
    store = DeadLetterStore(tmp_path / "deadletters.sqlite3")
    store.add_many([letter(now - 20 * DAY_MS, 0), *(letter(now, i) for i in range(1, 5))])
    store.close()
    assert main(["deadletter", "status", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "retention 14 days" in out and "max 3 rows" in out and "5 dead letters" in out
    assert main(["deadletter", "prune", "--data-dir", str(tmp_path)]) == 0
    assert "1 expired, 1 over quota" in capsys.readouterr().out
    assert DeadLetterStore(tmp_path / "deadletters.sqlite3").count() == 3


@pytest.fixture
def small_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_DEADLETTER_MAX_ROWS", "5")
    monkeypatch.setenv("SMARTWARD_DEADLETTER_PRUNE_INTERVAL_S", "0.2")


@pytest.mark.integration
async def test_running_ingest_prunes_to_the_quota(small_quota: None, platform_sqlite: Running,
                                                  tmp_path: Path, uid: str) -> None:
    run = platform_sqlite
    path = tmp_path / "deadletters.sqlite3"
    async with aiomqtt.Client("127.0.0.1", run.broker_port, identifier=f"dl-{uid}") as dev:
        for i in range(12):
            await dev.publish(f"{run.root}/devices/dev-1/obs", b"not json %d" % i, qos=1)

    def pruned() -> bool:
        letters = list(DeadLetterStore(path).list())
        return [d.payload for d in letters] == [b"not json %d" % i for i in range(7, 12)]

    await until(pruned, "ingest keeping only the 5 newest dead letters", 20)
