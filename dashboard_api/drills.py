"""Live drills (issue 6): the drill register (table ``dashboard_drills`` in the state DB).

A drill puts virtual beds (``DRILL-01`` …) with simulated devices (``{drill id}-01`` …) in a real
ward: the devices are bound with ``Attributions.assign_device(..., drill=id)``, so every message,
alarm and store point they cause carries the drill id and is kept apart from clinical data. The
driver (``digital_twin.live_drill``) publishes their data; the central station shows a DRILL banner
from the retained ``{root}/drill/{ward}``. Synchronous: call through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiomqtt
import orjson
import sqlalchemy as sa

from device_profiles import DrillStateMessage, now_ms, topics
from device_profiles.state_db import ensure_schema

from .errors import DashboardError

if TYPE_CHECKING:  # the hub imports this module
    from ingest import Attributions

    from .audit import AuditLog
    from .hub import Hub

metadata = sa.MetaData()
drills_table = sa.Table(
    "dashboard_drills", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("ward", sa.String(64), nullable=False),
    sa.Column("beds", sa.Text, nullable=False),  # JSON [{"bed", "device", "scenario"}]
    sa.Column("speed", sa.Float, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("started", sa.BigInteger, nullable=False),
    sa.Column("ends", sa.BigInteger, nullable=False),
    sa.Column("stopped", sa.BigInteger, nullable=True),
    sa.Column("started_by", sa.String(64), nullable=False),
    sa.Column("stopped_by", sa.String(64), nullable=False, default=""),
    sa.Column("rate", sa.Float, nullable=False, server_default="1.0"),  # samples/s per bed the driver sends
    sa.Column("samples", sa.BigInteger, nullable=True),  # samples the driver published (it says so on stop)
)
DRILL_BED = "DRILL-{n:02d}"
EXPIRY_CHECK_S = 15.0  # the hub ends drills past their end (e.g. the driver died) this often
log = logging.getLogger(__name__)


class DrillError(DashboardError):
    """A drill cannot be started or stopped as asked (another one active, unknown id)."""


@dataclass(frozen=True, slots=True)
class DrillBed:
    bed: str
    device: str
    scenario: str


@dataclass(frozen=True, slots=True)
class Drill:
    id: str
    ward: str
    beds: tuple[DrillBed, ...]
    speed: float
    seed: int
    started: int
    ends: int
    stopped: int | None
    started_by: str
    stopped_by: str = ""
    rate: float = 1.0
    samples: int | None = None

    def active(self, now: int) -> bool:
        return self.stopped is None and now < self.ends

    def state_message(self, now: int) -> DrillStateMessage:
        """The retained ``{root}/drill/{ward}`` message: active until stopped or past its end; a stopped
        drill's says when (``stopped``)."""
        return DrillStateMessage(drill=self.id, ward=self.ward, active=self.active(now), started=self.started,
                                 ends=self.ends, beds=tuple(b.bed for b in self.beds),
                                 scenarios=tuple(sorted({b.scenario for b in self.beds})), stopped=self.stopped)

    def topic_state(self, now: int) -> dict[str, object]:
        """The retained ``{root}/drill/{ward}`` payload (:meth:`state_message` as JSON)."""
        return self.state_message(now).to_json()


def new_drill_id() -> str:
    return "drill-" + secrets.token_hex(4)


def plan_beds(drill_id: str, beds: int, scenarios: list[str]) -> tuple[DrillBed, ...]:
    """Bed ``DRILL-nn`` with device ``{drill_id}-nn``; scenarios are dealt round-robin."""
    return tuple(DrillBed(DRILL_BED.format(n=i + 1), f"{drill_id}-{i + 1:02d}", scenarios[i % len(scenarios)])
                 for i in range(beds))


class DrillStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_schema(engine)  # a register from before ``rate``/``samples`` gets them (baseline migration)

    @staticmethod
    def _drill(r: sa.Row[tuple[object, ...]]) -> Drill:
        beds = tuple(DrillBed(**b) for b in orjson.loads(str(r.beds)))
        return Drill(str(r.id), str(r.ward), beds, float(r.speed), int(r.seed), int(r.started), int(r.ends),
                     None if r.stopped is None else int(r.stopped), str(r.started_by), str(r.stopped_by or ""),
                     float(r.rate), None if r.samples is None else int(r.samples))

    def add(self, drill: Drill) -> None:
        """Register ``drill``; :class:`DrillError` when the ward already has an active drill."""
        with self.engine.begin() as conn:
            busy = conn.execute(sa.select(drills_table.c.id).where(
                drills_table.c.ward == drill.ward, drills_table.c.stopped.is_(None),
                drills_table.c.ends > drill.started)).first()
            if busy is not None:
                raise DrillError(f"ward {drill.ward} already has an active drill ({busy.id}); stop it first")
            conn.execute(drills_table.insert().values(
                id=drill.id, ward=drill.ward,
                beds=orjson.dumps([{"bed": b.bed, "device": b.device, "scenario": b.scenario}
                                   for b in drill.beds]).decode(),
                speed=drill.speed, seed=drill.seed, started=drill.started, ends=drill.ends, stopped=None,
                started_by=drill.started_by, stopped_by="", rate=drill.rate, samples=None))

    def get(self, drill_id: str) -> Drill | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(drills_table).where(drills_table.c.id == drill_id)).first()
        return None if r is None else self._drill(r)

    def list(self, ward: str | None = None) -> list[Drill]:
        q = sa.select(drills_table).order_by(drills_table.c.started.desc())
        if ward is not None:
            q = q.where(drills_table.c.ward == ward)
        with self.engine.connect() as conn:
            return [self._drill(r) for r in conn.execute(q)]

    def stop(self, drill_id: str, by: str, at: int, samples: int | None = None) -> Drill:
        """Mark the drill stopped at ``at`` (idempotent: a stopped drill keeps its first stop). ``samples``:
        what its driver published, recorded whoever stopped it first (the report shows it)."""
        with self.engine.begin() as conn:
            conn.execute(drills_table.update().where(drills_table.c.id == drill_id, drills_table.c.stopped.is_(None))
                         .values(stopped=at, stopped_by=by))
            if samples is not None:
                conn.execute(drills_table.update().where(drills_table.c.id == drill_id).values(samples=samples))
        drill = self.get(drill_id)
        if drill is None:
            raise DrillError(f"no drill {drill_id}")
        return drill


def drill_topic(root: str, ward: str) -> str:
    return topics.drill_state(ward, root)


async def publish_retained(hub: Hub, topic: str, body: bytes) -> None:
    """Retained QoS 1 publish through the hub's connection; :class:`DrillError` when disconnected."""
    client = hub.client
    if client is None:
        raise DrillError("broker unavailable: not connected")
    try:
        await client.publish(topic, body, qos=1, retain=True)
    except aiomqtt.MqttError as exc:
        raise DrillError(f"broker unavailable: {exc}") from exc


async def end_drill(hub: Hub, attributions: Attributions, store: DrillStore, drill_id: str, by: str,
                    samples: int | None = None) -> Drill:
    """Stop a drill: unbind its devices, tell ingest and the hub, publish the retained inactive state
    (alerting then clears the drill's alarms; screens drop the banner) and clear its devices'
    retained NEWS2. Idempotent. :class:`DrillError` for an unknown drill or a lost broker."""
    from ingest import control_topic

    now = now_ms()
    drill = await asyncio.to_thread(store.stop, drill_id, by, now, samples)

    def unbind() -> None:
        for b in drill.beds:
            if attributions.lookup(b.device, now).drill == drill_id:
                attributions.unassign_device(b.device, now)

    await asyncio.to_thread(unbind)
    with contextlib.suppress(aiomqtt.MqttError):  # workers also reload every minute; the change is stored
        await hub.publish(control_topic(hub.root), {"changed": now}, qos=1)
    await hub.refresh_assignments()
    state = dataclasses.replace(drill.state_message(now), active=False)  # stopped: ``drill.stopped`` is set
    await publish_retained(hub, drill_topic(hub.root, drill.ward), state.encode())
    for b in drill.beds:  # alerting's retained NEWS2 and the driver's retained status of the simulated devices
        await publish_retained(hub, topics.news2(drill.ward, b.device, hub.root), b"")
        await publish_retained(hub, topics.device_status(b.device, topics.drill_root(hub.root)), b"")
    await publish_retained(hub, topics.gateway_status(f"sw-{drill.id}", topics.drill_root(hub.root)), b"")  # a dead driver's will
    return drill


async def expire_drills(hub: Hub, attributions: Attributions, audit: AuditLog | None) -> None:
    """Run in the hub: end every drill past its end that nobody stopped (its driver died)."""
    store = await asyncio.to_thread(DrillStore, attributions.engine)
    while True:
        await asyncio.sleep(EXPIRY_CHECK_S)
        now = now_ms()
        try:
            due = [d for d in await asyncio.to_thread(store.list) if d.stopped is None and d.ends <= now]
            for d in due:
                if audit is not None:
                    await asyncio.to_thread(audit.append, "system", "system", "drill.expire", f"drill/{d.id}",
                                            {"ward": d.ward, "ends": d.ends})
                await end_drill(hub, attributions, store, d.id, "system")
                log.info("live drill %s in ward %s ended at its end time", d.id, d.ward)
        except (DrillError, sa.exc.SQLAlchemyError) as exc:
            log.warning("live drills: ending expired drills failed (%s); retrying", exc)
