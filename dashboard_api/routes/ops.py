"""``/healthz`` (process alive), ``/readyz`` (broker, store and every component ready), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ingest.metrics import render

from ..deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: 200 only when the broker and the store are reachable",
            responses={503: {"description": "not ready; the body names the failing checks"}})
async def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, bool] = await services.platform.readiness()
    checks.setdefault(services.hub.name, services.hub.ready())
    ok = all(checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics (ingest workers + this process)",
            response_class=Response)
async def metrics() -> Response:
    body, ctype = render()
    return Response(body, media_type=ctype)
