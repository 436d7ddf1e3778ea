"""Shared fixtures: real Mosquitto, InfluxDB and PostgreSQL servers (session scope), unique names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from devservers import InfluxDB, Mosquitto, PostgreSQL
from tests.prereq import IN_CI, missing

REPO = Path(__file__).resolve().parents[1]
# Real recordings (PhysioNet, MIMIC-III, IHE HL7) live in ../shared/testdata beside the clone.
TESTDATA = Path(os.environ.get("SMARTWARD_TESTDATA", REPO.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``../shared/testdata`` (override with SMARTWARD_TESTDATA)."""
    if not TESTDATA.is_dir():
        missing(f"shared test data at {TESTDATA}", "clone ../shared beside the repo or set SMARTWARD_TESTDATA")
    return TESTDATA


def _need(cls: type[Mosquitto] | type[InfluxDB] | type[PostgreSQL]) -> None:
    if not cls.available():  # CI installs everything: a missing server is a failure there, not a skip
        missing(cls.binary)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    """A real Mosquitto shared by the session; tests use their own topic root (``topic_root``)."""
    _need(Mosquitto)
    m = Mosquitto().start()
    yield m
    m.close()


@pytest.fixture
def private_mosquitto() -> Iterator[Mosquitto]:
    """A broker of this test's own, for tests that stop and restart it."""
    _need(Mosquitto)
    m = Mosquitto().start()
    yield m
    m.close()


@pytest.fixture(scope="session")
def influxdb() -> Iterator[InfluxDB]:
    """A real InfluxDB 1.x shared by the session; tests use their own database (``influx_db``)."""
    _need(InfluxDB)
    s = InfluxDB().start()
    yield s
    s.close()


@pytest.fixture
def private_influxdb() -> Iterator[InfluxDB]:
    """An InfluxDB of this test's own, for tests that stop and restart it."""
    _need(InfluxDB)
    s = InfluxDB().start()
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    """A real PostgreSQL shared by the session (the state DB's other dialect); tests use their own
    database (``postgres_url``)."""
    _need(PostgreSQL)
    s = PostgreSQL().start()
    yield s
    s.close()


@pytest.fixture
def postgres_url(postgresql: PostgreSQL, uid: str) -> str:
    """A fresh empty database of this test's own on the session's PostgreSQL."""
    return postgresql.create_db(f"sw_{uid}")


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topic_root(uid: str) -> str:
    """A topic root of this test's own (instead of ``smartward/v1``) on the shared broker."""
    return f"t{uid}/smartward/v1"


@pytest.fixture
def influx_db(uid: str) -> str:
    return f"sw_{uid}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, None]:
    """In CI (``CI=true``) a skip is a failure naming its reason: the suite never ends green having
    silently not run something (a missing server, tool, generated file or ``../shared/testdata``)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which is a failure: {reason}"


# The files that take longest (mostly waiting on real servers: a 60 s broker outage, serve restarts,
# drills). With two workers handing out one file at a time they start first, so neither worker is left
# running one of them alone at the end. Order only: every test still runs, and a file missing from the
# list just keeps its place.
SLOW_FIRST = (
    "tests/integration/gateway/test_outbox_acceptance.py",
    "tests/integration/ingest/test_serve_acceptance.py",
    "tests/integration/twin/test_facility_api.py",
    "tests/integration/twin/test_drill_broker.py",
    "tests/integration/test_bench_api.py",
    "tests/browser/test_alarm_safety.py",
    "tests/integration/dashboard/test_api_acceptance.py",
    "tests/integration/twin/test_live_drill.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {f: i for i, f in enumerate(SLOW_FIRST)}
    items.sort(key=lambda it: rank.get(it.nodeid.split("::", 1)[0], len(SLOW_FIRST)))  # stable sort
