"""The scenario interface every drill implements, and parameter overrides (``--set key=value``).

A scenario is a class with a ``name``, a pydantic ``Params`` model (defaults + validation,
``extra="forbid"``), the ``metrics`` it reports, published ``references`` and two methods:

- ``run_once(ward, params, rng)`` runs ONE replication on its own ``simpy.Environment()`` using only
  ``rng`` for randomness and returns ``{metric: float}`` (NaN = "did not happen");
- ``check(ward, params)`` refuses parameters that do not fit the ward (a bed or gateway it does not
  have, a census larger than its beds) BEFORE any run starts: :class:`ParamError` naming the key and
  what the ward has, :class:`ScenarioError` when the ward itself cannot run the drill. The API (POST
  runs, 422) and the CLI (through :func:`digital_twin.runner.run`) both call it via :func:`prepare`;
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
from .model import WardModel
from .stats import MetricSummary


@dataclass(frozen=True)
class Metric:
    unit: str
    label: str
    lower_is_better: bool = True
    # what a replication without a value (NaN) means, in words a facility manager reads after "in N
    # replications": e.g. "no outbox filled up during the outage"
    absent: str = "it did not happen"
    # a yes/no outcome per replication, recorded as 0 or 100 (unit "%"): summarised as the share of
    # replications where it happened with a Wilson score 95 % CI; median and 95th percentile do not apply
    proportion: bool = False


class ScenarioParams(BaseModel):
    """Base for every scenario's ``Params``: unknown keys refused, values coerced from strings."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Scenario(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    metrics: ClassVar[Mapping[str, Metric]]
    references: ClassVar[Sequence[str]]

    def check(self, ward: WardModel, params: Any) -> None: ...

    def run_once(self, ward: WardModel, params: Any, rng: np.random.Generator) -> dict[str, float]: ...

    def summarize(self, ward: WardModel, params: Any, metrics: Mapping[str, MetricSummary]) -> list[str]: ...


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


def prepare(scenario: type[Scenario], ward: WardModel, overrides: Mapping[str, str | Any]) -> BaseModel:
    """:func:`parse_params`, then the scenario's own ``check`` of the parameters against ``ward``.

    The one validation before a run (API and CLI): :class:`ParamError` names the key."""
    params = parse_params(scenario, overrides)
    scenario().check(ward, params)
    return params


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["nurses=2", "shift=night"]`` -> ``{"nurses": "2", "shift": "night"}``; refuses ``nurses`` and
    ``nurses=`` (an empty value: to keep the default, leave the key out)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError("--set", item, "expected key=value")
        if not value.strip():
            raise ParamError("--set", key, "empty value (to keep the default, leave the key out)")
        out[key] = value.strip()
    return out


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as a user sees it (``smartward twin scenarios``, ``GET /api/v1/twin/scenarios``)."""

    name: str
    type: str  # JSON schema type of the value: number, integer, string, boolean
    default: Any
    description: str = ""
    enum: list[Any] | None = None  # the allowed values, when there is a fixed list
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False  # the value must be above ``minimum`` (e.g. a speed > 0)
    exclusive_maximum: bool = False


def describe_params(model: type[BaseModel]) -> list[ParamSpec]:
    """Every parameter of a ``Params`` model with its type, default, choices and range."""
    schema = model.model_json_schema()
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        spec = prop
        for alt in prop.get("anyOf") or ():  # Optional[...] -> the non-null alternative
            if alt.get("type") != "null":
                spec = {**alt, **{k: v for k, v in prop.items() if k != "anyOf"}}
                break
        if "$ref" in spec:
            spec = {**spec, **(schema.get("$defs") or {}).get(spec["$ref"].rsplit("/", 1)[-1], {})}
        field = model.model_fields[name]
        default = field.get_default(call_default_factory=True)
        out.append(ParamSpec(
            name=name, type=str(spec.get("type", "string")),
            default=default if default is None or isinstance(default, bool | int | float | str) else str(default),
            description=str(field.description or spec.get("description") or ""), enum=spec.get("enum"),
            minimum=spec.get("minimum", spec.get("exclusiveMinimum")),
            maximum=spec.get("maximum", spec.get("exclusiveMaximum")),
            exclusive_minimum="minimum" not in spec and "exclusiveMinimum" in spec,
            exclusive_maximum="maximum" not in spec and "exclusiveMaximum" in spec))
    return out


def params_dict(params: BaseModel) -> dict[str, Any]:
    """Parameters as plain JSON values (for report.json)."""
    return params.model_dump(mode="json")
