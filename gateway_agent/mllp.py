"""MLLP (HL7 v2 Minimal Lower Layer Protocol) server on asyncio: ``<VT> message <FS><CR>`` frames.

Each connection reads frames one after another and answers each with the handler's reply (the
HL7 ACK) before reading the next, as MLLP senders expect. Hostile input never stops the server:
bytes before a start block are skipped, an oversized frame is discarded up to its end and answered
by the handler's ``on_oversize`` reply, a broken connection only ends that connection, and an idle
connection is closed after ``idle_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

START = b"\x0b"
END = b"\x1c\x0d"


def frame(payload: bytes) -> bytes:
    return START + payload + END


@dataclass(frozen=True, slots=True)
class MllpLimits:
    max_message_bytes: int = 1024 * 1024
    idle_timeout: float = 600.0
    max_connections: int = 256


Handler = Callable[[bytes, str], Awaitable[bytes]]  # (message bytes, peer) -> reply bytes (unframed)
OversizeHandler = Callable[[int, str], bytes]


class MllpServer:
    """``async with MllpServer(handler, host, port) as server:`` … ``server.port`` is the bound port."""

    def __init__(self, handler: Handler, on_oversize: OversizeHandler, host: str = "127.0.0.1", port: int = 2575,
                 limits: MllpLimits | None = None) -> None:
        self.handler = handler
        self.on_oversize = on_oversize
        self.host = host
        self.port = port
        self.limits = limits or MllpLimits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.messages = 0

    async def __aenter__(self) -> MllpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port,
                                                  limit=self.limits.max_message_bytes + 2)
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        log.info("MLLP listener on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            for task in list(self._connections):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._server.wait_closed()
            self._server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        addr = writer.get_extra_info("peername")
        peer = f"{addr[0]}:{addr[1]}" if addr else "?"
        try:
            if len(self._connections) > self.limits.max_connections:
                log.warning("MLLP %s: too many connections (%s), closing", peer, len(self._connections))
                return
            await self._serve(reader, writer, peer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
            log.info("MLLP %s: connection ended (%s)", peer, type(exc).__name__)
        except Exception:  # supervisor of one connection: log it, the listener goes on
            log.exception("MLLP %s: connection failed; closing it, the listener keeps serving", peer)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        while True:
            try:
                async with asyncio.timeout(self.limits.idle_timeout):
                    block = await reader.readuntil(END)
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    log.warning("MLLP %s: connection closed inside a frame (%s bytes dropped, never acknowledged)",
                                peer, len(exc.partial))
                return
            except asyncio.LimitOverrunError:
                size = await self._discard_frame(reader)
                log.warning("MLLP %s: frame of %s+ bytes exceeds %s, refused", peer, size, self.limits.max_message_bytes)
                reply = self.on_oversize(size, peer)
            else:
                start = block.find(START)
                message = block[start + 1: -len(END)] if start >= 0 else block[: -len(END)]
                if start > 0:
                    log.warning("MLLP %s: %s bytes before the start block skipped", peer, start)
                self.messages += 1
                reply = await self.handler(message, peer)
            writer.write(frame(reply))
            await writer.drain()

    async def _discard_frame(self, reader: asyncio.StreamReader) -> int:
        dropped = 0
        while True:
            try:
                rest = await reader.readuntil(END)
                return dropped + len(rest)
            except asyncio.LimitOverrunError as exc:
                chunk = await reader.readexactly(max(1, exc.consumed))
                dropped += len(chunk)
