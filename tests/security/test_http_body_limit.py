"""Issue 13, finding 10 (body size): a request body is refused with 413 as soon as its
``Content-Length`` or the bytes streamed so far pass the limit (1 MiB by default, 256 KiB for a device
profile), so no route can be made to hold 60 MB in memory, whatever the caller's role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dashboard_api import create_app
from smartward.settings import load_api_config

from .conftest import Running

pytestmark = pytest.mark.integration
MiB = 1 << 20
CHUNK = 64 * 1024


async def post_streamed(app: Any, path: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """POST ``total`` bytes in 64 KiB chunks (chunked: no Content-Length) straight into the ASGI app;
    returns the status and how many body bytes the app pulled before answering."""
    chunk = b"x" * CHUNK
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.disconnect"}
        pulled += CHUNK
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"transfer-encoding", b"chunked")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": raw, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    await app(scope, receive, send)
    return status, pulled


async def test_a_60_mb_body_is_refused_while_streaming(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("carl", "charge_nurse", ("w1",))
    run.add_user("vic", "vendor")
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as c:
        carl, vic = await run.login(c, "carl"), await run.login(c, "vic")
    app = create_app(run.platform, load_api_config(), own_hub=True)
    for path, headers, limit in (
            ("/api/v1/adt/hl7", {**carl, "content-type": "x-application/hl7-v2+er7"}, MiB),
            ("/api/v1/adt/admit", {**carl, "content-type": "application/json"}, MiB),
            ("/api/v1/device-profiles", {**vic, "content-type": "application/yaml"}, 256 * 1024)):
        status, pulled = await post_streamed(app, path, headers, 60 * MiB)
        assert status == 413, path
        assert pulled <= limit + CHUNK, f"{path} read {pulled} bytes before refusing"


async def test_a_declared_oversize_body_is_refused_before_it_is_read(platform_sqlite: Running) -> None:
    run = platform_sqlite
    run.add_user("carl", "charge_nurse", ("w1",))
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as c:
        h = {**(await run.login(c, "carl")), "Content-Type": "x-application/hl7-v2+er7"}
        r = await c.post("/api/v1/adt/hl7", headers=h, content=b"MSH|" + b"x" * (2 * MiB))
        assert r.status_code == 413
        # a message of ordinary size still goes through the same route
        r = await c.post("/api/v1/adt/hl7", headers=h, content="hello")
        assert r.status_code == 422 and "MSA|AR" in r.text
