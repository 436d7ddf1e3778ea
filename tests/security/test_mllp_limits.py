"""Issue 13, finding 5: a slow or hostile sender cannot hold the MLLP listener's connections or memory.

The real listener on a free port with the real HL7 gateway handler, driven by raw sockets: an
oversized frame followed by silence is answered ``AR`` and closed within the frame deadline; one
address cannot take more than its share of connections; unterminated frames are dropped (and their
buffers freed) at the deadline instead of being held for the idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from device_profiles import compile_profile_file
from device_profiles.hl7 import Hl7Decoder
from device_profiles.registry import BUILTIN_DIR
from gateway_agent.hl7_gateway import Hl7Gateway
from gateway_agent.mllp import END, START, MllpLimits, MllpServer

from .test_mllp_peers import msa, oru, refused, send

pytestmark = pytest.mark.integration


class ListSink:
    def __init__(self) -> None:
        self.items: list[tuple[str, bytes, int]] = []

    async def put(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.items.append((topic, payload, qos))


@contextlib.asynccontextmanager
async def listener(limits: MllpLimits) -> AsyncIterator[MllpServer]:
    gw = Hl7Gateway(Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml")), ListSink(),
                    root="t13/smartward/v1")
    async with MllpServer(gw.handle, gw.oversize, "127.0.0.1", 0, limits) as server:
        yield server


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``within`` seconds)."""
    async with asyncio.timeout(within):
        try:
            return await reader.read()  # until EOF
        except ConnectionResetError:  # closed with our bytes unread: also closed
            return b""


@contextlib.asynccontextmanager
async def connections(port: int, sources: list[str]) -> AsyncIterator[list[tuple[asyncio.StreamReader,
                                                                                   asyncio.StreamWriter]]]:
    """Connections held open by the test (from the given source addresses), closed at the end."""
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for source in sources:
            held.append(await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)))
        yield held
    finally:
        for _, w in held:
            w.close()
            with contextlib.suppress(ConnectionError):
                await w.wait_closed()


async def test_oversize_frame_then_silence_is_answered_and_closed_within_the_deadline() -> None:
    async with listener(MllpLimits(max_message_bytes=64 * 1024, idle_timeout=60, frame_timeout=1.0)) as srv:
        async with connections(srv.port, ["127.0.0.1"]) as [(reader, writer)]:
            writer.write(START + b"MSH|" + b"x" * 200_000)  # no end block, then nothing more
            await writer.drain()
            start = time.monotonic()
            rest = await closed_by_server(reader, 5)
            assert time.monotonic() - start < 3
        assert rest.startswith(START) and msa(rest[1:-2].decode())[1] == "AR" and b"exceeds" in rest
        assert srv.connections == 0


async def test_connection_is_closed_after_an_oversize_frame() -> None:
    before = refused("oversize")
    async with listener(MllpLimits(max_message_bytes=64 * 1024, frame_timeout=5)) as srv:
        async with connections(srv.port, ["127.0.0.1"]) as [(reader, writer)]:
            writer.write(START + b"MSH|" + b"x" * 200_000 + END + START + oru("MON-1") + END)
            await writer.drain()
            rest = await closed_by_server(reader, 5)
        assert rest.count(END) == 1 and b"MSA|AR" in rest  # the frame after the oversize one is not read
    assert refused("oversize") == before + 1


async def test_slow_frame_is_dropped_at_the_deadline_even_when_it_keeps_trickling() -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(100):  # a byte every 0.1 s would reset an idle timer forever
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)

    async with (listener(MllpLimits(idle_timeout=60, frame_timeout=1.0)) as srv,
                connections(srv.port, ["127.0.0.1"]) as [(reader, writer)]):
        writer.write(START + b"MSH|")
        task = asyncio.create_task(trickle(writer))
        start = time.monotonic()
        assert await closed_by_server(reader, 5) == b""
        assert time.monotonic() - start < 3
        task.cancel()


async def test_per_peer_connection_cap_leaves_room_for_other_monitors() -> None:
    before = refused("connection_cap")
    async with (listener(MllpLimits(max_connections_per_peer=3, max_connections=16, idle_timeout=30)) as srv,
                connections(srv.port, ["127.0.0.1"] * 3) as held):
        # the 4th connection from the same address is closed at once, its frame never read
        async with connections(srv.port, ["127.0.0.1"]) as [(reader, writer)]:
            writer.write(START + oru("MON-1") + END)
            assert await closed_by_server(reader, 5) == b""
        assert refused("connection_cap") == before + 1
        # another address still gets through, and so does the same address once a slot is free
        assert msa(await send(srv.port, oru("MON-2"), source="127.0.0.2"))[1] == "AA"
        held[0][1].close()
        await asyncio.sleep(0.2)
        assert msa(await send(srv.port, oru("MON-1"), source="127.0.0.1"))[1] == "AA"


async def test_total_connection_cap() -> None:
    async with (listener(MllpLimits(max_connections_per_peer=4, max_connections=6, idle_timeout=30)) as srv,
                connections(srv.port, [f"127.0.0.{2 + i // 4}" for i in range(6)])):
        await asyncio.sleep(0.1)
        async with connections(srv.port, ["127.0.0.9"]) as [(reader, _)]:
            assert await closed_by_server(reader, 5) == b""


async def test_unterminated_frames_release_their_memory_at_the_deadline() -> None:
    """40 connections each leave 900 kB of a frame unterminated and go quiet: the listener must not keep
    36 MB until the idle timeout (or forever, for a sender that trickles a byte now and then)."""
    n, size = 40, 900_000
    async with listener(MllpLimits(max_message_bytes=1024 * 1024, idle_timeout=600, frame_timeout=1.0,
                                   max_connections_per_peer=64)) as srv:
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            async with connections(srv.port, ["127.0.0.1"] * n) as clients:
                await _fill_and_wait(srv, clients, n, size, base)
        finally:
            tracemalloc.stop()


async def _fill_and_wait(srv: MllpServer, clients: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
                         n: int, size: int, base: int) -> None:
    for _, w in clients:
        w.write(START + b"MSH|" + b"x" * size)
        await w.drain()
    await asyncio.sleep(0.3)
    held = tracemalloc.get_traced_memory()[0] - base
    assert held > n * size // 2  # the listener did buffer them (the check below means something)
    for r, _ in clients:
        assert await closed_by_server(r, 5) == b""
    gc.collect()
    await asyncio.sleep(0.1)
    assert tracemalloc.get_traced_memory()[0] - base < 2_000_000
    assert srv.connections == 0
