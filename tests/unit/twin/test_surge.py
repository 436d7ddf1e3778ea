"""surge drill: boarding when beds run out, surge beds and reverse triage, call-in nurses, alarm load."""

from __future__ import annotations

import numpy as np
import pytest

from digital_twin import ParamError, WardModel, example_ward_path, load_ward
from digital_twin.runner import run
from digital_twin.scenario import parse_params
from digital_twin.scenarios.surge import Surge, SurgeParams
from digital_twin.stats import summarize

SEEDS = range(6)


@pytest.fixture(scope="module")
def ward() -> WardModel:
    return load_ward(example_ward_path())


@pytest.fixture(scope="module")
def half_empty(ward: WardModel) -> WardModel:
    """The example ward with beds 16-30 empty (15 free beds)."""
    return ward.with_overrides(beds=[b.model_copy(update={"occupied": int(b.id) < 16}) for b in ward.beds])


def mean(ward: WardModel, metric: str, **kw: object) -> float:
    params = SurgeParams.model_validate({"hours": 8, **kw})
    return float(np.mean([Surge().run_once(ward, params, np.random.default_rng(s))[metric] for s in SEEDS]))


def test_more_casualties_more_boarding_on_a_full_ward(ward: WardModel) -> None:
    boarded = [mean(ward, "patients_boarded", casualties=c) for c in (0, 6, 20)]
    assert boarded[0] == 0 < boarded[1] < boarded[2]
    assert mean(ward, "boarding_hours", casualties=6) < mean(ward, "boarding_hours", casualties=20)


def test_free_beds_absorb_a_small_surge(half_empty: WardModel) -> None:
    assert mean(half_empty, "patients_boarded", casualties=5) == 0
    assert mean(half_empty, "hours_full", casualties=5) == 0
    assert mean(half_empty, "peak_occupancy_pct", casualties=5) < 100
    # a bigger surge fills the ward, and peak occupancy never exceeds the regular beds without surge beds
    assert mean(half_empty, "peak_occupancy_pct", casualties=40) == 100
    assert mean(half_empty, "patients_boarded", casualties=40) > 0
    never = Surge().run_once(half_empty, SurgeParams(hours=8, casualties=5), np.random.default_rng(0))
    assert np.isnan(never["time_to_full_h"]) and never["occupancy_end_pct"] < 100
    fills = Surge().run_once(half_empty, SurgeParams(hours=8, casualties=40), np.random.default_rng(0))
    assert 0 < fills["time_to_full_h"] < 8 and 0 < fills["hours_full"] <= 8 - fills["time_to_full_h"]  # discharges free beds


def test_surge_beds_and_reverse_triage_reduce_boarding(ward: WardModel) -> None:
    base = mean(ward, "patients_boarded", casualties=12)
    assert mean(ward, "patients_boarded", casualties=12, surge_beds=6) < base
    assert mean(ward, "patients_boarded", casualties=12, reverse_triage_pct=80, reverse_triage_median_min=60) < base
    assert mean(ward, "peak_occupancy_pct", casualties=12, surge_beds=6) > 100


def test_more_patients_more_alarms_per_nurse(half_empty: WardModel) -> None:
    assert (mean(half_empty, "alarms_per_nurse_hour", casualties=0)
            < mean(half_empty, "alarms_per_nurse_hour", casualties=15, mix_high=0.8, mix_medium=0.2))


def test_call_in_nurses_respond_faster(ward: WardModel) -> None:
    slow = mean(ward, "actionable_p95_s", casualties=12, nurses=3)
    fast = mean(ward, "actionable_p95_s", casualties=12, nurses=3, call_in_nurses=4, call_in_minutes=0)
    assert fast < slow
    late = mean(ward, "actionable_p95_s", casualties=12, nurses=3, call_in_nurses=4, call_in_minutes=240)
    assert fast < late < slow


def test_acuity_mix_is_validated() -> None:
    with pytest.raises(ParamError, match="mix_high \\+ mix_medium must be at most 1"):
        parse_params(Surge, {"mix_high": "0.7", "mix_medium": "0.5"})


def test_summary_reports_boarding_and_levers(ward: WardModel) -> None:
    sc = Surge()
    params = SurgeParams(hours=8, casualties=12)
    rows = [sc.run_once(ward, params, np.random.default_rng(s)) for s in SEEDS]
    text = " ".join(sc.summarize(ward, params, {k: summarize([r[k] for r in rows]) for k in sc.metrics}))
    assert "0 free of 30 beds" in text and "wait for a bed" in text and "reverse_triage_pct=50" in text
    assert "twin compare surge" in text


def test_same_seed_same_report(ward: WardModel) -> None:
    a = run("surge", ward, replications=4, seed=9, workers=1, overrides={"hours": "6"})
    b = run("surge", ward, replications=4, seed=9, workers=1, overrides={"hours": "6"})
    assert a.to_json() == b.to_json()
