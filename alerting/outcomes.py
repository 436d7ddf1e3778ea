"""Outcomes for ``alarms evaluate``: which patients had an event, when, and a reference score.

Three sources, each read strictly (a bad line names the line and the field):

* a PhysioNet 2012 ``Outcomes-*.txt`` (``RecordID,SAPS-I,SOFA,Length_of_stay,Survival,
  In-hospital_death``): the event is in-hospital death, with no time (it may come days after the
  48 h recorded), so any time during the stay counts; the reference score is SAPS-I (``-1`` = missing);
* the ``SepsisLabel`` column of PhysioNet 2019 recordings (:attr:`Recording.labels`): the event is
  the label's onset, in ms since the recording's first row;
* a JSON file: ``{"outcome": "sepsis", "events": {"<patient>": <onset hours since the recording's
  first sample> | null}, "reference": {"name": "SOFA", "scores": {"<patient>": 3}}}`` (``null``:
  an event without a time; patients not listed had no event; ``reference`` is optional).

Only patients whose outcome is known are scored: all listed in an Outcomes file, or every replayed
patient for labels and JSON.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError
from .lead_window import HOUR


@dataclass(frozen=True, slots=True)
class Outcomes:
    """``events``: patient -> onset (ms since the recording's start) or None (any time during the
    stay); ``known``: patients whose outcome is known (None = every replayed patient)."""

    name: str
    events: dict[str, int | None]
    known: frozenset[str] | None = None
    reference_name: str | None = None
    reference: dict[str, float] = field(default_factory=dict)

    def has_outcome(self, patient: str) -> bool:
        return self.known is None or patient in self.known


class _Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=40)
    scores: dict[str, float]


class _EventsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    outcome: str = Field("event", min_length=1, max_length=40)
    events: dict[str, float | None]
    reference: _Reference | None = None


def from_labels(labels: dict[str, int], name: str = "SepsisLabel onset") -> Outcomes:
    return Outcomes(name, dict(labels))


def read_physionet2012_outcomes(path: Path) -> Outcomes:
    events: dict[str, int | None] = {}
    known: set[str] = set()
    reference: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        need = {"RecordID", "SAPS-I", "In-hospital_death"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise InputError("outcomes", f"{path}: not a PhysioNet 2012 Outcomes file (needs {', '.join(sorted(need))})")
        for i, row in enumerate(reader, start=2):
            try:
                patient = str(int(row["RecordID"]))
                death = int(row["In-hospital_death"])
                saps = float(row["SAPS-I"])
            except (TypeError, ValueError):
                raise InputError(f"line {i}", f"{path}: RecordID, SAPS-I and In-hospital_death must be numbers") from None
            if death not in (0, 1):
                raise InputError(f"line {i}: In-hospital_death", f"{death} is not 0 or 1")
            known.add(patient)
            if death:
                events[patient] = None
            if saps >= 0 and math.isfinite(saps):  # -1: not recorded
                reference[patient] = saps
    return Outcomes("in-hospital death", events, frozenset(known), "SAPS-I", reference)


def read_events_json(path: Path) -> Outcomes:
    try:
        doc = _EventsFile.model_validate(orjson.loads(path.read_bytes()))
    except orjson.JSONDecodeError as exc:
        raise InputError("outcomes", f"{path}: not valid JSON ({exc})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "$"
        raise InputError(where, f"{path}: {err['msg']}") from None
    events = {p: (None if h is None else round(h * HOUR)) for p, h in doc.events.items()}
    ref = doc.reference
    return Outcomes(doc.outcome, events, None, ref.name if ref else None, dict(ref.scores) if ref else {})


def read_outcomes(path: str | Path) -> Outcomes:
    """An Outcomes-*.txt (PhysioNet 2012) or a JSON events file, told apart by content."""
    p = Path(path)
    if not p.is_file():
        raise InputError("outcomes", f"{p}: no such file")
    with p.open("rb") as f:
        head = f.read(64).lstrip()
    return read_events_json(p) if head.startswith(b"{") else read_physionet2012_outcomes(p)
