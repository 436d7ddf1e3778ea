"""``create_app(platform)``: the FastAPI app (REST, websockets, central station, portal).

``platform`` is what ``smartward.compose`` shares (:class:`ingest.platform.PlatformServices`):
``config`` (broker, state, topic_root, …), ``store`` (vitals read API), ``attributions`` (ADT tables),
``components`` and ``readiness()``. ``config`` (:class:`ApiConfig`) comes from the platform's one
settings model (``smartward.settings.Settings.api_config()``): the app reads no environment.
The live :class:`~dashboard_api.hub.Hub` is added to ``platform.components`` so the composition runs
it in its TaskGroup; ``own_hub=True`` runs it in the app's lifespan instead (standalone use).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from device_profiles.profile_yaml import MAX_PROFILE_BYTES
from ingest.platform import PlatformServices

from .api_docs import add_api_docs
from .audit import AuditLog, load_audit_key
from .config import ApiConfig
from .deps import Services
from .http_security import SecurityHeaders
from .hub import Hub
from .invalid_input import install as install_invalid_input
from .lockout import Lockout
from .routes import (
    adt,
    alarms,
    auth,
    catalogue,
    device_profiles,
    drills,
    history,
    limits,
    ops,
    patients,
    twin,
    wards,
    ws,
)
from .sessions import Sessions
from .tokens import Tokens
from .users import UserStore
from .ws_tickets import TicketStore

STATIC = Path(__file__).parent / "static"
DESCRIPTION = """SmartWard API: central station, patient portal, ADT, alarms, FHIR R4 out.

Authenticate with `POST /api/v1/auth/token` (OAuth2 password flow) and send
`Authorization: Bearer <access_token>`; a websocket takes `?ticket=` from `POST /api/v1/ws/ticket`.
Every read of patient data, every alarm action and every ADT change is written to a
hash-chained audit log (`smartward audit verify`)."""


def freeze_startup_heap() -> None:
    """Move everything allocated until the app starts (modules, the catalogue, SQLAlchemy and Alembic
    metadata, pydantic models) out of the garbage collector's sight (``gc.freeze``). A full collection
    walks every tracked object: over that start-up heap it paused the event loop long enough to push
    the alarm publish -> central-station frame p99 from ~55 ms to 83-232 ms (``smartward bench fanout
    --beds 1000``; 42-44 ms with the heap frozen). What the running platform allocates is collected as before."""
    gc.collect()
    gc.freeze()


def create_app(platform: PlatformServices, config: ApiConfig, own_hub: bool = False) -> FastAPI:
    """The ASGI app. Raises :class:`~dashboard_api.errors.ConfigError` when production has no audit key."""
    policy = config.http
    engine = platform.attributions.engine
    audit = AuditLog(engine, load_audit_key(config.environment, platform.config.data_dir, config.audit_key))
    hub = Hub(platform, client_id=None, audit=audit)
    services = Services(config=config, platform=platform, tokens=Tokens(config),
                        lockout=Lockout(config.max_failures, config.window_s, config.ip_failures_per_minute,
                                        account_ceiling=config.account_ceiling),
                        users=UserStore(engine), audit=audit, hub=hub,
                        sessions=Sessions(engine, lifetime_s=config.session_s))
    if not own_hub:
        platform.components.append(hub)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.run(), name="dashboard-hub") if own_hub else None
        freeze_startup_heap()
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # max_body_size: FastAPI's streaming body limit (413 once Content-Length or the bytes received pass it)
    app = FastAPI(title="SmartWard", version="1", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None, max_body_size=policy.max_body_bytes,
                  openapi_tags=[{"name": n} for n in ("auth", "wards", "patients", "alarms", "adt", "devices",
                                                       "operations")])
    app.state.services = services
    app.state.http_policy = policy
    app.state.ws_tickets = TicketStore()
    app.add_middleware(SecurityHeaders, policy=policy)
    install_invalid_input(app)
    for r in (auth.router, wards.router, patients.router, alarms.router, adt.router, ws.router, ops.router,
              twin.router, drills.router, catalogue.router, history.router,
              limits.router):
        app.include_router(r)
    app.include_router(device_profiles.router, max_body_size=MAX_PROFILE_BYTES)
    if policy.api_docs:
        add_api_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def central_station() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/portal", include_in_schema=False)
    async def portal() -> FileResponse:
        return FileResponse(STATIC / "portal.html")

    return app
