"""alarm-load drill: more alarms -> slower response, more nurses -> faster, fatigue -> fewer answers."""

from __future__ import annotations

import numpy as np
import pytest

from digital_twin import ParamError, ScenarioError, WardModel, example_ward_path, load_ward
from digital_twin.runner import run
from digital_twin.scenario import parse_params
from digital_twin.scenarios.alarm_load import AlarmLoad, AlarmLoadParams
from digital_twin.stats import summarize

SEEDS = range(6)


@pytest.fixture(scope="module")
def ward() -> WardModel:
    return load_ward(example_ward_path())


def mean(ward: WardModel, metric: str, **kw: object) -> float:
    """Mean of ``metric`` over the same seeds (common random numbers: comparisons are paired)."""
    params = AlarmLoadParams.model_validate({"hours": 4, **kw})
    return float(np.mean([AlarmLoad().run_once(ward, params, np.random.default_rng(s))[metric] for s in SEEDS]))


def test_more_alarms_slower_response(ward: WardModel) -> None:
    p95 = [mean(ward, "response_p95_s", alarms_per_bed_hour=r) for r in (2, 8, 20)]
    assert p95[0] < p95[1] < p95[2]
    assert mean(ward, "actionable_p95_s", alarms_per_bed_hour=2) < mean(ward, "actionable_p95_s", alarms_per_bed_hour=20)


def test_more_nurses_faster_response(ward: WardModel) -> None:
    p95 = [mean(ward, "response_p95_s", nurses=n) for n in (3, 5, 8)]
    assert p95[0] > p95[1] > p95[2]
    assert mean(ward, "unanswered_pct", nurses=3) > mean(ward, "unanswered_pct", nurses=8)


def test_fatigue_slows_responses_and_leaves_more_alarms_unanswered(ward: WardModel) -> None:
    assert mean(ward, "unanswered_pct", fatigue_gain=0) < mean(ward, "unanswered_pct", fatigue_gain=0.3)
    assert mean(ward, "response_p50_s", fatigue_gain=0) < mean(ward, "response_p50_s", fatigue_gain=0.3)


def test_alarm_rate_per_nurse_matches_the_census(ward: WardModel) -> None:
    p = AlarmLoadParams()
    expected = sum(p.alarm_rate_per_s(b.acuity) * 3600 for b in ward.occupied_beds()) / 5  # 5 nurses at night
    got = mean(ward, "alarms_per_nurse_hour")
    assert got == pytest.approx(expected, rel=0.06)


def test_every_actionable_alarm_is_answered_when_staff_suffice(ward: WardModel) -> None:
    r = mean(ward, "unanswered_pct", actionable_high=1, actionable_medium=1, actionable_low=1, nurses=20)
    assert r == 0


def test_bad_input_is_named(ward: WardModel) -> None:
    with pytest.raises(ParamError, match="alarms_per_bed_hour"):
        parse_params(AlarmLoad, {"alarms_per_bed_hour": "-1"})
    with pytest.raises(ParamError, match="unknown parameter"):
        parse_params(AlarmLoad, {"alarm_rate": "3"})
    no_nurses = ward.with_overrides(staff=[s for s in ward.staff if s.shift == "day"])
    with pytest.raises(ScenarioError, match="no nurse on the night shift"):
        AlarmLoad().run_once(no_nurses, AlarmLoadParams(), np.random.default_rng(0))


def test_summary_gives_the_roster_and_load(ward: WardModel) -> None:
    sc = AlarmLoad()
    params = AlarmLoadParams(hours=4, nurses=2)
    rows = [sc.run_once(ward, params, np.random.default_rng(s)) for s in SEEDS]
    text = " ".join(sc.summarize(ward, params, {k: summarize([r[k] for r in rows]) for k in sc.metrics}))
    assert "2 nurses for 30 patients" in text and "near saturation" in text and "nurses=3" in text


def test_sweep_from_the_runner_is_reproducible(ward: WardModel) -> None:
    a = run("alarm-load", ward, replications=4, seed=2, workers=1, overrides={"alarms_per_bed_hour": "4", "hours": "2"})
    b = run("alarm-load", ward, replications=4, seed=2, workers=1, overrides={"alarms_per_bed_hour": "4", "hours": "2"})
    assert a.to_json() == b.to_json() and a.to_json()["parameters"]["alarms_per_bed_hour"] == 4
