"""``/api/v1/twin``: the facility manager's digital twin — scenarios, runs (queued, run off the event
loop in worker processes, persisted with their reports), the live census of a ward and "time to
evacuate now"; and the ``/facility`` page. Roles ``facility_manager`` and ``admin``; others 403.
Every run start and every census read is audited."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from device_profiles import now_ms
from digital_twin.errors import ParamError, TwinError
from digital_twin.live import Census, overlay_census

from ..deps import CurrentUser, Services
from ..twin_census import census_from_state
from ..twin_config import Layouts, Shift
from ..twin_jobs import RUN_ID, RunRecord, TwinJobError, TwinJobs, new_run_id
from ..twin_now import EvacuationNow

log = logging.getLogger(__name__)
ROLES = frozenset({"facility_manager", "admin"})
STATIC = FsPath(__file__).resolve().parents[1] / "static"
ID = r"^[A-Za-z0-9_.:-]{1,64}$"
WardQ = Annotated[str, Query(pattern=ID, description="ward id (a layout the server knows)")]
RunId = Annotated[str, Path(pattern=RUN_ID.pattern, description="run id")]
ParamValue = StrictBool | StrictInt | StrictFloat | StrictStr | None
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"  # self-contained, no scripts


class Twin:
    """Per-app twin services (``app.state.twin``), started and stopped by the router's lifespan."""

    def __init__(self, services: Services) -> None:
        self.settings = services.config.twin
        self.services = services
        self.layouts = Layouts.load(self.settings.wards, self.settings.alias_map())
        root = FsPath(services.platform.config.data_dir) / "twin"
        self.jobs = TwinJobs(root / "runs", max_runs=self.settings.max_runs, workers=self.settings.workers)
        self.now = EvacuationNow(self.settings, self.layouts, self.census, root / "now")

    def census(self, ward: str, now: int, include_patients: bool = False) -> Census:
        return census_from_state(self.services.hub.state, ward, now, include_patients=include_patients)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    twin = Twin(app.state.services)
    app.state.twin = twin
    await twin.jobs.start()
    try:
        yield
    finally:
        await twin.now.close()
        await twin.jobs.close()


def get_twin(request: Request, user: CurrentUser) -> Twin:
    """The app's twin services, for facility managers and admins only (others 403)."""
    if user.role not in ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not use the digital twin")
    twin: Twin = request.app.state.twin
    return twin


TwinDep = Annotated[Twin, Depends(get_twin)]
router = APIRouter(lifespan=lifespan)
api = APIRouter(prefix="/api/v1/twin", tags=["twin"])


def _unprocessable(loc: list[str | int], msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": msg, "type": "value_error"}])


# -- scenarios and wards ----------------------------------------------------------------------------
class ParamOut(BaseModel):
    name: str
    type: str
    default: Any
    description: str = ""
    enum: list[Any] | None = Field(default=None, description="the allowed values, when there is a fixed list")
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False


class ScenarioOut(BaseModel):
    name: str
    title: str
    params: list[ParamOut]
    metrics: dict[str, dict[str, Any]]
    references: list[str]


def _params(model: type[BaseModel]) -> list[ParamOut]:
    """As ``smartward twin scenarios`` lists them (``digital_twin.scenario.describe_params``)."""
    from digital_twin.scenario import describe_params

    return [ParamOut(**dataclasses.asdict(p)) for p in describe_params(model)]


@api.get("/scenarios", response_model=list[ScenarioOut], summary="Scenarios with their parameters and defaults")
async def scenarios(twin: TwinDep) -> list[ScenarioOut]:
    from digital_twin.scenarios import SCENARIOS

    return [ScenarioOut(name=name, title=cls.title, params=_params(cls.Params),
                        metrics={k: {"unit": m.unit, "label": m.label, "lower_is_better": m.lower_is_better}
                                 for k, m in cls.metrics.items()},
                        references=list(cls.references))
            for name, cls in sorted(SCENARIOS.items())]


class WardLayoutOut(BaseModel):
    id: str
    name: str
    beds: int
    occupied_in_layout: int
    live_beds: int


@api.get("/wards", response_model=list[WardLayoutOut], summary="Ward layouts the server knows")
async def wards(twin: TwinDep) -> list[WardLayoutOut]:
    state = twin.services.hub.state
    return [WardLayoutOut(id=w.id, name=w.name, beds=len(w.beds), occupied_in_layout=len(w.occupied_beds()),
                          live_beds=state.live_beds(w.id))
            for w in sorted(twin.layouts.wards.values(), key=lambda w: w.id)]


# -- census -----------------------------------------------------------------------------------------
@api.get("/census/{ward}", response_model=Census,
         summary="Live census of a ward: occupied beds, NEWS2 band, device battery (patient ids for admins)")
async def census(twin: TwinDep, user: CurrentUser, ward: Annotated[str, Path(pattern=ID)]) -> Census:
    if ward not in twin.services.hub.state.wards and twin.layouts.get(ward) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ward {ward!r}: no beds on the platform and no layout; "
                                                       f"wards with beds: {', '.join(twin.services.hub.state.wards_with_beds()) or '(none)'}")
    include = user.role == "admin"
    await twin.services.record(user, "twin.census", f"ward/{ward}", {"patient_ids": include})
    return twin.census(ward, now_ms(), include_patients=include)


# -- runs -------------------------------------------------------------------------------------------
class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=64)
    ward: str = Field(pattern=ID, description="ward id of a layout the server knows")
    census: Literal["layout", "live"] = Field(default="layout", description="the layout file as written, or the live census")
    replications: int = Field(default=1000, ge=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    parameters: dict[str, ParamValue] = Field(default_factory=dict)


def _as_text(v: ParamValue) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@api.post("/runs", response_model=RunRecord, status_code=status.HTTP_202_ACCEPTED,
          summary="Start a run (queued; runs in a worker process)",
          responses={422: {"description": "bad input; `detail[].loc` names the field or parameter"}})
async def start_run(twin: TwinDep, user: CurrentUser, body: RunIn, request: Request) -> RunRecord:
    from digital_twin import census_source
    from digital_twin.errors import ScenarioError
    from digital_twin.scenario import parse_params, prepare
    from digital_twin.scenarios import SCENARIOS

    cls = SCENARIOS.get(body.scenario)
    if cls is None:
        raise _unprocessable(["body", "scenario"], f"unknown scenario {body.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    if body.replications > twin.settings.max_replications:
        raise _unprocessable(["body", "replications"], f"at most {twin.settings.max_replications} replications")
    queued = sum(1 for r in twin.jobs.runs.values() if r.status == "queued")
    if queued >= twin.settings.max_queued:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"{queued} runs are waiting already; try again later",
                            headers={"Retry-After": "60"})
    layout = twin.layouts.get(body.ward)
    if layout is None:
        raise _unprocessable(["body", "ward"], f"no ward layout with id {body.ward!r}; known: {', '.join(sorted(twin.layouts.wards)) or '(none)'}")
    params = {k: _as_text(v) for k, v in body.parameters.items()}
    try:
        parse_params(cls, params)
    except ParamError as exc:
        raise _unprocessable(["body", "parameters", exc.key], str(exc)) from None
    ward, used = layout, {"beds": len(layout.beds), "occupied": len(layout.occupied_beds())}
    layout_file = twin.layouts.files.get(body.ward)
    source = census_source.from_file(layout_file, body.ward) if layout_file else {"source": "layout", "ward": body.ward}
    if body.census == "live":
        live = twin.census(body.ward, now_ms())
        if not live.beds:
            raise _unprocessable(["body", "census"], f"ward {body.ward!r} has no beds on the platform now; use "
                                 f"census=layout, or a ward with beds: {', '.join(twin.services.hub.state.wards_with_beds()) or '(none)'}")
        try:
            overlay = overlay_census(layout, live)
        except TwinError as exc:
            raise _unprocessable(["body", "ward"], f"the live census does not fit the layout: {exc}") from None
        ward, used = overlay.ward, overlay.summary()
        source = census_source.from_live(str(request.base_url), live.ward, live.t, layout_file)
    try:  # the scenario's own check against the ward simulated: a bed, gateway … it does not have
        prepare(cls, ward, params)
    except ParamError as exc:
        raise _unprocessable(["body", "parameters", exc.key], str(exc)) from None
    except ScenarioError as exc:
        raise _unprocessable(["body", "ward"], str(exc)) from None
    rec = RunRecord(id=new_run_id(), scenario=cls.name, title=cls.title, ward=body.ward, census=body.census,
                    replications=body.replications, seed=body.seed, parameters=params, by=user.username,
                    total=body.replications, census_used=used, census_source=source)
    await twin.services.record(user, "twin.run.start", f"twin-run/{rec.id}",
                               {"scenario": rec.scenario, "ward": rec.ward, "census": rec.census,
                                "replications": rec.replications, "seed": rec.seed, "parameters": params})
    try:
        return await twin.jobs.submit(rec, ward.model_dump_json().encode())
    except OSError as exc:
        log.error("twin: run %s not stored: %s", rec.id, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the run could not be stored: {exc}") from None


@api.get("/runs", response_model=list[RunRecord], summary="Runs, newest first")
async def list_runs(twin: TwinDep) -> list[RunRecord]:
    return twin.jobs.listing()


def _run(twin: Twin, run_id: str) -> RunRecord:
    rec = twin.jobs.runs.get(run_id)
    if rec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id!r}")
    return rec


@api.get("/runs/{run_id}", response_model=RunRecord,
         summary="A run: status queued|running|done|failed, progress done/total, error naming what is wrong")
async def get_run(twin: TwinDep, run_id: RunId) -> RunRecord:
    return _run(twin, run_id)


@api.delete("/runs/{run_id}", response_model=RunRecord,
            summary="Cancel a queued or running run (it ends failed: 'cancelled by …')")
async def cancel_run(twin: TwinDep, user: CurrentUser, run_id: RunId) -> RunRecord:
    rec = _run(twin, run_id)
    if rec.status not in ("queued", "running"):
        raise HTTPException(status.HTTP_409_CONFLICT, f"run {run_id} is {rec.status} already")
    await twin.services.record(user, "twin.run.cancel", f"twin-run/{run_id}", {"status": rec.status})
    try:
        return await twin.jobs.cancel(run_id, user.username)
    except TwinJobError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


def _report(twin: Twin, run_id: str, kind: Literal["json", "html"], download: bool) -> FileResponse:
    rec = _run(twin, run_id)
    try:
        path = twin.jobs.report_file(run_id, kind)
    except TwinJobError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_id} has no report.{kind}")
    media = "application/json" if kind == "json" else "text/html; charset=utf-8"
    name = f"{rec.scenario}-{rec.ward}-{run_id}.{kind}"
    headers = {"Content-Security-Policy": REPORT_CSP} if kind == "html" else None
    return FileResponse(path, media_type=media, filename=name if download else None, headers=headers,
                        content_disposition_type="attachment" if download else "inline")


@api.get("/runs/{run_id}/report.json", response_class=FileResponse, summary="The run's report.json")
async def report_json(twin: TwinDep, run_id: RunId, download: bool = False) -> FileResponse:
    return _report(twin, run_id, "json", download)


@api.get("/runs/{run_id}/report.html", response_class=FileResponse,
         summary="The run's self-contained report.html (`?download=true` to save it)")
async def report_html(twin: TwinDep, run_id: RunId, download: bool = False) -> FileResponse:
    return _report(twin, run_id, "html", download)


# -- time to evacuate now ---------------------------------------------------------------------------
class NowOut(BaseModel):
    """The estimate; the figures are absent until the first computation finished."""

    ward: str
    shift: Shift
    shift_source: Literal["parameter", "clock"]
    scenario: str
    status: Literal["ready", "computing", "failed"]
    stale: bool
    census_changed: bool
    error: str | None = None
    metric: str | None = None
    label: str | None = None
    unit: str | None = None
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    ci95: list[float | None] | None = None
    replications: int | None = None
    seed: int | None = None
    census: dict[str, Any] | None = Field(default=None, description="the census used (occupied, acuity, staff on shift, …)")
    summary: list[str] = Field(default_factory=list)
    computed_at: int | None = None


@api.get("/evacuation-now", response_model=NowOut, response_model_exclude_unset=True,
         summary="Time to evacuate the ward now: live census, current shift's roster")
async def evacuation_now(twin: TwinDep, ward: WardQ, shift: Shift | None = None,
                         wait: Annotated[float, Query(ge=0, le=60, description="seconds to wait for a computation")] = 0.0
                         ) -> dict[str, Any]:
    chosen: Shift = shift or twin.settings.shift_at(dt.datetime.now(dt.UTC))
    try:
        out = await twin.now.get(ward, chosen, wait)
    except TwinJobError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    out["shift_source"] = "parameter" if shift else "clock"
    return out


router.include_router(api)


@router.get("/facility", include_in_schema=False)
async def facility_page() -> FileResponse:
    return FileResponse(STATIC / "facility.html")
