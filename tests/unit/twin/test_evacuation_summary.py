"""The evacuation summary's planning-threshold sentence follows the typical result, not only the slow tail."""

from __future__ import annotations

import pytest

from digital_twin import WardModel
from digital_twin.scenarios.evacuation import EvacuationParams
from digital_twin.scenarios.evacuation_text import summary_sentences
from digital_twin.stats import MetricSummary


def _metrics(mean: float, p50: float, p95: float) -> dict[str, MetricSummary]:
    nan = float("nan")
    total = MetricSummary(mean, p50, p95, (mean - 0.5, mean + 0.5), 3.0, 200, 0, "min", "total")
    none = MetricSummary(nan, nan, nan, (nan, nan), nan, 0, 200, "min", "")
    return {"total_min": total, "pre_movement_pct": none, "high_acuity_clear_min": none, "staff_load_min": none}


def _threshold_sentence(ward: WardModel, mean: float, p50: float, p95: float) -> str:
    lines = summary_sentences(ward, EvacuationParams(), 7, _metrics(mean, p50, p95))
    found = [s for s in lines if "planning threshold" in s]
    assert len(found) == 1, lines
    return found[0]


def test_a_typical_drill_over_the_threshold_is_said_to_be_typical(example_ward: WardModel) -> None:
    s = _threshold_sentence(example_ward, 36.1, 35.8, 44.0)  # the newcomer's run: mean 36.1 min
    assert s.startswith("The typical drill already exceeds a 30-minute planning threshold (36.1 min on average"), s
    assert "A slow drill" not in s and "staff_scale=1.5" in s


@pytest.mark.parametrize(("mean", "p50", "p95", "start"), [
    (26.0, 25.5, 33.0, "A slow drill exceeds a 30-minute planning threshold"),
    (20.0, 19.0, 27.0, "That is within a 30-minute planning threshold even in a slow drill"),
    (29.0, 31.0, 40.0, "The typical drill already exceeds"),  # the median is over: most drills are
])
def test_the_sentence_matches_where_the_results_lie(example_ward: WardModel, mean: float, p50: float, p95: float,
                                                    start: str) -> None:
    assert _threshold_sentence(example_ward, mean, p50, p95).startswith(start)
