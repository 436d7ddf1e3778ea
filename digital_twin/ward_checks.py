"""Cross-reference checks of a parsed ward: every id unique, every reference resolves, every room
reaches an exit. Each problem is returned with its location so the error names the key and line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .ward_graph import all_pairs

if TYPE_CHECKING:
    from .model import WardModel

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _unique(items: Iterable[str | None], section: str, key: str) -> list[Problem]:
    seen: dict[str, int] = {}
    out: list[Problem] = []
    for i, value in enumerate(items):
        if value is None:
            continue
        if value in seen:
            out.append(((section, i, key), f"duplicate {key} {value!r} (first at {section}[{seen[value]}])"))
        else:
            seen[value] = i
    return out


def check_references(ward: WardModel) -> list[Problem]:
    """Problems with ids and references; empty when the ward is consistent."""
    nodes = set(ward.graph.nodes)
    rooms = {r.id for r in ward.rooms}
    beds = {b.id for b in ward.beds}
    devices = {d.id for d in ward.devices}
    out: list[Problem] = []
    for i, n in enumerate(ward.graph.nodes):
        if ward.graph.nodes.index(n) != i:
            out.append((("graph", "nodes", i), f"duplicate node {n!r}"))
    out += _unique((r.id for r in ward.rooms), "rooms", "id")
    out += _unique((b.id for b in ward.beds), "beds", "id")
    out += _unique((d.id for d in ward.devices), "devices", "id")
    out += _unique((g.id for g in ward.gateways), "gateways", "id")
    out += _unique((s.id for s in ward.staff), "staff", "id")

    def need_node(loc: Loc, node: str) -> None:
        if node not in nodes:
            out.append((loc, f"no graph node {node!r} (graph.nodes lists {len(nodes)} nodes)"))

    need_node(("station",), ward.station)
    for i, e in enumerate(ward.graph.edges):
        need_node(("graph", "edges", i, "a"), e.a)
        need_node(("graph", "edges", i, "b"), e.b)
    for i, r in enumerate(ward.rooms):
        need_node(("rooms", i, "node"), r.node)
    for i, x in enumerate(ward.exits):
        need_node(("exits", i, "node"), x.node)
    for i, q in enumerate(ward.equipment):
        need_node(("equipment", i, "node"), q.node)
    for i, b in enumerate(ward.beds):
        if b.room not in rooms:
            out.append((("beds", i, "room"), f"no room {b.room!r}"))
    for i, d in enumerate(ward.devices):
        if d.bed not in beds:
            out.append((("devices", i, "bed"), f"no bed {d.bed!r}"))
        if not d.mains and d.battery_wh == 0:
            out.append((("devices", i, "battery_wh"), "a device without mains needs a battery (battery_wh > 0)"))
    for i, g in enumerate(ward.gateways):
        for j, dev in enumerate(g.devices):
            if dev not in devices:
                out.append((("gateways", i, "devices", j), f"no device {dev!r}"))
        for j, bed in enumerate(g.beds):
            if bed not in beds:
                out.append((("gateways", i, "beds", j), f"no bed {bed!r}"))
    if out:
        return out
    dist = all_pairs(ward.graph.nodes, ((e.a, e.b, e.metres) for e in ward.graph.edges))
    exits = [x.node for x in ward.exits]
    for i, r in enumerate(ward.rooms):
        if not any(x in dist[r.node] for x in exits):
            out.append((("rooms", i, "node"), f"room {r.id!r} (node {r.node!r}) has no path to any exit"))
    if not any(x in dist[ward.station] for x in exits):
        out.append((("station",), f"the station node {ward.station!r} has no path to any exit"))
    return out
