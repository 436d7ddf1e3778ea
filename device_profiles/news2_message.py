"""The NEWS2 result as alerting publishes it, retained, on ``{root}/news2/{ward}/{patient}``.

One definition for both ends: alerting builds it from its scorer's result (``AlertingService._publish_news2``)
and the dashboard hub reads it (``WardState.news2``: the score a tile, the census and the shift report show;
the dashboard computes none of its own). At a bed nobody is admitted to alerting scores the device: the topic's
last level is the device and ``patient`` is ``""``. An empty retained payload clears the score (not a message).

``risk`` is the RCP 2017 band (:class:`News2Risk`); ``frequency`` and ``response`` are alerting's sentences
for that band (an incomplete score asks for the missing observations, so they are not a closed set).
:meth:`News2Message.from_json` is strict per field and tolerant of what may be missing (only ``total`` and
``risk`` are required); :class:`~device_profiles.errors.PayloadError` names the field. The payload is
documented in docs/architecture.md ("NEWS2, device status and drill state payloads").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from .canonical import check_time
from .errors import PayloadError
from .payload_fields import as_object, choice, flag, optional_id, text

MAX_TOTAL = 20  # 3 for each of six parameters + 2 for supplemental oxygen
MAX_PARAMETER_SCORE = 3
_PARAMETER = re.compile(r"[a-z][a-z0-9_]{0,31}")


class News2Risk(StrEnum):
    """The NEWS2 clinical risk band (RCP 2017), lowest first; ``alerting.Risk`` is this enum."""

    LOW = "low"
    LOW_MEDIUM = "low-medium"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class News2Message:
    """A patient's (or an unadmitted bed's device's) current NEWS2, as published by alerting."""

    total: int  # the sum of the given parameters' scores: a floor of the true score when not ``complete``
    risk: News2Risk
    complete: bool = False  # False: parameters are missing and the score cannot reassure
    scores: dict[str, int] = field(default_factory=dict)  # parameter -> its score 0..3
    missing: list[str] = field(default_factory=list)  # parameters not measured
    suspended: str = ""  # why NEWS2 is suspended for this patient (a ward setting), or ""
    frequency: str = ""  # the recommended minimum observation frequency
    response: str = ""  # the recommended clinical response
    t: int | None = None  # when it was scored (ms)
    ward: str = ""
    bed: str = ""
    patient: str = ""  # "" for a device at a bed nobody is admitted to
    device: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"total": self.total, "scores": dict(self.scores), "risk": self.risk.value,
                               "complete": self.complete, "missing": list(self.missing)}
        if self.suspended:
            out["suspended"] = self.suspended
        out |= {"frequency": self.frequency, "response": self.response, "t": self.t, "ward": self.ward,
                "bed": self.bed, "patient": self.patient, "device": self.device}
        return out

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_json(cls, msg: Any, now: int) -> News2Message:
        """Validate a NEWS2 result published by alerting; :class:`PayloadError` names the field.

        Required: ``total`` (an integer 0..20) and ``risk``; ``t`` (when given) not after ``now`` + 5 min;
        ``ward``, ``bed``, ``patient`` and ``device`` are ids when given. Fields it does not know are ignored."""
        m = as_object(msg, "NEWS2 result")
        total = m.get("total")
        if type(total) is not int or not 0 <= total <= MAX_TOTAL:
            raise PayloadError("total", "missing" if total is None else f"{total!r} is not an integer 0..{MAX_TOTAL}")
        t = m.get("t")
        return cls(
            total=total, risk=choice(News2Risk, m.get("risk"), "risk", "a NEWS2 risk band"),
            complete=False if m.get("complete") is None else flag(m["complete"], "complete"),
            scores=_scores(m.get("scores")), missing=_missing(m.get("missing")),
            suspended=text(m.get("suspended"), "suspended"), frequency=text(m.get("frequency"), "frequency"),
            response=text(m.get("response"), "response"), t=None if t is None else check_time(t, "t", now),
            ward=optional_id(m.get("ward"), "ward"), bed=optional_id(m.get("bed"), "bed"),
            patient=optional_id(m.get("patient"), "patient"), device=optional_id(m.get("device"), "device"),
        )


def _parameter(name: Any, where: str) -> str:
    if not isinstance(name, str) or not _PARAMETER.fullmatch(name):
        raise PayloadError(where, f"{name!r} is not a NEWS2 parameter name")
    return name


def _scores(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 16:
        raise PayloadError("scores", "must be an object {parameter: score}")
    for name, score in value.items():
        _parameter(name, "scores")
        if type(score) is not int or not 0 <= score <= MAX_PARAMETER_SCORE:
            raise PayloadError(f"scores.{name}", f"{score!r} is not an integer 0..{MAX_PARAMETER_SCORE}")
    return dict(value)


def _missing(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 16:
        raise PayloadError("missing", "must be a list of parameter names")
    return [_parameter(v, f"missing[{i}]") for i, v in enumerate(value)]
