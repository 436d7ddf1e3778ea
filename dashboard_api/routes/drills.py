"""Live drills: ``POST /api/v1/drills`` (start), ``GET /api/v1/drills[/{id}]``, ``DELETE
/api/v1/drills/{id}`` (stop), ``POST /api/v1/drills/purge`` (delete stored drill data).

Starting binds the drill's simulated devices to virtual beds ``DRILL-nn`` of the ward with the drill
tag (``Attributions.assign_device(..., drill=id)``) and publishes the retained ``{root}/drill/{ward}``
(``{"drill", "active": true, "started", "ends", …}``): the central station shows the DRILL banner,
alerting tags the drill's alarms. The driver (``smartward drill start`` / ``digital_twin.live_drill``)
publishes the devices' data. Stopping unbinds them and publishes ``"active": false``: alerting clears
the drill's open alarms. Roles: admin, facility_manager, charge_nurse (own wards). Every change is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Annotated, Any

import aiomqtt
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerting import StateError
from device_profiles import now_ms
from digital_twin.live_drill import BEDS_MAX, DURATION_MAX_S, DURATION_MIN_S, RATE_MAX, SPEED_MAX
from ingest import StoreError, control_topic

from ..deps import CurrentUser, Services, ServicesDep, require_ward
from ..drills import (
    Drill,
    DrillError,
    DrillStore,
    drill_topic,
    end_drill,
    new_drill_id,
    plan_beds,
    publish_retained,
)

router = APIRouter(prefix="/api/v1/drills", tags=["drills"])
ID = r"^[A-Za-z0-9_.-]{1,64}$"
DrillId = Annotated[str, Path(pattern=ID, description="drill id")]
DRILL_ROLES = frozenset({"admin", "facility_manager", "charge_nurse"})
READ_ROLES = DRILL_ROLES | {"nurse", "physician"}
SCENARIOS = ("stable", "sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline")
_stores: weakref.WeakKeyDictionary[sa.Engine, DrillStore] = weakref.WeakKeyDictionary()


class DrillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ward: str = Field(pattern=ID, description="the real ward the drill runs in")
    beds: int = Field(2, ge=1, le=BEDS_MAX, description="virtual drill beds DRILL-01 … (never real beds)")
    scenarios: list[str] = Field(default_factory=lambda: ["desaturation"], min_length=1,
                                 description=f"simulator scenarios, dealt to the beds in turn: {', '.join(SCENARIOS)}")
    duration_s: float = Field(600, ge=DURATION_MIN_S, le=DURATION_MAX_S,
                              description="the drill ends by itself after this long")
    speed: float = Field(1.0, gt=0, le=SPEED_MAX, description="scenario seconds per second (10: 10x faster)")
    seed: int = Field(0, ge=0)
    rate: float = Field(1.0, gt=0, le=RATE_MAX, description="samples per second per bed the driver sends")

    @field_validator("scenarios")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in SCENARIOS:
                raise ValueError(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")
        return v


class DrillBedOut(BaseModel):
    bed: str
    device: str
    scenario: str


class DrillOut(BaseModel):
    id: str
    ward: str
    beds: list[DrillBedOut]
    speed: float
    seed: int
    started: int
    ends: int
    stopped: int | None
    active: bool
    started_by: str
    stopped_by: str
    rate: float = Field(description="samples per second per bed")
    samples: int | None = Field(description="samples of the drill that reached the broker (acknowledged), as its "
                                "driver reports them when it stops the drill")


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    drill: str | None = Field(None, pattern=ID, description="one drill's data (default: all drill data)")


def _out(d: Drill) -> DrillOut:
    return DrillOut(id=d.id, ward=d.ward, beds=[DrillBedOut(bed=b.bed, device=b.device, scenario=b.scenario)
                                                 for b in d.beds],
                    speed=d.speed, seed=d.seed, started=d.started, ends=d.ends, stopped=d.stopped,
                    active=d.active(now_ms()), started_by=d.started_by, stopped_by=d.stopped_by, rate=d.rate,
                    samples=d.samples)


def _store(services: Services) -> DrillStore:
    engine: sa.Engine = services.platform.attributions.engine
    store = _stores.get(engine)
    if store is None:
        store = _stores[engine] = DrillStore(engine)
    return store


def _require(user: Any, roles: frozenset[str], ward: str | None = None) -> None:
    if user.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not do this")
    if ward is not None and user.role != "facility_manager":
        require_ward(user, ward)


async def _assignments_changed(services: Services) -> None:
    with contextlib.suppress(aiomqtt.MqttError):  # workers also reload every minute; the change is stored
        await services.hub.publish(control_topic(services.root), {"changed": now_ms()}, qos=1)
    await services.hub.refresh_assignments()


@router.post("", response_model=DrillOut, status_code=201, summary="Start a live drill in a ward")
async def start(services: ServicesDep, user: CurrentUser, body: DrillIn) -> DrillOut:
    _require(user, DRILL_ROLES, body.ward)
    now = now_ms()
    drill_id = new_drill_id()
    drill = Drill(drill_id, body.ward, plan_beds(drill_id, body.beds, body.scenarios), body.speed, body.seed,
                  now, now + int(body.duration_s * 1000), None, user.username, rate=body.rate)
    state = services.hub.state
    real = state.wards.get(body.ward, {})
    if not state.live_beds(body.ward) and body.ward not in user.wards:
        known = ", ".join(state.wards_with_beds()) or "(none)"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "ward"], "type": "value_error",
            "msg": f"no ward {body.ward!r} on the platform (no beds); wards with beds: {known}"}])
    taken = [b.bed for b in drill.beds if b.bed in real and real[b.bed].patient]
    if taken:
        raise HTTPException(status.HTTP_409_CONFLICT, f"bed(s) {', '.join(taken)} of ward {body.ward} hold a patient")
    try:
        await asyncio.to_thread(_store(services).add, drill)
    except DrillError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    attributions = services.platform.attributions

    def bind() -> None:
        for b in drill.beds:
            attributions.assign_device(b.device, body.ward, b.bed, now, drill=drill_id)

    await asyncio.to_thread(bind)
    await services.record(user, "drill.start", f"drill/{drill_id}", {**body.model_dump(), "ends": drill.ends})
    await _assignments_changed(services)
    try:
        await publish_retained(services.hub, drill_topic(services.root, body.ward), drill.state_message(now).encode())
    except DrillError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return _out(drill)


@router.get("", response_model=list[DrillOut], summary="Live drills (newest first)")
async def list_drills(services: ServicesDep, user: CurrentUser, ward: str | None = None) -> list[DrillOut]:
    _require(user, READ_ROLES)
    drills = await asyncio.to_thread(_store(services).list, ward)
    return [_out(d) for d in drills if user.role in ("admin", "facility_manager") or user.can_see_ward(d.ward)]


@router.get("/{drill_id}", response_model=DrillOut, summary="One live drill")
async def get_drill(services: ServicesDep, user: CurrentUser, drill_id: DrillId) -> DrillOut:
    _require(user, READ_ROLES)
    d = await asyncio.to_thread(_store(services).get, drill_id)
    if d is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no drill {drill_id}")
    _require(user, READ_ROLES, d.ward)
    return _out(d)


@router.get("/{drill_id}/alarm-events", response_model=list[dict[str, Any]],
            summary="The drill's alarm events from the alarm log (raised, acknowledged, escalated, cleared …)")
async def alarm_events(services: ServicesDep, user: CurrentUser, drill_id: DrillId) -> list[dict[str, Any]]:
    _require(user, READ_ROLES)
    d = await asyncio.to_thread(_store(services).get, drill_id)
    if d is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no drill {drill_id}")
    _require(user, READ_ROLES, d.ward)
    await services.record(user, "read", f"drill/{drill_id}/alarm-events")
    try:
        return await asyncio.to_thread(services.hub.alarm_store.drill_events, drill_id)
    except StateError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"alarm log: {exc}") from None


@router.delete("/{drill_id}", response_model=DrillOut, summary="Stop a live drill (unbind its devices)")
async def stop(services: ServicesDep, user: CurrentUser, drill_id: DrillId,
               samples: Annotated[int | None, Query(ge=0, description="the driver: samples the broker acknowledged")]
               = None,
               ) -> DrillOut:
    store = _store(services)
    d = await asyncio.to_thread(store.get, drill_id)
    if d is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no drill {drill_id}")
    _require(user, DRILL_ROLES, d.ward)
    await services.record(user, "drill.stop", f"drill/{drill_id}", {"ward": d.ward, "samples": samples})
    try:
        d = await end_drill(services.hub, services.platform.attributions, store, drill_id, user.username, samples)
    except DrillError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return _out(d)


@router.post("/purge", summary="Delete stored drill data (vitals, waveforms, alarm points) from the vitals store")
async def purge(services: ServicesDep, user: CurrentUser, body: PurgeIn) -> dict[str, Any]:
    _require(user, frozenset({"admin", "facility_manager"}))
    await services.record(user, "drill.purge", f"drill/{body.drill or '*'}", {})
    try:
        await services.platform.store.purge_drill(body.drill)
    except StoreError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"store: {exc}") from None
    return {"purged": body.drill or "*"}
