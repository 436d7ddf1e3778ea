"""Unit conversion into the catalogue's canonical units (linear: ``canonical = value * scale + offset``).

Units are named as vendors write them: UCUM (``[degF]``, ``kPa``), common spellings (``degF``,
``°F``, ``mmHg``, ``bpm``) and IEEE 11073 MDC dimension names or codes (``MDC_DIM_MMHG``,
``266016``) as they appear in HL7 OBX-6. Every name resolves to a UCUM unit; a conversion exists
only between units of the same dimension, so a profile mapping ``kPa`` onto ``spo2`` is refused
when it is loaded, not when the first payload arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProfileError

# UCUM unit -> (dimension, factor to the dimension's base unit, offset to the base unit)
# base units: mm[Hg] for pressure, Cel for temperature, /min for rates, % for ratios, mV, 1, s.
_UCUM: dict[str, tuple[str, float, float]] = {
    "mm[Hg]": ("pressure", 1.0, 0.0),
    "kPa": ("pressure", 7.500615758456563, 0.0),
    "Pa": ("pressure", 0.007500615758456563, 0.0),
    "cm[H2O]": ("pressure", 0.7355591, 0.0),
    "Cel": ("temperature", 1.0, 0.0),
    "[degF]": ("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "K": ("temperature", 1.0, -273.15),
    "/min": ("rate", 1.0, 0.0),
    "/s": ("rate", 60.0, 0.0),
    "Hz": ("rate", 60.0, 0.0),
    "/h": ("rate", 1.0 / 60.0, 0.0),
    "%": ("ratio", 1.0, 0.0),
    "1": ("ratio", 100.0, 0.0),  # a fraction 0..1
    "mV": ("potential", 1.0, 0.0),
    "uV": ("potential", 0.001, 0.0),
    "ms": ("time", 1.0, 0.0),
    "s": ("time", 1000.0, 0.0),
}

# Spellings seen in vendor payloads and HL7 OBX-6, mapped to UCUM.
ALIASES: dict[str, str] = {
    "mmHg": "mm[Hg]", "mmhg": "mm[Hg]", "MDC_DIM_MMHG": "mm[Hg]", "266016": "mm[Hg]",
    "kpa": "kPa", "MDC_DIM_KILO_PA": "kPa", "MDC_DIM_PASCAL": "Pa",
    "cmH2O": "cm[H2O]", "MDC_DIM_CM_H2O": "cm[H2O]",
    "degC": "Cel", "°C": "Cel", "℃": "Cel", "deg C": "Cel", "[degC]": "Cel", "C": "Cel", "celsius": "Cel", "MDC_DIM_DEGC": "Cel", "268192": "Cel",
    "degF": "[degF]", "°F": "[degF]", "℉": "[degF]", "deg F": "[degF]", "F": "[degF]", "fahrenheit": "[degF]", "MDC_DIM_FAHR": "[degF]",
    "kelvin": "K", "MDC_DIM_KELVIN": "K",
    "bpm": "/min", "1/min": "/min", "{beats}/min": "/min", "{breaths}/min": "/min", "/min": "/min",
    "MDC_DIM_BEAT_PER_MIN": "/min", "264864": "/min", "MDC_DIM_RESP_PER_MIN": "/min", "264928": "/min",
    "MDC_DIM_PER_MIN": "/min", "rpm": "/min", "brpm": "/min", "beats/min": "/min", "breaths/min": "/min",
    "per min": "/min", "min-1": "/min", "{beat}/min": "/min", "{breath}/min": "/min",
    "1/s": "/s", "MDC_DIM_HZ": "Hz",
    "percent": "%", "pct": "%", "%SpO2": "%", "MDC_DIM_PERCENT": "%", "262688": "%",
    "fraction": "1", "ratio": "1", "MDC_DIM_DIMLESS": "1", "262656": "1",
    "MDC_DIM_MILLI_VOLT": "mV", "MDC_DIM_MICRO_VOLT": "uV",
    "MDC_DIM_MILLI_SEC": "ms", "264338": "ms", "MDC_DIM_SEC": "s",
}

# Canonical catalogue units that are labels of a base unit of their dimension.
_CANONICAL_DIMENSION = {"mm[Hg]": "pressure", "Cel": "temperature", "/min": "rate", "%": "ratio", "mV": "potential",
                        "1": "ratio"}


class UnitError(ProfileError):
    """A unit is unknown, or cannot be converted into the signal's canonical unit."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """``canonical = value * scale + offset``."""

    scale: float = 1.0
    offset: float = 0.0

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0

    def apply(self, value: float) -> float:
        return value * self.scale + self.offset

    def invert(self, value: float) -> float:
        return (value - self.offset) / self.scale

    def then(self, scale: float, offset: float) -> Conversion:
        """First scale/offset in the vendor's unit (``raw * scale + offset``), then this conversion."""
        return Conversion(self.scale * scale, self.scale * offset + self.offset)


def ucum(unit: str) -> str:
    """Resolve a unit spelling to UCUM; raise :class:`UnitError` naming the known spellings."""
    u = unit.strip()
    if u in _UCUM:
        return u
    if u in ALIASES:
        return ALIASES[u]
    low = u.lower()
    for name, target in ALIASES.items():
        if name.lower() == low:
            return target
    raise UnitError(f"unknown unit {unit!r}; known: {', '.join(sorted(_UCUM))} (and spellings such as degF, mmHg, bpm)")


def conversion(unit: str, canonical: str) -> Conversion:
    """The conversion from ``unit`` into the catalogue unit ``canonical``."""
    src = ucum(unit)
    if src == canonical:
        return Conversion()
    dst = _UCUM.get(canonical)
    s = _UCUM[src]
    if dst is None or s[0] != dst[0] or canonical not in _CANONICAL_DIMENSION:
        raise UnitError(f"cannot convert {unit!r} into {canonical!r}")
    # value -> base: v*s1 + o1 ; base -> canonical: (b - o2) / s2
    scale = s[1] / dst[1]
    offset = (s[2] - dst[2]) / dst[1]
    return Conversion(scale, offset)
