"""ADT (admit, transfer, discharge) and device assignment. Writes go through ingest's attribution
tables (observations are attributed by sample time), then ``{root}/control/assignments`` tells
every ingest worker to reload; every change is audited. A device assigned to a ``patient_id``
(home wearable) puts the patient in the virtual ward ``home`` (bed = patient id).

Rights: admit/transfer/discharge only for charge nurses and admins, and the hospital's HL7 ADT
interface account (``adt_feed``: every ward, ``POST /adt/hl7`` only). A change needs rights on the
target ward *and* on every ward whose records it alters from ``at`` on (the patient's stays, the
device's bindings); an admitted patient is moved by transfer, never by a second admit. ``at`` lies
within 24 h of now (an admin may back-date up to 400 days; the audit entry says so). Refusals are
audited as ``adt.refused``.

Identity: an admission (or a transfer) may carry the patient's ``name`` and ``mrn`` (HL7: PID-5 and the
PID-3 identifier typed ``MR``); they go to :mod:`dashboard_api.identities` only. Audit entries say which
were given (``identity: ["name", "mrn"]``), never their values."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import aiomqtt
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from device_profiles import now_ms
from device_profiles.hl7 import AdtMessage, Hl7AdtError, adt_ack, parse_adt
from ingest import AttributionError, Attributions, control_topic

from ..deps import CurrentUser, Services, ServicesDep, require_clinical
from ..identities import RETENTION_MS, Mrn, PatientName, identities
from ..users import User
from ..wardstate import HOME_WARD

T = TypeVar("T")

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["adt"])
ID = r"^[A-Za-z0-9_.-]{1,64}$"


class AdmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: str = Field(pattern=ID)
    ward: str = Field(pattern=ID)
    bed: str = Field(pattern=ID)
    at: int | None = Field(None, description="ms since epoch (default now); data after it is attributed")
    name: PatientName | None = None
    mrn: Mrn | None = None


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


FEED_ROLE = "adt_feed"  # the hospital's HL7 ADT interface account: every ward, HL7 route only
ADT_ROLES = frozenset({"admin", "charge_nurse", FEED_ROLE})
HOSPITAL_WIDE = frozenset({"admin", FEED_ROLE})
AT_WINDOW_MS = 24 * 3600 * 1000  # ``at`` within a day of now ...
ADMIN_BACKDATE_MS = 400 * 24 * 3600 * 1000  # ... an admin may back-date further (audited)


def _iso(t_ms: int) -> str:
    try:
        return datetime.fromtimestamp(t_ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{t_ms} ms"


def require_adt(user: User, via_hl7: bool = False) -> None:
    """Admit, transfer and discharge: charge nurses and admins, and the HL7 feed on its own route."""
    if user.role == FEED_ROLE and not via_hl7:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {FEED_ROLE} may use only POST /api/v1/adt/hl7")
    if user.role not in ADT_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not admit, transfer or discharge "
                            "patients (charge_nurse or admin, or the HL7 ADT feed)")


def _need(user: User, ward: str, why: str) -> None:
    if user.role not in HOSPITAL_WIDE and not user.can_see_ward(ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"{why}; user {user.username} ({user.role}) has no rights on ward {ward}")


def _at(user: User, at: int | None) -> tuple[int, bool]:
    """The time a change takes effect and whether it lies outside the normal +-24 h window."""
    now = now_ms()
    if at is None:
        return now, False
    if abs(at - now) <= AT_WINDOW_MS:
        return at, False
    if user.role == "admin" and now - ADMIN_BACKDATE_MS <= at <= now + AT_WINDOW_MS:
        return at, True
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                        f"at {_iso(at)} is not within 24 h of now ({_iso(now)}); "
                        + ("an admin may back-date up to 400 days" if user.role == "admin"
                           else "only an admin may back-date further"))


@contextlib.asynccontextmanager
async def _refusals(services: Services, user: User, attempt: str, resource: str,
                    detail: dict[str, Any]) -> AsyncIterator[None]:
    """Audit a refused change as ``adt.refused`` (with the reason) and answer 403/409/422."""
    try:
        yield
    except AttributionError as exc:
        await services.record(user, "adt.refused", resource, detail | {"attempt": attempt, "reason": str(exc)})
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except HTTPException as exc:
        await services.record(user, "adt.refused", resource,
                              detail | {"attempt": attempt, "reason": str(exc.detail)})
        raise


async def _checked_write(services: Services, fn: Callable[[], T]) -> T:
    """Run the rights checks and the write they checked as one step (no change in between)."""
    attr: Attributions = services.platform.attributions

    def locked() -> T:
        with attr.write_lock:
            return fn()

    return await asyncio.to_thread(locked)


async def _changed(services: Services, user: User, action: str, resource: str, detail: dict[str, Any]) -> None:
    await services.record(user, action, resource, detail)
    with contextlib.suppress(aiomqtt.MqttError):  # workers also reload every minute; the change is stored
        await services.hub.publish(control_topic(services.root), {"changed": now_ms()}, qos=1)
    await services.hub.refresh_assignments()
    await _purge_identities(services)


async def _purge_identities(services: Services) -> None:
    """Delete the identities past retention (audited first, ids only). Best effort: the ADT change is
    done; what cannot be audited or deleted now is tried again at the next change."""
    attr: Attributions = services.platform.attributions
    store, now = identities(attr.engine), now_ms()
    try:
        gone = await asyncio.to_thread(store.expired, lambda p, t: bool(attr.patient_stays(p, t)), now)
        if gone:
            await services.record_event("system", "system", "patient.identity.purge", "patients",
                                        {"patients": gone, "retention_days": RETENTION_MS // 86_400_000})
            await asyncio.to_thread(store.delete, gone, now)
    except (HTTPException, sa.exc.SQLAlchemyError) as exc:
        log.warning("patient identities past retention not purged yet: %s", getattr(exc, "detail", type(exc).__name__))


def _detail(body: AdmitIn) -> dict[str, Any]:
    """The audit detail of an admission or transfer: which identity fields came, never their values."""
    detail = body.model_dump(exclude={"name", "mrn"})
    given = [k for k in ("name", "mrn") if getattr(body, k) is not None]
    return detail | {"identity": given} if given else detail


def _keep_identity(attr: Attributions, user: User, body: AdmitIn) -> None:
    """Store the name and MRN that came with an admission or transfer (inside its write)."""
    identities(attr.engine).record(body.patient_id, body.name, body.mrn, now_ms(), user.username)


async def _admit(services: Services, user: User, body: AdmitIn, via_hl7: bool = False) -> AdtOut:
    attr: Attributions = services.platform.attributions
    patient, resource, detail = body.patient_id, f"patient/{body.patient_id}", _detail(body)
    async with _refusals(services, user, "adt.admit", resource, detail):
        require_adt(user, via_hl7)
        at, outside = _at(user, body.at)
        detail |= {"at": at, "at_outside_window": outside}

        def write() -> None:
            _need(user, body.ward, f"admitting to ward {body.ward}")
            stays = attr.patient_stays(patient, at)
            if stays:
                raise AttributionError(f"patient {patient} is admitted in ward {stays[0].ward} (bed {stays[0].bed}): "
                                       "use transfer to move an admitted patient (it needs rights on both wards)")
            attr.admit(patient, body.ward, body.bed, at, new_stay=True)
            _keep_identity(attr, user, body)

        await _checked_write(services, write)
    await _changed(services, user, "adt.admit", resource, detail)
    return AdtOut(action="admit", patient_id=patient, ward=body.ward, bed=body.bed, at=at)


async def _transfer(services: Services, user: User, body: AdmitIn, via_hl7: bool = False) -> AdtOut:
    attr: Attributions = services.platform.attributions
    patient, resource, detail = body.patient_id, f"patient/{body.patient_id}", _detail(body)
    async with _refusals(services, user, "adt.transfer", resource, detail):
        require_adt(user, via_hl7)
        at, outside = _at(user, body.at)
        detail |= {"at": at, "at_outside_window": outside}

        def write() -> str:
            _need(user, body.ward, f"the transfer goes to ward {body.ward}")
            current = attr.bed_of(patient, at)
            if current is None:
                raise AttributionError(f"patient {patient} is not admitted at {_iso(at)}")
            for stay in attr.patient_stays(patient, at):
                _need(user, stay.ward, f"patient {patient} is admitted in ward {stay.ward}; transfer needs rights there")
            attr.transfer(patient, body.ward, body.bed, at)
            _keep_identity(attr, user, body)  # none given: the stored identity stays as it is
            return current[0]

        detail["from_ward"] = await _checked_write(services, write)
    await _changed(services, user, "adt.transfer", resource, detail)
    return AdtOut(action="transfer", patient_id=patient, ward=body.ward, bed=body.bed, at=at)


async def _discharge(services: Services, user: User, body: DischargeIn, via_hl7: bool = False) -> AdtOut:
    attr: Attributions = services.platform.attributions
    patient, resource, detail = body.patient_id, f"patient/{body.patient_id}", body.model_dump()
    async with _refusals(services, user, "adt.discharge", resource, detail):
        require_adt(user, via_hl7)
        at, outside = _at(user, body.at)
        detail |= {"at": at, "at_outside_window": outside}

        def write() -> str:
            stays = attr.patient_stays(patient, at)
            if not stays:
                raise AttributionError(f"patient {patient} is not admitted")
            for stay in stays:
                _need(user, stay.ward, f"patient {patient} is admitted in ward {stay.ward}; discharge needs rights there")
            attr.discharge(patient, at)
            return stays[-1].ward

        ward = detail["ward"] = await _checked_write(services, write)
    await _changed(services, user, "adt.discharge", resource, detail)
    return AdtOut(action="discharge", patient_id=patient, ward=ward, at=at)


@router.post("/adt/admit", response_model=AdtOut, summary="Admit a patient to a bed (charge nurse, admin)")
async def admit(services: ServicesDep, user: CurrentUser, body: AdmitIn) -> AdtOut:
    """An admitted patient is refused (409): moving a patient is a transfer."""
    return await _admit(services, user, body)


@router.post("/adt/transfer", response_model=AdtOut,
             summary="Move an admitted patient to another bed (charge nurse with rights on both wards, admin)")
async def transfer(services: ServicesDep, user: CurrentUser, body: AdmitIn) -> AdtOut:
    return await _transfer(services, user, body)


@router.post("/adt/discharge", response_model=AdtOut,
             summary="Discharge a patient (the bed becomes free; charge nurse of the ward, admin)")
async def discharge(services: ServicesDep, user: CurrentUser, body: DischargeIn) -> AdtOut:
    return await _discharge(services, user, body)


@router.post("/devices/{device_id}/assign", response_model=AdtOut, tags=["devices"],
             summary="Bind a device to a bed, or to a patient at home (virtual ward 'home')")
async def assign(services: ServicesDep, user: CurrentUser, body: AssignIn,
                 device_id: Annotated[str, Path(pattern=ID)]) -> AdtOut:
    """Needs rights on the target ward and on every ward the device is bound to from ``at`` on. Assigning
    to a ``patient_id`` follows the patient's current bed; a patient admitted nowhere is admitted to
    the virtual ward ``home``, which is an ADT change (charge nurse or admin)."""
    attr: Attributions = services.platform.attributions
    resource, detail = f"device/{device_id}", body.model_dump()
    async with _refusals(services, user, "device.assign", resource, detail):
        require_clinical(user)
        at, outside = _at(user, body.at)
        detail |= {"at": at, "at_outside_window": outside}

        def write() -> tuple[str, str]:
            patient, admit_home = body.patient_id, False
            if patient is not None:
                current = attr.bed_of(patient, at)
                if current is None:
                    admit_home, current = True, (HOME_WARD, patient)
                    require_adt(user)
                ward, bed = current
                for stay in attr.patient_stays(patient, at):  # the current stay and any later one
                    _need(user, stay.ward, f"patient {patient} is admitted in ward {stay.ward}; "
                          "assigning a device to the patient needs rights there")
                _need(user, ward, f"the device goes to patient {patient} in ward {ward}")
            else:
                assert body.ward is not None and body.bed is not None
                ward, bed = body.ward, body.bed
                _need(user, ward, f"the device goes to ward {ward}")
            for b in attr.device_bindings(device_id, at):
                _need(user, b.ward, f"device {device_id} is bound to ward {b.ward}; moving it needs rights there")
            if admit_home and patient is not None:
                attr.admit(patient, HOME_WARD, patient, at, new_stay=True)
            attr.assign_device(device_id, ward, bed, at)
            return ward, bed

        ward, bed = await _checked_write(services, write)
        detail |= {"ward": ward, "bed": bed}
    await _changed(services, user, "device.assign", resource, detail)
    return AdtOut(action="assign", device=device_id, patient_id=body.patient_id, ward=ward, bed=bed, at=at)


class _Hl7FieldError(ValueError):
    """A PID-5 name or PID-3 MRN the platform cannot keep (names the field; never echoes the value)."""


def _hl7_body(m: AdtMessage) -> AdmitIn:
    try:
        return AdmitIn(patient_id=m.patient, ward=m.ward, bed=m.bed, at=m.at, name=m.name or None, mrn=m.mrn or None)
    except ValidationError as exc:
        where = {"name": "PID-5", "mrn": "PID-3 (type MR)"}
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise _Hl7FieldError(f"{where.get(field, field)}: {first['msg']}") from None


HL7_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "x-application/hl7-v2+er7": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}}}


@router.post("/adt/hl7", summary="HL7 v2 ADT A01/A02/A03 in; answers an HL7 ACK (AA, AE or AR)",
             openapi_extra=HL7_BODY, response_class=Response,
             responses={200: {"content": {"x-application/hl7-v2+er7": {}}, "description": "ACK (MSA-1 AA/AE/AR)"}})
async def adt_hl7(services: ServicesDep, user: CurrentUser, request: Request) -> Response:
    """Charge nurses and admins (within their wards' rules) and the ``adt_feed`` account (every ward).
    The role is checked before the body is read."""
    async with _refusals(services, user, "adt.hl7", "adt/hl7", {}):
        require_adt(user, via_hl7=True)
    body = (await request.body())[:1_000_000].decode("utf-8", errors="replace")
    media = "x-application/hl7-v2+er7"
    try:
        m = parse_adt(body)
    except Hl7AdtError as exc:
        return Response(adt_ack("", "AR", str(exc)), media_type=media, status_code=422)
    try:
        if m.action == "admit":
            await _admit(services, user, _hl7_body(m), True)
        elif m.action == "transfer":
            await _transfer(services, user, _hl7_body(m), True)
        else:
            await _discharge(services, user, DischargeIn(patient_id=m.patient, at=m.at), True)
    except _Hl7FieldError as exc:
        return Response(adt_ack(m.control_id, "AR", str(exc), m.event), media_type=media, status_code=422)
    except HTTPException as exc:
        code = exc.status_code if exc.status_code in (403, 422) else 409
        return Response(adt_ack(m.control_id, "AE", str(exc.detail), m.event), media_type=media, status_code=code)
    return Response(adt_ack(m.control_id, "AA", "", m.event), media_type=media)
