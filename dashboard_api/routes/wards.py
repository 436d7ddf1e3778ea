"""``GET /api/v1/wards``, ``/wards/{ward}/beds``, ``/wards/{ward}/alarms``: served from the hub's
in-memory ward state (latest value + age + staleness per signal, NEWS2, alarms, device status);
``/wards/{ward}/layout``: the central station's fixed bed layout (:mod:`dashboard_api.bed_layout`);
``/wards/{ward}/identities``: name and MRN of the ward's patients (:mod:`dashboard_api.identities`)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel

from device_profiles import now_ms
from device_profiles.ws_frames import ScreenAlarm

from ..bed_layout import BedLayout, BedLayoutIn, BedLayouts
from ..deps import CurrentUser, Services, ServicesDep, require_clinical, require_ward
from ..identities import identities
from ..users import User
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
    limits: dict[str, dict[str, float]] = {}  # the patient's own alarm limits per signal (custom-limits marker)


class LayoutOut(BaseModel):
    ward: str
    beds: list[str]  # screen order; a configured layout's beds keep their places, occupied or not
    columns: int | None
    configured: bool  # False: no stored layout, ``beds`` are the ward's beds in name order
    updated_t: int | None = None
    updated_by: str = ""


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
    configured = await asyncio.to_thread(_layouts(services).wards)  # a laid-out ward has a tab before its first bed
    out = []
    for ward in sorted(set(state.wards) | set(configured)):
        beds = state.wards.get(ward, {})
        if user.can_see_ward(ward):
            out.append(WardOut(ward=ward, beds=len(beds), occupied=sum(1 for b in beds.values() if b.patient),
                               active_alarms=len(state.alarms.get(ward, {})), virtual=ward == HOME_WARD))
    return out


_stores: weakref.WeakKeyDictionary[sa.Engine, BedLayouts] = weakref.WeakKeyDictionary()
LAYOUT_ROLES = frozenset({"admin", "charge_nurse"})


def _layouts(services: Services) -> BedLayouts:
    engine: sa.Engine = services.platform.attributions.engine
    store = _stores.get(engine)
    if store is None:
        store = _stores[engine] = BedLayouts(engine)
    return store


def _layout_out(services: Services, ward: str, layout: BedLayout | None) -> LayoutOut:
    if layout is None:
        real = [b for b in services.hub.state.wards.get(ward, {}).values() if not b.drill]
        return LayoutOut(ward=ward, beds=[b.bed for b in sorted(real, key=lambda b: (len(b.bed), b.bed))],
                         columns=None, configured=False)
    return LayoutOut(ward=ward, beds=list(layout.beds), columns=layout.columns, configured=True,
                     updated_t=layout.updated_t, updated_by=layout.updated_by)


def _may_lay_out(user: User, ward: str) -> None:
    if user.role not in LAYOUT_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not change a ward's bed layout "
                                                       "(charge_nurse of the ward or admin)")
    require_ward(user, ward)


@router.get("/{ward}/layout", response_model=LayoutOut,
            summary="The central station's bed layout of a ward (fixed positions; empty beds keep theirs)")
async def get_layout(services: ServicesDep, user: CurrentUser, ward: WardId) -> LayoutOut:
    require_clinical(user, ward)
    return _layout_out(services, ward, await asyncio.to_thread(_layouts(services).get, ward))


@router.put("/{ward}/layout", response_model=LayoutOut,
            summary="Store a ward's bed layout: 8-64 beds in screen order (charge nurse of the ward, admin; audited)")
async def put_layout(services: ServicesDep, user: CurrentUser, ward: WardId, body: BedLayoutIn) -> LayoutOut:
    _may_lay_out(user, ward)
    layout = BedLayout(ward, tuple(body.beds), body.columns, now_ms(), user.username)
    await services.record(user, "ward.layout", f"ward/{ward}/layout", {"beds": list(body.beds), "columns": body.columns})
    await asyncio.to_thread(_layouts(services).put, layout)
    return _layout_out(services, ward, layout)


@router.delete("/{ward}/layout", status_code=status.HTTP_204_NO_CONTENT,
               summary="Forget a ward's bed layout: beds in name order again (charge nurse of the ward, admin; audited)")
async def delete_layout(services: ServicesDep, user: CurrentUser, ward: WardId) -> Response:
    _may_lay_out(user, ward)
    await services.record(user, "ward.layout.delete", f"ward/{ward}/layout")
    if not await asyncio.to_thread(_layouts(services).delete, ward):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"ward {ward} has no stored bed layout")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
                      ) -> list[ScreenAlarm]:
    require_clinical(user, ward)
    await services.record(user, "read", f"ward/{ward}/alarms")
    alarms = services.hub.state.ward_alarms(ward)
    if drill != "include":
        alarms = [a for a in alarms if bool(a.get("drill")) == (drill == "only")]
    return alarms


class IdentityOut(BaseModel):
    bed: str
    patient: str  # the pseudonymous id the tiles show
    name: str  # "" when not recorded
    mrn: str  # "" when not recorded


class IdentitiesOut(BaseModel):
    ward: str
    identities: list[IdentityOut]


@router.get("/{ward}/identities", response_model=IdentitiesOut,
            summary="Name and MRN of the ward's patients where recorded (clinical users of the ward; audited)")
async def ward_identities(services: ServicesDep, user: CurrentUser, ward: WardId) -> IdentitiesOut:
    """The patients in the ward's beds now whose admission carried a name or MRN (:mod:`dashboard_api.identities`).
    Never in the websocket frames, which every screen of the ward shares: a screen asks here."""
    require_clinical(user, ward)

    def read() -> list[IdentityOut]:
        placed = services.platform.attributions.current(now_ms())
        in_ward = {p: bed for (w, bed), p in placed.patients.items() if w == ward and (w, bed) not in placed.drill_beds}
        found = identities(services.platform.attributions.engine).get_many(list(in_ward))
        return [IdentityOut(bed=in_ward[p], patient=p, name=i.name, mrn=i.mrn)
                for p, i in sorted(found.items(), key=lambda kv: in_ward[kv[0]])]

    out = await asyncio.to_thread(read)
    await services.record(user, "read", f"ward/{ward}/identities", {"patients": [i.patient for i in out]})
    return IdentitiesOut(ward=ward, identities=out)
