"""The whole platform in the test's loop (``run_platform``: in-process ingest, alerting, the HTTP app
with its hub) against real Mosquitto and a real store, plus helpers to log in and publish."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest

from dashboard_api import UserStore
from devservers import Mosquitto, free_port
from ingest import make_engine
from smartward.compose import Platform, PlatformConfig, run_platform
from tests.tasks import stop_task

PASSWORD = "correct horse battery"

async def until(cond: Callable[[], Any], what: str, limit_s: float = 15.0) -> Any:
    """Poll a condition (sync or async) until truthy, returning its value; fail naming ``what``."""
    try:
        async with asyncio.timeout(limit_s):
            while True:
                value = cond()
                if asyncio.iscoroutine(value):
                    value = await value
                if value:
                    return value
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {limit_s}s waiting for {what}") from None

@dataclass
class Running:
    base: str
    platform: Platform
    state_url: str
    root: str
    broker_port: int

    async def login(self, client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = await client.post(f"{self.base}/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def add_user(self, username: str, role: str, wards: tuple[str, ...] = (), patient: str = "") -> None:
        UserStore(make_engine(self.state_url)).add(username, role, PASSWORD, wards, patient)

    async def ingest_knows(self, device: str, ward: str) -> None:
        """Wait until the in-process ingest worker attributes ``device`` to ``ward`` (it reloads its
        cache on ``control/assignments``; samples sent before that would be stored as unassigned)."""
        worker = next(c for c in self.platform.components if c.name == "ingest")
        attr = worker.attributions  # type: ignore[attr-defined]
        await until(lambda: attr.lookup(device, int(time.time() * 1000)).ward == ward,
                    f"ingest attributing {device} to {ward}")

    async def stored(self, patient: str, rows: int) -> None:
        """Wait until the store holds ``rows`` rows of ``patient``'s vitals. Screens get the live stream
        before ingest's batch reaches the store, so a trend asked for at once may not have them yet."""
        async def count() -> int:
            now = int(time.time() * 1000)
            got = await self.platform.store.query_vitals(patient=patient, signals=["heart_rate"],
                                                         from_ms=now - 8 * 3_600_000, to_ms=now + 1, every=None)
            return len(got)

        deadline = time.monotonic() + 20
        while (n := await count()) < rows:
            assert time.monotonic() < deadline, f"store holds {n} of {rows} rows of {patient} after 20 s"
            await asyncio.sleep(0.1)

    async def publish(self, topic: str, body: dict[str, Any], qos: int = 1) -> None:
        async with aiomqtt.Client("127.0.0.1", self.broker_port) as c:
            await c.publish(f"{self.root}/{topic}", orjson.dumps(body), qos=qos)

@contextlib.asynccontextmanager
async def running_platform(broker_url: str, broker_port: int, store: str, root: str,
                           tmp: Path) -> AsyncIterator[Running]:
    port = free_port()
    state = f"sqlite:///{tmp}/state.sqlite3"
    cfg = PlatformConfig(broker=broker_url, store=store, state=state, data_dir=str(tmp), http=f"127.0.0.1:{port}",
                         topic_root=root, ingest_workers=0, client_prefix=f"{root[:12]}-")
    ready: asyncio.Future[Platform] = asyncio.get_running_loop().create_future()

    def on_ready(p: Platform) -> None:
        ready.set_result(p)

    task = asyncio.create_task(run_platform(cfg, on_ready=on_ready))
    try:
        platform = await asyncio.wait_for(asyncio.shield(ready), 20)
        run = Running(f"http://127.0.0.1:{port}", platform, state, root, broker_port)

        async def is_ready() -> bool:
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{run.base}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False
            finally:
                if task.done():
                    task.result()

        await until(is_ready, "platform /readyz", 30)
        yield run
    finally:
        await stop_task(task, "the platform")

@pytest.fixture
def api_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    key = secrets.token_urlsafe(32)
    monkeypatch.setenv("SMARTWARD_SECRET_KEY", key)
    monkeypatch.setenv("SMARTWARD_ENVIRONMENT", "production")
    monkeypatch.setenv("SMARTWARD_AUDIT_KEY", secrets.token_hex(32))  # production needs the audit-log key
    return key

@pytest.fixture
async def platform_sqlite(mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                          api_secret: str) -> AsyncIterator[Running]:
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root,
                                tmp_path) as run:
        yield run

def obs(device: str, seq: int, t: int, **values: float) -> dict[str, Any]:
    return {"v": 1, "device": device, "seq": seq, "samples": [{"t": t, **values}]}

