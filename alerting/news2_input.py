"""Validation of NEWS2 input sets at the boundary (CLI lines, spot observations).

Strict: unknown keys, wrong types (``true`` is not a number, ``"98"`` is not a number), values
outside the catalogue's physical range and unknown consciousness levels are refused with an
:class:`~alerting.errors.InputError` naming the field. ``null`` or an absent key means *not measured*.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from device_profiles import SIGNALS

from .errors import InputError
from .news2 import News2Input


class News2Line(BaseModel):
    """One JSON line of ``smartward news2``."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    resp_rate: float | None = Field(None, ge=SIGNALS["resp_rate"].low, le=SIGNALS["resp_rate"].high)
    spo2: float | None = Field(None, ge=SIGNALS["spo2"].low, le=SIGNALS["spo2"].high)
    spo2_scale: Literal[1, 2] | None = None  # null or absent: scale 1
    supplemental_o2: bool | None = None
    sbp: float | None = Field(None, ge=SIGNALS["nibp_sys"].low, le=SIGNALS["nibp_sys"].high)
    heart_rate: float | None = Field(None, ge=SIGNALS["heart_rate"].low, le=SIGNALS["heart_rate"].high)
    consciousness: Literal["A", "C", "V", "P", "U"] | None = None
    temperature: float | None = Field(None, ge=SIGNALS["temperature"].low, le=SIGNALS["temperature"].high)

    def to_input(self) -> News2Input:
        return News2Input(
            resp_rate=self.resp_rate, spo2=self.spo2, spo2_scale=self.spo2_scale or 1,
            supplemental_o2=self.supplemental_o2, sbp=self.sbp, heart_rate=self.heart_rate,
            consciousness=self.consciousness, temperature=self.temperature,
        )


# platform signal codes and common spellings that mean a NEWS2 input key
KEY_HINTS = {"nibp_sys": "sbp", "systolic": "sbp", "pulse_rate": "heart_rate", "pulse": "heart_rate",
             "hr": "heart_rate", "rr": "resp_rate", "respiratory_rate": "resp_rate", "temp": "temperature",
             "acvpu": "consciousness", "avpu": "consciousness", "o2": "supplemental_o2", "oxygen": "supplemental_o2"}


def _unknown_key(key: str) -> str:
    hint = KEY_HINTS.get(key.lower()) or next(iter(difflib.get_close_matches(key, list(News2Line.model_fields), 1)), None)
    known = ", ".join(News2Line.model_fields)
    return f"unknown key; did you mean {hint!r}? (keys: {known})" if hint else f"unknown key; expected one of {known}"


def parse_news2_input(data: Any) -> News2Input:
    """Validate a decoded JSON value; raise :class:`InputError` naming the first bad field."""
    if not isinstance(data, dict):
        raise InputError("$", f"expected a JSON object, got {type(data).__name__}")
    try:
        return News2Line.model_validate(data).to_input()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "$"
        if err["type"] == "extra_forbidden":
            raise InputError(where, _unknown_key(where)) from None
        raise InputError(where, f"{err['msg']} (got {err.get('input')!r})") from None
