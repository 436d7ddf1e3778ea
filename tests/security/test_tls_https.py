"""Finding 11 (HTTP): the API was plain HTTP only. ``smartward serve --tls-cert/--tls-key`` now serves
HTTPS (a real handshake here, verified against the fixture's CA), and in production serve refuses plain
HTTP on a non-loopback address in one line unless ``--allow-plain-http`` declares a TLS-terminating
reverse proxy in front."""

from __future__ import annotations

import asyncio
import os
import secrets
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devservers import Mosquitto, free_port, make_test_pki
from smartward.compose import PlatformConfig, run_platform
from tests.integration.dashboard.conftest import api_secret, until
from tests.tasks import stop_task

pytestmark = pytest.mark.integration
__all__ = ["api_secret"]


async def test_api_over_https(mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str) -> None:
    pki = make_test_pki(tmp_path / "pki")
    port = free_port()
    cfg = PlatformConfig(broker=mosquitto.url, store=f"sqlite:///{tmp_path}/v.sqlite3",
                         state=f"sqlite:///{tmp_path}/state.sqlite3", data_dir=str(tmp_path),
                         http=f"127.0.0.1:{port}", topic_root=topic_root, ingest_workers=0,
                         client_prefix=f"{topic_root[:12]}-", tls_cert=str(pki.server_cert),
                         tls_key=str(pki.server_key))
    task = asyncio.create_task(run_platform(cfg))
    trust = ssl.create_default_context(cafile=str(pki.ca))
    try:
        async def healthy() -> bool:
            if task.done():
                task.result()
            try:
                async with httpx.AsyncClient(verify=trust) as c:
                    return (await c.get(f"https://127.0.0.1:{port}/healthz", timeout=2)).status_code == 200
            except httpx.ConnectError:
                return False

        await until(healthy, "/healthz over HTTPS, the certificate verified against the test CA", 30)
        async with httpx.AsyncClient(verify=trust) as c:
            r = await c.get(f"https://localhost:{port}/healthz", timeout=5)
            assert r.status_code == 200 and r.url.scheme == "https"
        # a client that does not trust the CA is refused at the handshake; plain HTTP gets no page
        async with httpx.AsyncClient() as c:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await c.get(f"https://127.0.0.1:{port}/healthz", timeout=5)
            with pytest.raises(httpx.HTTPError):
                r = await c.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                r.raise_for_status()
    finally:
        await stop_task(task, "the platform")


def serve(tmp_path: Path, *args: str, environment: str = "production") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMARTWARD_ENVIRONMENT": environment, "SMARTWARD_SECRET_KEY": secrets.token_urlsafe(32)}
    return subprocess.run([sys.executable, "-m", "smartward", "serve", "--broker", "mqtt://127.0.0.1:1",
                           "--store", f"sqlite:///{tmp_path}/v.sqlite3", "--data-dir", str(tmp_path), *args],
                          capture_output=True, text=True, env=env, timeout=30, check=False)


@pytest.mark.parametrize("bind", ["0.0.0.0:8443", "10.1.2.3:8000", "[::]:8000", "ward-api.example:8000"])
def test_production_refuses_plain_http_off_the_loopback(tmp_path: Path, bind: str) -> None:
    r = serve(tmp_path, "--http", bind)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing plain HTTP" in lines[0] and "--tls-cert" in lines[0], r.stderr
    assert "smartward serve: broker" not in r.stdout  # nothing started


def test_tls_options_go_together(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    r = serve(tmp_path, "--http", "0.0.0.0:8443", "--tls-cert", str(pki.server_cert))
    assert r.returncode == 2 and "--tls-cert and --tls-key go together" in r.stderr, r.stderr
