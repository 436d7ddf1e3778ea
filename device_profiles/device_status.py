"""A device's status as ingest republishes it, attributed, on ``{root}/wards/{ward}/status``.

A device (or its gateway) publishes its status retained on ``{root}/devices/{id}/status``
(``{"online": bool, "battery"?: 0..100, ...}``, checked by :func:`~device_profiles.decode_status`); a vendor
profile's decoder makes the same from a vendor message (``Decoded.status``). Ingest attributes it
(:meth:`DeviceStatusMessage.from_device`: who the device is bound to now, the receive time) and publishes
it on the ward's topic; alerting (offline, battery and device technical alarms) and the dashboard hub
(``WardState.status``: the tile's online, battery and staleness) read it. The dashboard reads it with
:meth:`DeviceStatusMessage.from_json`, so both ends use this type.

Fields: ``online``, ``battery`` (%), ``signal_quality``, ``technical`` (``{code: active}``, the device's
technical conditions) and ``expire_after`` (``{signal: seconds}``, the profile's staleness horizon) are
checked per field; keys a device adds besides those travel on unchanged in ``extra``; ``device``, ``ward``,
``bed``, ``patient``, ``t`` and ``drill`` are ingest's and win over any a device sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .canonical import Attribution, check_id, check_time
from .errors import PayloadError
from .payload_fields import MAX_ITEMS, as_object, finite, flag, optional_id

_STATUS_KEYS = ("online", "battery", "signal_quality", "technical", "expire_after")
_ATTRIBUTION_KEYS = ("device", "ward", "bed", "patient", "t", "drill")
_KNOWN = frozenset(_STATUS_KEYS + _ATTRIBUTION_KEYS)
MAX_KEY = 128  # a technical condition code or signal name


@dataclass(frozen=True, slots=True)
class DeviceStatusMessage:
    """A device status with ingest's attribution (``{root}/wards/{ward}/status``)."""

    device: str
    t: int  # when ingest received it (ms)
    online: bool
    ward: str = ""  # "" for a device bound to no bed (topic ward ``_unassigned``)
    bed: str = ""
    patient: str = ""
    drill: str = ""  # the live drill the device is bound for, else ""
    battery: float | None = None  # percent 0..100, as sent (an integer stays one)
    signal_quality: float | None = None
    technical: dict[str, bool] | None = None  # the device's technical conditions: code -> active
    expire_after: dict[str, float] | None = None  # the profile's per-signal staleness (s)
    extra: dict[str, Any] = field(default_factory=dict)  # the device's other keys, passed on unchanged

    @property
    def who(self) -> Attribution:
        return Attribution(self.ward, self.bed, self.patient, self.drill)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"online": self.online}
        for key, value in (("battery", self.battery), ("signal_quality", self.signal_quality),
                           ("technical", self.technical), ("expire_after", self.expire_after)):
            if value is not None:
                out[key] = value
        out |= self.extra
        out |= {"device": self.device, "ward": self.ward, "bed": self.bed, "patient": self.patient, "t": self.t}
        if self.drill:
            out["drill"] = self.drill
        return out

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_device(cls, status: Mapping[str, Any], device: str, who: Attribution, t: int) -> DeviceStatusMessage:
        """Ingest's side: a device's decoded status, attributed to ``who`` at receive time ``t``. Ingest's keys
        replace any of the same name the device sent; a wrong status field raises :class:`PayloadError`."""
        return cls(device=check_id(device, "device"), t=t, ward=who.ward, bed=who.bed, patient=who.patient,
                   drill=who.drill, **_status_fields(status))

    @classmethod
    def from_json(cls, msg: Any, now: int) -> DeviceStatusMessage:
        """Validate an attributed status; :class:`PayloadError` names the field.

        Required: ``t`` (not after ``now`` + 5 min) and ``online``; ``device``, ``ward``, ``bed``, ``patient``
        and ``drill`` are ids when given (ingest always gives ``device``)."""
        m = as_object(msg, "device status")
        return cls(device=optional_id(m.get("device"), "device"), t=check_time(m.get("t"), "t", now),
                   ward=optional_id(m.get("ward"), "ward"), bed=optional_id(m.get("bed"), "bed"),
                   patient=optional_id(m.get("patient"), "patient"), drill=optional_id(m.get("drill"), "drill"),
                   **_status_fields(m))


def _status_fields(m: Mapping[str, Any]) -> dict[str, Any]:
    battery = m.get("battery")
    if battery is not None and (type(battery) not in (int, float) or not 0 <= battery <= 100):
        raise PayloadError("battery", f"{battery!r} is not a percentage 0..100")
    quality = m.get("signal_quality")
    return {"online": flag(m.get("online"), "online"), "battery": battery,
            "signal_quality": None if quality is None else finite(quality, "signal_quality"),
            "technical": _technical(m.get("technical")), "expire_after": _expire_after(m.get("expire_after")),
            "extra": {k: v for k, v in m.items() if k not in _KNOWN}}


def _key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise PayloadError(where, f"{key!r} is not a name of at most {MAX_KEY} characters")
    return key


def _technical(value: Any) -> dict[str, bool] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        raise PayloadError("technical", "must be an object {condition code: true|false}")
    out: dict[str, bool] = {}
    for k, v in value.items():
        if type(v) is not bool:
            raise PayloadError(f"technical.{k}", f"{v!r} is not true or false")
        out[_key(k, "technical")] = v
    return out


def _expire_after(value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        raise PayloadError("expire_after", "must be an object {signal: seconds}")
    return {_key(k, "expire_after"): finite(v, f"expire_after.{k}") for k, v in value.items()}
