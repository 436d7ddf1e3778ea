"""Synthetic payloads in a vendor's own format, generated from its profile (``profile simulate``).

The profile is run backwards: a plausible canonical value per mapped signal (a seeded random walk
around a resting adult's vitals) is converted into the vendor's unit, written at the field's path,
timestamps are written in the profile's format, so what comes out decodes with the same profile
and shows up on the central station like the real device would.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from .catalogue import SIGNALS
from .compiler import CompiledProfile
from .errors import ProfileError
from .json_decoder import JsonDecoder
from .json_paths import JsonPath

RESTING = {"heart_rate": 72.0, "pulse_rate": 72.0, "spo2": 97.0, "resp_rate": 16.0, "nibp_sys": 122.0,
           "nibp_dia": 78.0, "nibp_mean": 93.0, "temperature": 36.9, "perfusion_index": 2.5, "etco2": 38.0}
_JITTER = {"temperature": 0.05, "perfusion_index": 0.1, "spo2": 0.4}


class Synthesizer:
    def __init__(self, compiled: CompiledProfile, seed: int = 1) -> None:
        dec = compiled.decoder
        if dec is None or dec.canonical:
            raise ProfileError(f"profile {compiled.id!r}: simulate needs a json MQTT profile")
        self.dec: JsonDecoder = dec
        self.rng = random.Random(seed)
        self.state = {f.signal: RESTING.get(f.signal, (SIGNALS[f.signal].low + SIGNALS[f.signal].high) / 2)
                      for f in dec.fields}
        self.seq = 0

    def topic(self, serial: str) -> str:
        """The vendor topic: captures used in the device id carry ``serial``, the others ``sim``."""
        return self.dec.topic.example(dict.fromkeys(self.dec.device_id.names, serial), "sim", "sim")

    def _time(self, t_ms: int) -> Any:
        fmt = self.dec.time.format
        if fmt == "iso8601":
            return datetime.fromtimestamp(t_ms / 1000, UTC).isoformat(timespec="milliseconds")
        return {"epoch_s": t_ms / 1000, "epoch_ms": t_ms, "epoch_us": t_ms * 1000, "epoch_ns": t_ms * 1_000_000}[fmt]

    def _next(self, signal: str) -> float:
        v = self.state[signal] + self.rng.gauss(0, _JITTER.get(signal, 0.8))
        base = RESTING.get(signal, v)
        v += (base - v) * 0.1
        self.state[signal] = v
        return v

    def payload(self, t_ms: int, samples: int = 1, serial: str = "SIM0001") -> dict[str, Any]:
        """One message carrying ``samples`` samples one second apart, the last at ``t_ms``."""
        dec = self.dec
        msg: dict[str, Any] = {}
        if dec.device_id_path is not None:
            dec.device_id_path.set(msg, serial)
        n = samples if dec.samples_path is not None else 1
        items: list[dict[str, Any]] = []
        step = dec.time.step_ms or 1000
        t0 = t_ms - (n - 1) * step
        for i in range(n):
            item: dict[str, Any] = {}
            for f in dec.fields:
                target = msg if f.path.absolute else item
                raw = f.conv.invert(self._next(f.signal))
                f.path.set(target, round(raw, SIGNALS[f.signal].precision if f.conv.identity else 3))
                if f.quality_path is not None:
                    good = next((k for k, q in f.quality_map.items() if q == "valid"), None)
                    if good is not None:
                        f.quality_path.set(msg if f.quality_path.absolute else item, _typed(good))
            if dec.time.source == "payload" and dec.time.path is not None:
                if dec.time.path.absolute:
                    if i == 0:
                        dec.time.path.set(msg, self._time(t0))
                elif not (dec.time.step_ms and i > 0):
                    dec.time.path.set(item, self._time(t0 + i * step))
            items.append(item)
        if dec.samples_path is None:
            msg.update(items[0])
        else:
            dec.samples_path.set(msg, items) if dec.samples_path.steps else None
        for tr in dec.technical:
            value: Any = 80 if tr.below is not None else 0 if tr.above is not None else _calm(tr.equals)
            tr.path.set(msg if tr.path.absolute or dec.samples_path is None else items[-1], value)
        if dec.seq_path is not None:
            self.seq += 1
            dec.seq_path.set(msg, self.seq)
        return msg


_HL7_UNITS = {"/min": "264864^MDC_DIM_BEAT_PER_MIN^MDC", "%": "262688^MDC_DIM_PERCENT^MDC",
              "mm[Hg]": "266016^MDC_DIM_MMHG^MDC", "Cel": "268192^MDC_DIM_DEGC^MDC"}
_HL7_SIGNALS = ("heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "nibp_mean", "temperature")


class Hl7Synthesizer:
    """IHE PCD-01 ``ORU^R01`` messages of a simulated monitor (for ``hl7v2-mllp`` profiles)."""

    def __init__(self, device: str, seed: int = 1) -> None:
        self.device = device
        self.rng = random.Random(seed)
        self.state = {s: RESTING[s] for s in _HL7_SIGNALS}
        self.n = 0

    def message(self, t_ms: int) -> str:
        self.n += 1
        ts = datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y%m%d%H%M%S") + f".{t_ms % 1000:03d}+0000"
        segs = [f"MSH|^~\\&|SMARTWARD_SIM|SIM|||{ts}||ORU^R01^ORU_R01|SIM{t_ms}{self.n:04d}|P|2.6|||AL|NE||UNICODE UTF-8",
                f"OBR|1||SIM{self.n}|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{ts}",
                f"OBX|1|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||{self.device}"]
        for i, name in enumerate(_HL7_SIGNALS, start=2):
            sig = SIGNALS[name]
            v = self.state[name] + self.rng.gauss(0, _JITTER.get(name, 0.8))
            v += (RESTING[name] - v) * 0.1
            self.state[name] = v
            value = f"{v:.{sig.precision}f}"
            unit = "264928^MDC_DIM_RESP_PER_MIN^MDC" if name == "resp_rate" else _HL7_UNITS[sig.unit]
            segs.append(f"OBX|{i}|NM|{sig.mdc_code}^{sig.mdc_name}^MDC|1.1.1.{i}|{value}|{unit}|||||R")
        return "\r".join(segs) + "\r"


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _calm(alarming: frozenset[str]) -> Any:
    for candidate in (False, 0, "ok", "OK", "normal"):
        if str(candidate).lower() not in {a.lower() for a in alarming}:
            return candidate
    return None


__all__ = ["Hl7Synthesizer", "JsonPath", "Synthesizer"]
