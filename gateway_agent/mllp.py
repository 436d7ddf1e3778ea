"""MLLP (HL7 v2 Minimal Lower Layer Protocol) server on asyncio: ``<VT> message <FS><CR>`` frames.

Each connection reads frames one after another and answers each with the handler's reply (the
HL7 ACK) before reading the next, as MLLP senders expect. Hostile input never stops the server, nor
holds it:
- bytes before a start block are skipped;
- a frame must be complete ``frame_timeout`` seconds after its first byte (a sender that trickles a
  byte now and then cannot keep a buffer alive), and a connection with no frame started is closed
  after ``idle_timeout``;
- an oversized frame is discarded up to its end (within the same deadline), answered by the
  handler's ``on_oversize`` reply, and the connection is closed;
- one address holds at most ``max_connections_per_peer`` connections, the listener
  ``max_connections``; a connection over either cap is closed before anything is read;
- a broken connection only ends that connection; its buffer goes with it.

With ``tls`` the listener speaks MLLP over TLS; with a client CA (:func:`server_tls_context`) the
client certificate is required and its CN / DNS names identify the :class:`Peer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import metrics
from .errors import MllpError

log = logging.getLogger(__name__)

START = b"\x0b"
END = b"\x1c\x0d"


def frame(payload: bytes) -> bytes:
    return START + payload + END


@dataclass(frozen=True, slots=True)
class MllpLimits:
    max_message_bytes: int = 1024 * 1024
    idle_timeout: float = 600.0  # no frame started
    frame_timeout: float = 30.0  # first byte of a frame -> its end block, discarding included
    max_connections: int = 256
    max_connections_per_peer: int = 8
    read_chunk: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class Peer:
    """Who is connected: address and port, and the names of its verified client certificate (if any)."""

    host: str
    port: int
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


UNKNOWN_PEER = Peer("?", 0)
Handler = Callable[[bytes, Peer], Awaitable[bytes]]  # (message bytes, peer) -> reply bytes (unframed)
OversizeHandler = Callable[[int, Peer], bytes]


def server_tls_context(cert: str | Path, key: str | Path, client_ca: str | Path | None = None) -> ssl.SSLContext:
    """TLS >= 1.2 with the listener's certificate; with ``client_ca`` a client certificate it signed is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
        if client_ca is not None:
            ctx.load_verify_locations(cafile=client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise MllpError(f"MLLP TLS: cannot load {cert} / {key}{' / ' + str(client_ca) if client_ca else ''}: {exc}") from exc
    return ctx


def certificate_names(cert: Any) -> tuple[str, ...]:
    """CN(s) and DNS/URI subject alternative names of a peer certificate (``ssl`` dict form)."""
    if not cert:
        return ()
    names = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
    names += [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "URI")]
    return tuple(dict.fromkeys(names))


_DRAIN_UNDER = 16 * 1024  # below asyncio's write-buffer low-water mark drain() never waits


class _Oversize(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class MllpServer:
    """``async with MllpServer(handler, on_oversize, host, port) as server:`` … ``server.port`` is the bound port."""

    def __init__(self, handler: Handler, on_oversize: OversizeHandler, host: str = "127.0.0.1", port: int = 2575,
                 limits: MllpLimits | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.on_oversize = on_oversize
        self.host = host
        self.port = port
        self.limits = limits or MllpLimits()
        self.tls = tls
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._per_peer: dict[str, int] = {}
        self.messages = 0

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def __aenter__(self) -> MllpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._client, self.host, self.port, limit=self.limits.read_chunk, ssl=self.tls,
            ssl_handshake_timeout=self.limits.frame_timeout if self.tls else None)
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        log.info("MLLP listener on %s:%s (%s)", self.host, self.port,
                 "plain TCP" if self.tls is None else "TLS" + (", client certificates required"
                                                             if self.tls.verify_mode == ssl.CERT_REQUIRED else ""))

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

    def _admit(self, peer: Peer) -> bool:
        if len(self._connections) >= self.limits.max_connections:
            log.warning("MLLP %s: %s connections open (the listener's cap), closing this one", peer,
                        len(self._connections))
            return False
        if self._per_peer.get(peer.host, 0) >= self.limits.max_connections_per_peer:
            log.warning("MLLP %s: %s connections open from this address (its cap), closing this one", peer,
                        self._per_peer[peer.host])
            return False
        return True

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        addr = writer.get_extra_info("peername")
        peer = Peer(str(addr[0]), int(addr[1]), certificate_names(writer.get_extra_info("peercert"))) \
            if addr else UNKNOWN_PEER
        if not self._admit(peer):
            metrics.MLLP_REFUSED.labels("connection_cap").inc()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._per_peer[peer.host] = self._per_peer.get(peer.host, 0) + 1
        metrics.MLLP_CONNECTIONS.inc()
        try:
            await self._serve(reader, writer, peer)
        except (ConnectionError, TimeoutError, ssl.SSLError) as exc:
            log.info("MLLP %s: connection ended (%s)", peer, type(exc).__name__)
        except asyncio.CancelledError:  # close(): the listener is stopping; this task ends here, quietly
            log.debug("MLLP %s: closed with the listener", peer)
        except Exception:  # supervisor of one connection: log it, the listener goes on
            log.exception("MLLP %s: connection failed; closing it, the listener keeps serving", peer)
        finally:
            self._connections.discard(task)
            left = self._per_peer.pop(peer.host, 1) - 1
            if left > 0:
                self._per_peer[peer.host] = left
            metrics.MLLP_CONNECTIONS.dec()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        buf = bytearray()  # this connection's only buffer; it goes when the connection ends
        while True:
            if not buf.strip():  # no frame started (a stray CR/LF between frames does not start one)
                buf.clear()
                try:
                    async with asyncio.timeout(self.limits.idle_timeout):
                        chunk = await reader.read(self.limits.read_chunk)
                except TimeoutError:
                    log.info("MLLP %s: idle for %ss, closing", peer, self.limits.idle_timeout)
                    return
                if not chunk:
                    return
                buf += chunk
                continue
            deadline = loop.time() + self.limits.frame_timeout
            try:
                message = self._take(buf, peer)  # the usual case: the whole frame came in one read
                while message is None:
                    async with asyncio.timeout_at(deadline):
                        chunk = await reader.read(self.limits.read_chunk)
                    if not chunk:
                        log.warning("MLLP %s: connection closed inside a frame (%s bytes dropped, never "
                                    "acknowledged)", peer, len(buf))
                        return
                    buf += chunk
                    message = self._take(buf, peer, len(buf) - len(chunk))
            except _Oversize as over:
                size = await self._discard(reader, buf, over.size, deadline)
                log.warning("MLLP %s: frame of %s+ bytes exceeds %s: refused, closing the connection", peer, size,
                            self.limits.max_message_bytes)
                metrics.MLLP_REFUSED.labels("oversize").inc()
                await self._reply(writer, self.on_oversize(size, peer))
                return
            except TimeoutError:
                log.warning("MLLP %s: frame not complete %ss after its first byte (%s bytes): closing", peer,
                            self.limits.frame_timeout, len(buf))
                metrics.MLLP_REFUSED.labels("frame_timeout").inc()
                return
            self.messages += 1
            await self._reply(writer, await self.handler(message, peer))

    def _take(self, buf: bytearray, peer: Peer, scanned: int = 0) -> bytes | None:
        """The first complete message in ``buf`` (removed from it), ``None`` if incomplete; raises ``_Oversize``."""
        limit = self.limits.max_message_bytes + 1  # + the start block
        end = buf.find(END, max(0, scanned - len(END) + 1))
        if end < 0:
            if len(buf) > limit:
                raise _Oversize(len(buf))
            return None
        if end > limit:
            raise _Oversize(end)
        block = bytes(buf[:end])
        del buf[: end + len(END)]
        start = block.find(START)
        if start > 0:
            log.warning("MLLP %s: %s bytes before the start block skipped", peer, start)
        return block[start + 1:] if start >= 0 else block

    async def _discard(self, reader: asyncio.StreamReader, buf: bytearray, size: int, deadline: float) -> int:
        """Read and drop the rest of an oversized frame, until its end block, end of stream or ``deadline``."""
        tail = bytes(buf[-1:])
        buf.clear()
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout_at(deadline):
                while END not in tail:
                    chunk = await reader.read(self.limits.read_chunk)
                    if not chunk:
                        break
                    size += len(chunk)
                    tail = tail[-1:] + chunk
        return size

    async def _reply(self, writer: asyncio.StreamWriter, reply: bytes) -> None:
        writer.write(frame(reply))
        if writer.transport.get_write_buffer_size() < _DRAIN_UNDER:
            await writer.drain()  # does not wait: the ACKs are being read
            return
        async with asyncio.timeout(self.limits.frame_timeout):  # a sender that does not read its ACKs
            await writer.drain()
