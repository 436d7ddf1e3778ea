"""``/healthz`` (process alive), ``/readyz`` (broker, store and every component ready), ``/metrics``.

The probes answer anyone (load balancers and orchestrators do not log in; they reveal nothing). The
metrics name wards' traffic and the platform's internals: they need ``Authorization: Bearer`` with
the scrape token ``SMARTWARD_METRICS_TOKEN`` (Prometheus: ``authorization: {credentials_file: …}``)
or an admin's access token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from ingest.metrics import render

from ..deps import ServicesDep, oauth2_scheme, user_from_token
from ..http_security import HttpPolicy

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


async def require_scraper(request: Request, services: ServicesDep,
                          token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """The scrape token or an admin's access token; 401 without either, 403 for other users."""
    policy: HttpPolicy = request.app.state.http_policy
    if token and policy.metrics_token and hmac.compare_digest(token.encode(), policy.metrics_token.encode()):
        return
    user = user_from_token(services, token)
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "metrics are for the scrape token or an admin")


@router.get("/metrics", summary="Prometheus metrics (ingest workers + this process): scrape token or admin",
            response_class=Response, dependencies=[Depends(require_scraper)],
            responses={401: {"description": "no or an invalid bearer token"}, 403: {"description": "not an admin"}})
async def metrics() -> Response:
    body, ctype = render()
    return Response(body, media_type=ctype)
