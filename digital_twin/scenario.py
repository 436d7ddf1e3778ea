"""The scenario interface every drill implements, and parameter overrides (``--set key=value``).

A scenario is a class with a ``name``, a pydantic ``Params`` model (defaults + validation,
``extra="forbid"``), the ``metrics`` it reports, published ``references`` and two methods:

- ``run_once(ward, params, rng)`` runs ONE replication on its own ``simpy.Environment()`` using only
  ``rng`` for randomness and returns ``{metric: float}`` (NaN = "did not happen");
- ``summarize(ward, params, metrics)`` turns the statistics into sentences a facility manager can act on.

Scenarios register in :mod:`digital_twin.scenarios` (``SCENARIOS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ParamError
from .model import Ward
from .stats import Summary


@dataclass(frozen=True)
class Metric:
    unit: str
    label: str
    lower_is_better: bool = True


class ScenarioParams(BaseModel):
    """Base for every scenario's ``Params``: unknown keys refused, values coerced from strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Scenario(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    metrics: ClassVar[Mapping[str, Metric]]
    references: ClassVar[Sequence[str]]

    def run_once(self, ward: Ward, params: Any, rng: np.random.Generator) -> dict[str, float]: ...

    def summarize(self, ward: Ward, params: Any, metrics: Mapping[str, Summary]) -> list[str]: ...


def parse_params(scenario: type[Scenario], overrides: Mapping[str, str | Any]) -> BaseModel:
    """``Params`` with ``overrides`` applied; an unknown key or bad value names the key.

    Values may be strings as typed on the command line (``"4"``, ``"night"``, ``"true"``,
    ``"none"``/``"null"`` for an optional value); pydantic converts them in lax mode.
    """
    fields = scenario.Params.model_fields
    data: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "(none)"
            raise ParamError(scenario.name, key, f"unknown parameter; {scenario.name} takes: {known}")
        value = raw
        if isinstance(raw, str) and raw.strip().lower() in ("none", "null", ""):
            value = None
        data[key] = value
    try:
        return scenario.Params.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        got = data.get(str(err["loc"][0]), "") if err["loc"] else ""
        raise ParamError(scenario.name, key, f"{err['msg']} (got {got!r})") from None


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["nurses=2", "shift=night"]`` -> ``{"nurses": "2", "shift": "night"}``; refuses ``nurses``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError("--set", item, "expected key=value")
        out[key] = value.strip()
    return out


def params_dict(params: BaseModel) -> dict[str, Any]:
    """Parameters as plain JSON values (for report.json)."""
    return params.model_dump(mode="json")
