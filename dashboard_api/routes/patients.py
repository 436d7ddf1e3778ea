"""Patient data: vitals (raw or 1-minute aggregates), FHIR R4 Observations, and the portal summary
(own latest readings, device connection and battery, plain-language care-team messages)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel

from alerting import AlarmStore, StateError
from device_profiles import NUMERIC_SIGNALS, SIGNALS, Quality, now_ms
from ingest import StoreError, VitalsRow

from .. import fhir
from ..deps import CurrentUser, ServicesDep, require_patient, time_window
from ..identities import identities
from ..messages import plain_message

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
PatientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="pseudonymous patient id")]
RAW_MAX_MS = 2 * 3600 * 1000  # longer ranges are served as 1-minute aggregates
MAX_RANGE_MS = 400 * 24 * 3600 * 1000
FHIR_COUNT, FHIR_MAX_COUNT = 100, 1000  # Observations per FHIR page: default, most


class VitalsRowOut(BaseModel):
    t: int
    device: str
    values: dict[str, float]
    minimum: dict[str, float] | None = None
    maximum: dict[str, float] | None = None


class VitalsOut(BaseModel):
    patient: str
    every: str | None
    from_ms: int
    to_ms: int
    units: dict[str, str]
    rows: list[VitalsRowOut]


def _signals(signal: list[str] | None) -> list[str]:
    out = signal or sorted(NUMERIC_SIGNALS)
    bad = [s for s in out if s not in NUMERIC_SIGNALS]
    if bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"signal: unknown {', '.join(bad)}; known: {', '.join(sorted(NUMERIC_SIGNALS))}")
    return out


def _usable(row: VitalsRow) -> dict[str, float]:
    """A row's values without those its device flagged invalid (stored flagged; never charted nor
    exported as a reading, issue 11). Aggregated rows never contain them (the store leaves them out)."""
    if Quality.INVALID not in row.quality.values():
        return row.values
    return {s: v for s, v in row.values.items() if row.quality.get(s) != Quality.INVALID}


@router.get("/{patient}/vitals", response_model=VitalsOut,
            summary="Vitals of a patient: raw for ranges up to 2 h, 1-minute aggregates for longer ones")
async def vitals(services: ServicesDep, user: CurrentUser, patient: PatientId,
                 signal: Annotated[list[str] | None, Query(description="repeatable; default all")] = None,
                 from_: Annotated[int | None, Query(alias="from", description="ms since epoch")] = None,
                 to: Annotated[int | None, Query(description="ms since epoch (default now)")] = None) -> Response:
    require_patient(services, user, patient)
    sigs = _signals(signal)
    frm, to_ms = time_window(from_, to, 3600 * 1000, MAX_RANGE_MS, ("from", "to"))
    every: Literal["1m"] | None = None if to_ms - frm <= RAW_MAX_MS else "1m"
    await services.record(user, "read", f"patient/{patient}/vitals", {"from": frm, "to": to_ms, "signals": sigs})
    try:
        rows = await services.platform.store.query_vitals(patient=patient, signals=sigs, from_ms=frm, to_ms=to_ms,
                                                          every=every)
    except StoreError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"vitals store: {exc}") from None
    # Serialised here, in the shape of VitalsOut (its schema documents the route): a 1 h trend is 3,600
    # rows, and validating them through pydantic took about as long as reading them from the store.
    body = {"patient": patient, "every": every, "from_ms": frm, "to_ms": to_ms,
            "units": {s: SIGNALS[s].unit for s in sigs},
            "rows": [{"t": r.t, "device": r.device, "values": _usable(r), "minimum": r.minimum, "maximum": r.maximum}
                     for r in rows]}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/{patient}/fhir/Observation", summary="FHIR R4 Bundle of vital-signs Observations (paged)",
            responses={200: {"content": {"application/fhir+json": {}}}})
async def fhir_observations(services: ServicesDep, user: CurrentUser, patient: PatientId, request: Request,
                            from_: Annotated[int | None, Query(alias="from")] = None,
                            to: Annotated[int | None, Query()] = None,
                            signal: Annotated[list[str] | None, Query()] = None,
                            count: Annotated[int, Query(alias="_count", ge=1, le=FHIR_MAX_COUNT,
                                                        description="entries per page")] = FHIR_COUNT,
                            cursor: Annotated[str | None, Query(alias="_cursor", max_length=200,
                                                                description="from the Bundle's next link")] = None,
                            ) -> Response:
    """Entries in (time, device, signal) order, ``_count`` per page; follow ``link`` ``next`` for more
    (it keeps ``from``/``to`` of the first page)."""
    require_patient(services, user, patient)
    sigs = _signals(signal)
    frm, to_ms = time_window(from_, to, 15 * 60 * 1000, MAX_RANGE_MS, ("from", "to"))
    try:
        after = fhir.Cursor.parse(cursor) if cursor is not None else None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    await services.record(user, "read", f"patient/{patient}/fhir/Observation",
                          {"from": frm, "to": to_ms, "count": count, "cursor": cursor})
    start = max(frm, after.t) if after is not None else frm
    rows = []
    if start < to_ms:
        try:
            rows = await services.platform.store.query_vitals(patient=patient, signals=sigs, from_ms=start,
                                                              to_ms=to_ms, limit=count + 1)
        except StoreError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"vitals store: {exc}") from None
    entries, nxt = fhir.page([(r.t, r.device, _usable(r)) for r in rows], after, count, more=len(rows) > count)
    links = {"self": str(request.url)}
    if nxt is not None:
        links["next"] = str(request.url.include_query_params(**{"from": frm, "to": to_ms, "_count": count,
                                                                 "_cursor": str(nxt)}))
    # serialised here (orjson): a 1,000-entry page through FastAPI's encoder cost as much as building it
    return Response(orjson.dumps(fhir.bundle(patient, entries, links=links, paged=after is not None or nxt is not None)),
                    media_type="application/json")


def _alarm_history(store: AlarmStore, patient: str, limit: int = 20) -> list[dict[str, Any]]:
    """The patient's newest alarms (never a drill's), from alerting's repository."""
    return store.patient_alarms(patient, limit)


@router.get("/{patient}/summary", summary="Portal view: latest readings, device state, care-team messages")
async def summary(services: ServicesDep, user: CurrentUser, patient: PatientId) -> dict[str, Any]:
    require_patient(services, user, patient)
    await services.record(user, "read", f"patient/{patient}/summary")
    now = now_ms()
    tile, ward = None, None
    for ward_id, beds in services.hub.state.wards.items():
        for b in beds.values():
            if b.patient == patient:
                tile, ward = b.tile(now), ward_id
    number = services.config.call_number(ward)
    try:
        history: list[dict[str, Any]] | None = await asyncio.to_thread(_alarm_history, services.hub.alarm_store,
                                                                      patient)
    except StateError:
        history = None  # unknown is not "no alerts": the portal says the messages cannot be shown now
    own = await asyncio.to_thread(identities(services.platform.attributions.engine).get, patient)
    return {"patient": patient, "name": own.name if own is not None and own.name else None,  # portal: "Signed in as"
            "now": now, "tile": tile, "call_number": number,
            "messages": None if history is None else [plain_message(a, number) for a in history
                                                      if a["kind"] != "anomaly"]}
