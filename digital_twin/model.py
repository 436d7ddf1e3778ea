"""The ward model: rooms, beds, a distance graph, exits, staff, equipment, devices and gateways.

A ward is written by people as YAML (``digital_twin/wards/example.yaml``) and read with
:func:`load_ward` / :func:`parse_ward`: safe YAML only, unknown keys refused, and every error names
the key and its line (``ward.yaml:42: beds[3].room: no room 'r99' …``). Shortest distances between
graph nodes are computed once per ward (:meth:`WardModel.distance`), never per replication.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from device_profiles.profile_yaml import LineMap, ProfileValidationError, loc_text, read_yaml

from .errors import WardError, WardIssue
from .ward_checks import check_references
from .ward_graph import all_pairs

Acuity = Literal["low", "medium", "high"]
Mobility = Literal["ambulant", "walker", "wheelchair", "bed"]
Role = Literal["nurse", "charge_nurse", "physician", "hca", "rrt"]
Shift = Literal["day", "night"]
ExitKind = Literal["exit", "stairs", "refuge"]
EquipmentKind = Literal["crash_cart", "evac_chair", "evac_sled", "bed_mover"]

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Room(_Strict):
    id: str = Id
    node: str = Id
    kind: Literal["single", "double", "bay", "side", "other"] = "single"


class BedModel(_Strict):
    id: str = Id
    room: str = Id
    occupied: bool = True
    acuity: Acuity = "low"  # NEWS2 band: low -> low, low-medium -> medium, medium/high -> high
    mobility: Mobility = "ambulant"
    patient: str | None = Field(default=None, max_length=64)  # pseudonymous id, never a name


class Edge(_Strict):
    a: str = Id
    b: str = Id
    metres: float = Field(gt=0, le=10_000)


class Graph(_Strict):
    nodes: list[str] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)


class Exit(_Strict):
    node: str = Id
    kind: ExitKind = "exit"
    name: str = ""


class StaffMember(_Strict):
    """One person (``id``) or a group of ``count`` people with the same role and shift."""

    id: str | None = Field(default=None, min_length=1, max_length=64)
    count: int = Field(default=1, ge=1, le=200)
    role: Role
    shift: Shift


class Equipment(_Strict):
    kind: EquipmentKind
    node: str = Id
    count: int = Field(default=1, ge=1, le=100)


class Device(_Strict):
    id: str = Id
    bed: str = Id
    kind: Literal["monitor", "wearable", "pump", "ventilator", "other"] = "monitor"
    battery_wh: float = Field(default=0.0, ge=0)
    draw_w: float = Field(default=0.0, ge=0)
    battery_pct: float = Field(default=100.0, ge=0, le=100)
    mains: bool = True


class Gateway(_Strict):
    id: str = Id
    devices: list[str] = Field(default_factory=list)
    beds: list[str] = Field(default_factory=list)
    outbox_capacity: int = Field(gt=0)  # samples the on-disk outbox holds
    sample_rate_hz: float = Field(default=1.0, gt=0)  # per device
    drain_rate: float = Field(gt=0)  # samples/s delivered after reconnect
    ups_minutes: float = Field(default=0.0, ge=0)


class WardModel(_Strict):
    name: str = Field(min_length=1, max_length=200)
    id: str = Id
    station: str = Id  # nurse station node: where staff and the central station are
    sources: list[str] = Field(default_factory=list)  # where the figures in this file come from
    rooms: list[Room] = Field(min_length=1)
    beds: list[BedModel] = Field(min_length=1)
    graph: Graph
    exits: list[Exit] = Field(min_length=1)
    staff: list[StaffMember] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    gateways: list[Gateway] = Field(default_factory=list)

    _dist: dict[str, dict[str, float]] | None = PrivateAttr(default=None)

    # -- queries used by the scenarios -------------------------------------------------------
    def distance(self, a: str, b: str) -> float:
        """Shortest walk in metres between two graph nodes (``inf`` when not connected)."""
        if self._dist is None:
            self._dist = all_pairs(self.graph.nodes, ((e.a, e.b, e.metres) for e in self.graph.edges))
        return self._dist[a].get(b, float("inf"))

    def room_node(self, room_id: str) -> str:
        return next(r.node for r in self.rooms if r.id == room_id)

    def bed_node(self, bed: BedModel | str) -> str:
        room = bed.room if isinstance(bed, BedModel) else next(b.room for b in self.beds if b.id == bed)
        return self.room_node(room)

    def occupied_beds(self) -> list[BedModel]:
        return [b for b in self.beds if b.occupied]

    def staff_on(self, shift: Shift) -> list[StaffMember]:
        """Everyone on ``shift``, one entry per person (groups expanded to ``{id}-{n}``)."""
        out: list[StaffMember] = []
        for s in self.staff:
            if s.shift != shift:
                continue
            base = s.id or f"{s.role}-{shift}"
            if s.count == 1:
                out.append(s.model_copy(update={"id": base}))
            else:
                out.extend(s.model_copy(update={"id": f"{base}-{i + 1}", "count": 1}) for i in range(s.count))
        return out

    def equipment_count(self, kind: EquipmentKind) -> int:
        return sum(e.count for e in self.equipment if e.kind == kind)

    def nearest_exit(self, node: str, kinds: tuple[ExitKind, ...] = ("exit", "stairs", "refuge")) -> tuple[Exit, float]:
        """The closest exit of one of ``kinds`` from ``node`` and its distance in metres."""
        best = min((e for e in self.exits if e.kind in kinds), key=lambda e: (self.distance(node, e.node), e.node))
        return best, self.distance(node, best.node)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """As pydantic's, without validation (prefer :meth:`with_overrides`); a new graph drops the cached distances."""
        copy = super().model_copy(update=update, deep=deep)
        if update and "graph" in update:
            copy._dist = None
        return copy

    def as_ward(self, ward_id: str) -> WardModel:
        """This layout used for another (platform) ward: id ``ward_id``, name "<name> (layout <id>)"."""
        if ward_id == self.id:
            return self
        return self.with_overrides(id=ward_id, name=f"{self.name} (layout {self.id})")

    def with_overrides(self, **changes: Any) -> WardModel:
        """A validated copy with top-level fields replaced (``ward.with_overrides(staff=[…])``)."""
        data = self.model_dump()
        unknown = sorted(set(changes) - set(data))
        if unknown:
            raise WardError(self.id, [WardIssue(k, None, "not a field of a ward") for k in unknown])
        data.update({k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in changes.items()})
        return _validate(data, self.id, None)


def _validate(data: Any, source: str, lines: LineMap | None) -> WardModel:
    def line(loc: tuple[str | int, ...]) -> int | None:
        return lines.line(loc) if lines is not None else None

    try:
        ward = WardModel.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            issues.append(WardIssue(loc_text(loc), line(loc), err["msg"]))
        raise WardError(source, issues) from None
    problems = check_references(ward)
    if problems:
        raise WardError(source, [WardIssue(loc_text(loc), line(loc), msg) for loc, msg in problems])
    ward.distance(ward.station, ward.station)  # precompute shortest paths once, now
    return ward


def parse_ward(text: str | bytes, source: str = "<ward>") -> WardModel:
    """Parse and validate a ward from YAML text; errors name the key and line."""
    try:
        data, lines = read_yaml(text, source)
    except ProfileValidationError as exc:
        issues = [WardIssue(i.where, i.line, i.message.replace("profiles are data", "ward files are data")
                            .replace("a profile must", "a ward file must")) for i in exc.issues]
        raise WardError(source, issues) from None
    return _validate(data, source, lines)


def load_ward(path: str | Path) -> WardModel:
    """Read a ward file; a missing or unreadable file is a :class:`WardError` naming the path."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise WardError(str(p), [WardIssue("$", None, f"cannot read the ward file: {exc.strerror or exc}")]) from None
    return parse_ward(raw, str(p))


def example_ward_path() -> Path:
    """The shipped 30-bed medical-surgical ward."""
    return Path(__file__).with_name("wards") / "example.yaml"
