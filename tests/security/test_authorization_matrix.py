"""The authorization matrix: every route of the app (from the app's own route table, so the OpenAPI
schema and the routes it hides) and every websocket path, for every role, against ONE table below.

A route the table does not name fails the test, so a new route cannot ship without an explicit rule
per role. Each cell is exercised on the live platform (real Mosquitto, real state DB): "allow" means
the request got past authentication and authorization (any status but 401/403; never a 500), "deny"
means 403 for a logged-in user and 401 for an anonymous one. Requests carry valid bodies naming real
resources of ward w1 (a patient, a device, an active alarm, a drill), so a denial cannot hide behind a
422 or a 404."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount, Route, WebSocketRoute

from .conftest import Running, obs, until

pytestmark = pytest.mark.integration

ANON = "anonymous"
# role name in the table -> (username, role, wards, patient)
USERS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "admin": ("m-admin", "admin", (), ""),
    "charge_nurse_w1": ("m-cn1", "charge_nurse", ("w1",), ""),
    "nurse_w1": ("m-n1", "nurse", ("w1",), ""),
    "nurse_w2": ("m-n2", "nurse", ("w2",), ""),
    "physician_all": ("m-doc", "physician", ("*",), ""),  # created with --all-wards
    "physician_w2": ("m-doc2", "physician", ("w2",), ""),
    "patient_self": ("m-p1", "patient", (), "MX-1"),
    "patient_other": ("m-p2", "patient", (), "MX-2"),
    "facility_manager": ("m-fm", "facility_manager", (), ""),
    "vendor": ("mxven", "vendor", (), ""),  # a vendor's username is its device-id prefix
    "adt_feed": ("m-feed", "adt_feed", (), ""),
}
ROLES = (ANON, *USERS)

EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {ANON}
W1_CLINICAL = frozenset({"admin", "charge_nurse_w1", "nurse_w1", "physician_all"})
CLINICAL = W1_CLINICAL | {"nurse_w2", "physician_w2"}
PATIENT_READERS = W1_CLINICAL | {"patient_self"}
ADT = frozenset({"admin", "charge_nurse_w1"})
TWIN = frozenset({"admin", "facility_manager"})
DRILL_READ = frozenset({"admin", "facility_manager", "charge_nurse_w1", "nurse_w1", "physician_all"})
DRILL_RUN = frozenset({"admin", "facility_manager", "charge_nurse_w1"})
PROFILE_READ = frozenset({"admin", "vendor", "facility_manager"})
PROFILE_WRITE = frozenset({"admin", "vendor"})

YAML = {"Content-Type": "application/yaml"}


@dataclass
class Scene:
    """Real resources of ward w1 the requests name (filled in by :func:`_scene`)."""

    alarm: str = ""
    drill: str = ""
    twin_ward: str = ""
    twin_run: str = ""
    n: int = 0  # a counter for fresh ids (each allowed admit needs its own patient and bed)
    extra: dict[str, Any] = field(default_factory=dict)

    def fresh(self, what: str) -> str:
        self.n += 1
        return f"{what}{self.n}"


Req = tuple[str, str, dict[str, Any]]  # method, path, httpx kwargs
Build = Callable[[Scene, str], Req]


def _get(path: str) -> Build:
    return lambda s, r: ("GET", path.format(s=s), {})


def _post(path: str, body: Callable[[Scene, str], Any] | None = None) -> Build:
    return lambda s, r: ("POST", path.format(s=s), {"json": body(s, r) if body else {}})


def _hl7(s: Scene, role: str) -> Req:
    bed = s.fresh("h")
    msg = "\r".join([
        f"MSH|^~\\&|ADT|HOSP|SMARTWARD|WARD|20260101120000||ADT^A01|{bed}|P|2.5",
        "EVN|A01|20260101120000",
        f"PID|||MXH-{bed}^^^HOSP^MR||Doe^J",
        f"PV1||I|w1^{bed}^1"]) + "\r"
    return "POST", "/api/v1/adt/hl7", {"content": msg.encode(), "headers": {"Content-Type": "text/plain"}}


PROFILE_YAML = """\
id: mx-band
version: 1
vendor: mxven
model: Matrix band
transport: {kind: mqtt, topic: "smartward/v1/devices/{device}/mx"}
device: {id: "mxven-{$.sn}"}
"""

# METHOD path-template (as the app names it) -> (who is allowed, how to ask)
MATRIX: dict[str, tuple[frozenset[str], Build]] = {
    # -- public: login, health, static pages (no patient data) ------------------------------------
    "POST /api/v1/auth/token": (EVERYONE, lambda s, r: ("POST", "/api/v1/auth/token", {"data": {
        "username": USERS[r][0] if r in USERS else "nobody", "password": "not-the-password"}})),
    "POST /api/v1/auth/refresh": (EVERYONE, _post("/api/v1/auth/refresh", lambda s, r: {"refresh_token": "x"})),
    "GET /healthz": (EVERYONE, _get("/healthz")),
    "GET /readyz": (EVERYONE, _get("/readyz")),
    "GET /": (EVERYONE, _get("/")),
    "GET /portal": (EVERYONE, _get("/portal")),
    "GET /facility": (EVERYONE, _get("/facility")),
    "GET /report": (EVERYONE, _get("/report")),  # the shift report page: its data is the API's
    # -- any logged-in user -----------------------------------------------------------------------
    "GET /api/v1/auth/me": (LOGGED_IN, _get("/api/v1/auth/me")),
    "POST /api/v1/ws/ticket": (LOGGED_IN, _post("/api/v1/ws/ticket")),  # the websocket itself checks the ward
    "GET /api/v1/catalogue": (LOGGED_IN, _get("/api/v1/catalogue")),
    # -- wards: clinical staff of the ward --------------------------------------------------------
    "GET /api/v1/wards": (CLINICAL, _get("/api/v1/wards")),
    "GET /api/v1/wards/{ward}/beds": (W1_CLINICAL, _get("/api/v1/wards/w1/beds")),
    "GET /api/v1/wards/{ward}/alarms": (W1_CLINICAL, _get("/api/v1/wards/w1/alarms")),
    # alarm history and shift report: the ward's clinical staff (history.py)
    "GET /api/v1/wards/{ward}/alarm-history": (W1_CLINICAL, _get("/api/v1/wards/w1/alarm-history")),
    "GET /api/v1/wards/{ward}/shift-report": (W1_CLINICAL, _get("/api/v1/wards/w1/shift-report")),
    # the station's bed layout: read by the ward's clinical staff, set by its charge nurse or an admin
    "GET /api/v1/wards/{ward}/layout": (W1_CLINICAL, _get("/api/v1/wards/w1/layout")),
    "PUT /api/v1/wards/{ward}/layout": (ADT, lambda s, r: ("PUT", "/api/v1/wards/w1/layout", {
        "json": {"beds": [f"{i:02d}" for i in range(1, 9)]}})),
    "DELETE /api/v1/wards/{ward}/layout": (ADT, lambda s, r: ("DELETE", "/api/v1/wards/w1/layout", {})),
    # name and MRN of the ward's patients: its clinical staff only (never a patient, not even their own ward list)
    "GET /api/v1/wards/{ward}/identities": (W1_CLINICAL, _get("/api/v1/wards/w1/identities")),
    # -- patient data: clinical staff of the patient's ward, and the patient --------------------
    "GET /api/v1/patients/{patient}/vitals": (PATIENT_READERS, _get("/api/v1/patients/MX-1/vitals")),
    "GET /api/v1/patients/{patient}/fhir/Observation": (PATIENT_READERS,
                                                        _get("/api/v1/patients/MX-1/fhir/Observation")),
    "GET /api/v1/patients/{patient}/summary": (PATIENT_READERS, _get("/api/v1/patients/MX-1/summary")),
    "POST /api/v1/patients/{patient}/spot": (W1_CLINICAL, _post("/api/v1/patients/MX-1/spot",
                                                                 lambda s, r: {"consciousness": "A"})),
    # a patient's own alarm limits: clinical staff of the patient's ward (not the patient: a clinical setting)
    "GET /api/v1/patients/{patient}/limits": (W1_CLINICAL, _get("/api/v1/patients/MX-1/limits")),
    "PUT /api/v1/patients/{patient}/limits/{signal}": (W1_CLINICAL, lambda s, r: (
        "PUT", "/api/v1/patients/MX-1/limits/spo2", {"json": {"low": 92, "reason": "matrix test"}})),
    "DELETE /api/v1/patients/{patient}/limits/{signal}": (W1_CLINICAL, lambda s, r: (
        "DELETE", "/api/v1/patients/MX-1/limits/spo2", {})),
    # -- alarm actions: clinical staff of the alarm's ward ----------------------------------------
    "POST /api/v1/alarms/{alarm_id}/acknowledge": (W1_CLINICAL, _post("/api/v1/alarms/{s.alarm}/acknowledge")),
    "POST /api/v1/alarms/{alarm_id}/silence": (W1_CLINICAL, _post("/api/v1/alarms/{s.alarm}/silence",
                                                                   lambda s, r: {"minutes": 1})),
    "POST /api/v1/alarms/{alarm_id}/escalate": (W1_CLINICAL, _post("/api/v1/alarms/{s.alarm}/escalate")),
    # -- ADT: charge nurse of the ward and admin; the HL7 feed account only through /adt/hl7 ----------
    "POST /api/v1/adt/admit": (ADT, lambda s, r: ("POST", "/api/v1/adt/admit", {"json": {
        "patient_id": s.fresh("MXA-"), "ward": "w1", "bed": s.fresh("a")}})),
    "POST /api/v1/adt/transfer": (ADT, lambda s, r: ("POST", "/api/v1/adt/transfer", {"json": {
        "patient_id": "MX-3", "ward": "w1", "bed": s.fresh("t")}})),
    "POST /api/v1/adt/discharge": (ADT, _post("/api/v1/adt/discharge", lambda s, r: {"patient_id": "MX-4"})),
    "POST /api/v1/adt/hl7": (ADT | {"adt_feed"}, _hl7),
    # device assignment is bedside work: clinical staff of the target ward (and of the device's ward)
    "POST /api/v1/devices/{device_id}/assign": (W1_CLINICAL, lambda s, r: (
        "POST", "/api/v1/devices/mx-spare/assign", {"json": {"ward": "w1", "bed": "05"}})),
    # -- device profiles: vendors upload, admins activate, facility managers read ------------------
    "POST /api/v1/device-profiles/validate": (PROFILE_WRITE, lambda s, r: (
        "POST", "/api/v1/device-profiles/validate", {"content": PROFILE_YAML.encode(), "headers": YAML})),
    "POST /api/v1/device-profiles": (PROFILE_WRITE, lambda s, r: (
        "POST", "/api/v1/device-profiles", {"content": PROFILE_YAML.encode(), "headers": YAML})),
    "GET /api/v1/device-profiles": (PROFILE_READ, _get("/api/v1/device-profiles")),
    "GET /api/v1/device-profiles/{profile_id}/versions/{version}": (
        PROFILE_READ, _get("/api/v1/device-profiles/mx-band/versions/1")),
    "POST /api/v1/device-profiles/{profile_id}/versions/{version}/activate": (
        frozenset({"admin"}), _post("/api/v1/device-profiles/mx-band/versions/1/activate")),
    "POST /api/v1/device-profiles/{profile_id}/versions/{version}/reject": (
        frozenset({"admin"}), _post("/api/v1/device-profiles/mx-band/versions/1/reject",
                                    lambda s, r: {"reason": "matrix test"})),
    # -- digital twin: facility managers and admins -----------------------------------------------
    "GET /api/v1/twin/scenarios": (TWIN, _get("/api/v1/twin/scenarios")),
    "GET /api/v1/twin/wards": (TWIN, _get("/api/v1/twin/wards")),
    "GET /api/v1/twin/census/{ward}": (TWIN, _get("/api/v1/twin/census/w1")),
    "POST /api/v1/twin/runs": (TWIN, lambda s, r: ("POST", "/api/v1/twin/runs", {"json": {
        "scenario": "evacuation", "ward": s.twin_ward, "replications": 1}})),
    "GET /api/v1/twin/runs": (TWIN, _get("/api/v1/twin/runs")),
    "GET /api/v1/twin/runs/{run_id}": (TWIN, _get("/api/v1/twin/runs/{s.twin_run}")),
    "DELETE /api/v1/twin/runs/{run_id}": (TWIN, lambda s, r: ("DELETE", "/api/v1/twin/runs/no-such-run", {})),
    "GET /api/v1/twin/runs/{run_id}/report.json": (TWIN, _get("/api/v1/twin/runs/{s.twin_run}/report.json")),
    "GET /api/v1/twin/runs/{run_id}/report.html": (TWIN, _get("/api/v1/twin/runs/{s.twin_run}/report.html")),
    "GET /api/v1/twin/evacuation-now": (TWIN, _get("/api/v1/twin/evacuation-now")),
    # -- live drills: run by facility managers, admins and the ward's charge nurse ------------------
    "POST /api/v1/drills": (DRILL_RUN, lambda s, r: ("POST", "/api/v1/drills", {"json": {
        "ward": "w1", "beds": 1, "duration_s": 60}})),
    "GET /api/v1/drills": (DRILL_READ | {"nurse_w2", "physician_w2"}, _get("/api/v1/drills")),
    "GET /api/v1/drills/{drill_id}": (DRILL_READ, _get("/api/v1/drills/{s.drill}")),
    "GET /api/v1/drills/{drill_id}/alarm-events": (DRILL_READ, _get("/api/v1/drills/{s.drill}/alarm-events")),
    "DELETE /api/v1/drills/{drill_id}": (DRILL_RUN, lambda s, r: ("DELETE", f"/api/v1/drills/{s.drill}", {})),
    "POST /api/v1/drills/purge": (TWIN, _post("/api/v1/drills/purge", lambda s, r: {"drill": "no-such-drill"})),
    # -- operations: Prometheus scrapes with its own token (SMARTWARD_METRICS_TOKEN) or an admin's ------
    "GET /metrics": (frozenset({"admin"}), _get("/metrics")),
    # last: it ends the session of the token it is sent with
    "POST /api/v1/auth/logout": (LOGGED_IN, _post("/api/v1/auth/logout")),
}
# API docs exist only in development or with SMARTWARD_API_DOCS=1 (the platform here runs in production).
DOCS = {"GET /docs", "GET /docs/oauth2-redirect", "GET /redoc", "GET /openapi.json"}
# These authenticate by what the body carries (a password, a refresh token): their 401 is the answer to
# wrong credentials, not a refusal of the caller's role, so only 403 and 5xx are failures there.
CREDENTIAL_ROUTES = {"POST /api/v1/auth/token", "POST /api/v1/auth/refresh"}
# Routes that exist but are not requests of the table's kind (static files are checked by a request).
MOUNTS = {"/static"}
WEBSOCKETS: dict[str, tuple[frozenset[str], str]] = {
    "/api/v1/ws/wards/{ward}": (W1_CLINICAL, "/api/v1/ws/wards/w1"),
    "/api/v1/ws/patients/{patient}": (PATIENT_READERS, "/api/v1/ws/patients/MX-1"),
}


def _app_of(run: Running) -> Any:
    http = next(c for c in run.platform.components if c.name == "http")
    return http.server.config.app  # type: ignore[attr-defined]


def _routes(app: Any) -> tuple[set[str], set[str], set[str]]:
    """(METHOD path) of every HTTP route, websocket paths, mount paths — from the app itself."""
    http, ws, mounts = set(), set(), set()
    for ctx in iter_route_contexts(app.routes):  # routers included lazily are walked too
        r, path = ctx.original_route, str(ctx.path)
        if isinstance(r, APIWebSocketRoute | WebSocketRoute):
            ws.add(path)
        elif isinstance(r, APIRoute | Route):
            for m in sorted((r.methods or set()) - {"HEAD", "OPTIONS"}):
                http.add(f"{m} {path}")
        elif isinstance(r, Mount):
            mounts.add(path)
    return http, ws, mounts


def add_users(run: Running) -> None:
    from dashboard_api import UserStore
    from ingest import make_engine

    users = UserStore(make_engine(run.state_url))
    for username, role, wards, patient in USERS.values():
        users.add(username, role, "correct horse battery", wards, patient)


async def _scene(run: Running, c: httpx.AsyncClient, admin: dict[str, str]) -> Scene:
    s = Scene()
    for pid, ward, bed in (("MX-1", "w1", "01"), ("MX-2", "w2", "01"), ("MX-3", "w1", "03"), ("MX-4", "w1", "04")):
        r = await c.post("/api/v1/adt/admit", headers=admin, json={"patient_id": pid, "ward": ward, "bed": bed})
        assert r.status_code == 200, r.text
    for dev, ward, bed in (("mx-mon-1", "w1", "01"), ("mx-mon-2", "w2", "01")):
        r = await c.post(f"/api/v1/devices/{dev}/assign", headers=admin, json={"ward": ward, "bed": bed})
        assert r.status_code == 200, r.text
    await run.ingest_knows("mx-mon-1", "w1")
    now = int(time.time() * 1000)
    await run.publish("devices/mx-mon-1/obs", obs("mx-mon-1", 1, now, heart_rate=72, spo2=97, resp_rate=16))
    await run.publish("devices/mx-mon-1/alarm", {"v": 1, "device": "mx-mon-1", "t": now, "kind": "device",
                                                 "code": "MDC_EVT_ALARM", "priority": "high", "state": "active",
                                                 "text": "matrix test alarm"})

    async def alarm_id() -> str:
        r = await c.get("/api/v1/wards/w1/alarms", headers=admin)
        return str(r.json()[0]["id"]) if r.status_code == 200 and r.json() else ""

    s.alarm = await until(alarm_id, "an active alarm in ward w1")
    r = await c.post("/api/v1/drills", headers=admin, json={"ward": "w1", "beds": 1, "duration_s": 600})
    assert r.status_code == 201, r.text
    s.drill = r.json()["id"]
    r = await c.get("/api/v1/twin/wards", headers=admin)
    assert r.status_code == 200, r.text
    s.twin_ward = r.json()[0]["id"]
    r = await c.post("/api/v1/twin/runs", headers=admin,
                     json={"scenario": "evacuation", "ward": s.twin_ward, "replications": 1})
    assert r.status_code == 202, r.text
    s.twin_run = r.json()["id"]
    return s


async def test_every_route_has_a_rule_per_role_and_the_app_follows_it(platform_sqlite: Running) -> None:
    run = platform_sqlite
    app = _app_of(run)
    http, ws, mounts = _routes(app)
    assert not http & DOCS, f"API docs served in production: {sorted(http & DOCS)}"
    unknown = sorted(http - set(MATRIX))
    assert not unknown, f"routes without a row in the authorization matrix: {unknown}"
    assert not sorted(set(MATRIX) - http), f"rows for routes that do not exist: {sorted(set(MATRIX) - http)}"
    assert ws == set(WEBSOCKETS), f"websocket paths without a row: {sorted(ws ^ set(WEBSOCKETS))}"
    assert mounts <= MOUNTS, f"mounts without a rule: {sorted(mounts - MOUNTS)}"

    add_users(run)
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as c:
        tokens = {name: await run.login(c, u[0]) for name, u in USERS.items()}
        tokens[ANON] = {}
        scene = await _scene(run, c, tokens["admin"])
        for path, (allowed, url) in WEBSOCKETS.items():
            for role in ROLES:
                opened = await _ws_opens(run, c, tokens[role], url)
                if opened != (role in allowed):
                    failures.append(f"WS {path} as {role}: {'opened' if opened else 'refused'}, "
                                    f"expected {'open' if role in allowed else 'refused'}")
        for key, (allowed, build) in MATRIX.items():
            # denied roles first: an allowed role's write must not change what a denied one meets
            for role in sorted(ROLES, key=lambda r: r in allowed):
                method, path, kw = build(scene, role)
                headers = {**kw.pop("headers", {}), **tokens[role]}
                resp = await c.request(method, path, headers=headers, **kw)
                got = resp.status_code
                if got >= 500:
                    failures.append(f"{key} as {role}: {got} {resp.text[:120]}")
                elif key in CREDENTIAL_ROUTES:
                    if got == 403:
                        failures.append(f"{key} as {role}: 403 on a public credential route")
                elif role in allowed and got in (401, 403):
                    failures.append(f"{key} as {role}: expected allowed, got {got} {resp.text[:120]}")
                elif role not in allowed and got != (401 if role == ANON else 403):
                    failures.append(f"{key} as {role}: expected {401 if role == ANON else 403}, got {got}")
    assert not failures, "authorization matrix:\n" + "\n".join(failures)


async def _ws_opens(run: Running, c: httpx.AsyncClient, auth: dict[str, str], path: str) -> bool:
    """Whether a websocket to ``path`` opens and delivers its first frame for this user."""
    query = ""
    if auth:
        r = await c.post("/api/v1/ws/ticket", headers=auth)
        if r.status_code == 404:  # before one-time tickets: the access token in the query
            query = "?token=" + auth["Authorization"].split(" ", 1)[1]
        elif r.status_code == 200:
            query = "?ticket=" + r.json()["ticket"]
        else:
            return False
    url = run.base.replace("http", "ws", 1) + path + query
    with contextlib.suppress(websockets.exceptions.WebSocketException, OSError, TimeoutError):
        async with websockets.connect(url, origin=run.base, open_timeout=10) as sock:  # type: ignore[arg-type]
            await asyncio_wait(sock.recv(), 10)
            return True
    return False


async def asyncio_wait(aw: Any, limit: float) -> Any:
    import asyncio

    return await asyncio.wait_for(aw, limit)
