"""The live census of a ward from the dashboard's own in-memory ward state (ADT occupancy, the
patient's current NEWS2 band, device status), in the shape :mod:`digital_twin.live` overlays on a
ward layout. Pure: the state and the time are passed in."""

from __future__ import annotations

from typing import Any

from digital_twin.live import Census, CensusBed

from .wardstate import WardState

RISKS = frozenset({"low", "low-medium", "medium", "high"})


def census_from_state(state: WardState, ward: str, now_ms: int, *, include_patients: bool) -> Census:
    """Every bed the platform knows in ``ward``. Patient ids only when ``include_patients`` (clinical
    roles); NEWS2 = alerting's published score (the one its alarms use), else unknown: never a score
    computed here, which could read an incomplete set of values as low risk."""
    beds = []
    for name, b in sorted(state.wards.get(ward, {}).items(), key=lambda kv: (len(kv[0]), kv[0])):
        if b.drill:  # a live drill's virtual bed: not part of the ward's census
            continue
        news2: dict[str, Any] | None = b.news2_published  # alerting's score only; none published: unknown
        risk = str(news2.get("risk")) if news2 else None
        battery = b.status.get("battery")
        online = b.status.get("online")
        beds.append(CensusBed(
            bed=name, occupied=bool(b.patient), patient=(b.patient or None) if include_patients else None,
            news2_risk=risk if b.patient and risk in RISKS else None,  # type: ignore[arg-type]
            news2_total=int(news2["total"]) if b.patient and news2 and isinstance(news2.get("total"), int) else None,
            device=b.device or None, device_online=online if isinstance(online, bool) else None,
            battery_pct=float(battery) if isinstance(battery, int | float) and 0 <= battery <= 100 else None))
    return Census(ward=ward, t=now_ms, beds=beds)
