"""MQTT topic names (contract, see DESIGN.md). Every component builds and parses topics here:
builders for each topic and wildcard filter, and :func:`parse`, the one router from a topic back to
what it names (``tests/contract/test_topics_in_one_place.py`` fails on a topic built elsewhere)."""

from __future__ import annotations

from typing import NamedTuple

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


UNASSIGNED = "_unassigned"  # the ward level of data from a device bound to no ward
WARD_KINDS = ("obs", "status", "spot", "device_alarms")


def ward_topic(ward: str, kind: str, root: str = ROOT) -> str:
    """``{root}/wards/{ward}/{kind}``: attributed data of a ward (``kind`` one of :data:`WARD_KINDS`)."""
    return f"{root}/wards/{ward or UNASSIGNED}/{kind}"


def ward_obs(ward: str, root: str = ROOT) -> str:
    return ward_topic(ward, "obs", root)


def ward_spot(ward: str, root: str = ROOT) -> str:
    """``{root}/wards/{ward}/spot``: spot observations (nurse, e-obs) of a ward."""
    return ward_topic(ward, "spot", root)


def ward_filter(kind: str, ward: str = "+", root: str = ROOT) -> str:
    """``{root}/wards/{ward|+}/{kind}``: subscription filter for one kind of ward data."""
    return f"{root}/wards/{ward}/{kind}"


def alarm_filter(root: str = ROOT) -> str:
    """Every alarm event of every ward: ``{root}/alarms/+/+``."""
    return f"{root}/alarms/+/+"


def alarm_commands(ward: str, root: str = ROOT) -> str:
    """``{root}/commands/alarms/{ward}``: acknowledge / silence / escalate sent to alerting."""
    return f"{root}/commands/alarms/{ward}"


def control_alarms(root: str = ROOT) -> str:
    """``{root}/control/alarms``: the alarm configuration changed (alerting reloads it)."""
    return f"{root}/control/alarms"


def control_assignments(root: str = ROOT) -> str:
    """``{root}/control/assignments``: device bindings or bed occupancy changed (reload them)."""
    return f"{root}/control/assignments"


def news2(ward: str, patient: str, root: str = ROOT) -> str:
    """``{root}/news2/{ward}/{patient}`` (retained): alerting's current NEWS2 of a patient."""
    return f"{root}/news2/{ward}/{patient}"


def news2_filter(root: str = ROOT) -> str:
    return f"{root}/news2/+/+"


def drill_state(ward: str, root: str = ROOT) -> str:
    """``{root}/drill/{ward}`` (retained): a ward's live drill on/off (``+`` for every ward)."""
    return f"{drill_root(root)}/{ward}"


def gateway_status(client_id: str, root: str = ROOT) -> str:
    """``{root}/gateways/{client}/status``: a gateway's online state (its will)."""
    return f"{root}/gateways/{client_id}/status"


def alarm(ward: str, alarm_id: str, root: str = ROOT) -> str:
    return f"{root}/alarms/{ward or '_unassigned'}/{alarm_id}"


def control_profiles(root: str = ROOT) -> str:
    """``{root}/control/profiles``: ``{"changed": t}`` after a profile version is activated (reload the registry)."""
    return f"{root}/control/profiles"


def device_filter(kind: str, root: str = ROOT) -> str:
    """Wildcard filter for one kind of device topic (``obs``, ``wave``, ``status``, ``alarm``)."""
    return f"{root}/devices/+/{kind}"


def device_prefix(root: str = ROOT) -> str:
    """``{root}/devices/``: what every device topic starts with (a fast ``startswith`` on the hot path)."""
    return f"{root}/devices/"


def alarm_prefix(root: str = ROOT) -> str:
    """``{root}/alarms/``: what every alarm event topic starts with."""
    return f"{root}/alarms/"


def shared(filter_: str, group: str = SHARED_INGEST_GROUP) -> str:
    """A shared subscription so several ingest workers split the stream."""
    return f"$share/{group}/{filter_}"


class Topic(NamedTuple):
    """What a topic names. ``kind``: ``ward`` (``name`` = obs|status|spot|device_alarms), ``alarm``
    (``name`` = alarm id), ``news2`` (``name`` = patient), ``device`` (``name`` = obs|wave|status|alarm),
    ``drill`` (a ward's live-drill state), ``alarm_commands`` or ``control`` (``name`` = what changed).
    ``ward`` is ``""`` for :data:`UNASSIGNED`."""

    kind: str
    ward: str = ""
    name: str = ""
    device: str = ""


def parse(topic: str, root: str = ROOT) -> Topic | None:
    """The :class:`Topic` under ``root`` that ``topic`` names, or ``None`` for any other topic."""
    if not topic.startswith(root + "/"):
        return None
    levels = topic[len(root) + 1:].split("/")
    if len(levels) == 3 and all(levels):
        head, a, b = levels
        ward = "" if a == UNASSIGNED else a
        if head == "wards":
            return Topic("ward", ward=ward, name=b)
        if head == "alarms":
            return Topic("alarm", ward=ward, name=b)
        if head == "news2":
            return Topic("news2", ward=ward, name=b)
        if head == "devices":
            return Topic("device", device=a, name=b)
        if head == "commands" and a == "alarms":
            return Topic("alarm_commands", ward=b)
    elif len(levels) == 2 and all(levels):
        if levels[0] == "drill":
            return Topic("drill", ward=levels[1])
        if levels[0] == "control":
            return Topic("control", name=levels[1])
    return None


def device_level(topic: str) -> str:
    """``…/devices/{id}/{kind}`` under any root -> ``id`` (the level before the last), else the topic
    itself (the outbox files a message under its device without knowing the root)."""
    levels = topic.split("/")
    return levels[-2] if len(levels) >= 2 else topic


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
    return "" if ward == UNASSIGNED else ward
