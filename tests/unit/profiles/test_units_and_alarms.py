"""Unit conversions into catalogue units, and the device alarm payload."""

from __future__ import annotations

import orjson
import pytest

from device_profiles import DeviceAlarm, PayloadError, decode_device_alarm
from device_profiles.units import UnitError, conversion, ucum

NOW = 1_763_805_900_000


@pytest.mark.parametrize(("unit", "canonical", "value", "expected"), [
    ("[degF]", "Cel", 98.6, 37.0), ("°F", "Cel", 32, 0.0), ("K", "Cel", 310.15, 37.0),
    ("kPa", "mm[Hg]", 16, 120.0098), ("MDC_DIM_KILO_PA", "mm[Hg]", 1, 7.500616), ("cmH2O", "mm[Hg]", 10, 7.3556),
    ("1", "%", 0.97, 97.0), ("fraction", "%", 0.5, 50.0), ("Hz", "/min", 1.2, 72.0), ("bpm", "/min", 72, 72.0),
    ("MDC_DIM_MMHG", "mm[Hg]", 120, 120.0), ("266016", "mm[Hg]", 90, 90.0), ("%", "%", 97, 97.0),
])
def test_conversions(unit: str, canonical: str, value: float, expected: float) -> None:
    assert conversion(unit, canonical).apply(value) == pytest.approx(expected, abs=1e-3)


def test_inverse_and_scale_then_convert() -> None:
    c = conversion("[degF]", "Cel").then(0.1, 0.0)  # tenths of a degree F
    assert c.apply(986) == pytest.approx(37.0)
    assert c.invert(37.0) == pytest.approx(986)


def test_refusals() -> None:
    with pytest.raises(UnitError, match="unknown unit 'furlong'"):
        ucum("furlong")
    with pytest.raises(UnitError, match="cannot convert 'kPa' into '%'"):
        conversion("kPa", "%")
    with pytest.raises(UnitError, match="cannot convert"):
        conversion("ms", "/min")


def test_device_alarm_roundtrip_and_validation() -> None:
    a = DeviceAlarm("mon-1", NOW - 1000, "MDC_EVT_LO_VAL_LT_LIM", "medium", "SpO2 low", signal="spo2", value=86.0,
                    id="9001", source="ihe-pcd-hl7-monitor")
    assert decode_device_alarm(a.encode(), "mon-1", now=NOW) == a
    for key, bad, msg in [("priority", "urgent", "priority"), ("state", "on", "state"), ("signal", "sao2", "unknown signal"),
                          ("t", 12, "before 2000")]:
        doc = a.to_json() | {key: bad}
        with pytest.raises(PayloadError, match=msg):
            decode_device_alarm(orjson.dumps(doc), now=NOW)
    with pytest.raises(PayloadError, match="differs from the topic"):
        decode_device_alarm(a.encode(), "mon-2", now=NOW)
