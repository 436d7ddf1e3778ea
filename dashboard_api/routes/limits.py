"""Per-patient alarm limits, set at the bedside view of the central station.

``GET /api/v1/patients/{patient}/limits``: per signal with alarm limits, the ward's default, the patient's
own and the effective limits (what alerting applies now), with who set the patient's own and when.
``PUT …/limits/{signal}``: the patient's own limits of one signal, with a reason; bounded and checked
against the ward's hysteresis (:mod:`dashboard_api.patient_limits`), a refusal is a 422 naming the field.
``DELETE …/limits/{signal}``: back to the ward's limits.

Rights: clinical staff (charge nurse, nurse, physician) of the patient's current ward and admins; a
patient, a vendor, a facility manager or the ADT feed gets 403. Every read is audited, every change
with its before, after and reason. A change goes to alerting's state DB through :class:`AlarmStore`
(never its tables) and is announced on ``{root}/control/alarms``: alerting reloads the overrides at
once (the next sample is judged by them) and every dashboard hub refreshes the tiles' custom-limits
marker, so each screen of the ward sees it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Annotated, Any

import aiomqtt
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel

from alerting import AlarmConfig, load_config
from alerting.store import OverrideRecord
from device_profiles import now_ms, topics

from ..deps import CurrentUser, Services, ServicesDep, require_patient
from ..patient_limits import (
    LimitsError,
    LimitsIn,
    SignalLimits,
    check,
    limit_rule,
    settable,
    tile_limits,
    view,
)
from ..users import User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
PatientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="pseudonymous patient id")]
Signal = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,32}$", description="catalogue signal, e.g. spo2")]


class PatientLimitsOut(BaseModel):
    patient: str
    ward: str | None
    bed: str | None
    signals: list[SignalLimits]


@functools.lru_cache(maxsize=4)
def _config(path: str | None) -> AlarmConfig:
    return load_config(path)


def alarm_config(services: Services) -> AlarmConfig:
    """The alarm configuration alerting runs with (``--alarms``: ``PlatformConfig.extra["alarm_config"]``)."""
    extra = services.platform.config.extra
    path = extra.get("alarm_config") if isinstance(extra, dict) else None
    return _config(str(path) if path else None)


def _may(services: Services, user: User, patient: str) -> str | None:
    """403 unless ``user`` is clinical staff of ``patient``'s ward (or an admin); the patient's ward."""
    if not user.clinical:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not read or change alarm limits "
                                                       "(clinical staff of the patient's ward, admin)")
    return require_patient(services, user, patient)


def _bed(services: Services, patient: str) -> tuple[str, str]:
    where = services.platform.attributions.bed_of(patient)
    if where is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"patient {patient} is not admitted to a bed: "
                                                      "alarm limits are set for a patient in a bed")
    return where


def _spo2_scale(services: Services, where: tuple[str, str] | None) -> int | None:
    b = services.hub.state.wards.get(where[0], {}).get(where[1]) if where is not None else None
    scale = b.spot.get("spo2_scale") if b is not None else None
    return scale if isinstance(scale, int) else None


def _signal_view(services: Services, config: AlarmConfig, patient: str, signal: str, rec: OverrideRecord | None,
                 where: tuple[str, str] | None) -> SignalLimits:
    in_file = config.patients.get(patient, {}).get(signal)
    return view(config, signal, rec.override if rec else None, rec.by if rec else None, rec.t if rec else None,
                in_file, _spo2_scale(services, where))


async def _records(services: Services, patient: str) -> dict[str, OverrideRecord]:
    recs = await asyncio.to_thread(services.hub.alarm_store.override_records, [patient])
    return {r.signal: r for r in recs}


def _checked_signal(config: AlarmConfig, signal: str) -> None:
    try:
        limit_rule(config, signal)
    except LimitsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


async def _announce(services: Services, t: int) -> None:
    """``{"changed": t}`` on ``{root}/control/alarms``: alerting reloads, the hubs refresh the tiles."""
    try:
        await services.hub.publish(topics.control_alarms(services.root), {"changed": t})
    except aiomqtt.MqttError as exc:
        log.error("limits: stored, but the reload could not be announced: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the limits are stored but alerting was not told (broker unavailable): they apply "
                            "when alerting next reloads; send them again") from None


def _fields(rec: OverrideRecord | None) -> dict[str, float] | None:
    return tile_limits(rec.override) if rec is not None else None


@router.get("/{patient}/limits", response_model=PatientLimitsOut,
            summary="A patient's alarm limits per signal: ward default, the patient's own (who, when), effective")
async def get_limits(services: ServicesDep, user: CurrentUser, patient: PatientId) -> PatientLimitsOut:
    _may(services, user, patient)
    where = services.platform.attributions.bed_of(patient)
    await services.record(user, "read", f"patient/{patient}/limits")
    config = alarm_config(services)
    recs = await _records(services, patient)
    return PatientLimitsOut(patient=patient, ward=where[0] if where else None, bed=where[1] if where else None,
                            signals=[_signal_view(services, config, patient, s, recs.get(s), where)
                                     for s in settable(config)])


@router.put("/{patient}/limits/{signal}", response_model=SignalLimits,
            summary="Set a patient's own alarm limits of one signal (bounded; reason required; audited)")
async def put_limits(services: ServicesDep, user: CurrentUser, patient: PatientId, signal: Signal,
                     body: LimitsIn) -> SignalLimits:
    _may(services, user, patient)
    where = _bed(services, patient)
    config = alarm_config(services)
    try:
        override = check(config, signal, body)
    except LimitsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    before = (await _records(services, patient)).get(signal)
    t = now_ms()
    detail: dict[str, Any] = {"ward": where[0], "bed": where[1], "signal": signal, "before": _fields(before),
                              "after": tile_limits(override), "reason": body.reason.strip()}
    await services.record(user, "limits.set", f"patient/{patient}/limits/{signal}", detail)
    await asyncio.to_thread(services.hub.alarm_store.set_override, patient, signal, override, user.username, t)
    await _announce(services, t)
    rec = OverrideRecord(patient, signal, override, user.username, t)
    return _signal_view(services, config, patient, signal, rec, where)


@router.delete("/{patient}/limits/{signal}", response_model=SignalLimits,
               summary="Reset a patient's alarm limits of one signal to the ward default (audited)")
async def delete_limits(services: ServicesDep, user: CurrentUser, patient: PatientId, signal: Signal) -> SignalLimits:
    _may(services, user, patient)
    where = _bed(services, patient)
    config = alarm_config(services)
    _checked_signal(config, signal)
    before = (await _records(services, patient)).get(signal)
    if before is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"patient {patient} has no own {signal} limits: they are the ward's already")
    t = now_ms()
    await services.record(user, "limits.reset", f"patient/{patient}/limits/{signal}",
                          {"ward": where[0], "bed": where[1], "signal": signal, "before": _fields(before), "after": None})
    await asyncio.to_thread(services.hub.alarm_store.set_override, patient, signal, None, user.username, t)
    await _announce(services, t)
    return _signal_view(services, config, patient, signal, None, where)
