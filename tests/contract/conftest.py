"""The vitals store contract: every test here runs against InfluxDB (real, v1 API) and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devservers import InfluxDB
from ingest.stores import VitalsStore, open_store


@pytest.fixture(params=["influxdb", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VitalsStore]:
    if request.param == "influxdb":
        influx: InfluxDB = request.getfixturevalue("influxdb")
        db: str = request.getfixturevalue("influx_db")
        s = await open_store(influx.store_url(db))
    else:
        s = await open_store(f"sqlite:///{tmp_path}/vitals.sqlite3")
    yield s
    await s.close()
