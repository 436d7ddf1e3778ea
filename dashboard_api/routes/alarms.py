"""Alarm actions (acknowledge, silence, escalate) and nurse spot observations. Both go to alerting
over MQTT (``{root}/commands/alarms/{ward}``, ``{root}/wards/{ward}/spot``); alerting's resulting
alarm events come back through the hub to every open screen. Every action is audited.

An action names the alarm it was aimed at (its id, and optionally the ``bed`` the nurse saw it on) and
is refused with 409 when that target is stale: the alarm already ended (cleared), or it is not the
alarm of that bed. A screen never acts on "whatever is at the top of the list" (issue 12)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import aiomqtt
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from alerting import command_topic, parse_spot, spot_topic
from alerting.errors import InputError
from device_profiles import now_ms
from device_profiles.ws_frames import ScreenAlarm

from ..deps import CurrentUser, Services, ServicesDep, require_clinical, require_patient

router = APIRouter(prefix="/api/v1", tags=["alarms"])
AlarmId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="alarm id")]
PatientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="pseudonymous patient id")]


class ActionIn(BaseModel):
    """What the nurse saw when acting: the action is refused (409) when the alarm is not that bed's."""

    model_config = ConfigDict(extra="forbid")
    bed: str | None = Field(None, max_length=64, description="the bed the alarm was shown for (checked)")


class SilenceIn(ActionIn):
    minutes: float = Field(2.0, gt=0, le=120, description="silence (audio paused) for this long")


class ActionOut(BaseModel):
    id: str
    action: str
    ward: str
    bed: str = ""
    patient: str = ""
    accepted: bool = True


class SpotIn(BaseModel):
    """What a nurse observes that a monitor cannot (ACVPU, air/oxygen) and manual vitals."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    consciousness: Literal["A", "C", "V", "P", "U"] | None = None
    new_confusion: bool | None = None  # with C: confirmed new (scores 3) or the patient's known baseline
    sedated: bool | None = None  # sedated on purpose / ventilated: NEWS2 suspended where the ward says so
    ventilated: bool | None = None
    supplemental_o2: bool | None = None
    spo2_scale: Literal[1, 2] | None = None
    temperature: float | None = None
    resp_rate: float | None = None
    spo2: float | None = None
    nibp_sys: float | None = None
    heart_rate: float | None = None


async def _alarm_ward(services: Services, alarm_id: str) -> tuple[str, ScreenAlarm | None]:
    """The alarm's ward and its open event (``None``: the alarm exists but is no longer open)."""
    for ward, alarms in services.hub.state.alarms.items():
        if alarm_id in alarms:
            return ward, alarms[alarm_id]
    alarm = await asyncio.to_thread(services.hub.alarm_store.alarm, alarm_id)
    if alarm is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alarm {alarm_id}")
    return alarm.ward, None


def _stale(alarm_id: str, action: str, event: Mapping[str, Any] | None, bed: str | None) -> str | None:
    """Why an action on this alarm is aimed at a stale target, or ``None``."""
    if event is None:
        return f"alarm {alarm_id} has already ended: nothing to {action}"
    shown = str(event.get("bed") or "")
    if bed is not None and bed != shown:
        return (f"alarm {alarm_id} is {'bed ' + shown if shown else 'a ward alarm'}'s, not bed {bed}'s: "
                f"not {action}d; check the alarm list")
    return None


async def _publish(services: Services, topic: str, body: dict[str, Any]) -> None:
    try:
        await services.hub.publish(topic, body)
    except aiomqtt.MqttError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"broker unavailable: {exc}") from None


async def _act(services: Services, user: Any, alarm_id: str, action: str, target: ActionIn | None,
               minutes: float | None = None) -> ActionOut:
    ward, event = await _alarm_ward(services, alarm_id)
    require_clinical(user, ward)
    why = _stale(alarm_id, action, event, target.bed if target is not None else None)
    if why is not None or event is None:
        raise HTTPException(status.HTTP_409_CONFLICT, why)
    body: dict[str, Any] = {"id": alarm_id, "action": action, "by": user.username, "t": now_ms()}
    if minutes is not None:
        body["minutes"] = minutes
    await services.record(user, f"alarm.{action}", f"alarm/{alarm_id}", {"ward": ward, "minutes": minutes})
    await _publish(services, command_topic(ward, services.root), body)
    return ActionOut(id=alarm_id, action=action, ward=ward, bed=str(event.get("bed") or ""),
                     patient=str(event.get("patient") or ""))


STALE: dict[int | str, dict[str, Any]] = {409: {"description": "the alarm already ended, or it is not the alarm of the bed named in the body"}}


@router.post("/alarms/{alarm_id}/acknowledge", response_model=ActionOut, status_code=202, tags=["alarms"],
             responses=STALE)
async def acknowledge(services: ServicesDep, user: CurrentUser, alarm_id: AlarmId,
                      body: ActionIn | None = None) -> ActionOut:
    return await _act(services, user, alarm_id, "acknowledge", body)


@router.post("/alarms/{alarm_id}/silence", response_model=ActionOut, status_code=202, tags=["alarms"],
             responses=STALE)
async def silence(services: ServicesDep, user: CurrentUser, alarm_id: AlarmId,
                  body: SilenceIn | None = None) -> ActionOut:
    return await _act(services, user, alarm_id, "silence", body, body.minutes if body is not None else 2.0)


@router.post("/alarms/{alarm_id}/escalate", response_model=ActionOut, status_code=202, tags=["alarms"],
             responses=STALE)
async def escalate(services: ServicesDep, user: CurrentUser, alarm_id: AlarmId,
                   body: ActionIn | None = None) -> ActionOut:
    return await _act(services, user, alarm_id, "escalate", body)


@router.post("/patients/{patient}/spot", status_code=202, tags=["patients"],
             summary="Nurse spot observation (consciousness, oxygen, manual vitals) feeding NEWS2")
async def spot(services: ServicesDep, user: CurrentUser, body: SpotIn, patient: PatientId) -> dict[str, Any]:
    ward = require_patient(services, user, patient)
    require_clinical(user)
    where = services.platform.attributions.bed_of(patient)
    if ward is None or where is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"patient {patient} is not admitted")
    values = body.model_dump(exclude_none=True)
    if not values:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give at least one observation")
    msg = {"patient": patient, "ward": ward, "bed": where[1], "t": now_ms(), "by": user.username, **values}
    try:
        parse_spot(msg)
    except InputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    await services.record(user, "spot.enter", f"patient/{patient}", values)
    await _publish(services, spot_topic(ward, services.root), msg)
    return {"accepted": True, "ward": ward, "bed": where[1], **values}
