"""A minimal Prometheus endpoint for a gateway process: ``smartward gateway --metrics 127.0.0.1:9102``.

``GET /metrics`` answers the process's registry (outbox, MLLP and HL7 counters of
:mod:`gateway_agent.metrics`); anything else is 404. It has no authentication, so ``smartward
gateway`` binds it to a loopback address only (scrape it through the host's agent or a proxy).
One request per connection, bounded in size and time, on the gateway's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

MAX_REQUEST_BYTES = 8 * 1024
REQUEST_TIMEOUT_S = 5.0


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            head = await reader.readuntil(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].split()
        if len(parts) >= 2 and parts[0] == b"GET" and parts[1].split(b"?", 1)[0] == b"/metrics":
            status, ctype, body = b"200 OK", CONTENT_TYPE_LATEST.encode(), generate_latest(REGISTRY)
        else:
            status, ctype, body = b"404 Not Found", b"text/plain; charset=utf-8", b"not found: GET /metrics\n"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def start_metrics_server(host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (``port`` 0: any free port; see ``server.sockets``)."""
    return await asyncio.start_server(_handle, host, port, limit=MAX_REQUEST_BYTES)
