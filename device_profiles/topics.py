"""MQTT topic names (contract, see DESIGN.md). Every component builds and parses topics here."""

from __future__ import annotations

ROOT = "smartward/v1"
SHARED_INGEST_GROUP = "ingest"


def device_obs(device: str, root: str = ROOT) -> str:
    return f"{root}/devices/{device}/obs"


def device_wave(device: str, root: str = ROOT) -> str:
    return f"{root}/devices/{device}/wave"


def device_status(device: str, root: str = ROOT) -> str:
    return f"{root}/devices/{device}/status"


def device_alarm(device: str, root: str = ROOT) -> str:
    return f"{root}/devices/{device}/alarm"


def drill_root(root: str = ROOT) -> str:
    """``{root}/drill``: live-drill control (``{root}/drill/{ward}``) and the drill driver's own tree. Drill
    devices publish ``{root}/drill/devices/{id}/obs|status|wave`` and the driver's will is
    ``{root}/drill/gateways/{client}/status``: the broker lets the drill account write only there, and
    ingest takes data from that tree only for devices of a running drill (never clinical data)."""
    return f"{root}/drill"


def drill_alarm(ward: str, alarm_id: str, root: str = ROOT) -> str:
    """``{root}/drill/alarms/{ward}/{alarm_id}``: a drill alarm's events, published by alerting besides
    :func:`alarm`, for the drill driver; the drill account may read the drill tree only, never a real
    patient's alarms."""
    return f"{drill_root(root)}/alarms/{ward or '_unassigned'}/{alarm_id}"


def ward_obs(ward: str, root: str = ROOT) -> str:
    return f"{root}/wards/{ward or '_unassigned'}/obs"


def alarm(ward: str, alarm_id: str, root: str = ROOT) -> str:
    return f"{root}/alarms/{ward or '_unassigned'}/{alarm_id}"


def control_profiles(root: str = ROOT) -> str:
    """``{root}/control/profiles``: ``{"changed": t}`` after a profile version is activated (reload the registry)."""
    return f"{root}/control/profiles"


def device_filter(kind: str, root: str = ROOT) -> str:
    """Wildcard filter for one kind of device topic (``obs``, ``wave``, ``status``, ``alarm``)."""
    return f"{root}/devices/+/{kind}"


def shared(filter_: str, group: str = SHARED_INGEST_GROUP) -> str:
    """A shared subscription so several ingest workers split the stream."""
    return f"$share/{group}/{filter_}"


def parse_device_topic(topic: str, root: str = ROOT) -> tuple[str, str] | None:
    """``smartward/v1/devices/{id}/{kind}`` -> ``(id, kind)``; ``None`` for any other topic."""
    prefix = root + "/devices/"
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix):]
    device, sep, kind = rest.partition("/")
    if not sep or not device or "/" in kind:
        return None
    return device, kind


def parse_ward_topic(topic: str, root: str = ROOT) -> str | None:
    prefix = root + "/wards/"
    if not topic.startswith(prefix) or not topic.endswith("/obs"):
        return None
    ward = topic[len(prefix):-4]
    return "" if ward == "_unassigned" else ward
