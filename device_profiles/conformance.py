"""The vendor conformance kit behind ``smartward profile test FILE --samples DIR``.

A samples directory holds payloads exactly as the device sends them: ``NAME.json`` (or any other
non-``.expected.json`` file) for MQTT profiles, ``NAME.hl7`` for HL7 profiles. ``NAME.topic``
optionally gives the MQTT topic (default: the profile's pattern with every capture ``SAMPLE``).
``NAME.expected.json``, when present, is what decoding must produce: the *full* decode output as
``--write-expected`` writes it (``ack``/``message_type``/``decoded`` for HL7; ``device``,
``observation``, ``alarms``, ``status`` for MQTT), or ``{"error": "TEXT"}`` for a payload that must be
refused with a reason containing TEXT. Any difference is a failure; numbers compare within 1e-6, or
within an absolute per-signal ``tolerance`` (``--tolerance spo2=0.5``) for values under that
signal's key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .compiler import CompiledProfile
from .errors import PayloadError, ProfileError

SAMPLE_CAPTURE = "SAMPLE"


@dataclass(slots=True)
class SampleResult:
    name: str
    output: Any = None  # what decoding produced (JSON-able)
    error: str | None = None  # decoding refused the payload (a dead letter in production)
    expected: Any = None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.expected is None:
            return self.error is None
        return not self.differences


def default_topic(compiled: CompiledProfile) -> str:
    assert compiled.decoder is not None
    return compiled.decoder.topic.example({}, SAMPLE_CAPTURE, "x")


def _diff(expected: Any, got: Any, where: str, out: list[str], tolerance: dict[str, float] | None = None,
          key: str = "") -> None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in sorted(set(expected) | set(got), key=str):
            if k not in got:
                out.append(f"{where}.{k}: expected {expected[k]!r}, missing")
            elif k not in expected:
                out.append(f"{where}.{k}: unexpected {got[k]!r}")
            else:
                _diff(expected[k], got[k], f"{where}.{k}", out, tolerance, str(k))
    elif isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            out.append(f"{where}: expected {len(expected)} items, got {len(got)}")
        for i, (e, g) in enumerate(zip(expected, got, strict=False)):
            _diff(e, g, f"{where}[{i}]", out, tolerance, key)
    elif isinstance(expected, (int, float)) and isinstance(got, (int, float)) and not isinstance(expected, bool) \
            and not isinstance(got, bool):
        tol = max((tolerance or {}).get(key, 0.0), 1e-6)
        if not math.isclose(expected, got, rel_tol=1e-9, abs_tol=tol):
            within = f" (tolerance {tol:g})" if tol > 1e-6 else ""
            out.append(f"{where}: expected {expected!r}, got {got!r}{within}")
    elif expected != got:
        out.append(f"{where}: expected {expected!r}, got {got!r}")


def decode_sample(compiled: CompiledProfile, path: Path, received_ms: int) -> Any:
    """Decode one sample file the way production would; return the JSON-able result."""
    data = path.read_bytes()
    if compiled.profile.transport == "hl7v2-mllp":
        from .hl7 import Hl7Decoder

        # the kit checks the mapping of samples that are often years old (the IHE examples): no
        # retention limit here; the live gateway refuses observations older than the raw retention
        res = Hl7Decoder(compiled, max_age_ms=None).decode(data.decode("latin-1"), received_ms)
        ack = "AR" if res.rejected else ("AE" if res.issues else "AA")
        out: dict[str, Any] = {"ack": ack, "message_type": res.message_type,
                               "decoded": [d.to_json() for d in res.decoded]}
        if res.issues:
            out["issues"] = [str(i) for i in res.issues]
        return out
    if compiled.decoder is None:
        raise ProfileError(f"profile {compiled.id!r} has no decoder for transport {compiled.profile.transport}")
    topic_file = path.with_suffix(".topic")
    topic = topic_file.read_text().strip() if topic_file.exists() else default_topic(compiled)
    device = compiled.decoder.device_for(topic)
    if device is None:
        raise PayloadError("topic", f"{topic!r} does not match the profile's topic {compiled.decoder.topic.pattern!r}")
    if compiled.decoder.canonical:
        from .canonical import decode_observation
        from .device_alarm import Decoded

        return Decoded(compiled.id, device, decode_observation(data, device, now=received_ms)).to_json()
    return compiled.decoder.decode(device, data, received_ms, topic).to_json()


def sample_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and not p.name.endswith(".expected.json") and p.suffix not in (".topic", ".md")
                  and not p.name.startswith("."))


def run(compiled: CompiledProfile, directory: Path, received_ms: int,
        tolerance: dict[str, float] | None = None) -> list[SampleResult]:
    """Decode every sample in ``directory`` and compare with its ``*.expected.json``
    (``tolerance``: absolute, per signal name)."""
    results = []
    for path in sample_files(directory):
        r = SampleResult(path.name)
        try:
            r.output = decode_sample(compiled, path, received_ms)
        except ProfileError as exc:
            r.error = str(exc)
        expected_file = path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")
        if expected_file.exists():
            try:
                r.expected = orjson.loads(expected_file.read_bytes())
            except orjson.JSONDecodeError as exc:
                r.differences.append(f"{expected_file.name}: not valid JSON ({exc})")
            else:
                if isinstance(r.expected, dict) and "error" in r.expected and len(r.expected) == 1:
                    if r.error is None:
                        r.differences.append(f"expected the payload to be refused ({r.expected['error']!r}), it decoded")
                    elif str(r.expected["error"]) not in r.error:
                        r.differences.append(f"expected error containing {r.expected['error']!r}, got {r.error!r}")
                elif r.error is not None:
                    r.differences.append(f"refused: {r.error}")
                else:
                    _diff(r.expected, r.output, "$", r.differences, tolerance)
        results.append(r)
    return results
