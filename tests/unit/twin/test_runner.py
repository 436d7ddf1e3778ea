"""The runner: seeded, order-preserving across processes, byte-identical report.json, clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from digital_twin import ParamError, ScenarioError, WardModel, summarize, welch
from digital_twin.report import Report, compare, report_bytes
from digital_twin.report_html import write_compare, write_reports
from digital_twin.runner import run


def test_same_seed_same_report_bytes_other_seed_differs(example_ward: WardModel, tmp_path: Path) -> None:
    a = run("evacuation", example_ward, replications=40, seed=11, workers=1)
    b = run("evacuation", example_ward, replications=40, seed=11, workers=1)
    c = run("evacuation", example_ward, replications=40, seed=12, workers=1)
    ja, _ = write_reports(a, tmp_path / "a")
    assert ja.read_bytes() == report_bytes(b.to_json())  # what write_reports writes for b
    assert ja.read_bytes() != report_bytes(c.to_json())


def test_worker_processes_give_the_same_numbers_in_replication_order(example_ward: WardModel) -> None:
    seen: list[tuple[int, int]] = []
    one = run("code-blue", example_ward, replications=300, seed=5, workers=1)
    two = run("code-blue", example_ward, replications=300, seed=5, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert report_bytes(one.to_json()) == report_bytes(two.to_json())
    assert seen[-1] == (300, 300) and all(t == 300 for _, t in seen)
    assert seen[0] == (0, 300) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_report_round_trips_through_json(example_ward: WardModel) -> None:
    r = run("code-blue", example_ward, replications=20, seed=1, overrides={"p_shockable": "0.5"}, workers=1)
    data = r.to_json()
    assert report_bytes(Report.from_json(data).to_json()) == report_bytes(data)
    shock = data["metrics"]["first_shock_s"]
    assert shock["missing"] > 0 and None in data["samples"]["first_shock_s"]  # NaN -> null, counted


def test_bad_inputs_are_named(example_ward: WardModel) -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'fire'; known: .*evacuation"):
        run("fire", example_ward, replications=1, seed=0)
    with pytest.raises(ParamError, match=r"parameter 'nurse': unknown parameter; evacuation takes: .*nurses"):
        run("evacuation", example_ward, replications=1, seed=0, overrides={"nurse": "2"})
    with pytest.raises(ParamError, match=r"parameter 'shift'.*'evening'"):
        run("evacuation", example_ward, replications=1, seed=0, overrides={"shift": "evening"})
    with pytest.raises(ScenarioError, match=r"replications must be between 1 and 100,000 \(got 0\)"):
        run("evacuation", example_ward, replications=0, seed=0)
    with pytest.raises(ScenarioError, match="got 100001"):
        run("evacuation", example_ward, replications=100_001, seed=0)
    with pytest.raises(ScenarioError, match="no bed 'zz'"):
        run("code-blue", example_ward, replications=1, seed=0, overrides={"bed": "zz"})


def test_statistics() -> None:
    s = summarize([1.0, 2.0, 3.0, 4.0, float("nan")], "min", "x")
    assert (s.mean, s.p50, s.n, s.missing) == (2.5, 2.5, 4, 1)
    # t(0.975, 3) = 3.182; sd = 1.291; half width = 3.182 * 1.291 / 2 = 2.054
    assert s.ci95[0] == pytest.approx(0.446, abs=1e-3) and s.ci95[1] == pytest.approx(4.554, abs=1e-3)
    rng = np.random.default_rng(0)
    d = welch(rng.normal(10, 1, 400), rng.normal(12, 2, 300))
    assert d.ci95[0] < 2.0 < d.ci95[1] and d.significant
    same = welch([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same.diff == 0 and not same.significant
    empty = summarize([float("nan")] * 3)
    assert empty.n == 0 and empty.missing == 3 and math.isnan(empty.mean)


def test_compare_writes_both_reports_and_the_difference(example_ward: WardModel, tmp_path: Path) -> None:
    a = run("evacuation", example_ward, replications=60, seed=2, overrides={"shift": "night"}, workers=1)
    b = run("evacuation", example_ward, replications=60, seed=2, overrides={"shift": "day"}, workers=1)
    cmp = write_compare(a, b, tmp_path)
    for f in ("a/report.json", "a/report.html", "b/report.json", "b/report.html", "compare.json", "compare.html"):
        assert (tmp_path / f).is_file(), f
    total = cmp["difference"]["total_min"]
    assert total["diff"] < 0 and total["ci95"][1] < 0 and total["significant"]  # more staff by day: faster
    with pytest.raises(ValueError, match="cannot compare"):
        compare(a, run("code-blue", example_ward, replications=2, seed=2, workers=1))


def test_errors_survive_the_trip_from_a_worker_process() -> None:
    import pickle

    from digital_twin import WardError, WardIssue

    ward_error = pickle.loads(pickle.dumps(WardError("w.yaml", [WardIssue("beds[0].room", 3, "no room 'x'")])))
    assert str(ward_error) == "w.yaml:3: beds[0].room: no room 'x'" and ward_error.issues[0].line == 3
    param_error = pickle.loads(pickle.dumps(ParamError("evacuation", "nurses", "bad")))
    assert (str(param_error), param_error.key) == ("evacuation: parameter 'nurses': bad", "nurses")
