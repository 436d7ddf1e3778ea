"""The result of a run (``Report``) and of a comparison of two runs, as JSON-ready data.

``Report.to_json()`` holds no wall-clock time and is rendered with sorted keys, so the same seed gives
a byte-identical ``report.json`` (:func:`report_bytes`). NaN (a metric that did not happen in a
replication) becomes ``null`` in JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .scenario import Metric
from .stats import Difference, MetricSummary, _r, welch


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else _r(x)


def _float(x: Any) -> float:
    return float("nan") if x is None else float(x)


@dataclass(frozen=True)
class Report:
    scenario: str
    title: str
    ward: str  # ward id
    ward_name: str
    seed: int
    replications: int
    parameters: Mapping[str, Any]
    specs: Mapping[str, Metric]  # report order
    metrics: Mapping[str, MetricSummary]
    summary: Sequence[str]
    references: Sequence[str]
    samples: Mapping[str, Sequence[float]] = field(repr=False)
    census: Mapping[str, Any] | None = None  # where the ward's census came from (file or live platform)

    def to_json(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {}
        for name, spec in self.specs.items():
            s = self.metrics[name]
            metrics[name] = {
                "mean": _num(s.mean), "p50": _num(s.p50), "p95": _num(s.p95),
                "ci95": [_num(s.ci95[0]), _num(s.ci95[1])], "sd": _num(s.sd), "n": s.n, "missing": s.missing,
                "unit": spec.unit, "label": spec.label, "lower_is_better": spec.lower_is_better,
                "absent": spec.absent,  # what the `missing` replications mean (n = those where it happened)
                # yes/no metric: mean = % of replications with "yes", ci95 = Wilson interval, p50/p95 null
                "proportion": spec.proportion,
            }
        out: dict[str, Any] = {
            "scenario": self.scenario, "title": self.title, "ward": self.ward, "ward_name": self.ward_name,
            "seed": self.seed, "replications": self.replications, "parameters": dict(self.parameters),
            "metric_order": list(self.specs), "metrics": metrics, "summary": list(self.summary),
            "references": list(self.references),
            "samples": {k: [_num(v) for v in self.samples[k]] for k in self.specs},
        }
        if self.census is not None:
            out["census"] = dict(self.census)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """Read back a ``report.json`` (for pages that render stored reports)."""
        specs: dict[str, Metric] = {}
        metrics: dict[str, MetricSummary] = {}
        for name in data["metric_order"]:
            m = data["metrics"][name]
            specs[name] = Metric(m["unit"], m["label"], bool(m.get("lower_is_better", True)),
                                 **({"absent": str(m["absent"])} if m.get("absent") else {}),
                                 proportion=bool(m.get("proportion", False)))
            metrics[name] = MetricSummary(
                mean=_float(m["mean"]), p50=_float(m["p50"]), p95=_float(m["p95"]),
                ci95=(_float(m["ci95"][0]), _float(m["ci95"][1])), sd=_float(m.get("sd")), n=int(m["n"]),
                missing=int(m["missing"]), unit=m["unit"], label=m["label"])
        return cls(
            scenario=data["scenario"], title=data.get("title", data["scenario"]), ward=data["ward"],
            ward_name=data.get("ward_name", data["ward"]), seed=int(data["seed"]),
            replications=int(data["replications"]), parameters=data["parameters"], specs=specs,
            metrics=metrics, summary=data["summary"], references=data.get("references", []),
            samples={k: [_float(v) for v in data["samples"][k]] for k in specs}, census=data.get("census"),
        )


def report_bytes(obj: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, two-space indent, no NaN, trailing newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n").encode("utf-8")


def compare(a: Report, b: Report) -> dict[str, Any]:
    """Per metric: the two means and ``b - a`` with its Welch 95 % CI."""
    if a.scenario != b.scenario:
        raise ValueError(f"cannot compare {a.scenario!r} with {b.scenario!r}")
    out: dict[str, Any] = {}
    for name, spec in a.specs.items():
        d: Difference = welch(a.samples[name], b.samples[name])
        out[name] = {
            "label": spec.label, "unit": spec.unit, "lower_is_better": spec.lower_is_better,
            "mean_a": _num(a.metrics[name].mean), "mean_b": _num(b.metrics[name].mean),
            "diff": _num(d.diff), "ci95": [_num(d.ci95[0]), _num(d.ci95[1])], "df": _num(d.df),
            "relative": _num(d.relative), "significant": d.significant,
        }
    return {
        "scenario": a.scenario, "ward": a.ward, "seed": a.seed, "replications": [a.replications, b.replications],
        "a": dict(a.parameters), "b": dict(b.parameters), "metric_order": list(a.specs), "difference": out,
        "method": "b - a; 95 % CI by Welch's t (unequal variances); both runs use the same seed "
                  "(common random numbers), which makes the interval conservative.",
    }
