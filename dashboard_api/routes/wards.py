"""``GET /api/v1/wards``, ``/wards/{ward}/beds``, ``/wards/{ward}/alarms``: served from the hub's
in-memory ward state (latest value + age + staleness per signal, NEWS2, alarms, device status)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from device_profiles import now_ms

from ..deps import CurrentUser, ServicesDep, require_clinical
from ..wardstate import HOME_WARD

router = APIRouter(prefix="/api/v1/wards", tags=["wards"])
WardId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="ward id")]


class WardOut(BaseModel):
    ward: str
    beds: int
    occupied: int
    active_alarms: int
    virtual: bool


class VitalOut(BaseModel):
    value: float
    t: int
    age_s: float
    stale: bool
    unit: str
    label: str
    quality: str
    expire_after_s: float


class News2Out(BaseModel):
    total: int
    risk: str
    complete: bool
    missing: list[str]


class BedOut(BaseModel):
    ward: str
    bed: str
    patient: str
    device: str
    online: bool | None
    battery: float | None
    status_t: int | None
    vitals: dict[str, VitalOut]
    news2: News2Out | None
    spot: dict[str, Any]
    alarms: list[dict[str, Any]]
    updated: int
    drill: str = ""  # a live drill's virtual bed (drill id): not a patient


class BedsOut(BaseModel):
    ward: str
    now: int
    beds: list[BedOut]
    alarms: list[dict[str, Any]]
    drill: dict[str, Any] | None = None  # the ward's active live drill (DRILL banner)


@router.get("", response_model=list[WardOut], summary="Wards this user may see")
async def wards(services: ServicesDep, user: CurrentUser) -> list[WardOut]:
    require_clinical(user)
    state = services.hub.state
    out = []
    for ward, beds in sorted(state.wards.items()):
        if user.can_see_ward(ward):
            out.append(WardOut(ward=ward, beds=len(beds), occupied=sum(1 for b in beds.values() if b.patient),
                               active_alarms=len(state.alarms.get(ward, {})), virtual=ward == HOME_WARD))
    return out


@router.get("/{ward}/beds", response_model=BedsOut,
            summary="Beds of a ward: patient, latest vitals with age and staleness, NEWS2, alarms, device")
async def beds(services: ServicesDep, user: CurrentUser, ward: WardId) -> dict[str, Any]:
    require_clinical(user, ward)
    await services.record(user, "read", f"ward/{ward}/beds")
    return services.hub.state.snapshot(ward, now_ms())


@router.get("/{ward}/alarms", response_model=list[dict[str, Any]],
            summary="Active alarms of a ward, sorted by priority then time")
async def ward_alarms(services: ServicesDep, user: CurrentUser, ward: WardId,
                      drill: Annotated[Literal["include", "exclude", "only"],
                                       Query(description="live-drill alarms (tagged `drill`)")] = "include",
                      ) -> list[dict[str, Any]]:
    require_clinical(user, ward)
    await services.record(user, "read", f"ward/{ward}/alarms")
    alarms = services.hub.state.ward_alarms(ward)
    if drill != "include":
        alarms = [a for a in alarms if bool(a.get("drill")) == (drill == "only")]
    return alarms
