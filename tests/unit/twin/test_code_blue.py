"""The code-blue scenario: distances along the graph, monitoring, staffing and the published reference."""

from __future__ import annotations

import numpy as np
import pytest

from digital_twin import ScenarioError, WardModel
from digital_twin.runner import run


def _mean(ward: WardModel, metric: str, n: int = 200, **overrides: str) -> float:
    r = run("code-blue", ward, replications=n, seed=8, overrides=overrides, workers=1)
    return r.metrics[metric].mean


def test_a_crash_cart_far_away_is_slower(example_ward: WardModel) -> None:
    near = run("code-blue", example_ward, replications=200, seed=8, overrides={"bed": "01"}, workers=1)
    far = run("code-blue", example_ward, replications=200, seed=8, overrides={"bed": "01", "crash_cart_node": "x-east"},
              workers=1)
    # bed 01 is at the west end; the cart moves from the central station to the east doors: +80 m fetch
    assert far.metrics["first_shock_s"].mean > near.metrics["first_shock_s"].mean + 30
    assert far.metrics["first_shock_s"].ci95[0] > near.metrics["first_shock_s"].ci95[1]
    assert far.metrics["shock_within_3min"].mean < near.metrics["shock_within_3min"].mean
    # compressions do not wait for the cart (the cart bearer only starts them when first at the bed)
    near_c, far_c = near.metrics["first_compression_s"].mean, far.metrics["first_compression_s"].mean
    assert near_c <= far_c < near_c + 2.0


def test_unmonitored_patients_are_recognised_later(example_ward: WardModel) -> None:
    assert _mean(example_ward, "recognition_s", monitored="no") > 3 * _mean(example_ward, "recognition_s")
    assert _mean(example_ward, "first_shock_s", monitored="no") > _mean(example_ward, "first_shock_s")


def test_fewer_nurses_delay_the_cart(example_ward: WardModel) -> None:
    assert _mean(example_ward, "cart_at_bedside_s", shift="night", nurses="1") > \
        _mean(example_ward, "cart_at_bedside_s", shift="day")


def test_non_shockable_rhythms_have_no_shock(example_ward: WardModel) -> None:
    r = run("code-blue", example_ward, replications=50, seed=1, overrides={"p_shockable": "0"}, workers=1)
    assert r.metrics["first_shock_s"].n == 0 and r.metrics["first_shock_s"].missing == 50
    assert r.metrics["first_compression_s"].n == 50
    assert any("No replication had a shockable rhythm" in s for s in r.summary)


def test_order_of_events(example_ward: WardModel) -> None:
    r = run("code-blue", example_ward, replications=100, seed=4, workers=1)
    s = {k: np.asarray(v) for k, v in r.samples.items()}
    assert np.all(s["recognition_s"] < s["first_compression_s"])
    assert np.all(s["cart_at_bedside_s"] < s["first_shock_s"])
    assert np.all((s["shock_within_3min"] == 100) == (s["first_shock_s"] < 180))


def test_bad_cart_node_is_named(example_ward: WardModel) -> None:
    with pytest.raises(ScenarioError, match="parameter 'crash_cart_node': 'moon' is not a node of ward 'medsurg-4'; "
                                            "its nodes: c00, c01"):
        run("code-blue", example_ward, replications=1, seed=0, overrides={"crash_cart_node": "moon"})


def test_validation_delayed_defibrillation_matches_the_registry(example_ward: WardModel) -> None:
    """docs/digital-twin.md, Validation: Chan et al. 2008 found first shock > 2 min in 30.1 % of arrests."""
    day = run("code-blue", example_ward, replications=500, seed=0, overrides={"shift": "day"}, workers=1)
    night = run("code-blue", example_ward, replications=500, seed=0, overrides={"shift": "night"}, workers=1)
    delayed = 100 - (day.metrics["shock_within_2min"].mean + night.metrics["shock_within_2min"].mean) / 2
    assert abs(delayed - 30.1) <= 10.0
