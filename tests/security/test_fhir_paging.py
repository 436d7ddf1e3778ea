"""Finding 10 (FHIR part): the FHIR Observation search read every raw row of up to 400 days and then
kept the last 5,000. Now it pages: ``_count`` (default 100, at most 1000) entries per Bundle, a
``next`` link with a cursor, and the store query itself limited to the page."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.bundle import Bundle

from device_profiles import AttributedObservation, Attribution, Observation, Sample
from devservers import InfluxDB, Mosquitto
from ingest import Batch

from .conftest import Running, running_platform

pytestmark = pytest.mark.integration
N = 250  # instants of mon-1, two signals each: 500 Observations
T0 = (int(time.time() * 1000) // 1000) * 1000 - 3_600_000


@pytest.fixture(params=["sqlite", "influxdb"])
async def platform(request: pytest.FixtureRequest, mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                   api_secret: str) -> AsyncIterator[Running]:
    if request.param == "influxdb":
        influx: InfluxDB = request.getfixturevalue("influxdb")
        store = influx.store_url(request.getfixturevalue("influx_db"))
    else:
        store = f"sqlite:///{tmp_path}/vitals.sqlite3"
    async with running_platform(mosquitto.url, mosquitto.port, store, topic_root, tmp_path) as run:
        yield run


async def seed(run: Running) -> None:
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [
        Sample(T0 + i * 1000, {"heart_rate": 60 + i % 40, "spo2": 90 + i % 10}) for i in range(N)]),
        Attribution("w1", "01", "P-1")))
    store = run.platform.store
    await store.write(store.encode(b))


async def test_fhir_search_pages_with_count_and_next_links(platform: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    run = platform
    run.add_user("root", "admin")
    await seed(run)
    store = run.platform.store
    real = store.query_vitals
    limits: list[int | None] = []

    async def spy(**kw: Any) -> Any:
        limits.append(kw.get("limit"))
        return await real(**kw)

    monkeypatch.setattr(store, "query_vitals", spy)
    url = "/api/v1/patients/P-1/fhir/Observation"
    span = {"from": T0, "to": T0 + N * 1000}
    async with httpx.AsyncClient(base_url=run.base, timeout=20) as c:
        h = await run.login(c, "root")
        first = await c.get(url, headers=h, params=span)
        assert first.status_code == 200, first.text
        assert len(first.json()["entry"]) == 100  # the default page
        ids: list[str] = []
        times: list[str] = []
        pages = 0
        nxt: str | None = str(httpx.URL(url).copy_merge_params(span | {"_count": 120}))
        while nxt is not None:
            r = await c.get(nxt, headers=h)
            assert r.status_code == 200, r.text
            bundle = Bundle.model_validate(r.json())
            pages += 1
            assert bundle.type == "searchset" and len(bundle.entry or []) <= 120
            ids += [e.resource.id for e in bundle.entry or []]  # type: ignore[union-attr]
            times += [r.json()["entry"][i]["resource"]["effectiveDateTime"] for i in range(len(bundle.entry or []))]
            links = {link.relation: link.url for link in bundle.link or []}
            assert "self" in links
            nxt = links.get("next")
            assert pages <= 10, "the next links do not end"
        assert len(ids) == 2 * N and len(set(ids)) == 2 * N  # every Observation once
        assert times == sorted(times)
        assert pages == 5  # 120 + 120 + 120 + 120 + 20
        for bad in ({"_count": 1001}, {"_count": 0}, {"_cursor": "yesterday"}):
            r = await c.get(url, headers=h, params=span | bad)
            assert r.status_code == 422, (bad, r.text)
    assert limits and all(n is not None and n <= 1000 + 2 for n in limits), limits
