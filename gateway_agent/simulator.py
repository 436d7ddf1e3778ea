"""The running simulator: a :class:`~gateway_agent.ward.SimulatedWard` ticking at ``rate`` Hz, every tick
stored in the durable outbox (one fsync per tick) before publishers drain it to the broker.

Sample times follow an exact schedule (``start + k / rate``); if the loop falls behind (slow disk,
busy CPU) it catches up with the missed ticks, so there are never gaps in the data.

``connection="device"`` (default) opens one MQTT connection per device (client id and username =
device id, last will on the device's status topic), which fits the broker's ``%u`` ACL;
``connection="gateway"`` publishes for all beds over one connection (a gateway identity).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from device_profiles import now_ms

from . import metrics
from .async_outbox import AsyncOutbox
from .errors import OutboxFull
from .outbox import DEFAULT_MAX_ENTRIES, FullPolicy
from .publisher import Publisher, PublisherOptions
from .ward import SimulatedWard, WardOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    broker: str
    outbox: str
    ward: WardOptions = field(default_factory=WardOptions)
    rate: float = 1.0  # samples per second per bed
    connection: Literal["device", "gateway"] = "device"
    client_id: str = ""  # gateway connection's id (default sw-gw-{ward})
    credentials: Mapping[str, str] = field(default_factory=dict)  # device id -> password (device mode)
    publisher: PublisherOptions | None = None  # template for every connection (broker/client/devices replaced)
    max_entries: int = DEFAULT_MAX_ENTRIES
    on_full: FullPolicy = "reject"
    drain_timeout: float = 10.0  # at the end of a run: wait this long for the outbox to empty


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    samples: int  # vital-sign samples produced (one per bed per tick while online)
    messages: int  # messages stored in the outbox (samples + waveform chunks)
    refused: int  # messages refused because the outbox was full
    delivered: int  # outbox entries confirmed by the broker (PUBACK), this run
    pending: int  # still in the outbox (delivered on the next run)
    seconds: float
    fill: float = 0.0  # outbox fill level at the end, 0..1

    def line(self) -> str:
        return (f"produced {self.samples} samples ({self.messages} messages), delivered {self.delivered}, "
                f"pending {self.pending} (outbox {self.fill:.1%} full), refused {self.refused} in {self.seconds:.1f}s")


class Simulation:
    def __init__(self, options: SimulationOptions, outbox: AsyncOutbox | None = None) -> None:
        if options.rate <= 0:
            raise ValueError("rate must be positive")
        self.options = options
        self.ward = SimulatedWard(options.ward)
        self.outbox = outbox or AsyncOutbox(options.outbox, max_entries=options.max_entries, on_full=options.on_full)
        self._own_outbox = outbox is None
        self.publishers: dict[str, Publisher] = {}
        self.samples = self.messages = self.refused = 0
        self.ticks = 0

    def _make_publishers(self) -> list[Publisher]:
        o = self.options
        tmpl = o.publisher or PublisherOptions(broker=o.broker, client_id="", root=o.ward.root)
        tmpl = replace(tmpl, broker=o.broker, root=o.ward.root)
        if o.connection == "gateway":
            cid = o.client_id or f"sw-gw-{o.ward.ward}"
            pub = Publisher(self.outbox, replace(tmpl, client_id=cid, devices=None))
            for d in self.ward.devices:
                self.publishers[d] = pub
                pub.set_status(d, online=True)
            return [pub]
        pubs = []
        for b in self.ward.beds:
            pw = o.credentials.get(b.device)
            pub = Publisher(self.outbox, replace(tmpl, client_id=b.device, devices=frozenset({b.device}),
                                                 username=b.device, password=pw or tmpl.password))
            pub.set_status(b.device, online=True, battery=round(b.battery))
            self.publishers[b.device] = pub
            pubs.append(pub)
        return pubs

    @property
    def delivered(self) -> int:
        return sum(p.delivered for p in {id(p): p for p in self.publishers.values()}.values())

    async def run(self, duration: float | None = None) -> SimulationSummary:
        """Produce for ``duration`` seconds (forever if None), drain, close; return the summary."""
        started = time.monotonic()
        if self._own_outbox:
            await self.outbox.open()
        try:
            pubs = self._make_publishers()
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(p.run(), name=f"publisher-{p.options.client_id}") for p in pubs]
                await self._produce(duration)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.drain_timeout):
                        await asyncio.gather(*(p.wait_drained() for p in pubs))
                for p in pubs:
                    await p.close()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        await asyncio.gather(*tasks, return_exceptions=True)
                for t in tasks:
                    t.cancel()
            st = self.outbox.stats()
            return SimulationSummary(self.samples, self.messages, self.refused, self.delivered, st.pending,
                           time.monotonic() - started, st.fill)
        finally:
            if self._own_outbox:
                await self.outbox.close()

    async def _produce(self, duration: float | None) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.options.rate
        t0_wall, t0_ms = loop.time(), now_ms()
        k = 0
        while duration is None or k * period < duration:
            delay = t0_wall + k * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.step(t0_ms + round(k * period * 1000), period)
            k += 1

    async def step(self, t_ms: int, dt_s: float) -> None:
        """One tick: store the ward's messages durably, then pass status changes to the publishers."""
        tick = self.ward.tick(t_ms, dt_s)
        self.ticks += 1
        try:
            await self.outbox.append(tick.messages)
        except OutboxFull as exc:
            self.refused += len(tick.messages)
            if self.refused == len(tick.messages):
                log.error("simulator: %s", exc)
        else:
            self.samples += tick.samples
            self.messages += len(tick.messages)
        pubs = {id(p): p for p in self.publishers.values()}.values()
        metrics.update(self.outbox.stats(), self.delivered, sum(p.ready() for p in pubs))
        for device, fields in tick.status:
            pub = self.publishers.get(device)
            if pub is not None:
                pub.set_status(device, **fields)
