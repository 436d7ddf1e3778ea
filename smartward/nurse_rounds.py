"""Simulated nurse observation rounds for ``smartward demo``: the part of NEWS2 a monitor cannot measure.

NEWS2 needs consciousness (ACVPU) and whether the patient breathes air or oxygen. No bedside monitor
sends them: a nurse records them on rounds into the e-obs / EHR system, and an interface forwards them
to SmartWard as spot observations on ``{root}/wards/{ward}/spot`` (docs/architecture.md; the same
message the bed view's "Record" button sends through the API). Without them every demo bed showed an
incomplete NEWS2. This module plays that interface for the demo's simulated ward:

- content: consciousness ``A`` (alert); air, except a patient with the ``desaturation`` scenario, who
  is on supplemental oxygen (NEWS2 scores oxygen 2);
- cadence: one round when the platform is ready (the observations of the patients already on the
  ward), then every ``interval_s`` scenario seconds (default 4 h, the NEWS2 frequency for a score of
  1-4), one bed after another ``bed_step_s`` apart; scenario time runs ``speed`` times faster than
  the clock, like the simulator's (``smartward demo --speed 5``: a 4 h round comes every 48 min);
- the last bed is a new admission whose observations are not recorded yet, so the screen also shows
  what an incomplete NEWS2 looks like (missing data is never scored as normal);
- transport: each observation is validated (``alerting.parse_spot``), stored in a durable outbox and
  published over MQTT by a gateway-identity publisher, as ``smartward gateway`` does for HL7
  monitors; nothing is written to a store directly. The patient is looked up by the bed's device at
  the time of the round (ADT), so a discharged or moved patient gets no observation.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway_agent import AsyncOutbox, PublisherOptions, SimulatedWard
    from ingest import Attributions

log = logging.getLogger(__name__)
BY = "demo-e-obs"  # who recorded it, as the e-obs interface names its source


@dataclass(frozen=True, slots=True)
class RoundsOptions:
    interval_s: float = 4 * 3600.0  # scenario seconds between two rounds
    bed_step_s: float = 120.0  # scenario seconds between two beds of a round
    speed: float = 1.0  # scenario seconds per wall-clock second (the simulator's)
    leave_last_bed: bool = True  # a new admission: no observations yet (needs at least 2 beds)


@dataclass(frozen=True, slots=True)
class Due:
    """One bed's observation: the device says which patient it belongs to at the time of the round."""

    device: str
    values: dict[str, Any]


class RoundsPlan:
    """Pure schedule and content of the rounds (scenario time passed in)."""

    def __init__(self, ward: SimulatedWard, options: RoundsOptions) -> None:
        if options.interval_s <= 0 or options.bed_step_s < 0 or options.speed <= 0:
            raise ValueError("interval_s and speed must be positive, bed_step_s not negative")
        self.ward, self.options = ward, options
        beds = ward.beds[:-1] if options.leave_last_bed and len(ward.beds) > 1 else ward.beds
        self.next: dict[str, float] = {b.device: 0.0 for b in beds}  # the first round: all at once

    def due(self, elapsed: float) -> list[Due]:
        """Observations due at scenario time ``elapsed`` (each bed's next round is then scheduled)."""
        out = []
        o = self.options
        for i, b in enumerate(self.ward.beds):
            at = self.next.get(b.device)
            if at is None or elapsed < at:
                continue
            k = int(elapsed // o.interval_s) + 1  # the next round after this one
            self.next[b.device] = k * o.interval_s + i * o.bed_step_s
            out.append(Due(b.device, {"consciousness": "A", "supplemental_o2": b.scenario_name == "desaturation"}))
        return out

    def seconds_to_next(self, elapsed: float) -> float:
        """Wall-clock seconds until the next observation is due."""
        return max(0.0, min(self.next.values(), default=elapsed + 3600.0) - elapsed) / self.options.speed


class NurseRounds:
    """The rounds as a platform component (``name``, ``run``, ``ready``). ``attach(attributions,
    gate)`` (from the demo's on-ready hook) gives it the ADT tables and a readiness test: rounds start
    once alerting and the dashboard hub listen (spot observations are not retained), so the first
    round is not published to nobody."""

    name = "nurse-rounds"

    def __init__(self, ward: SimulatedWard, options: RoundsOptions, outbox_dir: str, publisher: PublisherOptions) -> None:
        self.plan = RoundsPlan(ward, options)
        self.outbox_dir, self.publisher = outbox_dir, publisher
        self.recorded = 0
        self._attributions: Attributions | None = None
        self._gate: Callable[[], bool] = lambda: False
        self._attached = asyncio.Event()

    def attach(self, attributions: Attributions, gate: Callable[[], bool]) -> None:
        self._attributions, self._gate = attributions, gate
        self._attached.set()

    def ready(self) -> bool:
        return True  # nothing to wait for: observations wait in the outbox until the broker takes them

    async def run(self) -> None:
        from gateway_agent import open_outbox

        os.makedirs(self.outbox_dir, exist_ok=True)
        async with (open_outbox(self.outbox_dir, self.publisher.broker, root=self.publisher.root,
                                client_id=self.publisher.client_id, options=self.publisher) as (outbox, drain),
                    asyncio.TaskGroup() as tg):
            async def publish() -> None:
                await drain()

            tg.create_task(publish(), name="nurse-rounds-publisher")
            await self._attached.wait()
            while not self._gate():  # noqa: ASYNC110 - components expose ready() only, no event
                await asyncio.sleep(0.2)
            loop = asyncio.get_running_loop()
            started = loop.time()
            while True:
                for due in self.plan.due((loop.time() - started) * self.plan.options.speed):
                    await self._record(outbox, due)
                await asyncio.sleep(max(0.05, self.plan.seconds_to_next((loop.time() - started) * self.plan.options.speed)))

    async def _record(self, outbox: AsyncOutbox, due: Due) -> None:
        import orjson

        from alerting import InputError, parse_spot, spot_topic
        from device_profiles import now_ms

        t = now_ms()
        if self._attributions is None:  # run() waits for attach(): cannot happen
            raise RuntimeError("NurseRounds.attach() was not called")
        who = self._attributions.lookup(due.device, t)
        if not who.patient or who.drill:
            log.info("nurse rounds: device %s has no patient at the moment, no observation", due.device)
            return
        try:
            spot = parse_spot({"patient": who.patient, "ward": who.ward, "bed": who.bed, "t": t, "by": BY, **due.values})
        except InputError as exc:  # a patient id the spot topic cannot carry: say so, keep going
            log.warning("nurse rounds: bed %s/%s not recorded: %s", who.ward, who.bed, exc)
            return
        body = orjson.dumps(spot.model_dump(exclude_none=True))
        await outbox.put(spot_topic(who.ward, self.publisher.root), body, 1)
        self.recorded += 1
        log.debug("nurse rounds: recorded bed %s/%s", who.ward, who.bed)
