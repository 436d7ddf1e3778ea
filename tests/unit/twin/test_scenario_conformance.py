"""Every registered scenario (SCENARIOS, so new ones are covered automatically) obeys the interface:
runs a few replications from the runner, is reproducible, and writes both reports."""

from __future__ import annotations

import html as html_lib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

from digital_twin import ParamError, WardModel, parse_params, prepare
from digital_twin.report_html import write_reports
from digital_twin.runner import run
from digital_twin.scenarios import SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_class_attributes(name: str) -> None:
    cls = SCENARIOS[name]
    assert cls.name == name and cls.title
    assert issubclass(cls.Params, BaseModel) and cls.Params.model_config.get("extra") == "forbid"
    assert cls.metrics and all(m.unit is not None and m.label for m in cls.metrics.values())
    assert cls.references and all(isinstance(r, str) and r for r in cls.references)
    with pytest.raises(ParamError, match="no_such_parameter"):
        parse_params(cls, {"no_such_parameter": "1"})
    assert all(m.absent and "nan" not in m.absent.lower() for m in cls.metrics.values())  # NaN said in words


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_check_accepts_the_defaults_on_the_example_ward(name: str, example_ward: WardModel) -> None:
    """``Scenario.check`` (run by the API before queueing and by the runner before any replication)."""
    cls = SCENARIOS[name]
    cls().check(example_ward, parse_params(cls, {}))
    assert prepare(cls, example_ward, {}) == parse_params(cls, {})


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_run_once_is_deterministic_and_returns_every_metric(name: str, example_ward: WardModel) -> None:
    cls = SCENARIOS[name]
    params = parse_params(cls, {})
    a = cls().run_once(example_ward, params, np.random.default_rng(7))
    b = cls().run_once(example_ward, params, np.random.default_rng(7))
    assert set(a) >= set(cls.metrics)
    assert all(isinstance(v, float) for v in a.values())
    assert {k: (None if math.isnan(v) else v) for k, v in a.items()} == {k: (None if math.isnan(v) else v) for k, v in b.items()}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_runs_from_the_runner_and_writes_both_reports(name: str, example_ward: WardModel, tmp_path: Path) -> None:
    report = run(name, example_ward, replications=8, seed=3, workers=1)
    js, page = write_reports(report, tmp_path)
    data = json.loads(js.read_text())
    assert data["scenario"] == name and data["replications"] == 8 and data["seed"] == 3
    for metric in SCENARIOS[name].metrics:
        m = data["metrics"][metric]
        assert {"mean", "p50", "p95", "ci95", "unit", "n", "missing"} <= set(m)
        assert m["n"] + m["missing"] == 8
        assert len(data["samples"][metric]) == 8
    assert data["summary"] and all(isinstance(s, str) for s in data["summary"])
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html  # self-contained
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    assert all(sentence.replace("`", "") in text for sentence in report.summary)
