"""``/api/v1/device-profiles``: vendors upload, validate, list and activate device profiles (versioned).

The YAML is the request body (``Content-Type: application/yaml`` or ``text/plain``). Uploading
validates and stores a new, inactive version (:mod:`device_profiles.profile_store`); activating
checks it against the other profiles (no overlapping topics) and tells every ingest worker to
reload on ``{root}/control/profiles`` - the profile is live without a restart. A vendor manages
only the profile ids it uploaded first; an admin manages all. Every change is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiomqtt
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel

from device_profiles import ProfileValidationError, now_ms, topics
from device_profiles import profile_store as store
from device_profiles.profile_yaml import MAX_PROFILE_BYTES, Issue
from device_profiles.registry import BUILTIN_DIR

from ..deps import CurrentUser, Services, ServicesDep
from ..users import User

router = APIRouter(prefix="/api/v1/device-profiles", tags=["devices"])
PID = r"^[a-z0-9][a-z0-9-]{1,62}$"
MANAGERS = frozenset({"vendor", "admin"})
READERS = MANAGERS | {"facility_manager"}
YAML_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}}}


class IssueOut(BaseModel):
    where: str
    line: int | None
    message: str


class ValidationOut(BaseModel):
    valid: bool
    profile_id: str | None = None
    issues: list[IssueOut]


class VersionOut(BaseModel):
    profile_id: str
    version: int
    sha256: str
    vendor: str
    model: str
    uploaded_by: str
    uploaded_at: int
    active: bool


def _out(v: store.StoredVersion) -> VersionOut:
    return VersionOut(profile_id=v.profile_id, version=v.version, sha256=v.sha256, vendor=v.vendor, model=v.model,
                      uploaded_by=v.uploaded_by, uploaded_at=v.uploaded_at, active=v.active)


def _issues(issues: list[Issue]) -> list[IssueOut]:
    return [IssueOut(where=i.where, line=i.line, message=i.message) for i in issues]


def _engine(services: Services) -> sa.Engine:
    engine: sa.Engine = services.platform.attributions.engine
    return engine


def _require(user: User, roles: frozenset[str]) -> None:
    if user.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not manage device profiles")


async def _body(request: Request) -> str:
    data = await request.body()
    if len(data) > MAX_PROFILE_BYTES:
        raise HTTPException(413, f"a profile is at most {MAX_PROFILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "the profile must be UTF-8 YAML text") from None


def _owner_check(engine: sa.Engine, user: User, profile_id: str) -> None:
    """A vendor may only add versions to (or activate) profile ids it introduced."""
    if user.role == "admin":
        return
    versions = store.list_versions(engine, profile_id)
    if versions and versions[0].uploaded_by != user.username:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"profile {profile_id!r} belongs to another vendor account")


@router.post("/validate", response_model=ValidationOut, openapi_extra=YAML_BODY,
             summary="Validate a profile without storing it (issues name the key and line)")
async def validate(request: Request, services: ServicesDep, user: CurrentUser) -> ValidationOut:
    _require(user, MANAGERS)
    text = await _body(request)
    issues = await asyncio.to_thread(store.validate, text, "profile", services.root)
    pid = None
    if not issues:
        from device_profiles import compile_profile

        pid = compile_profile(text, "profile", services.root).id
    return ValidationOut(valid=not issues, profile_id=pid, issues=_issues(issues))


@router.post("", response_model=VersionOut, status_code=status.HTTP_201_CREATED, openapi_extra=YAML_BODY,
             summary="Upload a profile: validated, stored as a new inactive version",
             responses={422: {"description": "invalid profile; `detail` lists the issues with key and line"}})
async def upload(request: Request, services: ServicesDep, user: CurrentUser) -> VersionOut:
    _require(user, MANAGERS)
    text = await _body(request)
    engine = _engine(services)

    def go() -> store.StoredVersion:
        store.create_tables(engine)
        from device_profiles import compile_profile

        compiled = compile_profile(text, "profile", services.root)  # raises with every issue
        if user.role != "admin" and (BUILTIN_DIR / f"{compiled.id}.yaml").exists():
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{compiled.id!r} is a built-in profile id; choose your own")
        _owner_check(engine, user, compiled.id)
        return store.store_version(engine, text, user.username, services.root)

    try:
        stored = await asyncio.to_thread(go)
    except ProfileValidationError as exc:
        raise HTTPException(422,
                            [i.model_dump() for i in _issues(exc.issues)]) from None
    await services.record(user, "device_profile.upload", f"device-profile/{stored.profile_id}",
                          {"version": stored.version, "sha256": stored.sha256})
    return _out(stored)


@router.get("", response_model=list[VersionOut], summary="Stored profile versions (a vendor sees its own)")
async def list_versions(services: ServicesDep, user: CurrentUser) -> list[VersionOut]:
    _require(user, READERS)
    engine = _engine(services)

    def go() -> list[store.StoredVersion]:
        store.create_tables(engine)
        return store.list_versions(engine)

    versions = await asyncio.to_thread(go)
    if user.role == "vendor":
        mine = {v.profile_id for v in versions if v.version == 1 and v.uploaded_by == user.username}
        versions = [v for v in versions if v.profile_id in mine]
    return [_out(v) for v in versions]


@router.get("/{profile_id}/versions/{version}", response_class=Response,
            responses={200: {"content": {"application/yaml": {}}}}, summary="The YAML of one stored version")
async def get_version(services: ServicesDep, user: CurrentUser, profile_id: str = Path(pattern=PID),
                      version: int = Path(ge=1)) -> Response:
    _require(user, READERS)
    engine = _engine(services)

    def go() -> store.StoredVersion:
        store.create_tables(engine)
        if user.role == "vendor":
            _owner_check(engine, user, profile_id)
        return store.get_version(engine, profile_id, version)

    try:
        v = await asyncio.to_thread(go)
    except store.ProfileStoreError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return Response(v.text, media_type="application/yaml")


@router.post("/{profile_id}/versions/{version}/activate", response_model=VersionOut,
             summary="Make a version the active one; ingest reloads without a restart",
             responses={409: {"description": "its topics overlap another active profile"}})
async def activate(services: ServicesDep, user: CurrentUser, profile_id: str = Path(pattern=PID),
                   version: int = Path(ge=1)) -> VersionOut:
    _require(user, MANAGERS)
    engine = _engine(services)

    def go() -> store.StoredVersion:
        store.create_tables(engine)
        _owner_check(engine, user, profile_id)
        return store.activate(engine, profile_id, version, services.root)

    try:
        v = await asyncio.to_thread(go)
    except store.ProfileStoreError as exc:
        code = status.HTTP_404_NOT_FOUND if "has no version" in str(exc) else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(exc)) from None
    await services.record(user, "device_profile.activate", f"device-profile/{profile_id}", {"version": version})
    with contextlib.suppress(aiomqtt.MqttError):  # stored: ingest also loads active versions when it starts
        await services.hub.publish(topics.control_profiles(services.root), {"changed": now_ms()}, qos=1)
    return _out(v)
