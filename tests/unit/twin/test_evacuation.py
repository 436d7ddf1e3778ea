"""The evacuation scenario: staffing, learning, aids and the published reference it is calibrated to."""

from __future__ import annotations

import numpy as np
import pytest

from digital_twin import ScenarioError, WardModel, parse_params
from digital_twin.runner import run
from digital_twin.scenarios.evacuation import Evacuation, build_plan


def _samples(ward: WardModel, n: int, **overrides: str) -> dict[str, np.ndarray]:
    r = run("evacuation", ward, replications=n, seed=21, overrides=overrides, workers=1)
    return {k: np.asarray(v, dtype=float) for k, v in r.samples.items()}


def test_halving_night_nurses_lengthens_evacuation(example_ward: WardModel) -> None:
    full = _samples(example_ward, 200, shift="night")
    half = _samples(example_ward, 200, shift="night", nurses="2")  # roster: 4 RN at night
    assert half["total_min"].mean() > full["total_min"].mean() * 1.15  # measured: ~37 -> ~50 min
    r = run("evacuation", example_ward, replications=200, seed=21, overrides={"shift": "night"}, workers=1)
    assert r.metrics["total_min"].ci95[1] < float(np.percentile(half["total_min"], 25))
    assert half["staff_load_min"].mean() > full["staff_load_min"].mean()


def test_staff_scale_and_day_shift(example_ward: WardModel) -> None:
    night = _samples(example_ward, 60, shift="night")["total_min"].mean()
    day = _samples(example_ward, 60, shift="day")["total_min"].mean()
    doubled = _samples(example_ward, 60, shift="night", staff_scale="2")["total_min"].mean()
    assert day < night and doubled < night


def test_repeat_drills_shorten_pre_movement(example_ward: WardModel) -> None:
    first = _samples(example_ward, 60)
    fourth = _samples(example_ward, 60, prior_drills="3")
    assert fourth["mean_pre_movement_min"].mean() < first["mean_pre_movement_min"].mean() * 0.9
    p0 = build_plan(example_ward, parse_params(Evacuation, {}))  # type: ignore[arg-type]
    p3 = build_plan(example_ward, parse_params(Evacuation, {"prior_drills": "3"}))  # type: ignore[arg-type]
    p99 = build_plan(example_ward, parse_params(Evacuation, {"prior_drills": "99"}))  # type: ignore[arg-type]
    assert p0.learning == 1.0
    assert p3.learning == pytest.approx(4 ** np.log2(0.9))  # Wright: 0.9 per doubling, 2 doublings = 0.81
    assert p99.learning == 0.6  # floor


def test_metrics_are_consistent(example_ward: WardModel) -> None:
    s = _samples(example_ward, 30)
    assert np.all(s["high_acuity_clear_min"] <= s["total_min"] + 1e-9)
    assert np.all((s["pre_movement_pct"] > 0) & (s["pre_movement_pct"] < 100))
    assert np.all(s["mean_pre_movement_min"] < s["total_min"])
    assert np.all(s["patients_per_staff"] == pytest.approx(30 / 7))


def test_movement_speeds_follow_the_issue(example_ward: WardModel) -> None:
    plan = build_plan(example_ward, parse_params(Evacuation, {}))  # type: ignore[arg-type]
    for task in plan.tasks:
        speed = {"bed": 0.7, "wheelchair": 1.1, "walker": 1.0, "ambulant": 1.2}[task.mobility]
        metres = task.move_s * speed
        assert 5.0 <= metres <= 45.0  # every room is within 45 m of an exit or the refuge
    assert sum(t.staff for t in plan.tasks if t.mobility == "bed") == 2 * sum(1 for t in plan.tasks if t.mobility == "bed")


def test_stairs_need_evac_aids(example_ward: WardModel) -> None:
    stairs = _samples(example_ward, 30, destination="stairs", floors_down="2")["total_min"].mean()
    horizontal = _samples(example_ward, 30)["total_min"].mean()
    assert stairs > horizontal
    no_aids = example_ward.with_overrides(equipment=[e for e in example_ward.equipment if e.kind != "evac_sled"])
    with pytest.raises(ScenarioError, match="needs an evac_sled"):
        run("evacuation", no_aids, replications=1, seed=0, overrides={"destination": "stairs"})


def test_nobody_on_shift_is_a_clear_error(example_ward: WardModel) -> None:
    with pytest.raises(ScenarioError, match="nobody on the night shift"):
        run("evacuation", example_ward, replications=1, seed=0,
            overrides={"nurses": "0", "charge_nurses": "0", "hcas": "0"})
    with pytest.raises(ScenarioError, match="census 31 exceeds the 30 beds"):
        run("evacuation", example_ward, replications=1, seed=0, overrides={"census": "31"})


def test_validation_pre_movement_share_matches_published_drills(example_ward: WardModel) -> None:
    """docs/digital-twin.md, Validation: drill conditions -> about 73 % of the time is pre-movement."""
    r = run("evacuation", example_ward, replications=400, seed=0, workers=1,
            overrides={"shift": "day", "census": "10", "beyond_exit_m": "100"})
    assert abs(r.metrics["pre_movement_pct"].mean - 73.0) <= 5.0


def test_powered_bed_movers_free_a_pair_of_hands(example_ward: WardModel) -> None:
    without = _samples(example_ward, 100, shift="night")
    movers = _samples(example_ward, 100, shift="night", use_bed_movers="true")
    assert movers["total_min"].mean() < without["total_min"].mean() - 1.0  # measured: ~37 -> ~33 min
    assert movers["staff_load_min"].mean() < without["staff_load_min"].mean()
    none = example_ward.with_overrides(equipment=[e for e in example_ward.equipment if e.kind != "bed_mover"])
    same = _samples(none, 100, shift="night", use_bed_movers="true")
    assert np.array_equal(same["total_min"], without["total_min"])  # no mover on the ward: nothing changes
