"""The websocket frames the server sends to the screens (``/api/v1/ws/...``), as types.

One definition per frame: ``hub.py`` and ``wardstate.py`` build these dicts, the pages read them.
``python scripts/gen_frame_types.py --schema-from-python`` writes the JSON Schema of :data:`WsFrame`
(``static/schema/ws-frames.schema.json``) and the JSDoc typedefs the ``// @ts-check`` pages import
(``static/frames.js``); ``tests/contract/test_frame_typedefs.py`` fails when either is not what these
types give, and ``tests/unit/dashboard/test_frames.py`` validates the frames wardstate and the alarm
events actually produce against them (so a field added on one side and not the other is caught).

TypedDicts rather than models: the hot path keeps building plain dicts (orjson encodes them); pydantic's
``TypeAdapter`` gives the schema and the validation the tests use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, cast

from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from device_profiles.alarm_event import AlarmEvent, AlarmEventJSON


class ScreenAlarm(AlarmEventJSON):
    """An alarm event as the screens get it: alerting's event (its JSON,
    :class:`device_profiles.alarm_event.AlarmEventJSON`, field for field), with ``reason`` (and
    ``reason_key``/``reason_params``) kept to the condition and the action of an acknowledgement or
    silence in ``action`` (``WardState.keep_condition``), and what the ward state adds."""

    action: NotRequired[str | None]
    raised_t: NotRequired[int]
    ended: NotRequired[bool]


def screen_alarm(ev: AlarmEvent) -> ScreenAlarm:
    """The frame form of an alarm event (its JSON: the same fields), before ``WardState.keep_condition``.
    An event that did not say why the alarm is on (from an alerting before ``condition_reason``) has none
    here either, so the ward state keeps the alarm's previous reason instead of showing the action."""
    out = cast(ScreenAlarm, ev.to_json())
    if not ev.condition_reason:
        for k in ("condition_reason", "condition_key", "condition_params"):
            out.pop(k, None)  # type: ignore[misc]
    return out


class Vital(TypedDict):
    """The latest reading of one signal at a bed."""

    value: float
    t: int
    age_s: float
    stale: bool
    unit: str
    label: str
    quality: str
    expire_after_s: float


class News2(TypedDict):
    """A bed's NEWS2: ``complete`` False means parameters are missing and the score cannot reassure."""

    total: int
    risk: str
    complete: bool
    missing: list[str]


class OwnLimits(TypedDict):
    """A patient's own alarm limits of one signal (the fields that replace the ward's)."""

    critical_low: NotRequired[float]
    low: NotRequired[float]
    high: NotRequired[float]
    critical_high: NotRequired[float]


class Tile(TypedDict):
    """One bed on the central station."""

    ward: str
    bed: str
    patient: str
    device: str
    online: bool | None
    battery: float | None
    status_t: int | None
    vitals: dict[str, Vital]
    news2: News2 | None
    spot: dict[str, Any]
    alarms: list[ScreenAlarm]
    updated: int
    drill: str
    limits: NotRequired[dict[str, OwnLimits]]  # the patient's own alarm limits per signal (custom-limits marker)


class DrillState(TypedDict):
    """A ward's live drill (retained ``{root}/drill/{ward}``)."""

    drill: str
    active: bool
    started: int
    ends: int
    beds: list[str]
    scenarios: NotRequired[list[str] | None]


class SnapshotFrame(TypedDict):
    """The whole ward: sent on connect and after every resync."""

    type: Literal["snapshot"]
    ward: str
    now: int
    beds: list[Tile]
    alarms: list[ScreenAlarm]
    drill: DrillState | None


class TileFrame(TypedDict):
    """A bed changed."""

    type: Literal["tile"]
    tile: Tile


class AlarmFrame(TypedDict):
    """An alarm changed."""

    type: Literal["alarm"]
    alarm: ScreenAlarm


class DrillFrame(TypedDict):
    """A ward's drill started, changed or ended (``None``)."""

    type: Literal["drill"]
    drill: DrillState | None


class WaveFrame(TypedDict):
    """A chunk of one waveform of one bed: ``samples`` at ``fs`` Hz from ``t0`` (ms)."""

    type: Literal["wave"]
    bed: str
    signal: str
    fs: float
    t0: int
    samples: list[float]


class ResyncFrame(TypedDict):
    """The screen fell behind: frames were dropped, a snapshot follows."""

    type: Literal["resync"]


class HeartbeatFrame(TypedDict):
    """Sent when nothing else was: ``feed`` False means the server itself gets no data from the broker."""

    type: Literal["heartbeat"]
    now: int
    feed: NotRequired[bool]


WsFrame = Annotated[
    SnapshotFrame | TileFrame | AlarmFrame | DrillFrame | WaveFrame | ResyncFrame | HeartbeatFrame,
    Field(discriminator="type"),
]

FRAME = TypeAdapter(WsFrame)


def schema() -> dict[str, Any]:
    """The JSON Schema of every frame (what ``static/schema/ws-frames.schema.json`` holds)."""
    return FRAME.json_schema()
