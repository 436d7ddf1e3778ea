"""Yes/no metrics (a share of replications): a Wilson score interval that stays within [0, 100] %, no
median or 95th percentile, and no internal references in what users read."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from digital_twin import WardModel
from digital_twin.metric_text import metric_line
from digital_twin.report import Report
from digital_twin.report_html import render_html, write_reports
from digital_twin.runner import run
from digital_twin.scenario import Metric
from digital_twin.stats import summarize, wilson


def test_wilson_interval_matches_the_published_formula_and_stays_within_0_and_1() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775; 10/10 -> 0.7225 to 1
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert tuple(round(x, 4) for x in wilson(0, 10)) == (0.0, 0.2775)
    assert tuple(round(x, 4) for x in wilson(10, 10)) == (0.7225, 1.0)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_a_proportion_near_100_percent_has_its_interval_within_100() -> None:
    values = [100.0] * 97 + [0.0] * 3 + [math.nan] * 5  # 97 of 100 "yes", 5 replications without a value
    s = summarize(values, "%", "within 3 min", proportion=True)
    assert s.mean == 97.0 and (s.n, s.missing) == (100, 5)
    assert 0.0 <= s.ci95[0] < 97.0 < s.ci95[1] <= 100.0
    assert (round(s.ci95[0], 1), round(s.ci95[1], 1)) == (91.5, 99.0)
    assert math.isnan(s.p50) and math.isnan(s.p95)
    every = summarize([100.0] * 20, "%", proportion=True)
    assert every.mean == 100.0 and every.ci95[1] == 100.0 and every.ci95[0] < 100.0
    # the t interval of the mean (what it was) went above 100 for the same data
    t = summarize(values, "%")
    assert t.ci95[1] > 100.0 and t.p50 == 100.0


def test_code_blue_report_shows_shares_not_medians_and_no_internal_references(example_ward: WardModel,
                                                                             tmp_path: Path) -> None:
    r = run("code-blue", example_ward, replications=200, seed=8, workers=1)
    j, h = write_reports(r, tmp_path)
    data = json.loads(j.read_text())
    for name in ("shock_within_2min", "shock_within_3min"):
        m = data["metrics"][name]
        assert m["proportion"] is True and m["p50"] is None and m["p95"] is None, m
        assert 0.0 <= m["ci95"][0] <= m["mean"] <= m["ci95"][1] <= 100.0, m
        assert {"mean", "p50", "p95", "ci95", "unit"} <= set(m)
    assert data["metrics"]["first_shock_s"]["proportion"] is False
    assert data["metrics"]["first_shock_s"]["p95"] is not None
    page = h.read_text()
    text = j.read_text() + page
    assert "issue 6" not in text and "issue" not in data["metrics"]["shock_within_3min"]["label"]
    row = page.split("First shock within 3 min (ERC target)</td>")[1].split("</tr>")[0]
    assert "% of replications" in row and "(yes/no outcome)" in row and "101" not in row
    # read back from JSON (the API renders stored reports): still a proportion
    again = Report.from_json(data)
    assert again.specs["shock_within_3min"].proportion and render_html(again) == page
    line = metric_line(r.metrics["shock_within_3min"], r.specs["shock_within_3min"])
    assert "p95" not in line and "% of 2" in line, line  # "% of 200": the share of those replications


@pytest.mark.parametrize("scenario", ["evacuation", "code-blue", "power-outage"])
def test_references_and_labels_name_no_internal_issue(example_ward: WardModel, scenario: str) -> None:
    r = run(scenario, example_ward, replications=20, seed=1, workers=1)
    text = json.dumps(r.to_json())
    assert "issue 6" not in text and "(issue" not in text


def test_generator_failure_is_a_proportion(example_ward: WardModel) -> None:
    r = run("power-outage", example_ward, replications=50, seed=3, workers=1)
    spec: Metric = r.specs["generator_failed_pct"]
    s = r.metrics["generator_failed_pct"]
    assert spec.proportion and math.isnan(s.p95) and 0.0 <= s.ci95[0] <= s.ci95[1] <= 100.0


def test_terminal_figures_have_the_digits_their_size_warrants() -> None:
    from digital_twin.scenario import Metric
    from digital_twin.stats import MetricSummary

    big = MetricSummary(432142.4, 432140.0, 432216.0, (432056.2, 432228.9), 10.0, 5, 0)
    line = metric_line(big, Metric("samples", "backlog waiting at reconnect"))
    assert "432,142 samples" in line and "[432,056, 432,229]" in line and "p95 432,216" in line, line
    small = metric_line(MetricSummary(0.42, 0.4, 0.5, (0.38, 0.46), 0.1, 5, 0), Metric("min", "wait"))
    assert "0.42 min" in small and "[0.38, 0.46]" in small, small
