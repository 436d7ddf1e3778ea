"""The device profile format (``schema_version: 2``): pydantic models, strict (``extra="forbid"``).

These models check the *shape* of a profile; :mod:`device_profiles.compiler` checks the meaning
(known signals, convertible units, parseable paths and topics) and builds the fast decoder. The
JSON Schema published in ``device_profiles/schema/`` is generated from these models
(``smartward profile schema``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

SCHEMA_VERSION = 2

Priority = Literal["high", "medium", "low"]
QualityName = Literal["valid", "questionable", "artifact", "invalid"]
TimeFormat = Literal["epoch_s", "epoch_ms", "epoch_us", "epoch_ns", "iso8601"]
Transport = Literal["mqtt-json", "hl7v2-mllp", "sdc", "ble"]
Scalar = str | int | float | bool


def _text_keys(value: Any) -> Any:
    """YAML reads ``{0: valid, true: x}`` with int/bool keys; map keys are compared as text."""
    if isinstance(value, dict):
        return {("true" if k is True else "false" if k is False else str(k)): v for k, v in value.items()}
    return value


TextKeys = BeforeValidator(_text_keys)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Firmware(_Strict):
    """Firmware versions the profile was written for (``min`` inclusive, ``max`` exclusive)."""

    min: str | None = None
    max: str | None = None


class MqttSpec(_Strict):
    """Where the device publishes, and how its device id is built from the topic."""

    topic: str = Field(description="vendor topic pattern; {name} captures one level, e.g. acme/{serial}/vitals")
    device_id: str | None = Field(
        default=None, description="device id template from the captures, e.g. acme-{serial}; default: the only capture")
    device_id_path: str | None = Field(
        default=None, description="$.path to the device serial in the payload, used as {payload} in device_id "
                                  "(for devices sharing one topic; prefer a topic capture: the broker ACL can check it)")
    qos: Literal[0, 1] = 1


class SamplesSpec(_Strict):
    """Where the samples are: a list of batched samples, or (no path) the message is one sample."""

    path: str | None = Field(default=None, description="path to a list (or object) of samples, e.g. data.readings")
    columnar: bool = Field(default=False, description="samples.path is an object of parallel arrays: {ts: [..], hr: [..]}")
    max: int = Field(default=10_000, ge=1, le=100_000, description="refuse messages carrying more samples than this")


class TimeSpec(_Strict):
    """Sample time: from the payload (epoch s/ms/us/ns or ISO 8601 with zone) or the receive time."""

    source: Literal["payload", "receive"] = "payload"
    path: str | None = Field(default=None, description="path to the time; $.x = from the message root")
    format: TimeFormat = "epoch_ms"
    step_ms: int | None = Field(default=None, ge=1, description="batched samples evenly spaced: t = time + index * step_ms")
    step_path: str | None = Field(default=None, description="the spacing comes from the payload (e.g. $.interval)")
    step_unit: Literal["ms", "s"] = "ms"
    offset_path: str | None = Field(default=None, description="per-sample offset added to the time (relative batches)")
    offset_unit: Literal["ms", "s"] = "ms"
    naive_zone: str | None = Field(default=None, description="zone for ISO 8601 times without one (IANA name or +HH:MM); default: refuse them")

    @model_validator(mode="after")
    def _path_when_payload(self) -> TimeSpec:
        if self.source == "payload" and not self.path:
            raise ValueError("time.path is required when time.source is 'payload'")
        return self


class QualitySpec(_Strict):
    """A vendor validity flag mapped onto our qualities (map keys are the flag's text)."""

    path: str
    map: Annotated[dict[str, QualityName], TextKeys]
    default: QualityName = "questionable"


class Where(_Strict):
    """Take the field only from samples where the value at ``path`` is one of ``equals``."""

    path: str
    equals: list[Scalar]


class FieldSpec(_Strict):
    """One vendor field mapped onto one catalogue signal."""

    signal: str = Field(description="catalogue signal name, e.g. spo2")
    path: str = Field(description="path to the value within a sample")
    unit: str | None = Field(default=None, description="vendor unit (UCUM or common spelling); default the canonical unit")
    scale: float = Field(default=1.0, description="applied in the vendor unit before conversion: raw * scale + offset")
    offset: float = 0.0
    quality: QualitySpec | None = None
    plausible: tuple[float, float] | None = Field(default=None, description="plausible range in canonical units")
    out_of_range: Literal["invalid", "questionable", "drop"] = "invalid"
    ignore_values: list[float] = Field(default_factory=list, description="sentinels meaning 'no reading'")
    expire_after: float | None = Field(default=None, gt=0, description="seconds after which the value is stale")
    where: Where | None = Field(default=None, description="for readings tagged with a code: {path: code, equals: [HR]}")
    series: str | None = Field(
        default=None, description="this signal's own list of samples, e.g. $.metrics.hr (path and time are then "
                                  "relative to each entry)")
    time: str | None = Field(default=None, description="with series: path to the time in each entry (default time.path)")


class Condition(_Strict):
    """When a technical alarm is active: value below / above a threshold, or equal to one of values."""

    below: float | None = None
    above: float | None = None
    equals: list[Scalar] | None = None

    @model_validator(mode="after")
    def _one(self) -> Condition:
        if sum(x is not None for x in (self.below, self.above, self.equals)) != 1:
            raise ValueError("give exactly one of below, above, equals")
        return self


class TechnicalAlarmSpec(_Strict):
    """A device field (battery, signal quality, lead off) that raises a technical alarm."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$", description="our code, e.g. battery_low, lead_off")
    path: str
    when: Condition
    priority: Priority = "low"
    text: str
    signal: str | None = Field(default=None, description="the signal the condition affects (lead off -> heart_rate)")
    status: Literal["battery", "signal_quality"] | None = Field(default=None, description="also report the raw value in the device status message under this name")


class Mapped(_Strict):
    """A value found at ``path`` and translated through ``map`` (keys are its text)."""

    path: str
    map: Annotated[dict[str, str], TextKeys] = Field(default_factory=dict)
    default: str | None = None


class DeviceAlarmSpec(_Strict):
    """Alarms the device raises itself, mapped onto our priorities."""

    path: str = Field(description="path to a list (or one object) of alarms")
    code: str = Field(description="path to the vendor alarm code within an alarm")
    text: str | None = None
    priority: Mapped
    state: Mapped | None = Field(default=None, description="map onto active / cleared; default active")
    kind: Mapped | None = Field(default=None, description="map onto device / technical; default device")
    signal: Mapped | None = None
    value: str | None = None
    id: str | None = Field(default=None, description="path to the device's own alarm id")
    time: str | None = Field(default=None, description="path to the alarm time (same format as time.format)")


Hl7Message = Literal["ORU^R01", "ORU^R40"]
DeviceIdSource = Literal["obx18", "msh3", "msh4", "pv1_3"]
StatusQuality = Literal["valid", "questionable", "artifact", "invalid", "skip"]


def _all_messages() -> list[Hl7Message]:
    return ["ORU^R01", "ORU^R40"]


def _device_id_sources() -> list[DeviceIdSource]:
    return ["obx18", "msh3"]


def _result_status() -> dict[str, StatusQuality]:
    return {"F": "valid", "R": "valid", "C": "valid", "P": "questionable", "S": "questionable",
            "U": "valid", "X": "valid", "W": "invalid", "D": "skip", "": "valid"}


def _samples() -> SamplesSpec:
    return SamplesSpec()


def _receive_time() -> TimeSpec:
    return TimeSpec(source="receive")


class Hl7Spec(_Strict):
    """HL7 v2 (IHE PCD-01 / PCD-04) specifics: device id source, extra codes and units, OBX-11 qualities."""

    messages: list[Hl7Message] = Field(default_factory=_all_messages)
    device_id: list[DeviceIdSource] = Field(
        default_factory=_device_id_sources, description="where the device id comes from, in order")
    device_id_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,16}$")
    codes: Annotated[dict[str, str], TextKeys] = Field(default_factory=dict, description="extra OBX-3 code or name -> signal")
    units: dict[str, str] = Field(default_factory=dict, description="extra OBX-6 spelling -> UCUM unit")
    result_status: Annotated[dict[str, StatusQuality], TextKeys] = Field(
        default_factory=_result_status,
        description="OBX-11 -> quality (skip: do not publish)")
    default_zone: str = Field(default="UTC", description="zone for HL7 times without offset when MSH-7 has none either")


class Profile(_Strict):
    """A device profile: everything needed to turn a vendor's messages into canonical observations."""

    schema_version: Literal[2] = Field(description="profile format version; older versions are migrated")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="unique profile id, e.g. acme-w2")
    vendor: str = Field(min_length=1, max_length=120)
    model: str = Field(min_length=1, max_length=120)
    firmware: Firmware | None = None
    description: str = ""
    transport: Transport
    format: Literal["json", "canonical"] = Field(default="json", description="canonical: the payload already is our canonical observation")
    mqtt: MqttSpec | None = None
    samples: SamplesSpec = Field(default_factory=_samples)
    time: TimeSpec = Field(default_factory=_receive_time)
    seq: str | None = Field(default=None, description="path to the device's message counter; default the newest sample time")
    fields: list[FieldSpec] = Field(default_factory=list)
    technical_alarms: list[TechnicalAlarmSpec] = Field(default_factory=list)
    device_alarms: DeviceAlarmSpec | None = None
    hl7: Hl7Spec | None = None

    @model_validator(mode="after")
    def _transport_sections(self) -> Profile:
        if self.transport in ("sdc", "ble"):
            raise ValueError(f"transport {self.transport!r} is reserved for a future adapter; use mqtt-json or hl7v2-mllp")
        if self.transport == "mqtt-json":
            if self.mqtt is None:
                raise ValueError("transport mqtt-json needs an 'mqtt' section with the topic pattern")
            if self.hl7 is not None:
                raise ValueError("an 'hl7' section only belongs to transport hl7v2-mllp")
            if self.format == "json" and not self.fields and not self.technical_alarms and self.device_alarms is None:
                raise ValueError("a json profile needs 'fields' (or technical_alarms / device_alarms)")
        if self.transport == "hl7v2-mllp" and (self.mqtt is not None or self.fields):
            raise ValueError("transport hl7v2-mllp takes an 'hl7' section, not 'mqtt' or 'fields'")
        return self
