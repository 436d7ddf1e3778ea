"""Nurse spot observations and alarm commands: the two payloads the dashboard sends to alerting.

Spot observations (``{root}/wards/{ward}/spot``) carry what a monitor cannot measure: ACVPU
consciousness (``C`` with ``new_confusion`` true when the nurse confirms the confusion is new, false
when it is the patient's known baseline), air or oxygen, the SpO2 scale for hypercapnic patients,
whether the patient is ventilated or sedated on purpose, and manual values.
Commands (``{root}/commands/alarms/{ward}``) act on one alarm. Both are validated strictly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from device_profiles import SIGNALS

from .errors import InputError

_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class SpotObservation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    patient: str = Field(pattern=_ID)
    bed: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    ward: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    t: int = Field(ge=946_684_800_000)
    by: str = Field(min_length=1, max_length=128)
    consciousness: Literal["A", "C", "V", "P", "U"] | None = None
    new_confusion: bool | None = None  # with consciousness "C": confirmed new (true) or known baseline (false)
    sedated: bool | None = None  # sedated on purpose (e.g. to a RASS target) or ventilated: see news2.suspend_sedated
    ventilated: bool | None = None
    supplemental_o2: bool | None = None
    spo2_scale: Literal[1, 2] | None = None
    temperature: float | None = Field(None, ge=SIGNALS["temperature"].low, le=SIGNALS["temperature"].high)
    resp_rate: float | None = Field(None, ge=SIGNALS["resp_rate"].low, le=SIGNALS["resp_rate"].high)
    spo2: float | None = Field(None, ge=SIGNALS["spo2"].low, le=SIGNALS["spo2"].high)
    nibp_sys: float | None = Field(None, ge=SIGNALS["nibp_sys"].low, le=SIGNALS["nibp_sys"].high)
    heart_rate: float | None = Field(None, ge=SIGNALS["heart_rate"].low, le=SIGNALS["heart_rate"].high)

    @model_validator(mode="after")
    def _confusion_with_c(self) -> SpotObservation:
        if self.new_confusion is not None and self.consciousness != "C":
            raise ValueError("new_confusion goes with consciousness 'C' (is the confusion new?)")
        return self

    def values(self) -> dict[str, Any]:
        """The observed values (everything but who/when)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items()
                if k not in ("patient", "bed", "ward", "t", "by")}


class AlarmCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(pattern=_ID)
    action: Literal["acknowledge", "silence", "escalate", "clear"]
    by: str = Field(min_length=1, max_length=128)
    minutes: float | None = Field(None, gt=0, le=120)
    t: int | None = None


def _first_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "$"
    return InputError(where, f"{err['msg']} (got {err.get('input')!r})")


def parse_spot(data: Any) -> SpotObservation:
    try:
        return SpotObservation.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


def parse_command(data: Any) -> AlarmCommand:
    try:
        cmd = AlarmCommand.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None
    if cmd.action == "silence" and cmd.minutes is None:
        raise InputError("minutes", "silence needs minutes (0 < minutes <= 120)")
    return cmd
