"""The alarm event: one alarm state change as alerting publishes it on ``{root}/alarms/{ward}/{alarm_id}``.

One definition for every process it crosses: alerting produces it (``alerting.Alarm.event``), ingest
stores it (measurement ``alarms``), the dashboard hub reads it into the screens' frames, and the live-drill
report measures response times from it. Kinds, priorities, event types, states and the closed condition
codes are :class:`~enum.StrEnum` s (they compare equal to, and encode as, their strings), so a consumer
reads ``ev.priority.rank`` instead of keeping its own ``{"low": 0, ...}`` table.

``reason`` is alerting's English sentence (stored events, the API and FHIR read it). ``reason_key`` and
``reason_params`` say the same thing as a message key of the screens' catalogues
(``dashboard_api/static/i18n/*.json``) and its parameters, so a screen writes it in the reader's language
without reading the English (``condition_key`` / ``condition_params`` likewise for ``condition_reason``).
A parameter is a string (inserted as it is: numbers already formatted, device names, a device's own
text), a nested message ``{"key", "params"}``, a term ``{"term", "text"}`` (alerting's word ``text``,
which a catalogue may translate under the key ``term``) or a list of those (joined by the catalogue's
``reason.listSep``). An event without a key (from before keys, or an alarm restored from a state DB row
saved before keys) is read from its English ``reason``. The payload is documented in
docs/architecture.md ("Alarm event payload").

Validation (:meth:`AlarmEvent.from_json`) is strict per field and tolerant of what may be missing:
:class:`~device_profiles.errors.PayloadError` names the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NotRequired, Union

import orjson
from typing_extensions import TypedDict  # pydantic (the screens' frame schema) needs it on Python < 3.12

from .canonical import check_id, check_time
from .errors import PayloadError
from .payload_fields import member


class AlarmKind(StrEnum):
    """What raised the alarm: a limit, a technical condition, a NEWS2 score, an anomaly advisory, the device."""

    LIMIT = "limit"
    TECHNICAL = "technical"
    NEWS2 = "news2"
    ANOMALY = "anomaly"
    DEVICE = "device"


class Priority(StrEnum):
    """IEC 60601-1-8 alarm priority, in rank order (``rank``: low 0, medium 1, high 2)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def louder(self) -> Priority:
        """One step up (high stays high)."""
        return _BY_RANK[min(len(_BY_RANK) - 1, _RANK[self] + 1)]

    @classmethod
    def by_urgency(cls) -> list[Priority]:
        """Most urgent first: the order of every alarm list."""
        return sorted(cls, key=lambda p: -p.rank)


_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}
_BY_RANK: tuple[Priority, ...] = (Priority.LOW, Priority.MEDIUM, Priority.HIGH)


def priority_rank(priority: str) -> int:
    """The rank of a priority given as a string (low 0, medium 1, high 2); -1 for anything else (``""``)."""
    return _RANK.get(priority, -1)


def urgency(priority: str) -> int:
    """0 for the most urgent priority (high), then medium 1, low 2; an unknown one after every known one."""
    return len(_RANK) - 1 - priority_rank(priority)


class AlarmEventType(StrEnum):
    """What happened to the alarm. ``restored`` is the dashboard's own: an open alarm reloaded from the
    state DB when the hub (re)connects (alerting never publishes it)."""

    RAISED = "raised"
    UPDATED = "updated"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    CLEARED = "cleared"
    RESTORED = "restored"


class AlarmState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    CLEARED = "cleared"


class ConditionCode(StrEnum):
    """The closed condition families; a device's own conditions are ``device-<flag>`` (status flags) and
    ``dev-<code>`` (device alarms), see :func:`check_code`."""

    LOW = "low"
    HIGH = "high"
    NEWS2 = "news2"
    ANOMALY = "anomaly"
    PROBE_OFF = "probe_off"
    LEAD_OFF = "lead_off"
    UNCONFIRMED_ZERO = "unconfirmed_zero"
    OFFLINE = "offline"
    BATTERY = "battery"
    QUALITY = "quality"
    ARTEFACT = "artefact"
    STALE = "stale"


DEVICE_FLAG_PREFIX = "device-"  # a technical flag of the device status ("device-sensor_fault")
DEVICE_ALARM_PREFIX = "dev-"  # an alarm the device raised itself ("dev-MDC_EVT_HI")
NEWS2_BANDS = ("low-medium", "medium", "high")  # the RCP 2017 response band of a NEWS2 alarm
_CODES = frozenset(c.value for c in ConditionCode)
_STATES = tuple(s.value for s in AlarmState)
_OPEN_CODE = re.compile(r"(?:device-|dev-)[A-Za-z0-9_.-]{1,48}")
_KEY = re.compile(r"[a-z][A-Za-z0-9_.-]{0,79}")
_PARAM = re.compile(r"[a-z][A-Za-z0-9_]{0,31}")
MAX_TEXT = 1024  # reason, condition_reason, a string parameter
MAX_DEPTH = 8  # nesting of reason messages


def check_code(value: Any, where: str = "code") -> str:
    """A condition family: a :class:`ConditionCode`, ``device-…``/``dev-…``, or ``""`` (an event from before codes)."""
    if value == "" or value in _CODES or (isinstance(value, str) and _OPEN_CODE.fullmatch(value)):
        return str(value)
    raise PayloadError(where, f"{value!r} is not a condition code ({', '.join(sorted(_CODES))}, device-…, dev-…)")


class GroupedCondition(TypedDict):
    """A condition of the same cause shown inside another alarm (one cause, one alarm)."""

    signal: str | None
    code: str
    reason: str


class ReasonMessage(TypedDict):
    """A nested reason: a catalogue key and its parameters."""

    key: str
    params: dict[str, ReasonParam]


class ReasonTerm(TypedDict):
    """Alerting's word ``text``, which a catalogue may translate under the key ``term``."""

    term: str
    text: str


ReasonParam = Union[str, ReasonMessage, ReasonTerm, list[Union[str, ReasonMessage, ReasonTerm]]]  # noqa: UP007



class AlarmEventJSON(TypedDict):
    """The alarm event's JSON (:meth:`AlarmEvent.to_json`), the one description of its payload on the wire.
    Required: what every alerting release has sent; the rest may be missing from an older producer's
    event (consumers read them with :meth:`AlarmEvent.from_json`, which fills the defaults). The screens'
    frame (``device_profiles.ws_frames.ScreenAlarm``) extends it, and the checked-in JSON Schema of the
    websocket frames is generated from that."""

    id: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: AlarmKind
    signal: NotRequired[str | None]
    priority: Priority
    event: AlarmEventType
    state: AlarmState
    t: int
    value: NotRequired[float | None]
    reason: str
    by: NotRequired[str | None]
    v: NotRequired[int]
    escalation_level: NotRequired[int]
    drill: NotRequired[str]
    code: NotRequired[str]
    worst: NotRequired[float | None]
    condition: NotRequired[bool]
    ended_t: NotRequired[int | None]
    condition_reason: NotRequired[str]
    latched: NotRequired[bool]
    peak_priority: NotRequired[Priority]
    band: NotRequired[str | None]
    role: NotRequired[str]
    grouped: NotRequired[list[GroupedCondition]]
    reason_key: NotRequired[str]  # reason as a key of the catalogues (static/i18n) + its parameters
    reason_params: NotRequired[dict[str, ReasonParam]]
    condition_key: NotRequired[str]
    condition_params: NotRequired[dict[str, ReasonParam]]


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise PayloadError(where, f"must be a string of at most {limit} characters")
    return value


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float) or value != value or value in (float("inf"), float("-inf")):
        raise PayloadError(where, f"{value!r} is not a finite number")
    return float(value)


def _flag(value: Any, where: str, default: bool) -> bool:
    if value is None:
        return default
    if type(value) is not bool:
        raise PayloadError(where, f"{value!r} is not true or false")
    return value


def check_reason_params(params: Any, where: str, depth: int = 0) -> dict[str, ReasonParam]:
    """Validate the parameters of a reason message (see the module docstring); returns them."""
    if not isinstance(params, dict):
        raise PayloadError(where, "must be an object of parameters")
    if depth > MAX_DEPTH:
        raise PayloadError(where, f"messages nested deeper than {MAX_DEPTH}")
    for name, value in params.items():
        if not _PARAM.fullmatch(name):
            raise PayloadError(where, f"{name!r} is not a parameter name")
        _check_param(value, f"{where}.{name}", depth, allow_list=True)
    return params


def _check_param(value: Any, where: str, depth: int, allow_list: bool) -> None:
    if isinstance(value, str):
        _text(value, where)
    elif isinstance(value, list) and allow_list:
        for i, item in enumerate(value):
            _check_param(item, f"{where}[{i}]", depth, allow_list=False)
    elif isinstance(value, dict) and set(value) == {"key", "params"}:
        check_reason_key(value["key"], f"{where}.key")
        check_reason_params(value["params"], f"{where}.params", depth + 1)
    elif isinstance(value, dict) and set(value) == {"term", "text"}:
        check_reason_key(value["term"], f"{where}.term")
        _text(value["text"], f"{where}.text", 128)
    else:
        raise PayloadError(where, "must be a string, a message {key, params}, a term {term, text}"
                                  + (" or a list of those" if allow_list else ""))


def check_reason_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise PayloadError(where, f"{key!r} is not a message key")
    return key


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm state change, as published on ``{root}/alarms/{ward}/{alarm_id}``."""

    id: str
    ward: str
    bed: str
    patient: str
    device: str
    kind: AlarmKind
    signal: str | None
    priority: Priority
    event: AlarmEventType
    state: AlarmState
    t: int
    value: float | None
    reason: str
    by: str | None = None
    escalation_level: int = 0
    drill: str = ""
    code: str = ""  # the condition family (ConditionCode, "device-…", "dev-…"; "" before codes existed)
    worst: float | None = None  # the most extreme value of this alarm so far (= value when never worse)
    condition: bool = True  # False: the condition ended, the alarm is latched until acknowledged
    ended_t: int | None = None  # when the condition ended (ms), else None
    condition_reason: str = ""  # why the alarm is on (``reason`` of an acknowledge/silence is the action)
    # issue 11: quiet display, peak priority, NEWS2 response band routing, one cause one alarm
    peak_priority: Priority | None = None  # the highest priority this alarm reached so far (None: ``priority``)
    latched: bool = False  # the condition ended; the alarm waits for an acknowledgement (show it quietly)
    band: str | None = None  # NEWS2 alarms: response band "low-medium" | "medium" | "high", else None
    role: str = ""  # the role the alarm is with (its escalation level's role), "" if unknown
    grouped: list[GroupedCondition] = field(default_factory=list)  # conditions of the same cause in this alarm
    # issue 15: the reasons as message keys + parameters of the screens' catalogues ("" = none: read ``reason``)
    reason_key: str = ""
    reason_params: dict[str, ReasonParam] = field(default_factory=dict)
    condition_key: str = ""
    condition_params: dict[str, ReasonParam] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, str]:
        """The event's identity as strings (``""`` = none): how a store indexes it (InfluxDB tags)."""
        return {"ward": self.ward, "bed": self.bed, "patient": self.patient, "device": self.device,
                "kind": self.kind.value, "signal": self.signal or "", "priority": self.priority.value,
                "event": self.event.value, "drill": self.drill}

    def to_json(self) -> AlarmEventJSON:
        d: AlarmEventJSON = {
            "v": 1, "id": self.id, "ward": self.ward, "bed": self.bed, "patient": self.patient,
            "device": self.device, "kind": self.kind, "signal": self.signal, "priority": self.priority,
            "event": self.event, "state": self.state, "t": self.t, "value": self.value,
            "reason": self.reason, "by": self.by, "escalation_level": self.escalation_level, "drill": self.drill,
            "code": self.code, "worst": self.worst, "condition": self.condition, "ended_t": self.ended_t,
            "condition_reason": self.condition_reason or self.reason,
            "peak_priority": self.peak_priority or self.priority, "latched": self.latched,
            "band": self.band, "role": self.role, "grouped": self.grouped,
        }
        if self.reason_key:
            d["reason_key"], d["reason_params"] = self.reason_key, self.reason_params
        if self.condition_key:
            d["condition_key"], d["condition_params"] = self.condition_key, self.condition_params
        elif self.reason_key and not self.condition_reason:
            d["condition_key"], d["condition_params"] = self.reason_key, self.reason_params
        return d

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_json(cls, msg: Any, now: int, keep_alarm: bool = False) -> AlarmEvent:
        """Validate an alarm event published by alerting; :class:`PayloadError` names the field.

        Required: ``id``, ``t`` (not after ``now`` + 5 min), ``kind``, ``priority``, ``event``, ``state``;
        ``ward``, ``bed``, ``patient``, ``device``, ``drill`` and ``signal`` are ids when given. Fields it
        does not know are ignored (a newer alerting may add some)."""
        if not isinstance(msg, dict):
            raise PayloadError("$", "alarm event must be a JSON object")
        if msg.get("v", 1) != 1:
            raise PayloadError("v", f"unsupported version {msg.get('v')!r}")
        alarm_id = check_id(msg.get("id"), "id")  # type: ignore[arg-type]
        t = check_time(msg.get("t"), "t", now)
        tags: dict[str, str] = {}
        for key in ("ward", "bed", "patient", "device", "kind", "signal", "priority", "event", "drill"):
            v = msg.get(key)
            tags[key] = "" if v is None or v == "" else check_id(v, key)
        for key in ("event", "kind", "priority", "state"):
            if not msg.get(key):
                raise PayloadError(key, "missing")
        kind = member(AlarmKind, tags["kind"], "kind", "an alarm kind")
        priority = member(Priority, tags["priority"], "priority", "a priority")
        event = member(AlarmEventType, tags["event"], "event", "an alarm event")
        state = msg.get("state")
        if state not in _STATES:
            raise PayloadError("state", f"{state!r} is not a state ({', '.join(_STATES)})")
        value = _number(msg.get("value"), "value")
        reason = _text(msg.get("reason") or "", "reason")
        by = _text(msg.get("by") or "", "by", 128)
        level = msg.get("escalation_level") or 0
        if type(level) is not int or not 0 <= level <= 100:
            raise PayloadError("escalation_level", f"{level!r} is not an integer 0..100")
        ended_t = msg.get("ended_t")
        if ended_t is not None:
            check_time(ended_t, "ended_t", now)
        peak = msg.get("peak_priority")
        band = msg.get("band")
        if band is not None and band not in NEWS2_BANDS:
            raise PayloadError("band", f"{band!r} is not a NEWS2 response band ({', '.join(NEWS2_BANDS)})")
        return cls(
            id=alarm_id, ward=tags["ward"], bed=tags["bed"], patient=tags["patient"], device=tags["device"],
            kind=kind, signal=tags["signal"] or None, priority=priority, event=event, state=AlarmState(state),
            t=t, value=value, reason=reason, by=by or None, escalation_level=level, drill=tags["drill"],
            code=check_code(msg.get("code") or ""), worst=_number(msg.get("worst"), "worst"),
            condition=_flag(msg.get("condition"), "condition", True), ended_t=ended_t,
            condition_reason=_text(msg.get("condition_reason") or "", "condition_reason"),
            peak_priority=None if peak is None or peak == "" else member(Priority, peak, "peak_priority", "a priority"),
            latched=_flag(msg.get("latched"), "latched", False), band=band,
            role=_text(msg.get("role") or "", "role", 64), grouped=_grouped(msg.get("grouped")),
            **_message("reason", msg, keep_alarm), **_message("condition", msg, keep_alarm),
        )


def _message(field: str, msg: dict[str, Any], keep_alarm: bool) -> dict[str, Any]:
    """``{field}_key`` and ``{field}_params``. Invalid ones are refused, unless ``keep_alarm``: then they
    are dropped, the screens show the English text, and the alarm itself is kept (a station must not miss
    an alarm because its message cannot be rendered, e.g. nests too deep)."""
    key = msg.get(f"{field}_key") or ""
    if not key:
        return {f"{field}_key": "", f"{field}_params": {}}
    try:
        return {f"{field}_key": check_reason_key(key, f"{field}_key"),
                f"{field}_params": check_reason_params(msg.get(f"{field}_params") or {}, f"{field}_params")}
    except PayloadError:
        if not keep_alarm:
            raise
        return {f"{field}_key": "", f"{field}_params": {}}


def _grouped(value: Any) -> list[GroupedCondition]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 64:
        raise PayloadError("grouped", "must be a list of at most 64 conditions")
    out: list[GroupedCondition] = []
    for i, g in enumerate(value):
        where = f"grouped[{i}]"
        if not isinstance(g, dict):
            raise PayloadError(where, "must be an object {signal, code, reason}")
        signal = g.get("signal")
        out.append(GroupedCondition(signal=None if signal is None else check_id(signal, f"{where}.signal"),
                                    code=check_code(g.get("code") or "", f"{where}.code"),
                                    reason=_text(g.get("reason") or "", f"{where}.reason")))
    return out
