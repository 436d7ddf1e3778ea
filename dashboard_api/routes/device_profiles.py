"""``/api/v1/device-profiles``: vendors upload and validate device profiles; admins activate or reject.

The YAML is the request body (``Content-Type: application/yaml`` or ``text/plain``), read in chunks
and refused past the size limit, only after the caller's role was checked. Uploading validates and
stores a new version in state ``pending`` (:mod:`device_profiles.profile_store`); nothing a vendor
does makes a decoder live. An admin activates a version (the approval: checked against the other
profiles for overlapping topics and against the upload rules again, then every ingest worker is told
to reload on ``{root}/control/profiles``) or rejects it. Upload rules
(:mod:`device_profiles.profile_policy`): no topic in the platform's own tree, a vendor's device ids
start with its prefix, and the device id is one whole topic level so the broker ACL can check it
(the activation answer carries the ACL line). A vendor manages only the profile ids it uploaded
first. Upload, activation and rejection are audited (``profile.upload|activate|reject``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Literal

import aiomqtt
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from device_profiles import CompiledProfile, ProfileValidationError, compile_profile, now_ms, topics
from device_profiles import profile_store as store
from device_profiles.profile_policy import broker_acl, policy_issues, vendor_prefix
from device_profiles.profile_yaml import MAX_PROFILE_BYTES, Issue
from device_profiles.registry import BUILTIN_DIR

from ..deps import CurrentUser, Services, ServicesDep
from ..users import User

router = APIRouter(prefix="/api/v1/device-profiles", tags=["devices"])
PID = r"^[a-z0-9][a-z0-9-]{1,62}$"
MANAGERS = frozenset({"vendor", "admin"})
REVIEWERS = frozenset({"admin"})
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
    state: Literal["pending", "active", "inactive", "rejected"]
    reviewed_by: str = ""
    reviewed_at: int | None = None
    review_reason: str = ""
    broker_acl: list[str] = Field(default_factory=list,
                                  description="Mosquitto ACL lines binding each device to its own topic (activation)")


class RejectIn(BaseModel):
    reason: str = Field(default="", max_length=500)


def _out(v: store.StoredVersion, acl: list[str] | None = None) -> VersionOut:
    return VersionOut(profile_id=v.profile_id, version=v.version, sha256=v.sha256, vendor=v.vendor, model=v.model,
                      uploaded_by=v.uploaded_by, uploaded_at=v.uploaded_at, active=v.active,
                      state=v.state,  # type: ignore[arg-type]
                      reviewed_by=v.reviewed_by, reviewed_at=v.reviewed_at, review_reason=v.review_reason,
                      broker_acl=acl or [])


def _issues(issues: list[Issue]) -> list[IssueOut]:
    return [IssueOut(where=i.where, line=i.line, message=i.message) for i in issues]


def _engine(services: Services) -> sa.Engine:
    engine: sa.Engine = services.platform.attributions.engine
    return engine


def _require(user: User, roles: frozenset[str], what: str = "manage device profiles") -> None:
    if user.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not {what}")


async def _body(request: Request) -> str:
    """The YAML body, read in chunks and refused as soon as it passes the limit (call after the role check)."""
    too_big = HTTPException(413, f"a profile is at most {MAX_PROFILE_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PROFILE_BYTES:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_PROFILE_BYTES:
            raise too_big
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "the profile must be UTF-8 YAML text") from None


def _prefix_of(user: User) -> str | None:
    """The device-id prefix a vendor's profiles must use (``None`` for an admin); 422 if it has none."""
    if user.role == "admin":
        return None
    prefix = vendor_prefix(user.username)
    if prefix is None:
        raise HTTPException(422, [{"where": "$", "line": None, "message":
                                   f"vendor account {user.username!r} cannot hold a device-id prefix (the account "
                                   "name is the prefix: 2-16 lower-case letters and digits, not reserved); ask an "
                                   "admin for such an account"}])
    return prefix


def _checked(text: str, prefix: str | None, root: str) -> CompiledProfile:
    """Compile and apply the upload rules; :class:`ProfileValidationError` with every issue."""
    compiled = compile_profile(text, "profile", root)
    issues = policy_issues(compiled, prefix, root)
    if issues:
        raise ProfileValidationError("profile", issues)
    return compiled


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
    prefix = _prefix_of(user)
    text = await _body(request)
    try:
        compiled = await asyncio.to_thread(_checked, text, prefix, services.root)
    except ProfileValidationError as exc:
        return ValidationOut(valid=False, issues=_issues(exc.issues))
    return ValidationOut(valid=True, profile_id=compiled.id, issues=[])


@router.post("", response_model=VersionOut, status_code=status.HTTP_201_CREATED, openapi_extra=YAML_BODY,
             summary="Upload a profile: validated, stored as a new inactive version",
             responses={422: {"description": "invalid profile; `detail` lists the issues with key and line"}})
async def upload(request: Request, services: ServicesDep, user: CurrentUser) -> VersionOut:
    _require(user, MANAGERS)
    prefix = _prefix_of(user)
    text = await _body(request)
    engine = _engine(services)

    def go() -> store.StoredVersion:
        store.create_tables(engine)
        compiled = compile_profile(text, "profile", services.root)  # raises with every issue
        if user.role != "admin" and (BUILTIN_DIR / f"{compiled.id}.yaml").exists():
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{compiled.id!r} is a built-in profile id; choose your own")
        _owner_check(engine, user, compiled.id)
        _checked(text, prefix, services.root)  # the upload rules (topics, device ids, ACL)
        return store.store_version(engine, text, user.username, services.root)

    try:
        stored = await asyncio.to_thread(go)
    except ProfileValidationError as exc:
        raise HTTPException(422,
                            [i.model_dump() for i in _issues(exc.issues)]) from None
    await services.record(user, "profile.upload", f"device-profile/{stored.profile_id}",
                          {"version": stored.version, "sha256": stored.sha256, "state": stored.state})
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
             summary="Admin: approve a version and make it the active one; ingest reloads without a restart",
             responses={409: {"description": "its topics overlap another active profile, it breaks the upload "
                                             "rules, or it was rejected"}})
async def activate(services: ServicesDep, user: CurrentUser, profile_id: str = Path(pattern=PID),
                   version: int = Path(ge=1)) -> VersionOut:
    _require(user, REVIEWERS, "activate device profiles (an admin approves a vendor's upload)")
    engine = _engine(services)

    def go() -> tuple[store.StoredVersion, list[str]]:
        store.create_tables(engine)
        target = store.get_version(engine, profile_id, version)
        # the rules again, as of now, for the account that uploaded it (versions stored before them included)
        uploader = services.users.get(target.uploaded_by)
        prefix = None if uploader is not None and uploader.role == "admin" else vendor_prefix(target.uploaded_by)
        try:
            compiled = _checked(target.text, prefix, services.root)
        except ProfileValidationError as exc:
            raise store.ProfileStoreError("; ".join(f"{i.where}: {i.message}" for i in exc.issues)) from None
        if uploader is not None and uploader.role != "admin" and prefix is None:
            raise store.ProfileStoreError(f"uploaded by {target.uploaded_by!r}, an account without a device-id prefix")
        v = store.activate(engine, profile_id, version, services.root, reviewed_by=user.username)
        return v, broker_acl(compiled, services.root)

    try:
        v, acl = await asyncio.to_thread(go)
    except store.ProfileStoreError as exc:
        code = status.HTTP_404_NOT_FOUND if "has no version" in str(exc) else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(exc)) from None
    await services.record(user, "profile.activate", f"device-profile/{profile_id}",
                          {"version": version, "sha256": v.sha256, "uploaded_by": v.uploaded_by, "broker_acl": acl})
    await _tell_ingest(services)
    return _out(v, acl)


@router.post("/{profile_id}/versions/{version}/reject", response_model=VersionOut,
             summary="Admin: reject a version (deactivated if live; it can never be activated)")
async def reject(services: ServicesDep, user: CurrentUser, profile_id: str = Path(pattern=PID),
                 version: int = Path(ge=1), body: RejectIn | None = None) -> VersionOut:
    _require(user, REVIEWERS, "reject device profiles")
    engine = _engine(services)
    reason = body.reason if body is not None else ""

    def go() -> tuple[bool, store.StoredVersion]:
        store.create_tables(engine)
        was_active = store.get_version(engine, profile_id, version).active
        return was_active, store.reject(engine, profile_id, version, user.username, reason)

    try:
        was_active, v = await asyncio.to_thread(go)
    except store.ProfileStoreError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    await services.record(user, "profile.reject", f"device-profile/{profile_id}",
                          {"version": version, "sha256": v.sha256, "uploaded_by": v.uploaded_by, "reason": reason,
                           "was_active": was_active})
    if was_active:
        await _tell_ingest(services)
    return _out(v)


async def _tell_ingest(services: Services) -> None:
    with contextlib.suppress(aiomqtt.MqttError):  # stored: ingest also loads active versions when it starts
        await services.hub.publish(topics.control_profiles(services.root), {"changed": now_ms()}, qos=1)
