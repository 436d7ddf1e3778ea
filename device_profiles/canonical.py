"""Canonical observation payload (contract, see DESIGN.md): model, strict decoder, encoders.

The decoder is on the ingest hot path, so it is hand-written over ``orjson`` output rather than a
pydantic model: each message costs a few microseconds. It is tolerant in shape only where the
contract allows (several samples, optional ``q``) and strict on every value: the first problem
found raises :class:`PayloadError` naming the field.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from .catalogue import NUMERIC_SIGNALS, QUALITIES, SIGNALS, WAVEFORM_SIGNALS
from .errors import PayloadError

MAX_PAYLOAD_BYTES = 64 * 1024
DEVICE_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Attribution values (ward, bed, patient ids) share the device-id alphabet, so they can never
# inject line protocol, SQL or topic levels.
ID_RE = DEVICE_ID_RE
T_MIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
FUTURE_TOLERANCE_MS = 5 * 60 * 1000
# raw vitals are kept 7 days (DESIGN: >= 96 h full disclosure): an older sample would be dropped by
# the store, so it is refused where it enters (HL7 AE, a dead letter) with this reason
RAW_RETENTION_MS = 7 * 24 * 3600 * 1000
RETENTION_REASON = "older than the 7-day raw retention"
SUPPORTED_VERSIONS = frozenset({1})
_RESERVED = frozenset({"t", "q"})
# numeric signal -> its physical range (the checks of check_value, in one lookup on the hot path)
_RANGES = {name: (SIGNALS[name].low, SIGNALS[name].high) for name in NUMERIC_SIGNALS}


@dataclass(slots=True)
class Sample:
    """One instant of one device: ``t`` in ms since the epoch, values in catalogue units."""

    t: int
    values: dict[str, float]
    quality: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"t": self.t, **self.values}
        if self.quality:
            d["q"] = self.quality
        return d


@dataclass(slots=True)
class Observation:
    """A canonical observation message: one device, one ``seq``, one or more samples."""

    device: str
    seq: int
    samples: list[Sample]

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "device": self.device, "seq": self.seq, "samples": [s.to_json() for s in self.samples]}

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())


@dataclass(slots=True)
class Attribution:
    """Who a device's data belongs to at a given time ('' when unassigned)."""

    ward: str = ""
    bed: str = ""
    patient: str = ""
    drill: str = ""

    @property
    def assigned(self) -> bool:
        return bool(self.ward)


@dataclass(slots=True)
class AttributedObservation:
    """An accepted observation with its attribution: the payload of ``smartward/v1/wards/{ward}/obs``."""

    obs: Observation
    who: Attribution

    def to_json(self) -> dict[str, Any]:
        d = self.obs.to_json()
        d.update(ward=self.who.ward, bed=self.who.bed, patient=self.who.patient)
        if self.who.drill:
            d["drill"] = self.who.drill
        return d

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())


@dataclass(slots=True)
class WaveformChunk:
    """A chunk of one waveform signal: ``samples`` at ``fs`` Hz starting at ``t0`` (ms)."""

    device: str
    seq: int
    signal: str
    fs: float
    t0: int
    samples: list[float]

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "device": self.device, "seq": self.seq, "signal": self.signal, "fs": self.fs,
                "t0": self.t0, "samples": self.samples}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _loads(payload: bytes | str) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("$", f"payload is {len(payload)} bytes, larger than the {MAX_PAYLOAD_BYTES} byte limit")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PayloadError("$", f"not valid JSON ({exc})") from None


def _check_header(msg: Any, topic_device: str | None) -> tuple[str, int]:
    if not isinstance(msg, dict):
        raise PayloadError("$", f"expected a JSON object, got {type(msg).__name__}")
    v = msg.get("v")
    if type(v) is not int or v not in SUPPORTED_VERSIONS:
        raise PayloadError("v", f"unsupported version {v!r}; supported: {sorted(SUPPORTED_VERSIONS)}")
    device = msg.get("device")
    if not isinstance(device, str) or not DEVICE_ID_RE.fullmatch(device):
        raise PayloadError("device", f"{device!r} is not a device id ([A-Za-z0-9_.-]{{1,64}})")
    if topic_device is not None and device != topic_device:
        raise PayloadError("device", f"{device!r} differs from the topic's device id {topic_device!r}")
    seq = msg.get("seq")
    if type(seq) is not int or seq < 0:
        raise PayloadError("seq", f"{seq!r} is not a non-negative integer")
    return device, seq


def check_time(t: Any, where: str, now: int) -> int:
    if type(t) is not int:
        raise PayloadError(where, f"{t!r} is not integer milliseconds since the Unix epoch")
    if t < T_MIN_MS:
        raise PayloadError(where, f"{t} is before 2000-01-01")
    if t > now + FUTURE_TOLERANCE_MS:
        raise PayloadError(where, f"{t} is more than 5 minutes in the future")
    return t


def check_value(name: str, value: Any, where: str) -> float:
    sig = SIGNALS.get(name)
    if sig is None or name not in NUMERIC_SIGNALS:
        raise PayloadError(where, f"unknown signal {name!r}")
    tv = type(value)
    if tv is not int and tv is not float:
        raise PayloadError(where, f"{value!r} is not a number")
    if tv is float and not math.isfinite(value):
        raise PayloadError(where, f"{value!r} is not a finite number")
    if not sig.low <= value <= sig.high:
        raise PayloadError(where, f"{value} outside the physical range {sig.low:g}..{sig.high:g} {sig.unit}")
    return value  # type: ignore[no-any-return]


def _parse_quality(q: Any, where: str) -> dict[str, str]:
    if not isinstance(q, dict):
        raise PayloadError(where, "quality must be an object {signal: quality}")
    for name, val in q.items():
        if name not in NUMERIC_SIGNALS:
            raise PayloadError(f"{where}.{name}", f"unknown signal {name!r}")
        if val not in QUALITIES:
            raise PayloadError(f"{where}.{name}", f"{val!r} is not one of {sorted(QUALITIES)}")
    return q


def decode_observation(payload: bytes | str, topic_device: str | None = None, now: int | None = None) -> Observation:
    """Decode and validate a canonical ``…/obs`` payload; raise :class:`PayloadError` on the first problem."""
    msg = _loads(payload)
    device, seq = _check_header(msg, topic_device)
    raw_samples = msg.get("samples")
    if not isinstance(raw_samples, list) or not raw_samples:
        raise PayloadError("samples", "must be a non-empty list of samples")
    now = now_ms() if now is None else now
    latest = now + FUTURE_TOLERANCE_MS
    samples: list[Sample] = []
    for i, raw in enumerate(raw_samples):  # the hot path of ingest: error texts are built only on an error
        if type(raw) is not dict:
            raise PayloadError(f"samples[{i}]", "a sample must be an object")
        t = raw.get("t")
        if type(t) is not int or not T_MIN_MS <= t <= latest:
            t = check_time(t, f"samples[{i}].t", now)  # raises, naming the problem
        quality: dict[str, str] = {}
        for name, value in raw.items():
            if name in _RESERVED:
                if name == "q":
                    quality = _parse_quality(value, f"samples[{i}].q")
                continue
            r = _RANGES.get(name)
            tv = type(value)
            if r is None or (tv is not int and tv is not float) or not r[0] <= value <= r[1]:
                check_value(name, value, f"samples[{i}].{name}")  # raises (NaN and inf fail the range)
        # every other key is a checked signal value: the parsed object (ours alone) becomes the values
        values: dict[str, float] = raw
        del values["t"]
        values.pop("q", None)
        if not values and not quality:
            raise PayloadError(f"samples[{i}]", "sample carries no signal values")
        samples.append(Sample(t, values, quality))
    return Observation(device, seq, samples)


def decode_attributed(payload: bytes | str) -> AttributedObservation:
    """Decode a ``smartward/v1/wards/{ward}/obs`` payload (already validated by ingest, checked again)."""
    msg = _loads(payload)
    obs = _decode_from_dict(msg)
    who = Attribution(
        ward=_id_or_empty(msg.get("ward"), "ward"),
        bed=_id_or_empty(msg.get("bed"), "bed"),
        patient=_id_or_empty(msg.get("patient"), "patient"),
        drill=_id_or_empty(msg.get("drill"), "drill"),
    )
    return AttributedObservation(obs, who)


def _decode_from_dict(msg: Any) -> Observation:
    device, seq = _check_header(msg, None)
    raw_samples = msg.get("samples")
    if not isinstance(raw_samples, list) or not raw_samples:
        raise PayloadError("samples", "must be a non-empty list of samples")
    samples = []
    for i, raw in enumerate(raw_samples):
        if not isinstance(raw, dict) or type(raw.get("t")) is not int:
            raise PayloadError(f"samples[{i}]", "malformed sample")
        values = {k: float(v) for k, v in raw.items() if k not in _RESERVED}
        samples.append(Sample(raw["t"], values, dict(raw.get("q") or {})))
    return Observation(device, seq, samples)


def _id_or_empty(value: Any, where: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise PayloadError(where, f"{value!r} is not an id ([A-Za-z0-9_.-]{{1,64}})")
    return value


def check_id(value: str, what: str) -> str:
    """Validate a ward / bed / patient / device id (the only alphabet that reaches tags and topics)."""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise PayloadError(what, f"{value!r} is not an id ([A-Za-z0-9_.-]{{1,64}})")
    return value


def decode_waveform(payload: bytes | str, topic_device: str | None = None, now: int | None = None) -> WaveformChunk:
    """Decode and validate a ``…/wave`` chunk."""
    msg = _loads(payload)
    device, seq = _check_header(msg, topic_device)
    sig = msg.get("signal")
    if sig not in WAVEFORM_SIGNALS:
        raise PayloadError("signal", f"{sig!r} is not a waveform signal; known: {sorted(WAVEFORM_SIGNALS)}")
    fs = msg.get("fs")
    if type(fs) not in (int, float) or not (0 < fs <= 10_000):
        raise PayloadError("fs", f"{fs!r} is not a sampling rate in Hz (0 < fs <= 10000)")
    t0 = check_time(msg.get("t0"), "t0", now_ms() if now is None else now)
    samples = msg.get("samples")
    if not isinstance(samples, list) or not samples:
        raise PayloadError("samples", "must be a non-empty list of numbers")
    for i, x in enumerate(samples):
        if type(x) not in (int, float) or not math.isfinite(x):
            raise PayloadError(f"samples[{i}]", f"{x!r} is not a finite number")
    return WaveformChunk(device, seq, sig, float(fs), t0, samples)


def decode_status(payload: bytes | str) -> dict[str, Any]:
    """Decode a ``…/status`` payload: ``{"online": bool, "battery": 0..100, ...}``."""
    msg = _loads(payload)
    if not isinstance(msg, dict):
        raise PayloadError("$", "status must be a JSON object")
    online = msg.get("online")
    if not isinstance(online, bool):
        raise PayloadError("online", f"{online!r} is not a boolean")
    battery = msg.get("battery")
    if battery is not None and (type(battery) not in (int, float) or not 0 <= battery <= 100):
        raise PayloadError("battery", f"{battery!r} is not a percentage 0..100")
    return msg
