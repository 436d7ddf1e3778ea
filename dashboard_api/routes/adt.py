"""ADT (admit, transfer, discharge) and device assignment. Writes go through ingest's attribution
tables (observations are attributed by sample time), then ``{root}/control/assignments`` tells
every ingest worker to reload; every change is audited. A device assigned to a ``patient_id``
(home wearable) puts the patient in the virtual ward ``home`` (bed = patient id)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated, Any

import aiomqtt
from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from device_profiles import now_ms
from ingest import AttributionError, control_topic

from ..deps import CurrentUser, Services, ServicesDep, require_clinical
from ..hl7_adt import Hl7AdtError, ack, parse_adt
from ..wardstate import HOME_WARD

router = APIRouter(prefix="/api/v1", tags=["adt"])
ID = r"^[A-Za-z0-9_.-]{1,64}$"


class AdmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: str = Field(pattern=ID)
    ward: str = Field(pattern=ID)
    bed: str = Field(pattern=ID)
    at: int | None = Field(None, description="ms since epoch (default now); data after it is attributed")


class DischargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: str = Field(pattern=ID)
    at: int | None = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ward: str | None = Field(None, pattern=ID)
    bed: str | None = Field(None, pattern=ID)
    patient_id: str | None = Field(None, pattern=ID, description="home wearable: assign to this patient")
    at: int | None = None

    @model_validator(mode="after")
    def _one_target(self) -> AssignIn:
        if (self.patient_id is None) == (self.bed is None):
            raise ValueError("give either ward + bed, or patient_id")
        if self.bed is not None and self.ward is None:
            raise ValueError("bed needs ward")
        return self


class AdtOut(BaseModel):
    ok: bool = True
    action: str
    patient_id: str | None = None
    device: str | None = None
    ward: str | None = None
    bed: str | None = None
    at: int


async def _change(services: Services, user: Any, action: str, resource: str, detail: dict[str, Any],
                  fn: Callable[[], None]) -> None:
    try:
        await asyncio.to_thread(fn)
    except AttributionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    await services.record(user, action, resource, detail)
    with contextlib.suppress(aiomqtt.MqttError):  # workers also reload every minute; the change is stored
        await services.hub.publish(control_topic(services.root), {"changed": now_ms()}, qos=1)
    await services.hub.refresh_assignments()


@router.post("/adt/admit", response_model=AdtOut, summary="Admit a patient to a bed")
async def admit(services: ServicesDep, user: CurrentUser, body: AdmitIn) -> AdtOut:
    require_clinical(user, body.ward)
    at = body.at or now_ms()
    attr = services.platform.attributions
    await _change(services, user, "adt.admit", f"patient/{body.patient_id}", body.model_dump() | {"at": at},
                  lambda: attr.admit(body.patient_id, body.ward, body.bed, at))
    return AdtOut(action="admit", patient_id=body.patient_id, ward=body.ward, bed=body.bed, at=at)


@router.post("/adt/transfer", response_model=AdtOut, summary="Move an admitted patient to another bed")
async def transfer(services: ServicesDep, user: CurrentUser, body: AdmitIn) -> AdtOut:
    require_clinical(user, body.ward)
    old = services.ward_of_patient(body.patient_id)
    if old is not None:
        require_clinical(user, old)
    at = body.at or now_ms()
    attr = services.platform.attributions
    await _change(services, user, "adt.transfer", f"patient/{body.patient_id}",
                  body.model_dump() | {"at": at, "from_ward": old}, lambda: attr.transfer(body.patient_id, body.ward, body.bed, at))
    return AdtOut(action="transfer", patient_id=body.patient_id, ward=body.ward, bed=body.bed, at=at)


@router.post("/adt/discharge", response_model=AdtOut, summary="Discharge a patient (the bed becomes free)")
async def discharge(services: ServicesDep, user: CurrentUser, body: DischargeIn) -> AdtOut:
    ward = services.ward_of_patient(body.patient_id)
    if ward is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"patient {body.patient_id} is not admitted")
    require_clinical(user, ward)
    at = body.at or now_ms()
    attr = services.platform.attributions
    await _change(services, user, "adt.discharge", f"patient/{body.patient_id}", body.model_dump() | {"at": at},
                  lambda: attr.discharge(body.patient_id, at))
    return AdtOut(action="discharge", patient_id=body.patient_id, ward=ward, at=at)


@router.post("/devices/{device_id}/assign", response_model=AdtOut, tags=["devices"],
             summary="Bind a device to a bed, or to a patient at home (virtual ward 'home')")
async def assign(services: ServicesDep, user: CurrentUser, body: AssignIn,
                 device_id: Annotated[str, Path(pattern=ID)]) -> AdtOut:
    at = body.at or now_ms()
    attr = services.platform.attributions
    if body.patient_id is not None:
        patient = body.patient_id
        require_clinical(user, HOME_WARD)

        def home() -> None:
            if attr.bed_of(patient, at) is None:
                attr.admit(patient, HOME_WARD, patient, at)
            ward, bed = attr.bed_of(patient, at) or (HOME_WARD, patient)
            attr.assign_device(device_id, ward, bed, at)

        await _change(services, user, "device.assign", f"device/{device_id}", body.model_dump() | {"at": at}, home)
        ward, bed = attr.bed_of(patient, at) or (HOME_WARD, patient)
        return AdtOut(action="assign", device=device_id, patient_id=patient, ward=ward, bed=bed, at=at)
    assert body.ward is not None and body.bed is not None
    ward, bed = body.ward, body.bed
    require_clinical(user, ward)
    await _change(services, user, "device.assign", f"device/{device_id}", body.model_dump() | {"at": at},
                  lambda: attr.assign_device(device_id, ward, bed, at))
    return AdtOut(action="assign", device=device_id, ward=ward, bed=bed, at=at)


HL7_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "x-application/hl7-v2+er7": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}}}


@router.post("/adt/hl7", summary="HL7 v2 ADT A01/A02/A03 in; answers an HL7 ACK (AA, AE or AR)",
             openapi_extra=HL7_BODY, response_class=Response,
             responses={200: {"content": {"x-application/hl7-v2+er7": {}}, "description": "ACK (MSA-1 AA/AE/AR)"}})
async def adt_hl7(services: ServicesDep, user: CurrentUser, request: Request) -> Response:
    body = (await request.body())[:1_000_000].decode("utf-8", errors="replace")
    media = "x-application/hl7-v2+er7"
    try:
        m = parse_adt(body)
    except Hl7AdtError as exc:
        return Response(ack("", "AR", str(exc)), media_type=media, status_code=422)
    try:
        if m.action == "admit":
            await admit(services, user, AdmitIn(patient_id=m.patient, ward=m.ward, bed=m.bed, at=m.at))
        elif m.action == "transfer":
            await transfer(services, user, AdmitIn(patient_id=m.patient, ward=m.ward, bed=m.bed, at=m.at))
        else:
            await discharge(services, user, DischargeIn(patient_id=m.patient, at=m.at))
    except HTTPException as exc:
        code = 403 if exc.status_code == status.HTTP_403_FORBIDDEN else 409
        return Response(ack(m.control_id, "AE", str(exc.detail), m.event), media_type=media, status_code=code)
    return Response(ack(m.control_id, "AA", "", m.event), media_type=media)
