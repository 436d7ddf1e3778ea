"""The ward from the live platform: the census (which beds are occupied, pseudonymous patient ids,
acuity from the patient's current NEWS2 band, device battery) overlaid on the ward's layout file.

The platform serves the census at ``GET /api/v1/twin/census/{ward}`` (roles facility_manager and
admin; patient ids only for admin). The API builds the same :class:`Census` from its own in-memory
ward state; the CLI (``smartward twin run --live URL``) fetches it with :func:`load_live_ward`.

Overlay rules (:func:`overlay_census`):
- a layout bed is occupied exactly when the census says so; beds match by id, else by bed number
  (``"07"`` = ``"7"`` = ``"B07"``); occupied census beds without a layout bed are reported in
  :attr:`Overlay.unmapped` and not simulated;
- acuity from the NEWS2 band: low → ``low``, low-medium → ``medium``, medium or high → ``high``;
  a patient with no current NEWS2 keeps the layout's acuity for that bed (counted in ``no_news2``);
- mobility is not known to the platform: the layout's value for the bed is kept;
- device battery: each layout device of a bed takes the battery % the platform last saw from the
  device in that bed (``battery_pct``); other devices keep the layout's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .api_errors import api_error
from .errors import TwinError

if TYPE_CHECKING:
    from .model import WardModel

Risk = Literal["low", "low-medium", "medium", "high"]
Acuity = Literal["low", "medium", "high"]
ACUITY_OF_RISK: Mapping[str, Acuity] = {"low": "low", "low-medium": "medium", "medium": "high", "high": "high"}
CENSUS_PATH = "/api/v1/twin/census/{ward}"


class LiveError(TwinError):
    """The live census could not be read (platform unreachable, login refused, bad answer)."""


class CensusBed(BaseModel):
    """One bed as the platform sees it now (tolerant: a newer server may send more)."""

    model_config = ConfigDict(extra="ignore")
    bed: str
    occupied: bool
    patient: str | None = None
    news2_risk: Risk | None = None
    news2_total: int | None = None
    device: str | None = None
    device_online: bool | None = None
    battery_pct: float | None = Field(None, ge=0, le=100)


class Census(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ward: str
    t: int = Field(description="ms since the epoch when the census was taken")
    beds: list[CensusBed]

    def fingerprint(self) -> tuple[tuple[str, bool, str | None], ...]:
        """What changes the evacuation: occupied beds and their acuity from the NEWS2 band (not a move
        between bands of the same acuity, not battery levels)."""
        return tuple(sorted((b.bed, b.occupied, acuity_of(b.news2_risk) if b.occupied else None) for b in self.beds))


@dataclass
class Overlay:
    ward: WardModel
    occupied: int = 0
    acuity: dict[str, int] = field(default_factory=dict)
    no_news2: int = 0
    batteries: int = 0
    unmapped: list[str] = field(default_factory=list)
    census: Census | None = None  # the census applied (its ward and time ``t``)

    def summary(self) -> dict[str, Any]:
        """The census used, for run records and the "time to evacuate now" answer."""
        return {"beds": len(self.ward.beds), "occupied": self.occupied, "acuity": dict(sorted(self.acuity.items())),
                "no_news2": self.no_news2, "batteries": self.batteries, "unmapped_beds": list(self.unmapped)}


def acuity_of(risk: str | None) -> Acuity | None:
    return ACUITY_OF_RISK.get(risk) if risk else None


def _number(bed: str) -> str | None:
    m = re.search(r"(\d+)$", bed)
    return str(int(m.group(1))) if m else None


def match_beds(layout_beds: list[str], census_beds: list[str]) -> dict[str, str]:
    """census bed id -> layout bed id: exact ids first, then the same bed number (unambiguous only)."""
    exact = set(layout_beds)
    by_number: dict[str, list[str]] = {}
    for b in layout_beds:
        n = _number(b)
        if n is not None:
            by_number.setdefault(n, []).append(b)
    out: dict[str, str] = {}
    for c in census_beds:
        if c in exact:
            out[c] = c
            continue
        n = _number(c)
        cands = by_number.get(n, []) if n is not None else []
        if len(cands) == 1 and cands[0] not in census_beds:
            out[c] = cands[0]
    return out


def overlay_census(layout: WardModel, census: Census) -> Overlay:
    """The layout with the live census applied (see the module docstring for the rules)."""
    mapping = match_beds([b.id for b in layout.beds], [b.bed for b in census.beds])
    live = {mapping[c.bed]: c for c in census.beds if c.bed in mapping}
    result = Overlay(ward=layout, census=census)
    result.unmapped = sorted(c.bed for c in census.beds if c.occupied and c.bed not in mapping)
    beds = []
    for bed in layout.beds:
        c = live.get(bed.id)
        if c is None or not c.occupied:
            beds.append(bed.model_copy(update={"occupied": False, "patient": None}))
            continue
        acuity = acuity_of(c.news2_risk)
        if acuity is None:
            result.no_news2 += 1
            acuity = bed.acuity
        result.occupied += 1
        result.acuity[acuity] = result.acuity.get(acuity, 0) + 1
        beds.append(bed.model_copy(update={"occupied": True, "acuity": acuity, "patient": c.patient or None}))
    devices = []
    for dev in layout.devices:
        c = live.get(dev.bed) if dev.bed else None
        if c is not None and c.battery_pct is not None:
            result.batteries += 1
            devices.append(dev.model_copy(update={"battery_pct": float(c.battery_pct)}))
        else:
            devices.append(dev)
    result.ward = layout.with_overrides(beds=beds, devices=devices)  # validated again (WardError)
    return result


def parse_census(data: bytes | str, source: str = "census") -> Census:
    try:
        return Census.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LiveError(f"{source}: {where}: {first['msg']}") from None


def load_live_ward(base_url: str, *, ward_id: str, layout: WardModel, token: str | None = None,
                   username: str | None = None, password: str | None = None,
                   timeout_s: float = 10.0) -> WardModel:
    """The ward ``ward_id`` as it is now on the platform at ``base_url``, on ``layout``.

    Authenticates with an access ``token`` or ``username`` + ``password`` (OAuth2 password flow).
    Raises :class:`LiveError` naming what failed."""
    return fetch_live(base_url, ward_id=ward_id, layout=layout, token=token, username=username,
                      password=password, timeout_s=timeout_s).ward


def fetch_live(base_url: str, *, ward_id: str, layout: WardModel, token: str | None = None,
               username: str | None = None, password: str | None = None, timeout_s: float = 10.0) -> Overlay:
    """Like :func:`load_live_ward`, with the overlay's counts (occupied, acuity, unmapped beds)."""
    import httpx

    from .census_source import redact_url

    url, base = base_url.rstrip("/"), redact_url(base_url)  # messages never show credentials in the URL
    try:
        with httpx.Client(base_url=url, timeout=timeout_s) as client:
            if token is None:
                if not username or password is None:
                    raise LiveError("give an access token (SMARTWARD_TWIN_TOKEN) or a username and password")
                r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
                if r.status_code != 200:
                    raise LiveError(f"{base}: login as {username!r} refused ({r.status_code}): {api_error(r)}")
                token = str(r.json()["access_token"])
            r = client.get(CENSUS_PATH.format(ward=ward_id), headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise LiveError(f"{base}: {exc}") from None
    if r.status_code != 200:
        raise LiveError(f"{base}: census of ward {ward_id!r} refused ({r.status_code}): {api_error(r)}")
    census = parse_census(r.content, f"{base} census of {ward_id}")
    if not census.beds:
        raise LiveError(f"{base}: ward {ward_id!r} has no beds on the platform"
                        + (f"; wards with beds: {', '.join(others)} (choose one with --ward-id)"
                           if (others := _wards_with_beds(url, token, timeout_s)) else ""))
    return overlay_census(layout, census)


def _wards_with_beds(base: str, token: str, timeout_s: float) -> list[str]:
    """Platform wards with live beds (for the error message only: empty when they cannot be read)."""
    import httpx

    try:
        r = httpx.get(f"{base}/api/v1/twin/wards", headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)
        return sorted(str(w["id"]) for w in r.json() if isinstance(w, dict) and w.get("live_beds")) \
            if r.status_code == 200 else []
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return []


def read_password(username: str) -> str:
    """The password of ``username`` from stdin: a hidden prompt on a terminal, else the first line."""
    import getpass
    import sys

    if sys.stdin.isatty():
        return getpass.getpass(f"password of {username}: ")
    line = sys.stdin.readline()
    if not line.strip():
        raise LiveError(f"no password for {username!r} on stdin (or set SMARTWARD_TWIN_TOKEN)")
    return line.rstrip("\r\n")
