"""Device-originated alarms (``{root}/devices/{device_id}/alarm``) and the decoder result type.

A device alarm is what a device or gateway says about itself: a physiological alarm the monitor
raised (HL7 ORU^R40, a vendor JSON alarm list) or a technical condition found in its data (battery
low, lead off, weak signal). ``alerting`` turns them into managed alarms with our lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .canonical import DEVICE_ID_RE, Observation, _loads, check_time, now_ms
from .catalogue import NUMERIC_SIGNALS
from .errors import PayloadError

PRIORITIES = ("high", "medium", "low")
ALARM_KINDS = ("device", "technical")
ALARM_STATES = ("active", "cleared")


@dataclass(slots=True)
class DeviceAlarm:
    device: str
    t: int
    code: str
    priority: str
    text: str
    kind: str = "device"
    state: str = "active"
    signal: str | None = None
    value: float | None = None
    id: str | None = None  # the device's own alarm id, when it has one
    source: str = ""  # profile id

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "device": self.device, "t": self.t, "kind": self.kind, "code": self.code,
                "priority": self.priority, "state": self.state, "text": self.text, "signal": self.signal,
                "value": self.value, "id": self.id, "source": self.source}

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())


def decode_device_alarm(payload: bytes | str, topic_device: str | None = None, now: int | None = None) -> DeviceAlarm:
    """Decode and validate a ``…/alarm`` payload; raise :class:`PayloadError` naming the field."""
    msg = _loads(payload)
    if not isinstance(msg, dict):
        raise PayloadError("$", "expected a JSON object")
    if msg.get("v") != 1:
        raise PayloadError("v", f"unsupported version {msg.get('v')!r}")
    device = msg.get("device")
    if not isinstance(device, str) or not DEVICE_ID_RE.fullmatch(device):
        raise PayloadError("device", f"{device!r} is not a device id")
    if topic_device is not None and device != topic_device:
        raise PayloadError("device", f"{device!r} differs from the topic's device id {topic_device!r}")
    t = check_time(msg.get("t"), "t", now_ms() if now is None else now)
    for key, allowed in (("priority", PRIORITIES), ("kind", ALARM_KINDS), ("state", ALARM_STATES)):
        if msg.get(key) not in allowed:
            raise PayloadError(key, f"{msg.get(key)!r} is not one of {list(allowed)}")
    code, text = msg.get("code"), msg.get("text")
    if not isinstance(code, str) or not code or len(code) > 128:
        raise PayloadError("code", "must be a non-empty string (at most 128 characters)")
    if not isinstance(text, str) or len(text) > 512:
        raise PayloadError("text", "must be a string (at most 512 characters)")
    sig = msg.get("signal")
    if sig is not None and sig not in NUMERIC_SIGNALS:
        raise PayloadError("signal", f"unknown signal {sig!r}")
    value = msg.get("value")
    if value is not None and type(value) not in (int, float):
        raise PayloadError("value", f"{value!r} is not a number")
    alarm_id = msg.get("id")
    if alarm_id is not None and not isinstance(alarm_id, str):
        raise PayloadError("id", "must be a string")
    return DeviceAlarm(device, t, code, msg["priority"], text, msg["kind"], msg["state"], sig,
                       None if value is None else float(value), alarm_id, str(msg.get("source") or ""))


@dataclass(slots=True)
class Decoded:
    """What one device message became: observations, alarms, status, and values left out (with why)."""

    profile: str
    device: str
    observation: Observation | None = None
    alarms: list[DeviceAlarm] = field(default_factory=list)
    status: dict[str, Any] | None = None
    dropped: list[str] = field(default_factory=list)
    empty_batch: bool = False  # the profile's samples list was there but empty (status only)

    def to_json(self) -> dict[str, Any]:
        """The form the conformance kit prints and compares with ``*.expected.json``."""
        out: dict[str, Any] = {"device": self.device,
                               "observation": self.observation.to_json() if self.observation else None}
        if self.alarms:
            out["alarms"] = [a.to_json() for a in self.alarms]
        if self.status:
            out["status"] = self.status
        if self.dropped:
            out["dropped"] = self.dropped
        return out
