"""A ward's alarm and event history and its shift report (the central station's History dialog and
``/report``, the printable shift report).

* ``GET /api/v1/wards/{ward}/alarm-history``: every alarm event of the ward (raised, updated,
  escalated, acknowledged, silenced, cleared) with who did it and when, newest first, filtered by bed,
  priority and time (at most 7 days per request), paged by an opaque cursor (``next``); each with its
  ``reason`` in English and, when alerting sent them, as ``reason_key``/``reason_params`` (and
  ``condition_key``/``condition_params``) that the dialog writes in the reader's language;
* ``GET /api/v1/wards/{ward}/shift-report``: per bed of the ward (its layout's beds, occupied beds, and
  beds that had alarms or spot observations in the period): the patient, the alarms of the period
  with their acknowledgements (and their last reason, also as ``reason_key``/``reason_params``), the
  NEWS2 trajectory (:mod:`dashboard_api.shift_report`: recomputed, NEWS2 over time is not stored) and
  the spot observations.

Both are for the ward's clinical staff (a nurse of another ward, a patient, a vendor or a facility
manager gets 403) and both are audited reads. Alerting's tables are read through its repository
(:class:`alerting.AlarmStore`), never here."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from alerting import SpotObservation, StateError
from device_profiles import now_ms
from device_profiles.alarm_event import ReasonParam
from ingest import StoreError, VitalsRow

from .. import shift_report as sr
from ..deps import CurrentUser, Services, ServicesDep, require_clinical, time_window
from .wards import WardId, _layouts

router = APIRouter(tags=["wards"])
STATIC = FsPath(__file__).resolve().parent.parent / "static"
HOUR = 3_600_000
HISTORY_MAX_MS = 7 * 24 * HOUR
HISTORY_DEFAULT_MS = 24 * HOUR
REPORT_MAX_MS = 24 * HOUR
REPORT_DEFAULT_MS = 12 * HOUR
MAX_LIMIT = 500
SPOT_LOOKBACK_MS = 12 * HOUR  # a spot value (ACVPU, air/O2) counts for NEWS2 up to 12 h (News2Config.hold_s)
VITALS_LOOKBACK_MS = 4 * HOUR + 60_000  # an intermittent value (NIBP, temperature) is current for 4 h
READ_CONCURRENCY = 4  # beds whose vitals are read at once
CURSOR = re.compile(r"^(\d{1,15})\.(\d{1,15})$")
Priority = Literal["high", "medium", "low"]
BedQ = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="only this bed")]
SinceQ = Annotated[int | None, Query(ge=0, description="ms since epoch (default: the period before until)")]
UntilQ = Annotated[int | None, Query(ge=0, description="ms since epoch (default now)")]


class HistoryEntry(BaseModel):
    seq: int
    t: int
    alarm_id: str
    event: str
    state: str
    priority: str
    by: str | None
    reason: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: str
    signal: str | None
    code: str
    drill: str
    raised_t: int
    value: float | None = None
    worst: float | None = None
    condition: bool | None = None
    condition_reason: str | None = None
    escalation_level: int | None = None
    peak_priority: str | None = None
    latched: bool | None = None
    # the reasons as keys of the screens' catalogues + parameters (alarm event payload); "" and {}: an
    # event published without a key, which the screens read from its English ``reason`` as before
    reason_key: str = ""
    reason_params: dict[str, ReasonParam] = Field(default_factory=dict)
    condition_key: str = ""
    condition_params: dict[str, ReasonParam] = Field(default_factory=dict)


class HistoryOut(BaseModel):
    ward: str
    since: int
    until: int
    entries: list[HistoryEntry]
    next: str | None  # the cursor of the next (older) page, or None when this is the last


def _cursor(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    m = CURSOR.match(text)
    if m is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "cursor: not a cursor of this history (use the previous page's next)")
    return int(m.group(1)), int(m.group(2))


@router.get("/api/v1/wards/{ward}/alarm-history", response_model=HistoryOut,
            summary="Alarm events of a ward (who did what, when), newest first, filtered and paged; audited")
async def alarm_history(services: ServicesDep, user: CurrentUser, ward: WardId, bed: BedQ = None,
                        priority: Annotated[list[Priority] | None, Query(
                            description="repeatable: only events of these priorities (default all)")] = None,
                        since: SinceQ = None, until: UntilQ = None,
                        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="entries per page")] = 100,
                        cursor: Annotated[str | None, Query(max_length=40, description="next page: `next` of the previous")] = None,
                        drill: Annotated[Literal["include", "exclude", "only"],
                                         Query(description="live-drill alarms (simulated beds)")] = "exclude",
                        ) -> HistoryOut:
    require_clinical(user, ward)
    start, end = time_window(since, until, HISTORY_DEFAULT_MS, HISTORY_MAX_MS)
    before = _cursor(cursor)
    prios = sorted(set(priority)) if priority else None
    await services.record(user, "read", f"ward/{ward}/alarm-history",
                          {"bed": bed, "priority": prios, "since": start, "until": end, "limit": limit,
                           "cursor": cursor, "drill": drill})
    try:
        page = await asyncio.to_thread(services.hub.alarm_store.history, ward, since_ms=start, until_ms=end, bed=bed,
                                       priorities=prios, limit=limit, before=before, drill=drill)
    except StateError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"alarm store: {exc}") from None
    nxt = f"{page.next[0]}.{page.next[1]}" if page.next is not None else None
    return HistoryOut(ward=ward, since=start, until=end, entries=[HistoryEntry(**e) for e in page.entries], next=nxt)


# -- shift report ----------------------------------------------------------------------------------
async def _vitals(services: Services, patient: str, start: int, end: int, gate: asyncio.Semaphore,
                  ) -> tuple[list[VitalsRow], str | None]:
    async with gate:
        try:
            rows = await services.platform.store.query_vitals(patient=patient, signals=list(sr.NEWS2_SIGNALS),
                                                              from_ms=start - VITALS_LOOKBACK_MS, to_ms=end,
                                                              every="1m")
        except StoreError as exc:
            return [], f"vitals store: {exc}"
    return rows, None


def _news2(rows: list[VitalsRow], spots: list[SpotObservation], times: list[int], step: int,
           error: str | None) -> dict[str, Any]:
    if error is not None:
        return {"step_ms": step, "points": [], "error": error}
    traj = sr.News2Trajectory(rows, spots)
    return {"step_ms": step, "points": [traj.at(t) for t in times], "error": None}


@router.get("/api/v1/wards/{ward}/shift-report",
            summary="Shift report of a ward: per bed the patient, alarms with acknowledgements, NEWS2 "
                    "trajectory (recomputed), spot observations; audited")
async def shift_report(services: ServicesDep, user: CurrentUser, ward: WardId, since: SinceQ = None,
                       until: UntilQ = None) -> dict[str, Any]:
    require_clinical(user, ward)
    start, end = time_window(since, until, REPORT_DEFAULT_MS, REPORT_MAX_MS)
    await services.record(user, "read", f"ward/{ward}/shift-report", {"since": start, "until": end})
    now = now_ms()
    store = services.hub.alarm_store
    try:
        alarms, spots = await asyncio.gather(
            asyncio.to_thread(store.alarms_between, ward, start, end),
            asyncio.to_thread(store.spots_between, ward, start - SPOT_LOOKBACK_MS, end))
    except StateError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"alarm store: {exc}") from None
    layout = await asyncio.to_thread(_layouts(services).get, ward)
    placed = await asyncio.to_thread(services.platform.attributions.current, min(end, now))
    patients = {bed: p for (w, bed), p in placed.patients.items() if w == ward and (w, bed) not in placed.drill_beds}
    devices = {bed: d for d, (w, bed) in placed.devices.items() if w == ward and (w, bed) not in placed.drill_beds}
    shown = [s for s in spots if s.t >= start]
    beds = sr.bed_order(list(layout.beds) if layout is not None else [],
                        [*patients, *devices, *(str(a["bed"]) for a in alarms if a["bed"]), *(s.bed for s in shown)])
    live = services.hub.state.wards.get(ward, {})
    step = sr.step_for(end - start)
    times = sr.point_times(start, end, step)
    gate = asyncio.Semaphore(READ_CONCURRENCY)
    occupied = [b for b in beds if patients.get(b)]
    reads = await asyncio.gather(*(_vitals(services, patients[b], start, end, gate) for b in occupied))
    vitals = dict(zip(occupied, reads, strict=True))
    out = []
    for bed in beds:
        patient = patients.get(bed, "")
        items = [sr.alarm_item(a) for a in alarms if a["bed"] == bed]
        state = live.get(bed)
        now_score = None
        if state is not None and patient and state.patient == patient and end >= now - 60_000:
            now_score = state.news2_published  # alerting's published score, the one its alarms use
        rows, error = vitals.get(bed, ([], None))
        out.append({
            "bed": bed, "patient": patient, "device": devices.get(bed, ""),
            "alarms": {"counts": sr.alarm_counts(items), "items": items},
            "news2_now": now_score,
            "news2": _news2(rows, [s for s in spots if s.patient == patient], times, step, error) if patient else None,
            "spots": [sr.spot_item(s) for s in shown if s.bed == bed],
        })
    return {"ward": ward, "since": start, "until": end, "generated_at": now, "generated_by": user.username,
            "role": user.role, "news2_source": sr.SOURCE, "beds": out}


@router.get("/report", include_in_schema=False)
async def report_page() -> FileResponse:
    """The printable shift report (``report.html``: it logs in and reads the API like every page)."""
    return FileResponse(STATIC / "report.html")
