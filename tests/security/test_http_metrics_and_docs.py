"""Issue 13, finding 17 (HTTP part): ``/metrics`` answers only the hospital's Prometheus (a bearer
scrape token, ``SMARTWARD_METRICS_TOKEN``) or an admin; ``/docs``, ``/redoc`` and ``/openapi.json`` are
off in production unless ``SMARTWARD_API_DOCS=1``. The schema stays available in-process."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from dashboard_api import create_app
from devservers import Mosquitto
from smartward.settings import load_api_config

from .conftest import running_platform

pytestmark = pytest.mark.integration
DOCS = ("/docs", "/redoc", "/openapi.json")


async def test_metrics_need_the_scrape_token_or_an_admin_and_docs_are_off(
        mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    scrape = secrets.token_urlsafe(32)
    monkeypatch.setenv("SMARTWARD_METRICS_TOKEN", scrape)
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/v.sqlite3", topic_root,
                                tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        run.add_user("ada", "admin")
        run.add_user("nina", "nurse", ("w1",))
        anonymous = await c.get("/metrics")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
        assert "smartward_" not in anonymous.text
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong-token"})).status_code == 401
        assert (await c.get("/metrics", headers=await run.login(c, "nina"))).status_code == 403
        for headers in ({"Authorization": f"Bearer {scrape}"}, await run.login(c, "ada")):
            r = await c.get("/metrics", headers=headers)
            assert r.status_code == 200 and "smartward_dashboard_websockets" in r.text
        for path in DOCS:
            assert (await c.get(path)).status_code == 404, path
        assert (await c.get("/healthz")).status_code == 200 and (await c.get("/readyz")).status_code == 200
        # the schema is still there for tests and tools in-process
        app = create_app(run.platform, load_api_config(), own_hub=True)
        assert "/api/v1/ws/ticket" in app.openapi()["paths"]


async def test_api_docs_can_be_switched_on_and_run_under_their_policy(
        mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTWARD_API_DOCS", "1")
    async with running_platform(mosquitto.url, mosquitto.port, f"sqlite:///{tmp_path}/v.sqlite3", topic_root,
                                tmp_path) as run, httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        spec = (await c.get("/openapi.json")).json()
        assert "/api/v1/auth/token" in spec["paths"]
        for path in ("/docs", "/redoc"):
            r = await c.get(path)
            assert r.status_code == 200 and "openapi.json" in r.text
            script_src = next(d for d in r.headers["content-security-policy"].split(";")
                              if d.strip().startswith("script-src")).split()
            assert "'unsafe-inline'" not in script_src and "'self'" in script_src
        # without a scrape token configured, only an admin reads the metrics
        assert (await c.get("/metrics")).status_code == 401


def test_a_weak_scrape_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_api.errors import ConfigError
    from smartward.settings import load_http_policy

    monkeypatch.setenv("SMARTWARD_METRICS_TOKEN", "prometheus")
    with pytest.raises(ConfigError, match="SMARTWARD_METRICS_TOKEN"):
        load_http_policy("production")
